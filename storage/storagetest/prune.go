package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

var pruneChecks = []check{
	{"Prune", checkPrune},
	{"PruneResolvedAlerts", checkPruneResolvedAlerts},
}

func checkPrune(t *testing.T, newDB Factory) {
	db := newDB(t)
	s := db.Store
	p := testpki.New(t)
	old := pkiChain(p.Leaf, p.Intermediate, p.Root)
	cur := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	day := func(i int) time.Time { return t0.Add(time.Duration(i) * 24 * time.Hour) }
	hsts := func(o pinwatchd.Observation, maxAge int64) pinwatchd.Observation {
		o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age", MaxAge: maxAge, Valid: true}
		return o
	}

	// api: old chain (day 0-1), current chain from day 10 on.
	record(t, s, hsts(okObs("api", "127.0.0.1:443", day(0), old), 1))
	record(t, s, hsts(okObs("api", "127.0.0.1:443", day(1), old), 1))
	record(t, s, hsts(okObs("api", "127.0.0.1:443", day(10), cur), 2))
	// gone: served the old chain, then has failed since day 2: its last
	// chain and its failing span are both kept.
	record(t, s, okObs("gone", "127.0.0.2:443", day(0), old))
	record(t, s, failObs("gone", "127.0.0.2:443", day(2), pinwatchd.KindConnectFailed, "refused"))
	// quiet: unchanged since day 0, so its only span is old but latest.
	record(t, s, okObs("quiet", "127.0.0.3:443", day(0), cur))
	record(t, s, okObs("quiet", "127.0.0.3:443", day(3), cur))

	st, err := s.Prune(t.Context(), day(5))
	if err != nil {
		t.Fatal(err)
	}
	// Only api's first span goes, with the HSTS value it referenced; the
	// old chain is still gone's last chain. Events before day 5 go.
	want := storage.PruneStats{Spans: 1, Events: 4, Chains: 0, Certs: 0, Headers: 1}
	if st != want {
		t.Errorf("Prune = %+v, want %+v", st, want)
	}
	certs, err := s.Certs(t.Context(), day(10), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantLeaf := map[string]string{"api": cur.leaf().SHA256, "gone": old.leaf().SHA256, "quiet": cur.leaf().SHA256}
	if len(certs) != 3 {
		t.Fatalf("Certs after prune = %+v, want 3 addresses", certs)
	}
	for _, c := range certs {
		if c.LeafSHA256 != wantLeaf[c.Target] {
			t.Errorf("%s serves %s after prune, want %s", c.Target, c.LeafSHA256, wantLeaf[c.Target])
		}
	}
	hist, err := s.History(t.Context(), "", time.Time{})
	if err != nil || len(hist) != 1 || hist[0].Event != pinwatchd.EventChainChanged {
		t.Errorf("History after prune = %+v, %v; want api's chain_changed of day 10 only", hist, err)
	}

	// Once gone recovers with the current chain and its old spans age out,
	// the old chain and its leaf are no longer referenced.
	record(t, s, okObs("gone", "127.0.0.2:443", day(20), cur))
	st, err = s.Prune(t.Context(), day(15))
	if err != nil {
		t.Fatal(err)
	}
	want = storage.PruneStats{Spans: 2, Events: 1, Chains: 2, Certs: 1, Headers: 0}
	if st != want {
		t.Errorf("second Prune = %+v, want %+v", st, want)
	}
	for table, n := range map[string]int{"certs": 3, "chains": 2, "chain_certs": 5, "spans": 3, "header_values": 1} {
		if got := countRows(t, db, table); got != n {
			t.Errorf("%s rows after prune = %d, want %d", table, got, n)
		}
	}
	// Pruning again deletes nothing.
	if st, err := s.Prune(t.Context(), day(15)); err != nil || st != (storage.PruneStats{}) {
		t.Errorf("repeated Prune = %+v, %v; want nothing deleted", st, err)
	}
	// Recording after a prune still works (caches were dropped).
	record(t, s, okObs("api", "127.0.0.1:443", day(21), old))
}

func checkPruneResolvedAlerts(t *testing.T, newDB Factory) {
	db := newDB(t)
	s := db.Store
	ctx := t.Context()
	old := newAlert("api", pinwatchd.KindPinMismatch, "ios")
	old.State, old.ResolvedAt = pinwatchd.AlertResolved, t0
	waiting := newAlert("api", pinwatchd.KindCertExpired, "abc")
	waiting.State, waiting.ResolvedAt = pinwatchd.AlertResolved, t0
	open := newAlert("api", pinwatchd.KindChainUntrusted, "")
	if err := s.SaveAlerts(ctx, []pinwatchd.Alert{old, waiting, open},
		[]pinwatchd.Notification{{Type: pinwatchd.ChangeResolved, Alert: &waiting, CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Prune(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Alerts != 1 {
		t.Errorf("pruned %d alerts, want 1 (the resolved one no notification waits for)", st.Alerts)
	}
	all, _ := s.Alerts(ctx, true)
	var kinds []pinwatchd.Kind
	for _, a := range all {
		kinds = append(kinds, a.Kind)
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []pinwatchd.Kind{pinwatchd.KindCertExpired, pinwatchd.KindChainUntrusted}) {
		t.Errorf("alerts left = %v", kinds)
	}
}
