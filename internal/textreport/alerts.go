package textreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pinwatchd/pinwatchd"
)

// Alerts prints alerts as a table, one line each, with the vantages that
// see them (SPEC §14; "-" for an alert stored before vantages existed).
func Alerts(w io.Writer, alerts []pinwatchd.Alert, all bool) {
	if len(alerts) == 0 {
		if all {
			fmt.Fprintln(w, "no alerts recorded")
		} else {
			fmt.Fprintln(w, "no open alerts")
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tTARGET\tKIND\tADDRESSES\tVANTAGES\tOPENED\tMESSAGE")
	for _, a := range alerts {
		state := string(a.State)
		if a.State == pinwatchd.AlertResolved {
			state = "resolved " + shortTime(a.ResolvedAt)
		}
		addrs := strings.Join(a.Addresses, ",")
		if len(a.Addresses) > 3 {
			addrs = fmt.Sprintf("%s and %d more", strings.Join(a.Addresses[:3], ","), len(a.Addresses)-3)
		}
		if addrs == "" {
			addrs = "-"
		}
		vantages := strings.Join(pinwatchd.SiteVantages(a.Sites), ",")
		if vantages == "" {
			vantages = "-"
		}
		msg := a.Message
		if a.State == pinwatchd.AlertResolved && a.ResolveReason != "" {
			msg += " — resolved: " + a.ResolveReason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, state, a.Severity.Label(), term(a.Target), a.Kind, term(addrs), term(vantages), shortTime(a.OpenedAt), term(msg))
	}
	tw.Flush()
}
