package textreport

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pinwatchd/pinwatchd/monitor"
)

// Preflight prints the rotation preflight (SPEC §13): with asJSON the
// document of SPEC §13, else a checklist: the candidate's keys, then per
// target one line per pin source and warning, then the overall answer.
// Write errors are the caller's to see on w.
func Preflight(w io.Writer, r *monitor.PreflightReport, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(r)
		return
	}
	fmt.Fprintln(w, "Candidate")
	for _, k := range r.Candidate.Keys {
		from := term(k.File)
		if k.Assumed {
			from = "assumed to stay: " + from
		}
		fmt.Fprintf(w, "  %-16s %s  %s\n", k.Position, k.Pin, from)
	}
	for _, t := range r.Targets {
		fmt.Fprintf(w, "\n%s (%s:%d)\n", term(t.Name), term(t.Host), t.Port)
		if len(t.Verdicts) == 0 {
			fmt.Fprintln(w, "  [ok]      nothing pins this target: no pin-set, no cached header, no TLSA records")
		}
		for _, v := range t.Verdicts {
			mark, what := "[ok]", "ok"
			switch v.Verdict {
			case monitor.VerdictBreaks:
				mark, what = "[BREAKS]", "breaks"
			case monitor.VerdictBreaksUntil:
				mark, what = "[BREAKS]", "breaks until "+v.Until.Format("2006-01-02 15:04 UTC")
			}
			fmt.Fprintf(w, "  %-9s %s: %s — %s\n", mark, term(v.Source), what, term(v.Message))
		}
		for _, x := range t.Warnings {
			fmt.Fprintf(w, "  %-9s %s: %s\n", "[warn]", strings.ReplaceAll(x.Kind, "_", " "), term(x.Message))
		}
	}
	fmt.Fprintln(w)
	switch r.Exit {
	case 0:
		fmt.Fprintln(w, "Safe to deploy now.")
	case 1:
		fmt.Fprintln(w, "Safe only with the warnings above fixed, or from the date printed.")
	default:
		fmt.Fprintln(w, "Deploying this breaks pinned clients with no end in sight.")
	}
}
