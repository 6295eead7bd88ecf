package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/querydoc"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

const alertsUsage = "alerts [--all] [--vantage NAME] [--json] [--config F] [--database F]"

func runAlerts(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "alerts", alertsUsage)
	q := addQueryFlags(fs)
	all := fs.Bool("all", false, "include resolved alerts")
	vantage := fs.String("vantage", "", "only the alerts the vantage `NAME` sees")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "alerts takes no arguments, got %q; usage: pinwatchd %s", pos[0], alertsUsage)
	}
	db, err := openQueryDB(ctx, e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	alerts, err := db.Alerts(ctx, *all)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *vantage != "" {
		alerts = slices.DeleteFunc(alerts, func(a pinwatchd.Alert) bool {
			return !slices.Contains(pinwatchd.SiteVantages(a.Sites), *vantage)
		})
	}
	pending, maxAttempts, err := db.PendingCount(ctx)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	undeliverable, err := db.Undeliverable(ctx)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *q.json {
		out := make([]querydoc.Alert, 0, len(alerts))
		for _, a := range alerts {
			out = append(out, querydoc.AlertOf(a, undeliverable))
		}
		doc := map[string]any{"alerts": out, "notifications_pending": pending, "notifications_undeliverable": undeliverable.Count}
		if err := writeJSON(e.stdout, doc); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	writeText(e.stdout, func(w io.Writer) {
		textreport.Alerts(w, alerts, *all)
		if pending > 0 {
			fmt.Fprintf(w, "\n%s waiting in the outbox", textreport.Count(pending, "notification", "notifications"))
			if maxAttempts > 0 {
				fmt.Fprintf(w, " (up to %s failed so far; see the daemon's log)", textreport.Count(maxAttempts, "attempt", "attempts"))
			}
			fmt.Fprintln(w)
		}
		if undeliverable.Count > 0 {
			if pending == 0 {
				fmt.Fprintln(w)
			}
			it, last := "it", ""
			if undeliverable.Count > 1 {
				it, last = "them", "last: "
			}
			fmt.Fprintf(w, "%s undeliverable: Slack refused %s for good (%s%s); kept, and tried again when pinwatchd starts or reloads\n",
				textreport.Count(undeliverable.Count, "notification", "notifications"), it, last, refusal(undeliverable.LastError))
		}
	})
	return exitOK
}

// refusal is Slack's answer to a parked notification, as one short line:
// a proxy's error page may be long or hold control characters.
func refusal(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}
