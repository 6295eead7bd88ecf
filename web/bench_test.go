package web_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/web"
)

// The dashboard budget (SPEC §11): the fleet page of 1,000 targets renders
// in under 100 ms on the server and weighs under 200 KB.

// fleetSize is the fleet of the budget.
const fleetSize = 1000

// maxFleetPage is the budget's weight of the fleet page, uncompressed.
const maxFleetPage = 200_000

// bigFleet fills a database with one round of n targets, recorded and
// evaluated by the daemon's runner, and returns the web options over it.
// Every target has one address serving leaf → intermediate → root and
// HSTS, and the pin-set mobile-app (its leaf key and a backup); every
// third also sends Public-Key-Pins; every tenth has lost its backup pin,
// every hundredth drifted to an unpinned key; leaves expire from 1 to 400
// days out, so some are inside the warning and critical windows.
func bigFleet(tb testing.TB, n int) web.Options {
	tb.Helper()
	db, err := storage.Open(tb.Context(), filepath.Join(tb.TempDir(), "pinwatchd.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Now().UTC()
	root := fakeCert("bench root", "bench root", now.Add(10*365*24*time.Hour), true)
	inter := fakeCert("bench intermediate", "bench root", now.Add(5*365*24*time.Hour), true)
	runner := &monitor.Runner{Store: db, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Thresholds: pinwatchd.DefaultThresholds, Policy: pinwatchd.AlertPolicy{FailureThreshold: 2}}
	targets := make([]pinwatchd.Target, n)
	for i := range targets {
		name := fmt.Sprintf("svc-%04d", i)
		leaf := fakeCert(name+".example.com", "bench intermediate", now.Add(time.Duration(i*7%400+1)*24*time.Hour), false)
		backup := fakeCert("spare", "spare", now, false).Pin
		pins := []pinwatchd.Pin{leaf.Pin, backup}
		switch {
		case i%100 == 7:
			pins[0] = fakeCert("old", "old", now, false).Pin
		case i%10 == 3:
			pins = pins[:1]
		}
		t := pinwatchd.Target{Name: name, Host: name + ".example.com", Port: 443, HTTP: true, Path: "/",
			Addresses: []string{fmt.Sprintf("10.%d.%d.1:443", i/250, i%250)},
			PinSets:   []pinwatchd.PinSet{{Name: "mobile-app", Pins: pins}}}
		targets[i] = t
		o := pinwatchd.Observation{Target: name, Address: t.Addresses[0], SNI: t.Host, Time: now, TLSVersion: "TLS 1.3",
			ServedChain: []pinwatchd.Cert{leaf, inter}, VerifiedChain: []pinwatchd.Cert{leaf, inter, root},
			Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true},
			HTTP:         &pinwatchd.HTTPResult{Method: "HEAD", Status: 200},
			StrictTransportSecurity: &pinwatchd.HSTSHeader{Raw: "max-age=31536000; includeSubDomains", MaxAge: 31536000,
				IncludeSubDomains: true, Valid: true}}
		if i%3 == 0 {
			o.PublicKeyPins = &pinwatchd.PinHeader{Raw: "max-age=5184000; pin-sha256=…", Pins: []pinwatchd.Pin{leaf.Pin, backup},
				MaxAge: 5184000, Valid: true}
		}
		if err := runner.Process(tb.Context(), &targets[i], []pinwatchd.Observation{o}); err != nil {
			tb.Fatal(err)
		}
	}
	return web.Options{Store: db, Fleet: func() web.Fleet {
		return web.Fleet{Targets: targets, Thresholds: pinwatchd.DefaultThresholds}
	}}
}

// fakeCert is a certificate with random DER of a realistic size and a
// random key.
func fakeCert(cn, issuer string, notAfter time.Time, ca bool) pinwatchd.Cert {
	der := make([]byte, 900)
	rand.Read(der)
	sum := sha256.Sum256(der)
	var pin pinwatchd.Pin
	rand.Read(pin[:])
	return pinwatchd.Cert{Subject: "CN=" + cn, Issuer: "CN=" + issuer, Serial: hex.EncodeToString(der[:8]),
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter, SHA256: hex.EncodeToString(sum[:]),
		Pin: pin, IsCA: ca, KeyType: "ECDSA P-256", DER: der}
}

// TestFleetPageWeight checks the weight half of the budget, which does not
// depend on the machine.
func TestFleetPageWeight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a fleet of 1,000 targets")
	}
	h := web.NewHandler(bigFleet(t, fleetSize))
	code, _, body := get(t, h, "/", browserAccept)
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	if n := len(fleetRowRE.FindAllString(body, -1)); n != fleetSize {
		t.Fatalf("the fleet page has %d rows, want %d", n, fleetSize)
	}
	if len(body) >= maxFleetPage {
		t.Errorf("the fleet page of %d targets weighs %d bytes, over the budget of %d", fleetSize, len(body), maxFleetPage)
	}
	t.Logf("fleet page of %d targets: %d bytes", fleetSize, len(body))
}

// BenchmarkFleetPage serves GET / for 1,000 targets: "html" is the whole
// request as a browser makes it (reading the database, building the rows,
// rendering the template), "json" the same data as JSON. B/page is the
// weight of one answer.
func BenchmarkFleetPage(b *testing.B) {
	h := web.NewHandler(bigFleet(b, fleetSize))
	for _, tc := range []struct{ name, accept string }{{"html", browserAccept}, {"json", "application/json"}} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept", tc.accept)
			var size int
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET / = %d", w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(size), "B/page")
		})
	}
}

// cpuTime is the CPU time (user and system) of the process so far: on a
// shared machine the benchmark's wall time includes other work, its CPU
// time much less so.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTargetPage serves one target's page in the same fleet.
func BenchmarkTargetPage(b *testing.B) {
	h := web.NewHandler(bigFleet(b, fleetSize))
	req := httptest.NewRequest(http.MethodGet, "/target/svc-0500", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET /target/svc-0500 = %d", w.Code)
		}
		io.Copy(io.Discard, w.Body)
	}
}
