package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// TestProbeCutsLongHeaders probes a hostile server sending a ~900 KB
// Strict-Transport-Security: the human report shows its first 8 KiB and says
// it was cut; the JSON keeps the value exact.
func TestProbeCutsLongHeaders(t *testing.T) {
	f := newFleet(t)
	value := "max-age=31536000; x=" + strings.Repeat("a", 900_000)
	s := f.serve(t, map[string]string{"Strict-Transport-Security": value})
	port := s.Addr[strings.LastIndex(s.Addr, ":")+1:]
	args := []string{"probe", "localhost:" + port, "--connect", "127.0.0.1", "--ca-file", f.caFile}

	stdout, stderr, code := runCmd(t, "", nil, args...)
	if code != exitOK {
		t.Fatalf("exit %d\n%.2000s\n%s", code, stdout, stderr)
	}
	want := fmt.Sprintf("Strict-Transport-Security: %s… [cut: the first 8192 of %d bytes shown] (valid)", value[:8192], len(value))
	if !strings.Contains(stdout, want) || len(stdout) > 16<<10 {
		t.Errorf("report of %d bytes lacks the value cut at 8 KiB and marked cut:\n%.3000s", len(stdout), stdout)
	}

	stdout, _, _ = runCmd(t, "", nil, append(args, "--json")...)
	var doc struct {
		Targets []struct {
			Addresses []struct {
				HSTS map[string]any `json:"strict_transport_security"`
			} `json:"addresses"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Targets) != 1 || len(doc.Targets[0].Addresses) != 1 {
		t.Fatalf("JSON %.500s: %v", stdout, err)
	}
	h := doc.Targets[0].Addresses[0].HSTS
	if h["raw"] != value || h["cut"] != nil {
		t.Errorf("JSON raw is %d bytes, cut %v; want the whole value, not marked cut", len(fmt.Sprint(h["raw"])), h["cut"])
	}
}

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
