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
	// Each event is formatted into one reused buffer and written at once: a
	// year of history is tens of thousands of lines.
	b := make([]byte, 0, 512)
	for _, ev := range events {
		b = appendShortTime(b[:0], ev.Time)
		b = append(append(append(b, "  "...), term(ev.Target)...), "  "...)
		b = append(append(b, term(ev.Address)...), "  "...)
		if vantages {
			b = append(append(b, term(vantageText(ev.Vantage))...), "  "...)
		}
		b = append(b, ev.Event...)
		switch ev.Event {
		case pinwatchd.EventFirstSeen:
			b = append(append(b, "\n    leaf key "...), ev.NewLeafPin...)
			b = appendIssuerExpiry(append(b, ", "...), ev)
		case pinwatchd.EventChainChanged:
			b = append(append(append(b, " ("...), ev.Class...), ")\n"...)
			if ev.OldLeafPin == ev.NewLeafPin {
				b = append(append(b, "    same leaf key "...), ev.NewLeafPin...)
				b = append(append(b, ", new certificate "...), shortHash(ev.NewLeafSHA256)...)
			} else {
				b = append(append(b, "    leaf key "...), ev.OldLeafPin...)
				b = append(append(b, " -> "...), ev.NewLeafPin...)
			}
			b = appendIssuerExpiry(append(b, "\n    "...), ev)
		case pinwatchd.EventProbeFailed:
			b = append(append(append(b, " ("...), ev.ErrorKind...), ")\n    "...)
			b = append(append(b, term(ev.ErrorMessage)...), '\n')
		default:
			b = append(b, '\n')
		}
		_, _ = w.Write(b)
		if ev.Event == pinwatchd.EventTLSAChanged {
			writeTLSAChange(w, ev)
		}
	}
}

// appendIssuerExpiry appends "issuer NAME, expires DATE" and a newline.
func appendIssuerExpiry(b []byte, ev pinwatchd.Event) []byte {
	b = append(append(b, "issuer "...), term(shortDN(ev.Issuer))...)
	return append(ev.NotAfter.AppendFormat(append(b, ", expires "...), "2006-01-02"), '\n')
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
