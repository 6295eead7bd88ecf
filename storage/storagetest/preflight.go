package storagetest

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// preflightChecks are the promises the rotation preflight (SPEC §13) reads.
var preflightChecks = []check{
	{"PinHeadersSeen", checkPinHeadersSeen},
}

// PinHeadersSeen returns each distinct well-formed enforcing value of a
// target once, with its last sighting at any address, the latest first; a
// value stored cut comes back cut.
func checkPinHeadersSeen(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	hdr := func(raw string, pins ...pinwatchd.Pin) *pinwatchd.PinHeader {
		return &pinwatchd.PinHeader{Raw: raw, Pins: pins, MaxAge: 600, Valid: true}
	}
	a, b := hdr("max-age=600; a", c.leaf().Pin, pinwatchd.Pin{1}), hdr("max-age=600; b", pinwatchd.Pin{2}, pinwatchd.Pin{3})
	bad := &pinwatchd.PinHeader{Raw: "max-age=x", Errors: []string{"max-age is not digits"}}
	// A header too long to store whole: 400 pins, of which the stored
	// value keeps the first ones only.
	var many []pinwatchd.Pin
	for i := range 400 {
		many = append(many, pinwatchd.Pin{byte(i), byte(i >> 8), 9})
	}
	long := hdr("max-age=600; "+strings.Repeat("pin-sha256=\"x\"; ", 400), many...)

	o1 := okObs("api", "127.0.0.1:1", t0, c)
	o1.PublicKeyPins = a
	o2 := okObs("api", "127.0.0.1:2", t0, c)
	o2.PublicKeyPins, o2.PublicKeyPinsReportOnly = bad, hdr("max-age=600; ro", pinwatchd.Pin{4})
	other := okObs("www", "127.0.0.1:3", t0, c)
	other.PublicKeyPins = b
	record(t, db.Store, o1, o2, other)
	o1.Time, o1.PublicKeyPins = t0.Add(time.Hour), b // a new value at :1
	o2.Time, o2.PublicKeyPins = t0.Add(3*time.Hour), a
	record(t, db.Store, o1, o2)
	o1.Time = t0.Add(2 * time.Hour) // b again: its span moves
	record(t, db.Store, o1)
	o1.Time, o1.PublicKeyPins = t0.Add(4*time.Hour), long
	record(t, db.Store, o1)
	o1.Time, o1.PublicKeyPins = t0.Add(5*time.Hour), nil // no header any more
	record(t, db.Store, o1)

	ro := openReadOnly(t, db)
	got, err := ro.PinHeadersSeen(t.Context(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("PinHeadersSeen(api) = %d values, want 3 (the long one, a, b): %+v", len(got), got)
	}
	if h := got[0]; !h.Header.Cut || !h.LastSeen.Equal(t0.Add(4*time.Hour)) || len(h.Header.Pins) == 0 || len(h.Header.Pins) >= 400 {
		t.Errorf("first = cut %v, seen %v, %d pins; want the long value cut, seen at +4h, with part of its 400 pins",
			h.Header.Cut, h.LastSeen, len(h.Header.Pins))
	}
	if h := got[1]; h.Header.Raw != a.Raw || !h.LastSeen.Equal(t0.Add(3*time.Hour)) || h.Header.Cut || len(h.Header.Pins) != 2 || h.Header.Pins[0] != c.leaf().Pin {
		t.Errorf("second = %+v seen %v; want a, last seen at +3h on :2", h.Header, h.LastSeen)
	}
	if h := got[2]; h.Header.Raw != b.Raw || !h.LastSeen.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("third = %q seen %v; want b, last seen at +2h", h.Header.Raw, h.LastSeen)
	}
	if none, err := ro.PinHeadersSeen(t.Context(), "nope"); err != nil || len(none) != 0 {
		t.Errorf("PinHeadersSeen(nope) = %v, %v; want none", none, err)
	}
}
