package main

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/pinwatchd/pinwatchd"
)

// writeText writes a text report through a buffer: one write for a report
// of thousands of lines (a year of history) rather than a few per line. A
// failed write of a text report does not change the exit status.
func writeText(w io.Writer, report func(w io.Writer)) {
	b := bufio.NewWriterSize(w, 64<<10)
	report(b)
	_ = b.Flush()
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// reportsJSON is the document `probe --json` prints; `check --json` adds
// to each target (checkDocJSON).
type reportsJSON struct {
	Targets []pinwatchd.Report `json:"targets"`
}

// normalizeReports replaces nil slices by empty ones so the JSON shows []
// rather than null where SPEC §5 has a list.
func normalizeReports(rs []pinwatchd.Report) []pinwatchd.Report {
	if rs == nil {
		rs = []pinwatchd.Report{}
	}
	for i := range rs {
		r := &rs[i]
		if r.Addresses == nil {
			r.Addresses = []pinwatchd.Observation{}
		}
		if r.Findings == nil {
			r.Findings = []pinwatchd.Finding{}
		}
		for j := range r.Addresses {
			o := &r.Addresses[j]
			if o.ServedChain == nil {
				o.ServedChain = []pinwatchd.Cert{}
			}
			if o.VerifiedChain == nil {
				o.VerifiedChain = []pinwatchd.Cert{}
			}
		}
	}
	return rs
}
