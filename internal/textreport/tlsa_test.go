package textreport

import (
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

func TestWriteTLSA(t *testing.T) {
	var b strings.Builder
	writeTLSA(&b, &pinwatchd.TLSAResult{Name: "_25._tcp.mx1", Authenticated: true, Records: []pinwatchd.TLSARecord{
		{Usage: 3, Selector: 1, MatchingType: 1, Data: "aa", Usable: true, Matches: "leaf"},
		{Usage: 3, Selector: 1, MatchingType: 1, Data: "bb", Usable: true},
		{Usage: 1, Selector: 1, MatchingType: 1, Data: "cc", Note: "PKIX-TA and PKIX-EE records are not used for SMTP"},
		{Usage: 3, Selector: 1, MatchingType: 1, Data: "\x1b[2J", Note: "malformed: data is not hex"},
	}})
	got := b.String()
	for _, want := range []string{
		"TLSA _25._tcp.mx1: 4 records, authenticated (AD)",
		"3 1 1 aa  matches leaf",
		"3 1 1 bb  backup (matches no certificate of the chain)",
		"1 1 1 cc  not usable: PKIX-TA",
		`\x1b[2j  not usable: malformed`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.ContainsRune(got, '\x1b') {
		t.Error("a control character reached the terminal")
	}
	b.Reset()
	writeTLSA(&b, &pinwatchd.TLSAResult{Name: "_25._tcp.mx1", Error: "127.0.0.1:53 answered SERVFAIL"})
	if b.String() != "    TLSA _25._tcp.mx1: lookup failed: 127.0.0.1:53 answered SERVFAIL\n" {
		t.Errorf("failed lookup: %q", b.String())
	}
}

func TestWriteTLSAChange(t *testing.T) {
	var b strings.Builder
	writeTLSAChange(&b, pinwatchd.Event{Event: pinwatchd.EventTLSAChanged, OldTLSA: "3 1 1 aa\n3 1 1 bb", NewTLSA: "3 1 1 bb\n3 1 1 cc"})
	if want := "    - 3 1 1 aa\n      3 1 1 bb\n    + 3 1 1 cc\n"; b.String() != want {
		t.Errorf("change printed\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	writeTLSAChange(&b, pinwatchd.Event{Event: pinwatchd.EventTLSAChanged, OldTLSA: "3 1 1 aa"})
	if want := "    - 3 1 1 aa\n    (no records left)\n"; b.String() != want {
		t.Errorf("all records removed printed %q, want %q", b.String(), want)
	}
}
