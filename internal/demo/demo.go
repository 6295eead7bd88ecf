// Package demo is the offline tour of `pinwatchd demo`: loopback HTTPS
// endpoints with good and broken chains, watched by the real daemon with a
// temporary database, printing the alerts as they fire, then a key
// rotation and a renewal.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/daemon"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// wait bounds each wait of the tour for something to happen.
const wait = 20 * time.Second

// Run plays the tour in dir (which it fills with the config, the database
// and the CA) and returns the database for the queries that close it.
// Daemon errors are logged to errs; everything else goes to out.
func Run(ctx context.Context, out, errs io.Writer, dir, version string) (dbPath string, err error) {
	// The tour's headings and the notifications the daemon's sender prints
	// go to out from two goroutines.
	out = &lockedWriter{w: out}
	tb := &testpki.Standalone{Dir: dir}
	defer tb.Close()
	fmt.Fprintln(out, "pinwatchd demo: five loopback TLS endpoints and a DANE mail server, watched by the real daemon code.")
	fmt.Fprintln(out)

	var f *fleet
	if err := tb.Do(func() { f = newFleet(tb, time.Now()) }); err != nil {
		return "", fmt.Errorf("start the endpoints: %w", err)
	}
	dbPath = filepath.Join(dir, "pinwatchd.db")
	cfg, err := f.config(dbPath)
	if err != nil {
		return "", err
	}
	if err := writeConfig(filepath.Join(dir, "config.toml"), cfg); err != nil {
		return "", err
	}
	for _, l := range f.describe() {
		fmt.Fprintln(out, "  "+l)
	}
	fmt.Fprintf(out, "\nRunning the daemon (schedule @every %s, database %s). Alerts as they fire:\n\n", round, dbPath)

	log := slog.New(slog.NewTextHandler(errs, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := daemon.New(ctx, cfg, daemon.Options{Log: log, Version: version, Notifier: &printer{w: out, start: time.Now()}})
	if err != nil {
		return "", err
	}
	defer d.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	if err := tour(ctx, out, tb, f, dbPath); err != nil {
		stop()
		return "", errors.Join(err, <-done)
	}
	time.Sleep(round / 2) // let the sender print the last notifications
	stop()
	if err := <-done; err != nil {
		return "", fmt.Errorf("the daemon: %w", err)
	}
	return dbPath, nil
}

// tour waits for the first alerts, rotates a key, then renews a
// certificate, waiting each time for the alerts to follow.
func tour(ctx context.Context, out io.Writer, tb *testpki.Standalone, f *fleet, dbPath string) error {
	first := []pinwatchd.Kind{pinwatchd.KindMissingBackupPin, pinwatchd.KindCertExpiring, pinwatchd.KindChainUntrusted}
	if err := waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return hasKinds(as, first...) }); err != nil {
		return err
	}
	time.Sleep(round / 2)
	fmt.Fprintf(out, "\n==> Rotating the key of %q to a key its pin-set does not list…\n\n", "api")
	if err := tb.Do(func() { f.rotate(tb) }); err != nil {
		return err
	}
	if err := waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return hasKinds(as, pinwatchd.KindPinMismatch) }); err != nil {
		return err
	}
	time.Sleep(round / 2)
	fmt.Fprintf(out, "\n==> Renewing the certificate of %q with the same key…\n\n", "billing")
	if err := tb.Do(func() { f.renew(tb) }); err != nil {
		return err
	}
	if err := waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return !hasKinds(as, pinwatchd.KindCertExpiring) }); err != nil {
		return err
	}
	time.Sleep(round / 2)
	fmt.Fprintf(out, "\n==> Rotating the key of the mail server without publishing a TLSA record for it…\n\n")
	if err := tb.Do(func() { f.mail.rotate(tb, f.pki) }); err != nil {
		return err
	}
	return waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return hasKinds(as, pinwatchd.KindTLSAMismatch) })
}

// writeConfig saves the demo's configuration, for --keep.
func writeConfig(path string, cfg *config.Config) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := config.Encode(f, cfg); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// waitForAlerts polls the database until ok holds for the open alerts.
func waitForAlerts(ctx context.Context, dbPath string, ok func([]pinwatchd.Alert) bool) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if db, err := storage.OpenReadOnly(ctx, dbPath); err == nil {
			as, err := db.Alerts(ctx, false)
			db.Close()
			if err == nil && ok(as) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the expected alerts did not open within %s", wait)
}

func hasKinds(as []pinwatchd.Alert, kinds ...pinwatchd.Kind) bool {
	for _, k := range kinds {
		found := false
		for _, a := range as {
			found = found || a.Kind == k
		}
		if !found {
			return false
		}
	}
	return true
}
