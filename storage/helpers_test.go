package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// t0 is the time of the first probe in the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openTest opens a new database file in a temporary directory and closes it
// at the end of the test.
func openTest(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// chain is a served chain and the verified chain built from it.
type chain struct {
	served, verified []pinwatchd.Cert
}

// pkiChain returns leaf → intermediate served, leaf → intermediate → root
// verified, from real certificates.
func pkiChain(leaf, inter, root *testpki.Cert) chain {
	l, i, r := pinwatchd.CertFromX509(leaf.Cert), pinwatchd.CertFromX509(inter.Cert), pinwatchd.CertFromX509(root.Cert)
	return chain{served: []pinwatchd.Cert{l, i}, verified: []pinwatchd.Cert{l, i, r}}
}

// okObs is a successful observation serving c.
func okObs(target, addr string, at time.Time, c chain) pinwatchd.Observation {
	return pinwatchd.Observation{
		Target: target, Address: addr, SNI: "localhost", Time: at, TLSVersion: "TLS 1.3",
		ServedChain: c.served, VerifiedChain: c.verified,
		Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true},
		HTTP:         &pinwatchd.HTTPResult{Method: "HEAD", Status: 200},
	}
}

// failObs is a failed observation.
func failObs(target, addr string, at time.Time, kind pinwatchd.Kind, msg string) pinwatchd.Observation {
	return pinwatchd.Observation{
		Target: target, Address: addr, SNI: "localhost", Time: at,
		Error: &pinwatchd.ProbeError{Kind: kind, Message: msg},
	}
}

// record stores one round and fails the test on error.
func record(t testing.TB, db *DB, obs ...pinwatchd.Observation) []pinwatchd.Event {
	t.Helper()
	ev, err := db.Record(t.Context(), obs)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return ev
}

// fakeCert is a certificate with random DER of a realistic size, for tests
// and benchmarks that need many distinct certificates cheaply.
func fakeCert(subject, issuer string, notAfter time.Time, key byte) pinwatchd.Cert {
	der := make([]byte, 900)
	rand.Read(der)
	sum := sha256.Sum256(der)
	var pin pinwatchd.Pin
	rand.Read(pin[:])
	if key != 0 {
		pin = pinwatchd.Pin{key}
	}
	return pinwatchd.Cert{
		Subject: "CN=" + subject, Issuer: "CN=" + issuer, Serial: hex.EncodeToString(der[:8]),
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter,
		SHA256: hex.EncodeToString(sum[:]), Pin: pin, KeyType: "ECDSA P-256", DER: der,
	}
}

// countRows returns the number of rows of table.
func countRows(t testing.TB, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(t.Context(), fmt.Sprintf("SELECT count(*) FROM %s", table)).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
