package textreport

import (
	"fmt"
	"io"

	"github.com/pinwatchd/pinwatchd"
)

// History prints the timeline, one event per block line.
func History(w io.Writer, events []pinwatchd.Event, target string) {
	if len(events) == 0 {
		if target != "" {
			fmt.Fprintf(w, "no history for target %q\n", target)
		} else {
			fmt.Fprintln(w, "no history yet")
		}
		return
	}
	for _, ev := range events {
		fmt.Fprintf(w, "%s  %s  %s  %s", shortTime(ev.Time), term(ev.Target), term(ev.Address), ev.Event)
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

// shortHash abbreviates a hex digest for reading.
func shortHash(h string) string {
	if len(h) > 16 {
		return "sha256:" + h[:16] + "…"
	}
	return h
}
