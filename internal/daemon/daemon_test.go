package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/notify"
	"github.com/pinwatchd/pinwatchd/storage"
)

func TestRunOpensAlertAndLogsNotification(t *testing.T) {
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	var logs logBuffer
	r := start(t, cfg, Options{Log: logs.logger(), Version: "test"})
	if got, want := r.d.DatabasePath(), cfg.Database; got != want {
		t.Errorf("DatabasePath = %q, want %q", got, want)
	}
	// Ready is closed just before the start-up line is written.
	waitFor(t, "the start-up line naming the log-only notifier", func() bool {
		return len(logs.find(t, map[string]string{"msg": "pinwatchd started", "notifier": "log only"})) == 1
	})

	a := waitForOpenAlert(t, cfg.Database, "legacy", pinwatchd.KindMissingBackupPin)
	if a.Subject != pinwatchd.PinSetInline || a.Severity != pinwatchd.SeverityWarning || len(a.Addresses) != 1 || a.Addresses[0] != e.srv.Addr {
		t.Errorf("alert = %+v, want a warning about pin-set %q at %s", a, pinwatchd.PinSetInline, e.srv.Addr)
	}
	if others := alerts(t, cfg.Database, true); len(others) != 1 {
		t.Errorf("alerts = %+v, want only missing_backup_pin", others)
	}
	waitFor(t, "the log line of the notification", func() bool {
		return len(logs.find(t, map[string]string{
			"msg": "alert opened", "level": "WARN", "target": "legacy", "kind": string(pinwatchd.KindMissingBackupPin),
		})) > 0
	})
	// Log only: a notification counts as delivered once logged.
	waitFor(t, "the outbox to drain", func() bool {
		db, err := storage.OpenReadOnly(t.Context(), cfg.Database)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		n, _, err := db.PendingCount(t.Context())
		return err == nil && n == 0
	})

	r.stop(t)
	if len(logs.find(t, map[string]string{"msg": "stopped"})) != 1 {
		t.Errorf("no \"stopped\" line after shutdown:\n%s", logs.String())
	}
	if err := r.d.Reload(t.Context()); !errors.Is(err, errNotRunning) {
		t.Errorf("Reload after Run returned = %v, want %v", err, errNotRunning)
	}
	// The alert outlives the daemon (SPEC §6: a restart forgets nothing).
	if a := findAlert(alerts(t, cfg.Database, false), "legacy", pinwatchd.KindMissingBackupPin); a == nil {
		t.Error("the open alert is gone after shutdown")
	}
}

// recordingNotifier is a notify.Notifier that keeps every batch.
type recordingNotifier struct {
	mu      sync.Mutex
	batches []notify.Batch
}

func (n *recordingNotifier) Notify(_ context.Context, b notify.Batch) (notify.Receipt, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.batches = append(n.batches, b)
	return notify.Receipt{}, nil
}

// notes returns every notification received so far.
func (n *recordingNotifier) notes() []pinwatchd.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []pinwatchd.Notification
	for _, b := range n.batches {
		out = append(out, b.Notes...)
	}
	return out
}

func TestRunCustomNotifier(t *testing.T) {
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	var logs logBuffer
	rec := &recordingNotifier{}
	start(t, cfg, Options{Log: logs.logger(), Notifier: rec})
	waitFor(t, "the start-up line naming the custom notifier", func() bool {
		return len(logs.find(t, map[string]string{"msg": "pinwatchd started", "notifier": "custom"})) == 1
	})

	var opened *pinwatchd.Notification
	waitFor(t, "the notifier to receive the opening notification", func() bool {
		for _, n := range rec.notes() {
			if n.Type == pinwatchd.ChangeOpened && n.Alert != nil && n.Alert.Kind == pinwatchd.KindMissingBackupPin {
				opened = &n
				return true
			}
		}
		return false
	})
	if a := opened.Alert; a.Target != "legacy" || a.Subject != pinwatchd.PinSetInline || a.ID == 0 || a.State != pinwatchd.AlertOpen {
		t.Errorf("opening notification is about %+v, want the stored open alert of legacy's pin-set %q", a, pinwatchd.PinSetInline)
	}
	if len(rec.notes()) != 1 {
		t.Errorf("notifier received %d notifications, want 1: %+v", len(rec.notes()), rec.notes())
	}
}

func TestRunComponentCannotStart(t *testing.T) {
	e := newEndpoint(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, c *config.Config)
		want  []string // in the error
	}{
		{
			name: "no schedule",
			setup: func(t *testing.T, c *config.Config) {
				c.Schedule = config.Schedule{}
			},
			want: []string{`target "legacy"`, "schedule is empty"},
		},
		{
			name: "webhook file removed after validation",
			setup: func(t *testing.T, c *config.Config) {
				path := filepath.Join(t.TempDir(), "webhook")
				if err := os.WriteFile(path, []byte("http://127.0.0.1:1/hook\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				c.Slack.WebhookURLFile = path
				if err := c.Validate(); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"webhook_url_file", "webhook", "cannot be read"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newConfig(t, t.TempDir(), e.target(t, "legacy", e.pki.Leaf.Pin()))
			tc.setup(t, cfg)
			var logs logBuffer
			d, err := New(t.Context(), cfg, Options{Log: logs.logger()})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer d.Close()
			done := make(chan error, 1)
			go func() { done <- d.Run(t.Context()) }() // t.Context is not cancelled before Run returns
			select {
			case err = <-done:
			case <-time.After(waitLimit):
				t.Fatalf("Run did not return within %s", waitLimit)
			}
			if err == nil {
				t.Fatal("Run = nil, want an error at once")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run = %q, want it to mention %q", err, w)
				}
			}
			select {
			case <-d.Ready():
				t.Error("Ready is closed although Run failed to start")
			default:
			}
			if err := d.Reload(t.Context()); !errors.Is(err, errNotRunning) {
				t.Errorf("Reload after a failed start = %v, want %v", err, errNotRunning)
			}

			// RunWithSignals returns the start-up error too, without
			// waiting for a signal.
			d2, err := New(t.Context(), cfg, Options{Log: logs.logger()})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer d2.Close()
			go func() {
				done <- d2.RunWithSignals(t.Context(), make(chan os.Signal), func(code int) { t.Errorf("exit(%d) called", code) })
			}()
			select {
			case err = <-done:
			case <-time.After(waitLimit):
				t.Fatalf("RunWithSignals did not return within %s", waitLimit)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want[0]) {
				t.Errorf("RunWithSignals = %v, want the start-up error", err)
			}
		})
	}
}
