package monitor

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The seed corpus lives in testdata/fuzz/FuzzParsePinHeader and
// testdata/fuzz/FuzzParseHSTS and runs with every `go test`.

func FuzzParsePinHeader(f *testing.F) {
	// Too big for a readable corpus file: hundreds of pins, some repeated.
	var b strings.Builder
	b.WriteString("max-age=5184001; includeSubDomains")
	for i := range 400 {
		var p pinwatchd.Pin
		p[0] = byte(i % 300)
		fmt.Fprintf(&b, "; pin-sha256=%q", p.String())
	}
	f.Add(b.String())

	f.Fuzz(func(t *testing.T, raw string) {
		h := ParsePinHeader(raw)
		if h.Raw != raw {
			t.Fatalf("Raw = %q, want the input", h.Raw)
		}
		if h.Pins == nil || h.Errors == nil || h.Notes == nil {
			t.Fatalf("nil slice: pins %v errors %v notes %v", h.Pins == nil, h.Errors == nil, h.Notes == nil)
		}
		if h.Valid != (len(h.Errors) == 0) {
			t.Fatalf("Valid = %v with errors %q", h.Valid, h.Errors)
		}
		if h.MaxAge < 0 {
			t.Fatalf("MaxAge = %d, want >= 0", h.MaxAge)
		}
		if h.Valid && len(h.Pins) == 0 {
			t.Fatalf("valid header without pins")
		}
		seen := map[pinwatchd.Pin]bool{}
		for _, p := range h.Pins {
			if seen[p] {
				t.Fatalf("pin %s listed twice", p)
			}
			seen[p] = true
			if q, err := pinwatchd.ParsePin(p.String()); err != nil || q != p {
				t.Fatalf("pin %s does not round-trip as a 32-byte pin: %v", p, err)
			}
		}
		for _, m := range append(append([]string{}, h.Errors...), h.Notes...) {
			if m == "" || strings.ContainsAny(m, "\n\r") || len(m) > 400 {
				t.Fatalf("message %q is not one short line", m)
			}
		}
		if again := ParsePinHeader(raw); !reflect.DeepEqual(h, again) {
			t.Fatalf("parsing twice differs:\n%+v\n%+v", h, again)
		}
		if h.Valid {
			// What was understood, written canonically, means the same.
			var c strings.Builder
			fmt.Fprintf(&c, "max-age=%d", h.MaxAge)
			for _, p := range h.Pins {
				fmt.Fprintf(&c, "; pin-sha256=%q", p.String())
			}
			if h.IncludeSubDomains {
				c.WriteString("; includeSubDomains")
			}
			re := ParsePinHeader(c.String())
			if !re.Valid || !reflect.DeepEqual(re.Pins, h.Pins) || re.MaxAge != h.MaxAge || re.IncludeSubDomains != h.IncludeSubDomains {
				t.Fatalf("canonical form %q parses differently: %+v", c.String(), re)
			}
		}
	})
}

func FuzzParseHSTS(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		h := ParseHSTS(raw)
		if h.Raw != raw {
			t.Fatalf("Raw = %q, want the input", h.Raw)
		}
		if h.Errors == nil {
			t.Fatal("Errors is nil")
		}
		if h.Valid != (len(h.Errors) == 0) {
			t.Fatalf("Valid = %v with errors %q", h.Valid, h.Errors)
		}
		if h.MaxAge < 0 {
			t.Fatalf("MaxAge = %d, want >= 0", h.MaxAge)
		}
		if h.MaxAge != 0 && !strings.Contains(strings.ToLower(raw), "max-age") {
			t.Fatalf("MaxAge = %d from a header without max-age", h.MaxAge)
		}
		for _, m := range h.Errors {
			if m == "" || strings.ContainsAny(m, "\n\r") || len(m) > 400 {
				t.Fatalf("message %q is not one short line", m)
			}
		}
		if again := ParseHSTS(raw); !reflect.DeepEqual(h, again) {
			t.Fatalf("parsing twice differs:\n%+v\n%+v", h, again)
		}
		if h.Valid {
			c := fmt.Sprintf("max-age=%d", h.MaxAge)
			if h.IncludeSubDomains {
				c += "; includeSubDomains"
			}
			if h.Preload {
				c += "; preload"
			}
			re := ParseHSTS(c)
			if !re.Valid || re.MaxAge != h.MaxAge || re.IncludeSubDomains != h.IncludeSubDomains || re.Preload != h.Preload {
				t.Fatalf("canonical form %q parses differently: %+v", c, re)
			}
		}
	})
}
