package storage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// decodeCut cuts v and decodes the stored text back, checking its size.
func decodeCut[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := cutHeader(v)
	if err != nil {
		t.Fatalf("cutHeader: %v", err)
	}
	if len(b) > MaxHeaderValue {
		t.Fatalf("cut value is %d bytes of JSON, want at most %d", len(b), MaxHeaderValue)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("cut value %.100s… does not decode: %v", b, err)
	}
	return out
}

func TestCutHSTS(t *testing.T) {
	raw := "max-age=31536000; includeSubDomains; x=" + strings.Repeat("a", 900_000) + "1"
	h := monitor.ParseHSTS(raw)
	got := decodeCut(t, h)
	if !got.Cut || !strings.HasPrefix(raw, got.Raw) || len(got.Raw) < MaxHeaderValue/2 {
		t.Errorf("stored Raw is %d bytes (cut %v), want a prefix of the value of at least %d bytes, marked cut",
			len(got.Raw), got.Cut, MaxHeaderValue/2)
	}
	if got.MaxAge != 31536000 || !got.IncludeSubDomains || !got.Valid {
		t.Errorf("stored %+v lost what was parsed from the whole value", got)
	}
	if h.Cut || len(h.Raw) != len(raw) {
		t.Error("cutHeader changed the header it was given")
	}

	// A value that differs only beyond what is kept is stored as the same
	// text, so once.
	other := monitor.ParseHSTS(strings.TrimSuffix(raw, "1") + "2")
	a, _ := cutHeader(h)
	b, _ := cutHeader(other)
	if string(a) != string(b) {
		t.Error("two values that differ only past the cut are stored differently")
	}
}

func TestCutPinHeader(t *testing.T) {
	pin := pinwatchd.PinOf([]byte("spki")).String()
	var raw strings.Builder
	raw.WriteString("max-age=600; report-uri=\"https://example.com/" + strings.Repeat("r", 20_000) + "\"")
	for i := range 20_000 {
		fmt.Fprintf(&raw, "; pin-sha256=\"%s\"", pinwatchd.PinOf(fmt.Appendf(nil, "key %d", i)))
	}
	raw.WriteString("; pin-sha256=\"" + pin + "\"")
	h := monitor.ParsePinHeader(raw.String())
	if !h.Valid || len(h.Pins) != 20_001 {
		t.Fatalf("the test header parses as valid %v with %d pins", h.Valid, len(h.Pins))
	}
	got := decodeCut(t, h)
	if !got.Cut || !strings.HasPrefix(raw.String(), got.Raw) || !strings.HasPrefix(h.ReportURI, got.ReportURI) {
		t.Errorf("stored Raw %.40q…, report-uri %.40q… (cut %v); want prefixes, marked cut", got.Raw, got.ReportURI, got.Cut)
	}
	if len(got.Pins) == 0 || got.Pins[0] != h.Pins[0] || got.MaxAge != 600 || !got.Valid {
		t.Errorf("stored %d pins, max-age %d, valid %v; want the first pins of the whole value, 600, true", len(got.Pins), got.MaxAge, got.Valid)
	}
}

func TestCutEscapes(t *testing.T) {
	// Control characters and invalid UTF-8 take up to six bytes of JSON
	// each; the stored text still fits, and keeps whole runes.
	h := &pinwatchd.HSTSHeader{Raw: strings.Repeat("\x1b[2K\xffé", 50_000), Errors: []string{strings.Repeat("\x00", 9000), "max-age is missing"}}
	got := decodeCut(t, h)
	if !got.Cut || !strings.HasPrefix(strings.Repeat("\x1b[2K\ufffdé", 50_000), got.Raw) || len(got.Errors) == 0 {
		t.Errorf("stored Raw %.40q… with %d errors, want a prefix of the value (invalid bytes as U+FFFD), marked cut", got.Raw, len(got.Errors))
	}
}

// TestHostileHeaderChurn probes a loopback HTTPS server whose ~900 KB
// Strict-Transport-Security changes on every response, 20 times, and
// records each probe: the database grows less than 64 KiB (SPEC §9), the
// value is stored once, and every probe still starts a span.
func TestHostileHeaderChurn(t *testing.T) {
	pki := testpki.New(t)
	var n atomic.Int64
	padding := strings.Repeat("a", 900_000)
	srv := testpki.Serve(t, pki.TLS(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Strict-Transport-Security", fmt.Sprintf("max-age=31536000; x=%s%d", padding, n.Add(1)))
	}))
	p := &monitor.Prober{Timeout: 10 * time.Second, Roots: pki.RootPool()}
	tg := &pinwatchd.Target{Name: "hostile", Host: "localhost", Port: 443, Addresses: []string{srv.Addr}, HTTP: true, Path: "/"}

	db, path := openTest(t)
	before := checkpointedSize(t, path, db)
	at := t0
	var last pinwatchd.Observation
	for range 20 {
		obs := p.Probe(t.Context(), tg)
		if o := obs[0]; o.Error != nil || o.StrictTransportSecurity == nil || len(o.StrictTransportSecurity.Raw) < 900_000 {
			t.Fatalf("probe: %+v, want a ~900 KB Strict-Transport-Security", o.Error)
		}
		obs[0].Time = at
		record(t, db, obs...)
		last, at = obs[0], at.Add(time.Minute)
	}
	grown := checkpointedSize(t, path, db) - before
	t.Logf("20 probes of a 900 KB header that changes every time grew the database by %d bytes", grown)
	if grown >= 64<<10 {
		t.Errorf("the database grew by %d bytes over 20 probes, want less than 64 KiB", grown)
	}
	if got := countRows(t, db, "header_values"); got != 1 {
		t.Errorf("%d header values stored, want 1: the values differ only past the cut", got)
	}
	if got := countRows(t, db, "spans"); got != 20 {
		t.Errorf("%d spans, want 20: each probe's whole value differs from the previous one", got)
	}

	// The same value again extends the latest span.
	last.Time = at
	record(t, db, last)
	if got := countRows(t, db, "spans"); got != 20 {
		t.Errorf("%d spans after the same value again, want still 20", got)
	}

	stored, err := db.LatestObservations(t.Context(), "hostile")
	if err != nil || len(stored) != 1 || stored[0].StrictTransportSecurity == nil {
		t.Fatalf("LatestObservations = %+v, %v", stored, err)
	}
	h := stored[0].StrictTransportSecurity
	if !h.Cut || !strings.HasPrefix(last.StrictTransportSecurity.Raw, h.Raw) || h.MaxAge != 31536000 || !h.Valid {
		t.Errorf("stored header: cut %v, max-age %d, valid %v, raw %d bytes; want a marked prefix with the whole value's max-age",
			h.Cut, h.MaxAge, h.Valid, len(h.Raw))
	}
}

// checkpointedSize checkpoints the database and returns the size of its
// file.
func checkpointedSize(t *testing.T, path string, db *DB) int64 {
	t.Helper()
	if _, err := db.write.ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
