package main

import (
	"context"
	"fmt"

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
	from, err := config.ParseSince(*since, e.now())
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	// The configuration names the targets, their pin-sets and the expiry
	// windows, and the database unless --database does.
	cfg, err := config.Load(configPath(e, *q.config), config.Options{SkipSecretFiles: true})
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	db, err := openDatabase(ctx, e, q, cfg)
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
	sum, err := web.WriteReportFile(ctx, *out, opts, from)
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
