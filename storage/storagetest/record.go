package storagetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var recordChecks = []check{
	{"RecordSpans", checkRecordSpans},
	{"RecordStoresEachCertOnce", checkRecordStoresEachCertOnce},
	{"RecordChangeClasses", checkRecordChangeClasses},
	{"RecordFirstSeenOncePerAddress", checkRecordFirstSeenOncePerAddress},
	{"RecordFailureAndRecovery", checkRecordFailureAndRecovery},
	{"RecordFailureDoesNotHideRotation", checkRecordFailureDoesNotHideRotation},
	{"RecordFirstProbeFails", checkRecordFirstProbeFails},
	{"RecordRejects", checkRecordRejects},
	{"RecordSameAddressTwiceInOneRound", checkRecordSameAddressTwice},
}

type spanRowT struct {
	FirstSeen, LastSeen time.Time
	ProbeCount          int
}

func spanRows(t *testing.T, db Database) []spanRowT {
	t.Helper()
	var out []spanRowT
	for _, r := range db.Ints(t, `SELECT first_seen, last_seen, probe_count FROM spans ORDER BY id`) {
		out = append(out, spanRowT{time.Unix(r[0], 0).UTC(), time.Unix(r[1], 0).UTC(), int(r[2])})
	}
	return out
}

func checkRecordSpans(t *testing.T, newDB Factory) {
	p := testpki.New(t)
	base := okObs("api", "127.0.0.1:443", t0, pkiChain(p.Leaf, p.Intermediate, p.Root))
	hour := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	with := func(i int, f func(o *pinwatchd.Observation)) pinwatchd.Observation {
		o := base
		o.Time = hour(i)
		if f != nil {
			f(&o)
		}
		return o
	}
	hsts := func(o *pinwatchd.Observation) {
		o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=31536000", MaxAge: 31536000, Valid: true}
	}
	fail := func(msg string) func(o *pinwatchd.Observation) {
		return func(o *pinwatchd.Observation) {
			*o = failObs("api", "127.0.0.1:443", o.Time, pinwatchd.KindTimeout, msg)
		}
	}
	tests := []struct {
		name string
		obs  []pinwatchd.Observation
		want []spanRowT
	}{
		{"same observation three times", []pinwatchd.Observation{with(0, nil), with(1, nil), with(2, nil)},
			[]spanRowT{{hour(0), hour(2), 3}}},
		{"equal headers in new values", []pinwatchd.Observation{with(0, hsts), with(1, hsts)},
			[]spanRowT{{hour(0), hour(1), 2}}},
		{"same failure kind with another message", []pinwatchd.Observation{with(0, fail("i/o timeout")), with(1, fail("deadline exceeded"))},
			[]spanRowT{{hour(0), hour(1), 2}}},
		{"TLS version changes", []pinwatchd.Observation{with(0, nil), with(1, func(o *pinwatchd.Observation) { o.TLSVersion = "TLS 1.2" })},
			[]spanRowT{{hour(0), hour(0), 1}, {hour(1), hour(1), 1}}},
		{"verification changes", []pinwatchd.Observation{with(0, nil), with(1, func(o *pinwatchd.Observation) {
			o.Verification.HostnameValid, o.Verification.HostnameError = false, "x509: certificate is valid for localhost, not api"
		})}, []spanRowT{{hour(0), hour(0), 1}, {hour(1), hour(1), 1}}},
		{"HSTS header appears", []pinwatchd.Observation{with(0, nil), with(1, hsts), with(2, hsts)},
			[]spanRowT{{hour(0), hour(0), 1}, {hour(1), hour(2), 2}}},
		{"HTTP status changes", []pinwatchd.Observation{with(0, nil), with(1, func(o *pinwatchd.Observation) { o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 503} })},
			[]spanRowT{{hour(0), hour(0), 1}, {hour(1), hour(1), 1}}},
		{"error kind changes", []pinwatchd.Observation{with(0, fail("x")), with(1, func(o *pinwatchd.Observation) {
			*o = failObs("api", "127.0.0.1:443", o.Time, pinwatchd.KindConnectFailed, "refused")
		})}, []spanRowT{{hour(0), hour(0), 1}, {hour(1), hour(1), 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t)
			for _, o := range tt.obs {
				record(t, db.Store, o)
			}
			if got := spanRows(t, db); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("spans = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func checkRecordStoresEachCertOnce(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	// Two targets serving the same chain, in one round, then again.
	record(t, db.Store, okObs("a", "127.0.0.1:443", t0, c), okObs("b", "127.0.0.2:443", t0, c))
	record(t, db.Store, okObs("a", "127.0.0.1:443", t0.Add(time.Hour), c), okObs("b", "127.0.0.2:443", t0.Add(time.Hour), c))
	for table, want := range map[string]int{"certs": 3, "chains": 2, "chain_certs": 5, "spans": 2, "addresses": 2} {
		if got := countRows(t, db, table); got != want {
			t.Errorf("%s rows = %d, want %d", table, got, want)
		}
	}
}

func checkRecordChangeClasses(t *testing.T, newDB Factory) {
	root := testpki.NewRoot(t, testpki.Options{})
	inter := root.Intermediate(t, testpki.Options{})
	old := inter.Leaf(t, testpki.Options{})
	tests := []struct {
		name  string
		next  func() chain
		class pinwatchd.ChangeClass
	}{
		{"renewed with the same key", func() chain {
			return pkiChain(inter.Leaf(t, testpki.Options{Key: old.Key}), inter, root)
		}, pinwatchd.ChangeRenewed},
		{"new key", func() chain {
			return pkiChain(inter.Leaf(t, testpki.Options{}), inter, root)
		}, pinwatchd.ChangeKeyRotated},
		{"same key from another intermediate", func() chain {
			other := root.Intermediate(t, testpki.Options{CommonName: "other intermediate"})
			return pkiChain(other.Leaf(t, testpki.Options{Key: old.Key}), other, root)
		}, pinwatchd.ChangeIssuerChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t)
			a, b := pkiChain(old, inter, root), tt.next()
			record(t, db.Store, okObs("api", "127.0.0.1:443", t0, a))
			if ev := record(t, db.Store, okObs("api", "127.0.0.1:443", t0.Add(time.Hour), a)); len(ev) != 0 {
				t.Fatalf("unchanged observation derived events %+v", ev)
			}
			got := record(t, db.Store, okObs("api", "127.0.0.1:443", t0.Add(2*time.Hour), b))
			want := []pinwatchd.Event{{
				Time: t0.Add(2 * time.Hour), Target: "api", Address: "127.0.0.1:443",
				Event: pinwatchd.EventChainChanged, Class: tt.class,
				OldLeafPin: a.leaf().Pin.String(), NewLeafPin: b.leaf().Pin.String(),
				OldLeafSHA256: a.leaf().SHA256, NewLeafSHA256: b.leaf().SHA256,
				Issuer: b.leaf().Issuer, NotAfter: b.leaf().NotAfter,
			}}
			if len(got) == 1 && got[0].ID == 0 {
				t.Errorf("Record returned the event without its ID")
			} else if len(got) == 1 {
				want[0].ID = got[0].ID // History must return the same one
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Record events =\n%+v\nwant\n%+v", got, want)
			}
			hist, err := db.Store.History(t.Context(), "api", t0.Add(time.Hour))
			if err != nil || !reflect.DeepEqual(hist, want) {
				t.Fatalf("History = %+v, %v; want %+v", hist, err, want)
			}
		})
	}
}

func checkRecordFirstSeenOncePerAddress(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	var all []pinwatchd.Event
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Hour)
		all = append(all, record(t, db.Store, okObs("api", "127.0.0.1:443", at, c), okObs("api", "[::1]:443", at, c),
			okObs("www", "127.0.0.1:443", at, c))...)
	}
	want := []eventSummary{
		{Event: pinwatchd.EventFirstSeen, Address: "127.0.0.1:443", NewPin: c.leaf().Pin.String(), Time: t0, NewLeafSHA256: c.leaf().SHA256},
		{Event: pinwatchd.EventFirstSeen, Address: "[::1]:443", NewPin: c.leaf().Pin.String(), Time: t0, NewLeafSHA256: c.leaf().SHA256},
		{Event: pinwatchd.EventFirstSeen, Address: "127.0.0.1:443", NewPin: c.leaf().Pin.String(), Time: t0, NewLeafSHA256: c.leaf().SHA256},
	}
	if got := summarize(all); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %+v, want %+v", got, want)
	}
	if all[2].Target != "www" {
		t.Errorf("third first_seen is for target %q, want www", all[2].Target)
	}
}

func checkRecordFailureAndRecovery(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	addr := "127.0.0.1:443"
	h := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	record(t, db.Store, okObs("api", addr, h(0), c))
	var got []pinwatchd.Event
	got = append(got, record(t, db.Store, failObs("api", addr, h(1), pinwatchd.KindConnectFailed, "connection refused"))...)
	got = append(got, record(t, db.Store, failObs("api", addr, h(2), pinwatchd.KindConnectFailed, "connection refused"))...)
	got = append(got, record(t, db.Store, failObs("api", addr, h(3), pinwatchd.KindTimeout, "i/o timeout"))...)
	got = append(got, record(t, db.Store, okObs("api", addr, h(4), c))...)
	got = append(got, record(t, db.Store, okObs("api", addr, h(5), c))...)
	want := []eventSummary{
		{Event: pinwatchd.EventProbeFailed, Address: addr, ErrorKind: pinwatchd.KindConnectFailed, Time: h(1)},
		{Event: pinwatchd.EventRecovered, Address: addr, NewPin: c.leaf().Pin.String(), Time: h(4), NewLeafSHA256: c.leaf().SHA256},
	}
	if s := summarize(got); !reflect.DeepEqual(s, want) {
		t.Fatalf("events = %+v, want %+v", s, want)
	}
	if got[0].ErrorMessage != "connection refused" {
		t.Errorf("probe_failed message = %q", got[0].ErrorMessage)
	}
}

func checkRecordFailureDoesNotHideRotation(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	addr := "127.0.0.1:443"
	record(t, db.Store, okObs("api", addr, t0, a))
	record(t, db.Store, failObs("api", addr, t0.Add(time.Hour), pinwatchd.KindHandshakeFailed, "remote error"))
	record(t, db.Store, failObs("api", addr, t0.Add(2*time.Hour), pinwatchd.KindHandshakeFailed, "remote error"))
	record(t, db.Store, okObs("api", addr, t0.Add(3*time.Hour), b))

	hist, err := db.Store.History(t.Context(), "api", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []eventSummary{
		{Event: pinwatchd.EventFirstSeen, Address: addr, NewPin: a.leaf().Pin.String(), Time: t0, NewLeafSHA256: a.leaf().SHA256},
		{Event: pinwatchd.EventProbeFailed, Address: addr, ErrorKind: pinwatchd.KindHandshakeFailed, Time: t0.Add(time.Hour)},
		{Event: pinwatchd.EventRecovered, Address: addr, NewPin: b.leaf().Pin.String(), Time: t0.Add(3 * time.Hour), NewLeafSHA256: b.leaf().SHA256},
		{Event: pinwatchd.EventChainChanged, Address: addr, Class: pinwatchd.ChangeKeyRotated,
			OldPin: a.leaf().Pin.String(), NewPin: b.leaf().Pin.String(), Time: t0.Add(3 * time.Hour), NewLeafSHA256: b.leaf().SHA256},
	}
	if got := summarize(hist); !reflect.DeepEqual(got, want) {
		t.Fatalf("history =\n%+v\nwant\n%+v", got, want)
	}
}

func checkRecordFirstProbeFails(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	var got []pinwatchd.Event
	got = append(got, record(t, db.Store, failObs("api", "127.0.0.1:443", t0, pinwatchd.KindDNSFailed, "no such host"))...)
	got = append(got, record(t, db.Store, okObs("api", "127.0.0.1:443", t0.Add(time.Hour), c))...)
	want := []eventSummary{
		{Event: pinwatchd.EventFirstSeen, Address: "127.0.0.1:443", Time: t0},
		{Event: pinwatchd.EventProbeFailed, Address: "127.0.0.1:443", ErrorKind: pinwatchd.KindDNSFailed, Time: t0},
		{Event: pinwatchd.EventRecovered, Address: "127.0.0.1:443", NewPin: c.leaf().Pin.String(), Time: t0.Add(time.Hour), NewLeafSHA256: c.leaf().SHA256},
	}
	if s := summarize(got); !reflect.DeepEqual(s, want) {
		t.Fatalf("events = %+v, want %+v", s, want)
	}
}

func checkRecordRejects(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	noDER := c
	noDER.served = []pinwatchd.Cert{c.served[0], c.served[1]}
	noDER.served[0].DER = nil
	tests := []struct {
		name string
		obs  pinwatchd.Observation
		want string
	}{
		{"no target", okObs("", "127.0.0.1:443", t0, c),
			`record observation 0 (target "", address "127.0.0.1:443"): target, address and time are required`},
		{"no time", okObs("api", "127.0.0.1:443", time.Time{}, c),
			`record observation 0 (target "api", address "127.0.0.1:443"): target, address and time are required`},
		{"unknown cert without DER", okObs("api", "127.0.0.1:443", t0, noDER),
			"record observations in " + db.Store.Path() + ": target api address 127.0.0.1:443: served chain: certificate " +
				c.leaf().SHA256 + " (localhost) has no DER and is not stored yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Store.Record(t.Context(), []pinwatchd.Observation{tt.obs})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Record error = %v\nwant %s", err, tt.want)
			}
		})
	}
	if n := countRows(t, db, "spans"); n != 0 {
		t.Errorf("a failed Record left %d spans", n)
	}
	// Once stored with its DER, a certificate may come without it.
	record(t, db.Store, okObs("api", "127.0.0.1:443", t0, c))
	other := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	other.served[1].DER = nil // the intermediate is stored already
	record(t, db.Store, okObs("api", "127.0.0.1:443", t0.Add(time.Hour), other))
}

// One call holding the same address twice (a round and a retry of it, or
// two rounds batched together) records them in order: the first extends,
// the second changes, a third equal to the second extends the new span.
func checkRecordSameAddressTwice(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	addr := "127.0.0.1:443"
	record(t, db.Store, okObs("api", addr, t0, a))
	evs := record(t, db.Store, okObs("api", addr, t0.Add(time.Minute), a), okObs("api", addr, t0.Add(2*time.Minute), b),
		okObs("api", addr, t0.Add(3*time.Minute), b))
	if len(evs) != 1 || evs[0].Event != pinwatchd.EventChainChanged || evs[0].Time != t0.Add(2*time.Minute) {
		t.Fatalf("events = %+v, want one chain_changed at +2m", summarize(evs))
	}
	want := []spanRowT{{t0, t0.Add(time.Minute), 2}, {t0.Add(2 * time.Minute), t0.Add(3 * time.Minute), 2}}
	if got := spanRows(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("spans = %+v, want %+v", got, want)
	}
}
