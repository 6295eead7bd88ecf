package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
)

// TestDaemonReloadMovesListener changes the listen address in the config
// file and sends SIGHUP to the running binary: /healthz moves to the new
// address and the old one stops answering (SPEC §7).
func TestDaemonReloadMovesListener(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	api := f.serve(t, hstsHeaders)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	targets := []config.TargetConfig{f.target(t, "api", api)}
	first, second := closedPort(t), closedPort(t)
	e2eConfig{db: db, metrics: first, targets: targets}.write(t, cfg)
	d := startDaemon(t, cfg)
	waitFor(t, "/healthz on "+first, func() bool { code, _ := httpGet("http://" + first + "/healthz"); return code == http.StatusOK })

	e2eConfig{db: db, metrics: second, targets: targets}.write(t, cfg)
	d.signal(t, syscall.SIGHUP)
	waitFor(t, "/healthz on "+second+" after SIGHUP", func() bool {
		code, _ := httpGet("http://" + second + "/healthz")
		return code == http.StatusOK
	})
	// The new listener answers before the reload commits; the old one is
	// closed when it does.
	waitFor(t, "the old address "+first+" to stop answering", func() bool {
		code, _ := httpGet("http://" + first + "/healthz")
		return code == 0
	})
	d.stop(t)
}

// TestDaemonStopsDuringStuckReload makes a reload hang (the config file
// is replaced by a FIFO nobody writes), then sends SIGTERM to the running
// binary: it exits 0 within the probe timeout plus 5 s all the same (SPEC
// §7: SIGHUP and SIGTERM never wait on each other).
func TestDaemonStopsDuringStuckReload(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	api := f.serve(t, hstsHeaders)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	const timeout = 2 * time.Second
	e2eConfig{db: db, timeout: timeout.String(), targets: []config.TargetConfig{f.target(t, "api", api)}}.write(t, cfg)
	d := startDaemon(t, cfg)
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	d.signal(t, syscall.SIGHUP)
	waitFor(t, "the reload to start", func() bool { return strings.Contains(d.output.String(), `msg="reloading configuration"`) })
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, timeout+5*time.Second); code != exitOK {
		t.Errorf("exit status %d after SIGTERM during a stuck reload, want 0", code)
	}
}
