package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/notify"
	"github.com/pinwatchd/pinwatchd/storage"
)

// The daemon tests run New and Run in-process against real TLS servers on
// loopback, a real SQLite file and a JSON log captured in memory.

// waitLimit bounds every wait of these tests for something to happen.
const waitLimit = 20 * time.Second

// probeTimeout is the probe timeout of the test configs; the shutdown
// bound of SPEC §7 is probeTimeout + ShutdownGrace.
const probeTimeout = 3 * time.Second

// logBuffer collects the daemon's JSON log lines; safe for the daemon's
// goroutines and the test at the same time.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logger returns a JSON logger writing into l, debug level and up.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the log lines decoded.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// find returns the log records whose attributes include every key/value of
// want (values compared as strings).
func (l *logBuffer) find(t *testing.T, want map[string]string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range l.records(t) {
		ok := true
		for k, v := range want {
			if s, isString := r[k].(string); !isString || s != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// endpoint is a loopback HTTPS server with its own PKI and CA file.
type endpoint struct {
	pki    *testpki.PKI
	srv    *testpki.Server
	caFile string
}

func newEndpoint(t *testing.T) *endpoint {
	t.Helper()
	p := testpki.New(t)
	hsts := map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
	return &endpoint{pki: p, srv: testpki.Serve(t, p.TLS(), testpki.HeaderHandler(hsts)), caFile: p.WriteCAFile(t)}
}

// rotate makes the endpoint serve a new leaf key and returns its pin.
func (e *endpoint) rotate(t *testing.T) pinwatchd.Pin {
	t.Helper()
	leaf := e.pki.Intermediate.Leaf(t, testpki.Options{})
	e.srv.SetCertificate(testpki.Chain(leaf, e.pki.Intermediate))
	return leaf.Pin()
}

// target is a [[target]] probing e at its loopback address, trusting e's CA,
// with pins as its inline pin-set. A single pin opens missing_backup_pin.
func (e *endpoint) target(t *testing.T, name string, pins ...pinwatchd.Pin) config.TargetConfig {
	t.Helper()
	addr, err := config.ParseHostPort(e.srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	port := int(addr.Port)
	return config.TargetConfig{
		Name: name, Host: "localhost", Port: &port, Addresses: []config.HostPort{addr},
		CAFile: e.caFile, Pins: pins,
	}
}

// newConfig is a valid config recording into dir/pinwatchd.db, probing every
// second, with log-only notifications.
func newConfig(t *testing.T, dir string, targets ...config.TargetConfig) *config.Config {
	t.Helper()
	c := config.Default()
	c.Database = filepath.Join(dir, "pinwatchd.db")
	sched, err := config.ParseSchedule("@every 1s")
	if err != nil {
		t.Fatal(err)
	}
	c.Schedule = sched
	c.Timeout = config.Duration{Duration: probeTimeout}
	c.TargetConfigs = targets
	if err := c.Validate(); err != nil {
		t.Fatalf("test config does not validate: %v", err)
	}
	return c
}

// running is a daemon started by start.
type running struct {
	d      *Daemon
	cancel context.CancelFunc
	done   chan error // Run's result
}

// start opens a daemon for cfg and runs it until the end of the test (or
// stop), waiting until every component started.
func start(t *testing.T, cfg *config.Config, o Options) *running {
	t.Helper()
	d, err := New(t.Context(), cfg, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{d: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(probeTimeout + ShutdownGrace):
			t.Errorf("Run did not return within %s of the end of the test", probeTimeout+ShutdownGrace)
		}
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	select {
	case <-d.Ready():
	case err := <-r.done:
		t.Fatalf("Run returned before it started: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("Run did not start within %s", waitLimit)
	}
	return r
}

// stop cancels Run's context and requires it to return nil within the
// shutdown bound of SPEC §7 (the probe timeout plus ShutdownGrace).
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	limit := r.d.config().Timeout.Duration + ShutdownGrace
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(limit):
		t.Fatalf("Run did not return within %s of the cancel", limit)
	}
}

// alerts reads the alerts (all of them with all) from the database file,
// as the query commands do.
func alerts(t *testing.T, dbPath string, all bool) []pinwatchd.Alert {
	t.Helper()
	db, err := storage.OpenReadOnly(t.Context(), dbPath)
	if err != nil {
		t.Fatalf("open %s: %v", dbPath, err)
	}
	defer db.Close()
	as, err := db.Alerts(t.Context(), all)
	if err != nil {
		t.Fatalf("alerts of %s: %v", dbPath, err)
	}
	return as
}

// history reads the timeline of target from the database file.
func history(t *testing.T, dbPath, target string) []pinwatchd.Event {
	t.Helper()
	db, err := storage.OpenReadOnly(t.Context(), dbPath)
	if err != nil {
		t.Fatalf("open %s: %v", dbPath, err)
	}
	defer db.Close()
	evs, err := db.History(t.Context(), target, time.Time{})
	if err != nil {
		t.Fatalf("history of %s: %v", dbPath, err)
	}
	return evs
}

// findAlert returns the alert of (target, kind), or nil.
func findAlert(as []pinwatchd.Alert, target string, kind pinwatchd.Kind) *pinwatchd.Alert {
	for i := range as {
		if as[i].Target == target && as[i].Kind == kind {
			return &as[i]
		}
	}
	return nil
}

// hasEvent reports whether evs holds an event of type ev.
func hasEvent(evs []pinwatchd.Event, ev pinwatchd.EventType) bool {
	for _, e := range evs {
		if e.Event == ev {
			return true
		}
	}
	return false
}

// waitForOpenAlert waits until target has an open alert of kind and
// returns it.
func waitForOpenAlert(t *testing.T, dbPath, target string, kind pinwatchd.Kind) pinwatchd.Alert {
	t.Helper()
	var a *pinwatchd.Alert
	waitFor(t, "an open "+string(kind)+" alert of "+target, func() bool {
		a = findAlert(alerts(t, dbPath, false), target, kind)
		return a != nil
	})
	return *a
}

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

func TestRunMetricsListener(t *testing.T) {
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	cfg.Metrics.Listen = freeAddr(t)
	var logs logBuffer
	start(t, cfg, Options{Log: logs.logger(), Version: "v9.9.9"})

	var body string
	waitFor(t, "/metrics to show a probe of legacy", func() bool {
		code, b := get(t, "http://"+cfg.Metrics.Listen+"/metrics")
		body = b
		return code == http.StatusOK && strings.Contains(b, `pinwatchd_probes_total{result="ok",target="legacy"}`)
	})
	for _, line := range []string{
		`pinwatchd_pin_match{pinset="inline",target="legacy"} 1`,
		`pinwatchd_backup_pin_present{pinset="inline",target="legacy"} 0`,
		`pinwatchd_config_last_reload_successful 1`,
		`version="v9.9.9"`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %q:\n%s", line, body)
		}
	}
	if code, b := get(t, "http://"+cfg.Metrics.Listen+"/healthz"); code != http.StatusOK || b != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, b)
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// get fetches url and returns the status (0 when the request failed) and
// body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRunMetricsListenBusy pins down what happens when [metrics] listen is
// taken: the listener's failure is logged, naming the address, and the
// rest of the daemon runs on.
func TestRunMetricsListenBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	cfg.Metrics.Listen = busy.Addr().String()
	var logs logBuffer
	r := start(t, cfg, Options{Log: logs.logger()})

	waitFor(t, "the metrics listener's error in the log", func() bool {
		for _, rec := range logs.find(t, map[string]string{"msg": "metrics server", "level": "ERROR", "listen": cfg.Metrics.Listen}) {
			if msg, _ := rec["err"].(string); strings.Contains(msg, cfg.Metrics.Listen) && strings.Contains(msg, syscall.EADDRINUSE.Error()) {
				return true
			}
		}
		return false
	})
	waitForOpenAlert(t, cfg.Database, "legacy", pinwatchd.KindMissingBackupPin)
	r.stop(t)
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
