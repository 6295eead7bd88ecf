package daemon

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := serveOn(ln, addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }), slog.New(slog.DiscardHandler))

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz on %s: %v", addr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /healthz: %d %q, want 200 ok", resp.StatusCode, body)
	}

	// The address is taken now, so a second server cannot listen on it.
	other, err := listenHTTP(t.Context(), addr, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), addr) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("listenHTTP on a busy %s: %v, want an address-in-use error naming it", addr, err)
	}
	if other != nil {
		other.Shutdown(t.Context())
	}

	srv.Shutdown(t.Context())
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("server on %s still answers after shutdown", addr)
	}
	srv.Shutdown(t.Context()) // a second call returns at once
}

func TestShutdownDeadlines(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		timeout         time.Duration
		stopBy, flushBy time.Duration // after now
	}{
		{10 * time.Second, 12500 * time.Millisecond, 14500 * time.Millisecond},
		{3 * time.Second, 5500 * time.Millisecond, 7500 * time.Millisecond},
	} {
		stopBy, flushBy := shutdownDeadlines(now, tc.timeout)
		if got := stopBy.Sub(now); got != tc.stopBy {
			t.Errorf("timeout %v: probes stop %v after the signal, want %v", tc.timeout, got, tc.stopBy)
		}
		if got := flushBy.Sub(now); got != tc.flushBy {
			t.Errorf("timeout %v: flush ends %v after the signal, want %v", tc.timeout, got, tc.flushBy)
		}
		// systemd's TimeoutStopSec is timeout + ShutdownGrace: the whole
		// shutdown must fit inside it.
		if limit := now.Add(tc.timeout + ShutdownGrace); !flushBy.Before(limit) {
			t.Errorf("timeout %v: shutdown ends at %v, not before systemd's limit %v", tc.timeout, flushBy, limit)
		}
	}
}

func TestRunMetricsListener(t *testing.T) {
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	cfg.HTTP.Listen = freeAddr(t)
	var logs logBuffer
	start(t, cfg, Options{Log: logs.logger(), Version: "v9.9.9"})

	var body string
	waitFor(t, "/metrics to show a probe of legacy", func() bool {
		code, b := get(t, "http://"+cfg.HTTP.Listen+"/metrics")
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
	if code, b := get(t, "http://"+cfg.HTTP.Listen+"/healthz"); code != http.StatusOK || b != "ok\n" {
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

// TestRunHTTPListenBusy: when the [http] listen address is taken, Run
// fails at start-up with an error naming the address (SPEC §7: READY only
// once everything runs), instead of running without /metrics and /healthz.
func TestRunHTTPListenBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	e := newEndpoint(t)
	cfg := newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin()))
	cfg.HTTP.Listen = busy.Addr().String()
	var logs logBuffer
	d, err := New(t.Context(), cfg, Options{Log: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	done := make(chan error, 1)
	go func() { done <- d.Run(t.Context()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), cfg.HTTP.Listen) || !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Run = %v, want an address-in-use error naming %s", err, cfg.HTTP.Listen)
		}
	case <-d.Ready():
		t.Fatal("the daemon started although its listen address is taken")
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %s", waitLimit)
	}
}
