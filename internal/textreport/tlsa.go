package textreport

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// writeTLSA prints the TLSA RRset of an address: whether it is
// authenticated, and which record matches which certificate.
func writeTLSA(w io.Writer, res *pinwatchd.TLSAResult) {
	if res == nil {
		return
	}
	switch {
	case res.Error != "":
		fmt.Fprintf(w, "    TLSA %s: lookup failed: %s\n", term(res.Name), term(res.Error))
		return
	case len(res.Records) == 0:
		fmt.Fprintf(w, "    TLSA %s: no records\n", term(res.Name))
		return
	}
	auth := "authenticated (AD)"
	if !res.Authenticated {
		auth = "NOT authenticated: DANE clients ignore it"
	}
	fmt.Fprintf(w, "    TLSA %s: %s, %s\n", term(res.Name), Count(len(res.Records), "record", "records"), auth)
	matched := false
	for _, r := range res.Records {
		matched = matched || r.Matches != ""
	}
	for _, r := range res.Records {
		var role string
		switch {
		case r.Matches != "":
			role = "matches " + r.Matches
		case !r.Usable:
			role = "not usable: " + r.Note
		default:
			role = "matches no certificate of the chain"
			if matched {
				role = "backup (matches no certificate of the chain)"
			}
			if r.Note != "" {
				role = "no match: " + r.Note
			}
		}
		fmt.Fprintf(w, "      %s  %s\n", shortTLSA(r), role)
	}
}

// shortTLSA shows a record with its data shortened to stay on one line.
func shortTLSA(r pinwatchd.TLSARecord) string {
	d := r.Data
	if len(d) > 64 {
		d = d[:64] + "…"
	}
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, term(strings.ToLower(d)))
}

// writeTLSAChange prints the records of a tlsa_changed event: those
// removed, kept and added.
func writeTLSAChange(w io.Writer, ev pinwatchd.Event) {
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	oldL, newL := lines(ev.OldTLSA), lines(ev.NewTLSA)
	for _, l := range oldL {
		if !slices.Contains(newL, l) {
			fmt.Fprintf(w, "    - %s\n", term(l))
		}
	}
	for _, l := range newL {
		mark := "+"
		if slices.Contains(oldL, l) {
			mark = " "
		}
		fmt.Fprintf(w, "    %s %s\n", mark, term(l))
	}
	if len(newL) == 0 {
		fmt.Fprintln(w, "    (no records left)")
	}
}
