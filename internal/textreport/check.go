package textreport

import (
	"fmt"
	"io"
	"slices"

	"github.com/pinwatchd/pinwatchd"
)

// Check prints the fleet report: one block per target, worst
// first, then with --record (recorded) the chain changes it recorded, then
// a summary line.
func Check(w io.Writer, reports []pinwatchd.Report, recorded bool, changes []pinwatchd.Event) {
	order := make([]*pinwatchd.Report, len(reports))
	for i := range reports {
		order[i] = &reports[i]
	}
	slices.SortStableFunc(order, func(a, b *pinwatchd.Report) int {
		return int(pinwatchd.Worst(b.Findings)) - int(pinwatchd.Worst(a.Findings))
	})
	var all []pinwatchd.Finding
	bySeverity := map[pinwatchd.Severity]int{}
	for _, r := range order {
		worst := pinwatchd.Worst(r.Findings)
		bySeverity[worst]++
		all = append(all, r.Findings...)
		label := worst.Label()
		if worst == pinwatchd.SeverityInfo {
			label = "ok"
		}
		ok := 0
		for _, o := range r.Addresses {
			if o.Error == nil {
				ok++
			}
		}
		fmt.Fprintf(w, "%-8s  %s (%s:%d)  %s answered of %d\n", label, term(r.Name), term(r.Host), r.Port, Count(ok, "address", "addresses"), len(r.Addresses))
		writeFindings(w, "    ", r.Findings)
		fmt.Fprintln(w)
	}
	if recorded {
		if len(changes) == 0 {
			fmt.Fprintf(w, "recorded: no chain changes\n\n")
		} else {
			fmt.Fprintf(w, "recorded %s:\n", Count(len(changes), "chain change", "chain changes"))
			History(w, changes, "")
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "%s: %d critical, %d warning, %d ok; findings: %s\n",
		Count(len(reports), "target", "targets"),
		bySeverity[pinwatchd.SeverityCritical], bySeverity[pinwatchd.SeverityWarning], bySeverity[pinwatchd.SeverityInfo],
		summaryLine(all))
}
