package monitor

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// Pins from the examples of RFC 7469 §2.1.5.
const (
	pinA = "d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM="
	pinB = "E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g="
	pinC = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
)

func pinStrings(ps []pinwatchd.Pin) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestParsePinHeader(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		valid     bool
		pins      []string
		maxAge    int64
		subs      bool
		reportURI string
		errs      []string // substrings, one per expected error, in order
		notes     []string // substrings, one per expected note
	}{
		// RFC 7469 §2.1.5, folded lines joined with spaces.
		{name: "rfc example 1", raw: `max-age=3000; pin-sha256="` + pinA + `"; pin-sha256="` + pinB + `"`,
			valid: true, pins: []string{pinA, pinB}, maxAge: 3000},
		{name: "rfc example 2", raw: `max-age=2592000; pin-sha256="` + pinB + `"; pin-sha256="` + pinC + `"`,
			valid: true, pins: []string{pinB, pinC}, maxAge: 2592000},
		{name: "rfc example 3", raw: `max-age=2592000; pin-sha256="` + pinB + `"; pin-sha256="` + pinC + `"; report-uri="http://example.com/pkp-report"`,
			valid: true, pins: []string{pinB, pinC}, maxAge: 2592000, reportURI: "http://example.com/pkp-report"},
		{name: "rfc example 4 report-only", raw: `max-age=2592000; pin-sha256="` + pinB + `"; pin-sha256="` + pinC + `"; report-uri="https://other.example.net/pkp-report"`,
			valid: true, pins: []string{pinB, pinC}, maxAge: 2592000, reportURI: "https://other.example.net/pkp-report"},
		{name: "rfc example 5 max-age last", raw: `pin-sha256="` + pinA + `"; pin-sha256="` + pinC + `"; max-age=259200`,
			valid: true, pins: []string{pinA, pinC}, maxAge: 259200},
		{name: "rfc example 6 includeSubDomains", raw: `pin-sha256="` + pinA + `"; pin-sha256="` + pinB + `"; pin-sha256="` + pinC + `"; max-age=10000; includeSubDomains`,
			valid: true, pins: []string{pinA, pinB, pinC}, maxAge: 10000, subs: true},

		// Tolerated syntax.
		{name: "names are case-insensitive", raw: `MAX-AGE=60; Pin-SHA256="` + pinA + `"; INCLUDESUBDOMAINS; Report-URI="https://r.example/"`,
			valid: true, pins: []string{pinA}, maxAge: 60, subs: true, reportURI: "https://r.example/"},
		{name: "whitespace, tabs and empty directives", raw: " ;; max-age = 60 ;\tpin-sha256 =\t\"" + pinA + "\" ;;; ",
			valid: true, pins: []string{pinA}, maxAge: 60},
		{name: "unquoted pin and quoted max-age", raw: `max-age="60"; pin-sha256=` + pinA,
			valid: true, pins: []string{pinA}, maxAge: 60},
		{name: "quoted-pair and semicolon inside report-uri", raw: `max-age=1; pin-sha256="` + pinA + `"; report-uri="https://r.example/a;b\"c"`,
			valid: true, pins: []string{pinA}, maxAge: 1, reportURI: `https://r.example/a;b"c`},
		{name: "unknown directives and algorithms ignored", raw: `max-age=1; pin-sha1="AAAA"; pin-sha512="x"; foo=bar; baz; pin-sha256="` + pinA + `"`,
			valid: true, pins: []string{pinA}, maxAge: 1},
		{name: "duplicate pins kept once in order", raw: `max-age=1; pin-sha256="` + pinB + `"; pin-sha256="` + pinA + `"; pin-sha256=` + pinB + `; pin-sha256="` + pinC + `"`,
			valid: true, pins: []string{pinB, pinA, pinC}, maxAge: 1},
		{name: "max-age zero", raw: `max-age=0; pin-sha256="` + pinA + `"`,
			valid: true, pins: []string{pinA}, maxAge: 0},
		{name: "max-age exactly 60 days has no note", raw: `max-age=5184000; pin-sha256="` + pinA + `"`,
			valid: true, pins: []string{pinA}, maxAge: 5184000},
		{name: "max-age above 60 days is a note", raw: `max-age=31536000; pin-sha256="` + pinA + `"`,
			valid: true, pins: []string{pinA}, maxAge: 31536000, notes: []string{"max-age 31536000 exceeds 60 days"}},
		{name: "max-age overflowing int64 clamps", raw: `max-age=99999999999999999999999; pin-sha256="` + pinA + `"`,
			valid: true, pins: []string{pinA}, maxAge: math.MaxInt64, notes: []string{"exceeds 60 days; browsers capped it at 60 days"}},

		// Malformed.
		{name: "max-age missing", raw: `pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, errs: []string{"max-age is missing"}},
		{name: "max-age negative", raw: `max-age=-1; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, errs: []string{`max-age "-1" is not a number of seconds`}},
		{name: "max-age with unit", raw: `max-age=60s; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, errs: []string{`max-age "60s" is not a number`}},
		{name: "max-age without value", raw: `max-age; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, errs: []string{"max-age has no value"}},
		{name: "max-age empty", raw: `max-age=; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, errs: []string{"max-age has an empty value"}},
		{name: "max-age twice", raw: `max-age=1; pin-sha256="` + pinA + `"; Max-Age=2`,
			pins: []string{pinA}, errs: []string{"max-age appears more than once"}},
		{name: "includeSubDomains twice", raw: `max-age=1; includeSubDomains; pin-sha256="` + pinA + `"; includesubdomains`,
			pins: []string{pinA}, maxAge: 1, subs: true, errs: []string{"includeSubDomains appears more than once"}},
		{name: "includeSubDomains with value", raw: `max-age=1; includeSubDomains=yes; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, maxAge: 1, subs: true, errs: []string{`includeSubDomains has the value "yes" but takes none`}},
		{name: "report-uri twice", raw: `max-age=1; report-uri="https://a/"; pin-sha256="` + pinA + `"; report-uri="https://b/"`,
			pins: []string{pinA}, maxAge: 1, reportURI: "https://a/", errs: []string{"report-uri appears more than once"}},
		{name: "report-uri without URI", raw: `max-age=1; report-uri; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, maxAge: 1, errs: []string{"report-uri has no URI"}},
		{name: "pin not base64", raw: `max-age=1; pin-sha256="not base64!"; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, maxAge: 1, errs: []string{`pin-sha256 "not base64!" is not valid base64`}},
		{name: "pin of 20 bytes", raw: `max-age=1; pin-sha256="AAAAAAAAAAAAAAAAAAAAAAAAAAA="`,
			pins: []string{}, maxAge: 1, errs: []string{`pin-sha256 "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" decodes to 20 bytes, want 32`}},
		{name: "pin too long", raw: `max-age=1; pin-sha256="` + pinA + pinA + `"`,
			pins: []string{}, maxAge: 1, errs: []string{"is too long for a SHA-256 digest"}},
		{name: "pin url-safe base64", raw: `max-age=1; pin-sha256="` + strings.NewReplacer("+", "-", "/", "_").Replace(pinB) + `"`,
			pins: []string{}, maxAge: 1, errs: []string{"is not valid base64"}},
		{name: "pin without value", raw: `max-age=1; pin-sha256`,
			pins: []string{}, maxAge: 1, errs: []string{"pin-sha256 has no value"}},
		{name: "no pins", raw: `max-age=1; includeSubDomains`,
			pins: []string{}, maxAge: 1, subs: true, errs: []string{"there are no pin-sha256 directives"}},
		{name: "only unknown algorithms", raw: `max-age=1; pin-sha1="AAAA"`,
			pins: []string{}, maxAge: 1, errs: []string{"there are no pin-sha256 directives"}},
		{name: "empty header", raw: ``,
			pins: []string{}, errs: []string{"max-age is missing", "there are no pin-sha256 directives"}},
		{name: "unterminated quoted-string", raw: `max-age=1; pin-sha256="` + pinA,
			pins: []string{}, maxAge: 1, errs: []string{"has an unterminated quoted-string", "there are no pin-sha256 directives"}},
		{name: "junk after quoted value", raw: `max-age=1; pin-sha256="` + pinA + `"x; pin-sha256="` + pinB + `"`,
			pins: []string{pinB}, maxAge: 1, errs: []string{`directive "pin-sha256=\"` + pinA + `\"x" is not of the form name[=value]`}},
		{name: "space inside a name", raw: `max age=1; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, errs: []string{`directive "max age=1" is not of the form name[=value]`, "max-age is missing"}},
		{name: "value without name", raw: `=1; max-age=1; pin-sha256="` + pinA + `"`,
			pins: []string{pinA}, maxAge: 1, errs: []string{`directive "=1" is not of the form name[=value]`}},
		{name: "several problems all reported", raw: `max-age=x; max-age=1; includeSubDomains=1; pin-sha256="AAAA"`,
			pins: []string{}, errs: []string{`max-age "x"`, "max-age appears more than once", "includeSubDomains has the value", `pin-sha256 "AAAA" decodes to 3 bytes`}, subs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ParsePinHeader(tt.raw)
			if h.Raw != tt.raw {
				t.Errorf("Raw = %q, want the input", h.Raw)
			}
			if h.Valid != tt.valid {
				t.Errorf("Valid = %v, want %v (errors %q)", h.Valid, tt.valid, h.Errors)
			}
			if got := strings.Join(pinStrings(h.Pins), " "); got != strings.Join(tt.pins, " ") {
				t.Errorf("Pins = %v, want %v", pinStrings(h.Pins), tt.pins)
			}
			if h.MaxAge != tt.maxAge {
				t.Errorf("MaxAge = %d, want %d", h.MaxAge, tt.maxAge)
			}
			if h.IncludeSubDomains != tt.subs {
				t.Errorf("IncludeSubDomains = %v, want %v", h.IncludeSubDomains, tt.subs)
			}
			if h.ReportURI != tt.reportURI {
				t.Errorf("ReportURI = %q, want %q", h.ReportURI, tt.reportURI)
			}
			checkMessages(t, "Errors", h.Errors, tt.errs)
			checkMessages(t, "Notes", h.Notes, tt.notes)
		})
	}
}

// checkMessages asserts got has one message per want, in order, each
// containing its want substring.
func checkMessages(t *testing.T, field string, got, want []string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is nil, want a non-nil slice", field)
	}
	if len(got) != len(want) {
		t.Errorf("%s = %q, want %d messages like %q", field, got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s[%d] = %q, want it to contain %q", field, i, got[i], want[i])
		}
	}
}

func TestParsePinHeaderJSONHasEmptyLists(t *testing.T) {
	b, err := json.Marshal(ParsePinHeader(`max-age=1; pin-sha256="` + pinA + `"`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"errors":[]`) || !strings.Contains(string(b), `"notes":[]`) {
		t.Errorf("JSON = %s, want empty errors and notes as []", b)
	}
	b, err = json.Marshal(ParsePinHeader(`max-age=1`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"pins":[]`) {
		t.Errorf("JSON = %s, want empty pins as []", b)
	}
}

func TestParsePinHeaderLarge(t *testing.T) {
	// A 60 KB header of distinct pins parses whole and in order.
	var b strings.Builder
	b.WriteString("max-age=600")
	var want []string
	for i := 0; b.Len() < 60<<10; i++ {
		var p pinwatchd.Pin
		p[0], p[1] = byte(i), byte(i>>8)
		want = append(want, p.String())
		fmt.Fprintf(&b, "; pin-sha256=%q", p.String())
	}
	h := ParsePinHeader(b.String())
	if !h.Valid || len(h.Pins) != len(want) {
		t.Fatalf("valid=%v with %d pins, want valid with %d (errors %q)", h.Valid, len(h.Pins), len(want), h.Errors)
	}
	if got := pinStrings(h.Pins); got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Errorf("pins out of order: first %s last %s", got[0], got[len(got)-1])
	}
}

func TestParsePinHeaderManyDuplicates(t *testing.T) {
	// Forty distinct pins, each written three times in turn: duplicates
	// are dropped whether the header has few pins so far or many.
	var b strings.Builder
	b.WriteString("max-age=600")
	var want []string
	for round := range 3 {
		for i := range 40 {
			var p pinwatchd.Pin
			p[0] = byte(i + 1)
			if round == 0 {
				want = append(want, p.String())
			}
			fmt.Fprintf(&b, "; pin-sha256=%q", p.String())
		}
	}
	h := ParsePinHeader(b.String())
	if got := pinStrings(h.Pins); !slices.Equal(got, want) {
		t.Errorf("pins = %d %v, want the 40 distinct ones in order", len(got), got)
	}
}

func TestParsePinHeaderCapsErrors(t *testing.T) {
	raw := "max-age=1" + strings.Repeat(`; pin-sha256="AAAA"`, 1000)
	h := ParsePinHeader(raw)
	if h.Valid || len(h.Errors) != maxProblems+1 {
		t.Fatalf("valid=%v with %d errors, want invalid with %d", h.Valid, len(h.Errors), maxProblems+1)
	}
	if last := h.Errors[maxProblems]; last != "980 more problems not listed" {
		t.Errorf("last error = %q, want a count of the rest", last)
	}
}

func TestParseHSTS(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		valid   bool
		maxAge  int64
		subs    bool
		preload bool
		errs    []string
	}{
		{name: "rfc 6797 example", raw: `max-age=31536000`, valid: true, maxAge: 31536000},
		{name: "rfc 6797 quoted example", raw: `max-age="31536000"`, valid: true, maxAge: 31536000},
		{name: "all directives", raw: `max-age=63072000; includeSubDomains; preload`, valid: true, maxAge: 63072000, subs: true, preload: true},
		{name: "case and whitespace", raw: " Preload ;; INCLUDESUBDOMAINS;\tMax-Age = 15768000 ", valid: true, maxAge: 15768000, subs: true, preload: true},
		{name: "unknown directive ignored", raw: `max-age=0; foo="bar"`, valid: true},
		{name: "overflow clamps", raw: `max-age=123456789012345678901234567890`, valid: true, maxAge: math.MaxInt64},
		{name: "missing max-age", raw: `includeSubDomains; preload`, subs: true, preload: true, errs: []string{"max-age is missing"}},
		{name: "empty header", raw: ``, errs: []string{"max-age is missing"}},
		{name: "max-age not digits", raw: `max-age=1y`, errs: []string{`max-age "1y" is not a number of seconds`}},
		{name: "max-age negative", raw: `max-age=-5`, errs: []string{`max-age "-5"`}},
		{name: "max-age without value", raw: `max-age`, errs: []string{"max-age has no value"}},
		{name: "max-age twice", raw: `max-age=1; MAX-AGE=1`, errs: []string{`directive "MAX-AGE" appears more than once`}},
		{name: "includeSubDomains twice", raw: `max-age=1; includeSubDomains; includesubdomains`, maxAge: 1, subs: true,
			errs: []string{`directive "includesubdomains" appears more than once`}},
		{name: "preload twice", raw: `max-age=1; preload; preload`, maxAge: 1, preload: true, errs: []string{`directive "preload" appears more than once`}},
		{name: "unknown directive twice", raw: `max-age=1; foo; FOO=2; foo`, maxAge: 1, errs: []string{`directive "FOO" appears more than once`}},
		{name: "unterminated quote", raw: `max-age="1`, errs: []string{"unterminated quoted-string", "max-age is missing"}},
		{name: "junk", raw: `max-age=1 2`, errs: []string{`directive "max-age=1 2" is not of the form name[=value]`, "max-age is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ParseHSTS(tt.raw)
			if h.Raw != tt.raw {
				t.Errorf("Raw = %q, want the input", h.Raw)
			}
			if h.Valid != tt.valid {
				t.Errorf("Valid = %v, want %v (errors %q)", h.Valid, tt.valid, h.Errors)
			}
			if h.MaxAge != tt.maxAge {
				t.Errorf("MaxAge = %d, want %d", h.MaxAge, tt.maxAge)
			}
			if h.IncludeSubDomains != tt.subs || h.Preload != tt.preload {
				t.Errorf("includeSubDomains=%v preload=%v, want %v %v", h.IncludeSubDomains, h.Preload, tt.subs, tt.preload)
			}
			checkMessages(t, "Errors", h.Errors, tt.errs)
		})
	}
}

func BenchmarkParsePinHeader(b *testing.B) {
	raw := "max-age=5184000; includeSubDomains; report-uri=\"https://r.example/\"" +
		strings.Repeat(`; pin-sha256="`+pinA+`"; pin-sha256="`+pinB+`"`, 4)
	for b.Loop() {
		ParsePinHeader(raw)
	}
}
