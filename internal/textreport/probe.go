package textreport

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Probe prints the detailed human report of one target.
func Probe(w io.Writer, r *pinwatchd.Report, now time.Time) {
	fmt.Fprintf(w, "%s  probed %s\n", term(net.JoinHostPort(r.Host, strconv.Itoa(r.Port))), r.ProbedAt.Format("2006-01-02 15:04:05 MST"))
	for i := range r.Addresses {
		fmt.Fprintln(w)
		writeObservation(w, &r.Addresses[i], now)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "findings")
	writeFindings(w, "  ", r.Findings)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "result: %s (%s)\n", resultWord(r.Findings), summaryLine(r.Findings))
}
