package testpki

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Standalone is a TB for using the package outside a test (the demo, the
// benchmark harness). As with testing.T, Fatalf ends the goroutine that
// calls it: call the package's functions inside Do, which runs them on a
// goroutine of its own and returns the failure as an error. TempDir creates
// directories under Dir, and the cleanups run at Close, last registered
// first.
type Standalone struct {
	Dir string

	mu       sync.Mutex
	cleanups []func()
	n        int
	failure  error // set by Fatalf, read by Do
}

// Do runs f on a new goroutine and waits for it. It returns the message of
// the Fatalf that ended f early, or nil when f returned.
func (t *Standalone) Do(f func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.failure
	t.failure = nil
	return err
}

// Helper does nothing.
func (t *Standalone) Helper() {}

// Logf discards the message.
func (t *Standalone) Logf(string, ...any) {}

// Fatalf records the message for Do and ends the calling goroutine, which
// must be one that Do started.
func (t *Standalone) Fatalf(format string, args ...any) {
	t.mu.Lock()
	if t.failure == nil {
		t.failure = fmt.Errorf(format, args...)
	}
	t.mu.Unlock()
	runtime.Goexit()
}

// TempDir returns a new directory under Dir.
func (t *Standalone) TempDir() string {
	t.mu.Lock()
	t.n++
	n := t.n
	t.mu.Unlock()
	dir := filepath.Join(t.Dir, fmt.Sprintf("pki%d", n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("testpki: create a directory: %v", err)
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
