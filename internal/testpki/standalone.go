package testpki

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Failure is the panic value of Standalone.Fatalf.
type Failure string

// Standalone is a TB for using the package outside a test (the demo, the
// benchmark harness): Fatalf panics with a Failure that the caller recovers
// and reports, TempDir creates directories under Dir, and the cleanups run
// at Close, last registered first.
type Standalone struct {
	Dir string

	mu       sync.Mutex
	cleanups []func()
	n        int
}

// Helper does nothing.
func (t *Standalone) Helper() {}

// Logf discards the message.
func (t *Standalone) Logf(string, ...any) {}

// Fatalf panics with a Failure holding the message.
func (t *Standalone) Fatalf(format string, args ...any) {
	panic(Failure(fmt.Sprintf(format, args...)))
}

// TempDir returns a new directory under Dir.
func (t *Standalone) TempDir() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	dir := filepath.Join(t.Dir, fmt.Sprintf("pki%d", t.n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		panic(Failure(err.Error()))
	}
	return dir
}

// Cleanup registers f to run at Close.
func (t *Standalone) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

// Close runs the registered cleanups, last first. It is safe to call twice.
func (t *Standalone) Close() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
