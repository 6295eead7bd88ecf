package storagetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// t0 is the time of the first probe in the checks.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// chain is a served chain and the verified chain built from it.
type chain struct {
	served, verified []pinwatchd.Cert
}

func (c chain) leaf() pinwatchd.Cert { return c.served[0] }

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

// fromVantage returns o as probed from vantage (SPEC §14).
func fromVantage(vantage string, o pinwatchd.Observation) pinwatchd.Observation {
	o.Vantage = vantage
	return o
}

// record stores one round and fails the test on error.
func record(t testing.TB, s storage.Store, obs ...pinwatchd.Observation) []pinwatchd.Event {
	t.Helper()
	ev, err := s.Record(t.Context(), obs)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return ev
}

// fakeCert is a certificate with random DER of a realistic size, for
// checks and benchmarks that need many distinct certificates cheaply. A
// key other than 0 makes the pin, so certificates can share a key.
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

// eventSummary is an event in a form easy to compare.
type eventSummary struct {
	Event         pinwatchd.EventType
	Address       string
	Class         pinwatchd.ChangeClass
	OldPin        string
	NewPin        string
	ErrorKind     pinwatchd.Kind
	Time          time.Time
	NewLeafSHA256 string
}

func summarize(evs []pinwatchd.Event) []eventSummary {
	out := make([]eventSummary, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventSummary{Event: e.Event, Address: e.Address, Class: e.Class, OldPin: e.OldLeafPin,
			NewPin: e.NewLeafPin, ErrorKind: e.ErrorKind, Time: e.Time, NewLeafSHA256: e.NewLeafSHA256})
	}
	return out
}
