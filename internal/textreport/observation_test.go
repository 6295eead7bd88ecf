package textreport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// TestStoredCutHeadersShown: a header value read back from the database cut
// (SPEC §9) says so in the report.
func TestStoredCutHeadersShown(t *testing.T) {
	o := &pinwatchd.Observation{
		Address: "192.0.2.1:443", HTTP: &pinwatchd.HTTPResult{Method: "HEAD", Status: 200},
		ServedChain: []pinwatchd.Cert{{Subject: "CN=localhost", Issuer: "CN=CA", KeyType: "ECDSA P-256", NotAfter: time.Now().Add(time.Hour)}},
		PublicKeyPins: &pinwatchd.PinHeader{Raw: "max-age=600; pin-sha256=…", MaxAge: 600, Valid: true,
			Pins: []pinwatchd.Pin{pinwatchd.PinOf([]byte("a"))}, Cut: true},
		PublicKeyPinsReportOnly: &pinwatchd.PinHeader{Raw: "pin-sha256", Errors: []string{"max-age is missing"}, Cut: true},
		StrictTransportSecurity: &pinwatchd.HSTSHeader{Raw: "max-age=1; x=aaaa", MaxAge: 1, Valid: true, Cut: true},
	}
	var b bytes.Buffer
	writeObservation(&b, o, time.Now())
	for _, want := range []string{
		"Public-Key-Pins: max-age 600, 1 pin [cut: only the first 8 KiB of the value were stored]",
		"Public-Key-Pins-Report-Only: MALFORMED (max-age is missing) [cut: only the first 8 KiB of the value were stored]",
		"Strict-Transport-Security: max-age=1; x=aaaa… [cut: only the first 8 KiB of the value were stored] (valid)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
