package main

import (
	"context"
	"io"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/querydoc"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

const historyUsage = "history [TARGET] [--since D|DATE] [--vantage NAME] [--json] [--config F] [--database F]"

func runHistory(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "history", historyUsage)
	q := addQueryFlags(fs)
	since := fs.String("since", "", "only events since this duration ago (7d, 36h) or date (2026-11-01)")
	vantage := addVantageFlag(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 1 {
		return fail(e.stderr, "history takes at most one TARGET, got %d; usage: pinwatchd %s", len(pos), historyUsage)
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	}
	from, err := config.ParseSince(*since, e.now())
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	db, err := openQueryDB(ctx, e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	events, err := db.History(ctx, target, from)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	events = querydoc.EventsAt(events, *vantage)
	if *q.json {
		if err := writeJSON(e.stdout, map[string]any{"events": querydoc.Events(events)}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	writeText(e.stdout, func(w io.Writer) { textreport.History(w, events, target) })
	return exitOK
}
