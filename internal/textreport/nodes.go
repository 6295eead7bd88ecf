package textreport

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Nodes prints the nodes table of `pinwatchd nodes`: one row per node
// sharing the database, with how long ago it last reported at now.
func Nodes(w io.Writer, nodes []pinwatchd.Node, now time.Time) {
	if len(nodes) == 0 {
		fmt.Fprintln(w, "no node has reported yet (a running pinwatchd heartbeats every 10s)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VANTAGE\tHOST\tVERSION\tSTARTED\tLAST SEEN")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (%s)\n", term(n.Vantage), term(orDash(n.Host)), term(orDash(n.Version)),
			shortTime(n.StartedAt), shortTime(n.LastSeen), Age(now.Sub(n.LastSeen)))
	}
	tw.Flush()
}

// Age says how long ago something happened, d before now, in the largest
// unit that fits: "4s ago", "12m ago", "3h ago", "2d ago"; "just now"
// under a second, "in the future" for a clock ahead of this one.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// orDash is s, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
