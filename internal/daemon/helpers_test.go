package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage/backend"
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

// alerts reads the alerts (all of them with all) from the database (a
// file, or a PostgreSQL URL), as the query commands do.
func alerts(t *testing.T, dbPath string, all bool) []pinwatchd.Alert {
	t.Helper()
	db, err := backend.OpenReadOnly(t.Context(), dbPath, backend.Options{})
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

// history reads the timeline of target from the database.
func history(t *testing.T, dbPath, target string) []pinwatchd.Event {
	t.Helper()
	db, err := backend.OpenReadOnly(t.Context(), dbPath, backend.Options{})
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

// writeConfig writes c to path as a config file.
func writeConfig(t *testing.T, path string, c *config.Config) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := config.Encode(f, c); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// loadConfig reads path as the daemon does.
func loadConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	c, err := config.Load(path, config.DaemonOptions(func(string) string { return "" }))
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return c
}

// targetNames returns the names of the targets the daemon runs now.
func (d *Daemon) targetNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var names []string
	for name := range d.targets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// writeFile replaces path with content.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
