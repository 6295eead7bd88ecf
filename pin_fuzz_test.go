package pinwatchd_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The seed corpus lives in testdata/fuzz/FuzzParsePin and runs with every
// `go test`.

// FuzzParsePin checks that ParsePin never panics, that every pin it accepts
// reads back the same in each spelling, and that every error names the
// value (SPEC §2).
func FuzzParsePin(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pinwatchd.ParsePin(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not name the value %q", err, s)
			}
			if !p.IsZero() {
				t.Fatalf("error %q with pin %s, want the zero pin", err, p)
			}
			return
		}
		b64 := p.String()
		for _, spelling := range []string{b64, "sha256/" + b64, `pin-sha256="` + b64 + `"`, "pin-sha256=" + b64 + ";"} {
			if q, err := pinwatchd.ParsePin(spelling); err != nil || q != p {
				t.Fatalf("ParsePin(%q) accepted pin %s, but ParsePin(%q) = %s, %v", s, p, spelling, q, err)
			}
		}
		var q pinwatchd.Pin
		if err := q.UnmarshalText([]byte(s)); err != nil || q != p {
			t.Fatalf("UnmarshalText(%q) = %s, %v; ParsePin gave %s", s, q, err, p)
		}
	})
}
