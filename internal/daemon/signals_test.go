package daemon

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/notify"
)

// exitRecorder stands in for os.Exit: it records the codes and closes
// called at the first call.
type exitRecorder struct {
	mu     sync.Mutex
	codes  []int
	called chan struct{}
}

func newExitRecorder() *exitRecorder { return &exitRecorder{called: make(chan struct{})} }

func (e *exitRecorder) exit(code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.codes) == 0 {
		close(e.called)
	}
	e.codes = append(e.codes, code)
}

func (e *exitRecorder) calls() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.codes...)
}

// runWithSignals starts RunWithSignals on d with sigs and returns its
// result channel, once d has started.
func runWithSignals(t *testing.T, d *Daemon, sigs chan os.Signal, exit func(int)) chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- d.RunWithSignals(t.Context(), sigs, exit) }()
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("RunWithSignals returned before the daemon started: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("the daemon did not start within %s", waitLimit)
	}
	return done
}

func TestRunWithSignals(t *testing.T) {
	for _, stopSig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(stopSig.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			a, b := newEndpoint(t), newEndpoint(t)
			writeConfig(t, path, newConfig(t, dir, a.target(t, "one", a.pki.Leaf.Pin())))
			cfg := loadConfig(t, path)
			var logs logBuffer
			d, err := New(t.Context(), cfg, Options{ConfigPath: path, Log: logs.logger()})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sigs := make(chan os.Signal) // unbuffered: a send returns once the daemon took the signal
			defer close(sigs)
			exit := newExitRecorder()
			done := runWithSignals(t, d, sigs, exit.exit)

			// SIGHUP reloads: the added target is probed.
			writeConfig(t, path, newConfig(t, dir,
				a.target(t, "one", a.pki.Leaf.Pin()), b.target(t, "two", b.pki.Leaf.Pin())))
			sigs <- syscall.SIGHUP
			waitFor(t, "the target added by SIGHUP to be probed", func() bool {
				return hasEvent(history(t, cfg.Database, "two"), pinwatchd.EventFirstSeen)
			})
			if n := len(logs.find(t, map[string]string{"msg": "configuration reloaded"})); n != 1 {
				t.Errorf("%d \"configuration reloaded\" lines after SIGHUP, want 1", n)
			}

			// A SIGHUP with a broken file is logged and changes nothing.
			writeFile(t, path, "concurrency = 0\n")
			sigs <- syscall.SIGHUP
			waitFor(t, "the failed reload to be logged", func() bool {
				return len(logs.find(t, map[string]string{
					"msg": "reload failed; keeping the running configuration", "level": "ERROR", "config": path,
				})) == 1
			})
			if got := d.targetNames(); len(got) != 2 {
				t.Errorf("targets after the failed reload = %q, want one and two", got)
			}

			sigs <- stopSig
			limit := cfg.Timeout.Duration + ShutdownGrace
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("RunWithSignals after %v = %v, want nil", stopSig, err)
				}
			case <-time.After(limit):
				t.Fatalf("RunWithSignals did not return within %s of %v", limit, stopSig)
			}
			if len(logs.find(t, map[string]string{"msg": "shutting down", "signal": stopSig.String()})) != 1 {
				t.Errorf("no \"shutting down\" line naming %v:\n%s", stopSig, logs.String())
			}
			if got := exit.calls(); len(got) != 0 {
				t.Errorf("exit called with %v on a clean shutdown", got)
			}
		})
	}
}

// stallingNotifier accepts nothing until released: each Notify blocks until
// its context is done or release is closed. entered is closed at the first
// call.
type stallingNotifier struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (n *stallingNotifier) Notify(ctx context.Context, _ notify.Batch) (notify.Receipt, error) {
	n.once.Do(func() { close(n.entered) })
	select {
	case <-ctx.Done():
		return notify.Receipt{}, ctx.Err()
	case <-n.release:
		return notify.Receipt{}, nil
	}
}

// TestRunWithSignalsSecondSignalExits stalls the shutdown on a notification
// that cannot be delivered, then sends a second SIGTERM: exit(1) is called
// while the clean shutdown is still under way.
func TestRunWithSignalsSecondSignalExits(t *testing.T) {
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	stall := &stallingNotifier{entered: make(chan struct{}), release: make(chan struct{})}
	var logs logBuffer
	d, err := New(t.Context(), cfg, Options{Log: logs.logger(), Notifier: stall})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sigs := make(chan os.Signal)
	defer close(sigs)
	exit := newExitRecorder()
	var returned atomic.Bool
	done := make(chan error, 1)
	exitAfterReturn := make(chan bool, 1)
	go func() {
		err := d.RunWithSignals(t.Context(), sigs, func(code int) {
			// Still inside the clean shutdown when the second signal
			// exits: RunWithSignals has not returned.
			exitAfterReturn <- returned.Load()
			exit.exit(code)
			close(stall.release) // the process would be gone; let the test end
		})
		returned.Store(true)
		done <- err
	}()
	select {
	case <-stall.entered:
	case <-time.After(waitLimit):
		t.Fatalf("no notification reached the notifier within %s", waitLimit)
	}

	sigs <- syscall.SIGTERM
	sigs <- syscall.SIGTERM
	select {
	case <-exit.called:
	case <-time.After(waitLimit):
		t.Fatalf("exit was not called within %s of the second SIGTERM", waitLimit)
	}
	if got := exit.calls(); len(got) != 1 || got[0] != 1 {
		t.Errorf("exit called with %v, want [1]", got)
	}
	if <-exitAfterReturn {
		t.Error("exit was called after RunWithSignals had returned, want it during the shutdown")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunWithSignals = %v, want nil", err)
		}
	case <-time.After(cfg.Timeout.Duration + ShutdownGrace):
		t.Fatalf("RunWithSignals did not return within %s", cfg.Timeout.Duration+ShutdownGrace)
	}
	if len(logs.find(t, map[string]string{"msg": "second signal; exiting at once", "level": "ERROR", "signal": "terminated"})) != 1 {
		t.Errorf("no line about the second signal:\n%s", logs.String())
	}
}
