package storagetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// tlsaChecks are the promises about DANE targets (SPEC §12): TLSA RRsets
// recorded, cut, returned and pruned, tlsa_changed events, and the alerts
// of an mx target's exchanges.
var tlsaChecks = []check{
	{"RecordTLSA", checkRecordTLSA},
	{"RecordTLSACut", checkRecordTLSACut},
	{"PruneTLSA", checkPruneTLSA},
	{"RecentObservationsTLSA", checkRecentObservationsTLSA},
	{"OpenAlertsUnder", checkOpenAlertsUnder},
}

// rrset is an authenticated TLSA result holding records in presentation
// form.
func rrset(records ...string) *pinwatchd.TLSAResult {
	res := &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example", Authenticated: true}
	for _, r := range records {
		var rec pinwatchd.TLSARecord
		if _, err := fmt.Sscan(r, &rec.Usage, &rec.Selector, &rec.MatchingType, &rec.Data); err != nil {
			panic(err)
		}
		res.Records = append(res.Records, rec)
	}
	return res
}

const (
	recA = "3 1 1 0000000000000000000000000000000000000000000000000000000000000001"
	recB = "3 1 1 0000000000000000000000000000000000000000000000000000000000000002"
)

func withTLSA(o pinwatchd.Observation, res *pinwatchd.TLSAResult) pinwatchd.Observation {
	o.STARTTLS, o.HTTP, o.TLSA = pinwatchd.ProtocolSMTP, nil, res
	return o
}

// The RRset is part of what a span is: the same RRset extends the span, a
// changed one starts a span and records tlsa_changed with the records
// before and after; a failed lookup in between is no change of the RRset.
func checkRecordTLSA(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	const addr = "127.0.0.1:25"
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	ev := record(t, db.Store, withTLSA(okObs("mail", addr, at(0), c), rrset(recA)))
	if len(ev) != 1 || ev[0].Event != pinwatchd.EventFirstSeen {
		t.Fatalf("first round: %+v, want first_seen only (the first RRset is no change)", summarize(ev))
	}
	// Matching against a chain adds nothing to what is stored.
	matched := rrset(recA)
	matched.Records[0].Usable, matched.Records[0].Matches = true, "leaf"
	if ev := record(t, db.Store, withTLSA(okObs("mail", addr, at(1), c), matched)); len(ev) != 0 {
		t.Fatalf("same RRset: events %+v, want none", summarize(ev))
	}
	if n := countRows(t, db, "spans"); n != 1 {
		t.Fatalf("%d spans after the same RRset twice, want 1", n)
	}

	failed := &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example", Error: "127.0.0.1:53 answered SERVFAIL"}
	if ev := record(t, db.Store, withTLSA(okObs("mail", addr, at(2), c), failed)); len(ev) != 0 {
		t.Fatalf("failed lookup: events %+v, want none", summarize(ev))
	}
	if ev := record(t, db.Store, withTLSA(okObs("mail", addr, at(3), c), rrset(recA))); len(ev) != 0 {
		t.Fatalf("same RRset after a failed lookup: events %+v, want none", summarize(ev))
	}

	ev = record(t, db.Store, withTLSA(okObs("mail", addr, at(4), c), rrset(recA, recB)))
	if len(ev) != 1 || ev[0].Event != pinwatchd.EventTLSAChanged || ev[0].OldTLSA != recA || ev[0].NewTLSA != recA+"\n"+recB {
		t.Fatalf("published a second record: events %+v, want tlsa_changed from [A] to [A B]", ev)
	}
	unsigned := rrset(recA, recB)
	unsigned.Authenticated = false
	ev = record(t, db.Store, withTLSA(okObs("mail", addr, at(5), c), unsigned))
	if len(ev) != 1 || ev[0].NewTLSA != recA+"\n"+recB+"\nnot authenticated" {
		t.Fatalf("RRset lost its AD bit: events %+v, want tlsa_changed saying not authenticated", ev)
	}

	hist, err := db.Store.History(t.Context(), "mail", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var changes []pinwatchd.Event
	for _, e := range hist {
		if e.Event == pinwatchd.EventTLSAChanged {
			changes = append(changes, e)
		}
	}
	if len(changes) != 2 || changes[0].NewTLSA != recA+"\n"+recB || changes[0].OldTLSA != recA {
		t.Fatalf("history tlsa_changed = %+v, want the two changes with their records", changes)
	}

	obs, err := db.Store.LatestObservations(t.Context(), "mail")
	if err != nil || len(obs) != 1 || obs[0].TLSA == nil || len(obs[0].TLSA.Records) != 2 || obs[0].TLSA.Authenticated {
		t.Fatalf("LatestObservations = %+v, %v; want the latest, unauthenticated RRset of two records", obs, err)
	}
	if n := countRows(t, db, "tlsa_values"); n != 4 {
		t.Errorf("%d TLSA values stored, want 4 ([A], failed, [A B], [A B] unsigned)", n)
	}
}

// A hostile zone's huge RRset is stored cut to MaxTLSAValue, once; a change
// beyond the cut still starts a span and is a tlsa_changed.
func checkRecordTLSACut(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	huge := func(last string) *pinwatchd.TLSAResult {
		var recs []string
		for i := range 1000 {
			recs = append(recs, fmt.Sprintf("3 1 1 %064x", i))
		}
		return rrset(append(recs, last)...)
	}
	record(t, db.Store, withTLSA(okObs("mail", "127.0.0.1:25", t0, c), huge(recA)))
	ev := record(t, db.Store, withTLSA(okObs("mail", "127.0.0.1:25", t0.Add(time.Minute), c), huge(recB)))
	if len(ev) != 1 || ev[0].Event != pinwatchd.EventTLSAChanged {
		t.Fatalf("a change past the cut: events %+v, want tlsa_changed", summarize(ev))
	}
	if n := countRows(t, db, "tlsa_values"); n != 1 {
		t.Errorf("%d TLSA values stored, want 1: the two RRsets differ only past the cut", n)
	}
	if n := countRows(t, db, "spans"); n != 2 {
		t.Errorf("%d spans, want 2", n)
	}
	// The stored JSON is ASCII: characters are bytes on both backends.
	if size := db.Ints(t, `SELECT max(length(parsed)) FROM tlsa_values`)[0][0]; size > storage.MaxTLSAValue || size < storage.MaxTLSAValue/2 {
		t.Errorf("stored RRset of %d bytes, want at most %d and not much less", size, storage.MaxTLSAValue)
	}
	obs, err := db.Store.LatestObservations(t.Context(), "mail")
	if err != nil || len(obs) != 1 || obs[0].TLSA == nil || !obs[0].TLSA.Cut || len(obs[0].TLSA.Records) == 0 {
		t.Fatalf("LatestObservations: %v; want a stored RRset marked cut", err)
	}
	if got := storage.TLSALines(obs[0].TLSA); !strings.Contains(got[len(got)-1], "cut") {
		t.Errorf("history lines end %q, want a note that records were cut", got[len(got)-1])
	}
}

// Pruning keeps the RRset of a span it keeps and removes one nothing
// references.
func checkPruneTLSA(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	record(t, db.Store, withTLSA(okObs("mail", "127.0.0.1:25", t0, c), rrset(recA)))
	record(t, db.Store, withTLSA(okObs("mail", "127.0.0.1:25", t0.Add(time.Hour), c), rrset(recB)))
	st, err := db.Store.Prune(t.Context(), t0.Add(30*time.Minute))
	if err != nil || st.TLSA != 1 {
		t.Fatalf("Prune = %+v, %v; want the first RRset gone", st, err)
	}
	if n := countRows(t, db, "tlsa_values"); n != 1 {
		t.Errorf("%d TLSA values after pruning, want 1", n)
	}
}

// The recorded TLSA RRset comes back with each observation, as it was
// looked up; the DER of a chain comes along only when a record of its
// address's RRset needs it to be matched (not a key pin: 3 0 1 here).
func checkRecentObservationsTLSA(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	// mx2 serves a leaf of its own, so that its chains are its own.
	leaf2 := p.Intermediate.Leaf(t, testpki.Options{})
	c2 := pkiChain(leaf2, p.Intermediate, p.Root)
	byPin := rrset(recA, recB)
	byCert := rrset(recA, "3 0 1 "+fmt.Sprintf("%x", sha256.Sum256(leaf2.Cert.Raw)))
	byCert.Name = "_25._tcp.mx2.example"
	failed := &pinwatchd.TLSAResult{Name: "_25._tcp.mx3.example", Error: "127.0.0.1:53 answered SERVFAIL"}
	record(t, db.Store,
		withTLSA(okObs("mail/mx1.example", "127.0.0.1:1", t0, c), byPin),
		withTLSA(okObs("mail/mx2.example", "127.0.0.1:2", t0, c2), byCert),
		withTLSA(okObs("mail/mx3.example", "127.0.0.1:3", t0, c), failed),
		okObs("www", "127.0.0.1:4", t0, c))
	der := map[string][]byte{}
	for _, cert := range append(c.verified, c2.verified...) {
		der[cert.SHA256] = cert.DER
	}
	for _, target := range []string{"", "mail/mx2.example"} {
		obs, err := db.Store.RecentObservations(t.Context(), target)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range obs {
			var want *pinwatchd.TLSAResult
			switch o.Target {
			case "mail/mx1.example":
				want = byPin
			case "mail/mx2.example":
				want = byCert
			case "mail/mx3.example":
				want = failed
			}
			got, _ := json.Marshal(o.TLSA)
			exp, _ := json.Marshal(want)
			if string(got) != string(exp) {
				t.Errorf("RecentObservations(%q): TLSA of %s = %s, want %s", target, o.Target, got, exp)
			}
			if o.Target == "mail/mx2.example" {
				for i, cert := range o.ServedChain {
					if !bytes.Equal(cert.DER, der[cert.SHA256]) {
						t.Errorf("RecentObservations(%q): served certificate %d of %s lacks its DER, which its 3 0 1 record needs", target, i, o.Target)
					}
				}
			} else if l := o.Leaf(); l != nil && l.DER != nil {
				t.Errorf("RecentObservations(%q): the leaf of %s carries its DER; only a record other than 3 1 1 needs it", target, o.Target)
			}
		}
		if target != "" && (len(obs) != 1 || obs[0].TLSA == nil) {
			t.Errorf("RecentObservations(%q) = %d observations, want 1 with its RRset", target, len(obs))
		}
	}
}

// OpenAlertsUnder lists the open alerts of an mx target's exchanges only:
// not the mx target's own, not another target's that shares the start of
// its name.
func checkOpenAlertsUnder(t *testing.T, newDB Factory) {
	db := newDB(t)
	var alerts []pinwatchd.Alert
	for _, target := range []string{"mail", "mail/mx2.example", "mail/mx1.example", "mailer/mx1.example"} {
		alerts = append(alerts, pinwatchd.Alert{Target: target, Kind: pinwatchd.KindTLSAMismatch, Subject: "tlsa",
			Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen, Addresses: []string{}, OpenedAt: t0})
	}
	if err := db.Store.SaveAlerts(t.Context(), alerts, nil); err != nil {
		t.Fatal(err)
	}
	got, err := openReadOnly(t, db).OpenAlertsUnder(t.Context(), "mail/")
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, a := range got {
		targets = append(targets, a.Target)
	}
	if !slices.Equal(targets, []string{"mail/mx1.example", "mail/mx2.example"}) {
		t.Errorf("OpenAlertsUnder(mail/) = %v, want the two exchanges of mail only, by target", targets)
	}
}
