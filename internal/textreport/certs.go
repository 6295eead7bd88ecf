package textreport

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Certs prints the certs table: rows, then how many stale rows were
// hidden (hidden), or why there is no row (limit is --expiring-within, 0
// when not given). A VANTAGE column follows ADDRESS when the rows come
// from more than one vantage point (SPEC §14).
func Certs(w io.Writer, rows []pinwatchd.CertStatus, hidden int, limit time.Duration) {
	switch {
	case len(rows) == 0 && limit > 0:
		fmt.Fprintf(w, "no certificate expires within %s\n", limit)
	case len(rows) == 0 && hidden == 0:
		fmt.Fprintln(w, "no certificates recorded yet")
	case len(rows) == 0:
		fmt.Fprintln(w, "no certificates recorded for the configured targets yet")
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		vantages := severalVantages(rows, func(c pinwatchd.CertStatus) string { return c.Vantage })
		vantage := func(c pinwatchd.CertStatus) string { return "" }
		if vantages {
			vantage = func(c pinwatchd.CertStatus) string { return term(vantageText(c.Vantage)) + "\t" }
		}
		fmt.Fprintf(tw, "TARGET\tADDRESS\t%sLEAF\tISSUER\tNOT AFTER\tDAYS\tCHAIN NOT AFTER\tLEAF PIN\tSTATUS\n", vantage(pinwatchd.CertStatus{Vantage: "VANTAGE"}))
		for _, c := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%s\t%d\t%s\t%s\t%s\n", term(c.Target), term(c.Address), vantage(c), term(shortDN(c.LeafSubject)), term(shortDN(c.Issuer)),
				c.NotAfter.UTC().Format("2006-01-02"), c.DaysLeft, c.ChainNotAfter.UTC().Format("2006-01-02"), c.LeafPin, term(certStatusText(c)))
		}
		tw.Flush()
	}
	if hidden > 0 {
		fmt.Fprintf(w, "(%s of targets no longer configured or addresses that left DNS not shown; --all shows them)\n",
			Count(hidden, "row", "rows"))
	}
}

// certStatusText is the STATUS column: "ok", the failure of the latest
// probe, or why the row is history, with when the chain was last seen.
func certStatusText(c pinwatchd.CertStatus) string {
	var what string
	switch {
	case c.Stale == pinwatchd.StaleNotConfigured:
		what = "not configured"
	case c.Stale == pinwatchd.StaleLeftDNS:
		what = "left DNS"
	case c.ErrorKind != "":
		what = string(c.ErrorKind)
	default:
		return "ok"
	}
	return fmt.Sprintf("%s (last seen %s)", what, shortTime(c.LastSeen))
}
