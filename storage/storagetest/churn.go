package storagetest

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

var churnChecks = []check{
	{"HostileHeaderChurn", checkHostileHeaderChurn},
}

// A loopback HTTPS server whose ~900 KB Strict-Transport-Security changes
// on every response, probed and recorded 20 times: the value is stored
// once (cut at 8 KiB), every probe still starts a span, and the database
// grows less than 64 KiB (SPEC §9). A first, ordinary target is recorded
// before measuring, so that the size counts what the churn adds rather
// than the first page of every table and index (PostgreSQL allocates 8 KiB
// pages).
func checkHostileHeaderChurn(t *testing.T, newDB Factory) {
	pki := testpki.New(t)
	var n atomic.Int64
	padding := strings.Repeat("a", 900_000)
	srv := testpki.Serve(t, pki.TLS(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Strict-Transport-Security", fmt.Sprintf("max-age=31536000; x=%s%d", padding, n.Add(1)))
	}))
	p := &monitor.Prober{Timeout: 10 * time.Second, Roots: pki.RootPool()}
	tg := &pinwatchd.Target{Name: "hostile", Host: "localhost", Port: 443, Addresses: []string{srv.Addr}, HTTP: true, Path: "/"}

	db := newDB(t)
	warm := okObs("ordinary", "127.0.0.9:443", t0, pkiChain(pki.Intermediate.Leaf(t, testpki.Options{}), pki.Intermediate, pki.Root))
	warm.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=60", MaxAge: 60, Valid: true}
	record(t, db.Store, warm)
	before := db.Size(t)
	at := t0
	var last pinwatchd.Observation
	for range 20 {
		obs := p.Probe(t.Context(), tg)
		if o := obs[0]; o.Error != nil || o.StrictTransportSecurity == nil || len(o.StrictTransportSecurity.Raw) < 900_000 {
			t.Fatalf("probe: %+v, want a ~900 KB Strict-Transport-Security", o.Error)
		}
		obs[0].Time = at
		record(t, db.Store, obs...)
		last, at = obs[0], at.Add(time.Minute)
	}
	grown := db.Size(t) - before
	t.Logf("20 probes of a 900 KB header that changes every time grew the database by %d bytes", grown)
	if grown >= 64<<10 {
		t.Errorf("the database grew by %d bytes over 20 probes, want less than 64 KiB", grown)
	}
	if got := countRows(t, db, "header_values"); got != 2 {
		t.Errorf("%d header values stored, want 2 (the ordinary one, and one for the 20 values that differ only past the cut)", got)
	}
	if got := countRows(t, db, "spans"); got != 21 {
		t.Errorf("%d spans, want 21: the ordinary one, and one per probe, each whole value differing from the previous one", got)
	}

	// The same value again extends the latest span.
	last.Time = at
	record(t, db.Store, last)
	if got := countRows(t, db, "spans"); got != 21 {
		t.Errorf("%d spans after the same value again, want still 21", got)
	}

	stored, err := db.Store.LatestObservations(t.Context(), "hostile")
	if err != nil || len(stored) != 1 || stored[0].StrictTransportSecurity == nil {
		t.Fatalf("LatestObservations = %+v, %v", stored, err)
	}
	h := stored[0].StrictTransportSecurity
	if !h.Cut || !strings.HasPrefix(last.StrictTransportSecurity.Raw, h.Raw) || h.MaxAge != 31536000 || !h.Valid {
		t.Errorf("stored header: cut %v, max-age %d, valid %v, raw %d bytes; want a marked prefix with the whole value's max-age",
			h.Cut, h.MaxAge, h.Valid, len(h.Raw))
	}
}
