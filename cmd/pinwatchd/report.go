package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/web"
)

const reportUsage = "report --html FILE [--since D|DATE] [--json] [--config F] [--database F]"

func runReport(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "report", reportUsage)
	q := addQueryFlags(fs)
	out := fs.String("html", "", "write the report to this `file` (- for stdout)")
	since := fs.String("since", "", "history and resolved alerts since this duration ago (30d) or date (default: all history, alerts resolved in the last 7 days)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "report takes no arguments, got %q; usage: pinwatchd %s", pos[0], reportUsage)
	}
	if *out == "" {
		return fail(e.stderr, "report needs --html FILE; usage: pinwatchd %s", reportUsage)
	}
	from, err := parseSince(*since, e.now())
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	// The configuration names the targets, their pin-sets and the expiry
	// windows, and the database unless --database does.
	cfg, err := config.Load(configPath(e, *q.config), config.Options{SkipSecretFiles: true})
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *q.database == "" {
		path := cfg.DatabasePath(e.getenv)
		q.database = &path
	}
	db, err := openQueryDB(ctx, e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	opts := web.Options{Store: db, Now: e.now,
		Fleet: func() web.Fleet { return web.Fleet{Targets: cfg.Targets(), Thresholds: cfg.Thresholds()} }}

	if *out == "-" {
		if _, err := web.WriteReport(ctx, e.stdout, opts, from); err != nil {
			return fail(e.stderr, "%v", err)
		}
		return exitOK
	}
	sum, err := writeReportFile(ctx, *out, opts, from)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *q.json {
		err = writeJSON(e.stdout, map[string]any{"file": *out, "targets": sum.Targets, "open_alerts": sum.OpenAlerts, "bytes": sum.Bytes})
	} else {
		_, err = fmt.Fprintf(e.stdout, "wrote %s: %d targets, %d open alerts, %.1f KB\n", *out, sum.Targets, sum.OpenAlerts, float64(sum.Bytes)/1000)
	}
	if err != nil {
		return fail(e.stderr, "write output: %v", err)
	}
	return exitOK
}

// writeReportFile writes the report next to path and renames it into
// place, so a failed run never leaves half a report behind.
func writeReportFile(ctx context.Context, path string, opts web.Options, since time.Time) (web.ReportSummary, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return web.ReportSummary{}, fmt.Errorf("write report %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing left to remove
	sum, err := web.WriteReport(ctx, f, opts, since)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return web.ReportSummary{}, fmt.Errorf("write report %s: %w", path, err)
	}
	return sum, nil
}
