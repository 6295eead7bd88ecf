package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// probeMail applies probe's --starttls and --dane to t: a STARTTLS target
// sends no HTTP request, and SMTP implies DANE (SPEC §12).
func probeMail(t *pinwatchd.Target, starttls string, dane bool) error {
	if starttls != "" {
		p, err := pinwatchd.ParseProtocol(starttls)
		if err != nil {
			return fmt.Errorf("--starttls: %w", err)
		}
		t.STARTTLS, t.HTTP = p, false
		dane = dane || p == pinwatchd.ProtocolSMTP
	}
	t.DANE = dane
	return nil
}

// writeTLSA prints the TLSA RRset of an address: whether it is
// authenticated, and which record matches which certificate.
func writeTLSA(w io.Writer, res *pinwatchd.TLSAResult) {
	if res == nil {
		return
	}
	switch {
	case res.Error != "":
		fmt.Fprintf(w, "    TLSA %s: lookup failed: %s\n", res.Name, res.Error)
		return
	case len(res.Records) == 0:
		fmt.Fprintf(w, "    TLSA %s: no records\n", res.Name)
		return
	}
	auth := "authenticated (AD)"
	if !res.Authenticated {
		auth = "NOT authenticated: DANE clients ignore it"
	}
	fmt.Fprintf(w, "    TLSA %s: %s, %s\n", res.Name, count(len(res.Records), "record", "records"), auth)
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
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, strings.ToLower(d))
}

// writeTLSAChange prints the records of a tlsa_changed event: those
// removed, kept and added.
func writeTLSAChange(w io.Writer, ev pinwatchd.Event) {
	has := func(list []string, s string) bool {
		for _, l := range list {
			if l == s {
				return true
			}
		}
		return false
	}
	for _, l := range ev.OldTLSA {
		if !has(ev.NewTLSA, l) {
			fmt.Fprintf(w, "    - %s\n", l)
		}
	}
	for _, l := range ev.NewTLSA {
		mark := "+"
		if has(ev.OldTLSA, l) {
			mark = " "
		}
		fmt.Fprintf(w, "    %s %s\n", mark, l)
	}
	if len(ev.NewTLSA) == 0 {
		fmt.Fprintln(w, "    (no records left)")
	}
}

// tlsaJSON is a tlsa_changed event's records for `history --json`: a list
// (empty when none) for that event, null for the others.
func tlsaJSON(ev pinwatchd.Event, lines []string) []string {
	if ev.Event != pinwatchd.EventTLSAChanged {
		return nil
	}
	if lines == nil {
		return []string{}
	}
	return lines
}
