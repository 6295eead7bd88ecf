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
