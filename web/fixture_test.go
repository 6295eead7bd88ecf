package web_test

import (
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/web"
)

// storage.DB is the Store the daemon and the report use.
var _ web.Store = (*storage.DB)(nil)

// hostileCN is the common name of a certificate whose text must reach the
// pages escaped.
const hostileCN = `<script>alert("cn")</script>`

// hostileHeader is a Public-Key-Pins value that must reach the pages
// escaped.
const hostileHeader = `max-age=600; pin-sha256="<img src=x onerror=alert(1)>"`

// fixture is a database filled by two rounds of real probes of loopback TLS
// servers, recorded and evaluated by the daemon's runner:
//
//   - api: pinned by the pin-set mobile-app (leaf + spare key, expires in
//     60 days), sends a valid Public-Key-Pins header with a backup and HSTS:
//     ok.
//   - drifted: pinned inline to the first leaf key and the spare key; its
//     server rotates to a new key before the second round: pin_mismatch
//     (critical), and a key_rotated event.
//   - billing: leaf billing.example.test expires in 20 days:
//     cert_expiring (warning).
//   - legacy: pinned to its leaf key alone: missing_backup_pin (warning).
//   - down: nothing listens: connect_failed (warning).
//   - hostile: a leaf whose common name is markup, and a malformed header
//     that is markup too: header_malformed (warning).
//   - unprobed: configured, never probed.
type fixture struct {
	db          *storage.DB
	fleet       web.Fleet
	oldLeafPin  pinwatchd.Pin // drifted's pin that no longer matches
	newLeafPin  pinwatchd.Pin // the key drifted serves now
	spare       pinwatchd.Pin
	billingLeaf *testpki.Cert
	downAddr    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pki := testpki.New(t)
	caFile := pki.WriteCAFile(t)
	spare := testpki.KeyPin(t, pki.Spare)
	hsts := map[string]string{"Strict-Transport-Security": "max-age=31536000"}

	api := testpki.Serve(t, pki.TLS(), testpki.HeaderHandler(map[string]string{
		"Strict-Transport-Security": "max-age=31536000",
		"Public-Key-Pins":           `max-age=600; pin-sha256="` + pki.Leaf.Pin().String() + `"; pin-sha256="` + spare.String() + `"`,
	}))
	drifted := testpki.Serve(t, pki.TLS(), testpki.HeaderHandler(hsts))
	billingLeaf := pki.Intermediate.Leaf(t, testpki.Options{CommonName: "billing.example.test",
		DNSNames: []string{"localhost"}, NotAfter: time.Now().Add(20 * 24 * time.Hour)})
	billing := testpki.Serve(t, testpki.Chain(billingLeaf, pki.Intermediate), testpki.HeaderHandler(hsts))
	legacyLeaf := pki.Intermediate.Leaf(t, testpki.Options{})
	legacy := testpki.Serve(t, testpki.Chain(legacyLeaf, pki.Intermediate), testpki.HeaderHandler(hsts))
	hostileLeaf := pki.Intermediate.Leaf(t, testpki.Options{CommonName: hostileCN, DNSNames: []string{"localhost"}})
	hostile := testpki.Serve(t, testpki.Chain(hostileLeaf, pki.Intermediate), testpki.HeaderHandler(map[string]string{
		"Strict-Transport-Security": "max-age=31536000", "Public-Key-Pins": hostileHeader,
	}))
	down := closedPort(t)

	target := func(name, addr string, sets ...pinwatchd.PinSet) pinwatchd.Target {
		return pinwatchd.Target{Name: name, Host: "localhost", Port: port(t, addr), Addresses: []string{addr},
			CAFile: caFile, PinSets: sets, HTTP: true, Path: "/"}
	}
	mobile := pinwatchd.PinSet{Name: "mobile-app", Pins: []pinwatchd.Pin{pki.Leaf.Pin(), spare},
		Expires: time.Now().Add(60 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)}
	targets := []pinwatchd.Target{
		target("api", api.Addr, mobile),
		target("billing", billing.Addr, pinwatchd.PinSet{Name: pinwatchd.PinSetInline, Pins: []pinwatchd.Pin{billingLeaf.Pin(), spare}}),
		target("down", down),
		target("drifted", drifted.Addr, pinwatchd.PinSet{Name: pinwatchd.PinSetInline, Pins: []pinwatchd.Pin{pki.Leaf.Pin(), spare}}),
		target("hostile", hostile.Addr),
		target("legacy", legacy.Addr, pinwatchd.PinSet{Name: pinwatchd.PinSetInline, Pins: []pinwatchd.Pin{legacyLeaf.Pin()}}),
		target("unprobed", "127.0.0.1:9"),
	}
	f := &fixture{fleet: web.Fleet{Targets: targets, Thresholds: pinwatchd.DefaultThresholds},
		oldLeafPin: pki.Leaf.Pin(), spare: spare, billingLeaf: billingLeaf, downAddr: down}

	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "pinwatchd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	prober := &monitor.Prober{Timeout: 5 * time.Second}
	runner := &monitor.Runner{Prober: prober, Store: db, Log: slog.New(slog.DiscardHandler), Now: time.Now,
		Thresholds: pinwatchd.DefaultThresholds,
		Policy:     pinwatchd.AlertPolicy{FailureThreshold: 1, NotifyResolved: true, NotifyChanges: true}}
	round := func() {
		for i := range targets[:len(targets)-1] { // "unprobed" stays so
			if err := runner.Run(t.Context(), &targets[i]); err != nil {
				t.Fatalf("probe round of %s: %v", targets[i].Name, err)
			}
		}
	}
	round()
	rotated := pki.Intermediate.Leaf(t, testpki.Options{})
	drifted.SetCertificate(testpki.Chain(rotated, pki.Intermediate))
	f.newLeafPin = rotated.Pin()
	round()
	return f
}

// options are the web options over the fixture.
func (f *fixture) options() web.Options {
	return web.Options{Store: f.db, Fleet: func() web.Fleet { return f.fleet }}
}

func port(t *testing.T, addr string) int {
	t.Helper()
	ap, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ap.Port
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
