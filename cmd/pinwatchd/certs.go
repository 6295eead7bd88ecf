package main

import (
	"context"
	"io"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/querydoc"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

const certsUsage = "certs [--expiring-within D] [--all] [--vantage NAME] [--json] [--config F] [--database F]"

func runCerts(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "certs", certsUsage)
	q := addQueryFlags(fs)
	within := fs.String("expiring-within", "", "only certificates whose chain expires within this `duration` (30d)")
	all := fs.Bool("all", false, "also show targets no longer configured and addresses that left DNS, marked as such")
	vantage := addVantageFlag(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "certs takes no arguments, got %q; usage: pinwatchd %s", pos[0], certsUsage)
	}
	var limit time.Duration
	if *within != "" {
		if limit, err = config.ParseDuration(*within); err != nil || limit <= 0 {
			return fail(e.stderr, "--expiring-within %q is not a positive duration such as 30d or 72h", *within)
		}
	}
	// The config names the database unless --database does; then the
	// database is opened first, so that a missing one is the only error.
	var cfg *config.Config
	if *q.database == "" {
		if cfg, err = targetsConfig(e, q); err != nil {
			return fail(e.stderr, "%v", err)
		}
	}
	db, err := openDatabase(ctx, e, q, cfg)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	if *q.database != "" {
		if cfg, err = targetsConfig(e, q); err != nil {
			return fail(e.stderr, "%v", err)
		}
	}
	now := e.now().UTC()
	statuses, err := db.Certs(ctx, now, configured(cfg))
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	var rows []pinwatchd.CertStatus
	hidden := 0
	for _, c := range querydoc.CertsAt(statuses, *vantage) {
		switch {
		case c.Stale != "" && !*all:
			hidden++
		case limit == 0 || earliest(c).Before(now.Add(limit)):
			rows = append(rows, c)
		}
	}
	if *q.json {
		if err := writeJSON(e.stdout, map[string]any{"certs": querydoc.Certs(rows)}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	writeText(e.stdout, func(w io.Writer) { textreport.Certs(w, rows, hidden, limit) })
	return exitOK
}

// earliest is the first NotAfter of the chain (the leaf's when unknown).
func earliest(c pinwatchd.CertStatus) time.Time {
	if !c.ChainNotAfter.IsZero() && c.ChainNotAfter.Before(c.NotAfter) {
		return c.ChainNotAfter
	}
	return c.NotAfter
}
