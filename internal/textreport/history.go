package textreport

import (
	"fmt"
	"io"

	"github.com/pinwatchd/pinwatchd"
)

// History prints the timeline, one event per block line. The vantage
// point of each event follows its address when the events come from more
// than one (SPEC §14).
func History(w io.Writer, events []pinwatchd.Event, target string) {
	if len(events) == 0 {
		if target != "" {
			fmt.Fprintf(w, "no history for target %q\n", target)
		} else {
			fmt.Fprintln(w, "no history yet")
		}
		return
	}
	vantages := severalVantages(events, func(e pinwatchd.Event) string { return e.Vantage })
	for _, ev := range events {
		fmt.Fprintf(w, "%s  %s  %s  ", shortTime(ev.Time), term(ev.Target), term(ev.Address))
		if vantages {
			fmt.Fprintf(w, "%s  ", term(vantageText(ev.Vantage)))
		}
		fmt.Fprint(w, ev.Event)
		switch ev.Event {
		case pinwatchd.EventFirstSeen:
			fmt.Fprintf(w, "\n    leaf key %s, issuer %s, expires %s\n", ev.NewLeafPin, term(shortDN(ev.Issuer)), ev.NotAfter.Format("2006-01-02"))
		case pinwatchd.EventChainChanged:
			fmt.Fprintf(w, " (%s)\n", ev.Class)
			if ev.OldLeafPin == ev.NewLeafPin {
				fmt.Fprintf(w, "    same leaf key %s, new certificate %s\n", ev.NewLeafPin, shortHash(ev.NewLeafSHA256))
			} else {
				fmt.Fprintf(w, "    leaf key %s -> %s\n", ev.OldLeafPin, ev.NewLeafPin)
			}
			fmt.Fprintf(w, "    issuer %s, expires %s\n", term(shortDN(ev.Issuer)), ev.NotAfter.Format("2006-01-02"))
		case pinwatchd.EventProbeFailed:
			fmt.Fprintf(w, " (%s)\n    %s\n", ev.ErrorKind, term(ev.ErrorMessage))
		case pinwatchd.EventTLSAChanged:
			fmt.Fprintln(w)
			writeTLSAChange(w, ev)
		default:
			fmt.Fprintln(w)
		}
	}
}

// severalVantages reports whether rows come from more than one vantage
// point, as of returns each row's: only then do the tables name them.
func severalVantages[T any](rows []T, of func(T) string) bool {
	for _, r := range rows {
		if of(r) != of(rows[0]) {
			return true
		}
	}
	return false
}

// vantageText names a vantage point in a table; "-" for rows recorded
// before vantage points existed.
func vantageText(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

// shortHash abbreviates a hex digest for reading.
func shortHash(h string) string {
	if len(h) > 16 {
		return "sha256:" + h[:16] + "…"
	}
	return h
}
