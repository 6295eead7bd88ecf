package storage

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

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
func TestRecordTLSA(t *testing.T) {
	db, _ := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	const addr = "127.0.0.1:25"
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	ev := record(t, db, withTLSA(okObs("mail", addr, at(0), c), rrset(recA)))
	if len(ev) != 1 || ev[0].Event != pinwatchd.EventFirstSeen {
		t.Fatalf("first round: %+v, want first_seen only (the first RRset is no change)", summarize(ev))
	}
	// Matching against a chain adds nothing to what is stored.
	matched := rrset(recA)
	matched.Records[0].Usable, matched.Records[0].Matches = true, "leaf"
	if ev := record(t, db, withTLSA(okObs("mail", addr, at(1), c), matched)); len(ev) != 0 {
		t.Fatalf("same RRset: events %+v, want none", summarize(ev))
	}
	if n := countRows(t, db, "spans"); n != 1 {
		t.Fatalf("%d spans after the same RRset twice, want 1", n)
	}

	failed := &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example", Error: "127.0.0.1:53 answered SERVFAIL"}
	if ev := record(t, db, withTLSA(okObs("mail", addr, at(2), c), failed)); len(ev) != 0 {
		t.Fatalf("failed lookup: events %+v, want none", summarize(ev))
	}
	if ev := record(t, db, withTLSA(okObs("mail", addr, at(3), c), rrset(recA))); len(ev) != 0 {
		t.Fatalf("same RRset after a failed lookup: events %+v, want none", summarize(ev))
	}

	ev = record(t, db, withTLSA(okObs("mail", addr, at(4), c), rrset(recA, recB)))
	if len(ev) != 1 || ev[0].Event != pinwatchd.EventTLSAChanged || ev[0].OldTLSA != recA || ev[0].NewTLSA != recA+"\n"+recB {
		t.Fatalf("published a second record: events %+v, want tlsa_changed from [A] to [A B]", ev)
	}
	unsigned := rrset(recA, recB)
	unsigned.Authenticated = false
	ev = record(t, db, withTLSA(okObs("mail", addr, at(5), c), unsigned))
	if len(ev) != 1 || ev[0].NewTLSA != recA+"\n"+recB+"\nnot authenticated" {
		t.Fatalf("RRset lost its AD bit: events %+v, want tlsa_changed saying not authenticated", ev)
	}

	hist, err := db.History(t.Context(), "mail", time.Time{})
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

	obs, err := db.LatestObservations(t.Context(), "mail")
	if err != nil || len(obs) != 1 || obs[0].TLSA == nil || len(obs[0].TLSA.Records) != 2 || obs[0].TLSA.Authenticated {
		t.Fatalf("LatestObservations = %+v, %v; want the latest, unauthenticated RRset of two records", obs, err)
	}
	if n := countRows(t, db, "tlsa_values"); n != 4 {
		t.Errorf("%d TLSA values stored, want 4 ([A], failed, [A B], [A B] unsigned)", n)
	}
}

// A hostile zone's huge RRset is stored cut to MaxTLSAValue, once; a change
// beyond the cut still starts a span and is a tlsa_changed.
func TestRecordTLSACut(t *testing.T) {
	db, _ := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	huge := func(last string) *pinwatchd.TLSAResult {
		var recs []string
		for i := range 1000 {
			recs = append(recs, fmt.Sprintf("3 1 1 %064x", i))
		}
		return rrset(append(recs, last)...)
	}
	record(t, db, withTLSA(okObs("mail", "127.0.0.1:25", t0, c), huge(recA)))
	ev := record(t, db, withTLSA(okObs("mail", "127.0.0.1:25", t0.Add(time.Minute), c), huge(recB)))
	if len(ev) != 1 || ev[0].Event != pinwatchd.EventTLSAChanged {
		t.Fatalf("a change past the cut: events %+v, want tlsa_changed", summarize(ev))
	}
	if n := countRows(t, db, "tlsa_values"); n != 1 {
		t.Errorf("%d TLSA values stored, want 1: the two RRsets differ only past the cut", n)
	}
	if n := countRows(t, db, "spans"); n != 2 {
		t.Errorf("%d spans, want 2", n)
	}
	var size int
	if err := db.read.QueryRowContext(t.Context(), `SELECT max(length(parsed)) FROM tlsa_values`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if size > MaxTLSAValue || size < MaxTLSAValue/2 {
		t.Errorf("stored RRset of %d bytes, want at most %d and not much less", size, MaxTLSAValue)
	}
	obs, err := db.LatestObservations(t.Context(), "mail")
	if err != nil || !obs[0].TLSA.Cut || len(obs[0].TLSA.Records) == 0 {
		t.Fatalf("LatestObservations: %v; want a stored RRset marked cut", err)
	}
	if got := TLSALines(obs[0].TLSA); !strings.Contains(got[len(got)-1], "cut") {
		t.Errorf("history lines end %q, want a note that records were cut", got[len(got)-1])
	}
}

// Pruning keeps the RRset of a span it keeps and removes one nothing
// references.
func TestPruneTLSA(t *testing.T) {
	db, _ := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	record(t, db, withTLSA(okObs("mail", "127.0.0.1:25", t0, c), rrset(recA)))
	record(t, db, withTLSA(okObs("mail", "127.0.0.1:25", t0.Add(time.Hour), c), rrset(recB)))
	st, err := db.Prune(t.Context(), t0.Add(30*time.Minute))
	if err != nil || st.TLSA != 1 {
		t.Fatalf("Prune = %+v, %v; want the first RRset gone", st, err)
	}
	if n := countRows(t, db, "tlsa_values"); n != 1 {
		t.Errorf("%d TLSA values after pruning, want 1", n)
	}
}

func TestOpenAlertsUnder(t *testing.T) {
	db, _ := openTest(t)
	var alerts []pinwatchd.Alert
	for _, target := range []string{"mail", "mail/mx1.example", "mail/mx2.example", "mailer/mx1.example"} {
		alerts = append(alerts, pinwatchd.Alert{Target: target, Kind: pinwatchd.KindTLSAMismatch, Subject: "tlsa",
			Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen, Addresses: []string{}, OpenedAt: t0})
	}
	if err := db.SaveAlerts(t.Context(), alerts, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.OpenAlertsUnder(t.Context(), "mail/")
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, a := range got {
		targets = append(targets, a.Target)
	}
	if !slices.Equal(targets, []string{"mail/mx1.example", "mail/mx2.example"}) {
		t.Errorf("OpenAlertsUnder(mail/) = %v, want the two exchanges of mail only", targets)
	}
}

// A database of the schema before the TLSA tables keeps its events (and
// their notified mark) when it gains them, and its foreign keys still hold.
func TestMigrateTLSAKeepsHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := loadMigrations()
	ctx := context.Background()
	for _, m := range ms[:len(ms)-1] {
		if err := applyMigration(ctx, raw, m); err != nil {
			t.Fatalf("migration %s: %v", m.name, err)
		}
	}
	for _, q := range []string{
		`INSERT INTO addresses (id, target, address) VALUES (1, 'api', '127.0.0.1:443')`,
		`INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin, old_leaf_sha256,
			new_leaf_sha256, issuer, not_after, error_kind, error_message, notified)
			VALUES (100, 1, 'first_seen', '', '', 'pin', '', 'sha', 'CA', 200, '', '', 1),
			       (101, 1, 'chain_changed', 'key_rotated', 'pin', 'pin2', 'sha', 'sha2', 'CA', 200, '', '', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
	ev, err := db.History(ctx, "api", time.Time{})
	if err != nil || len(ev) != 2 || ev[0].Event != pinwatchd.EventFirstSeen || ev[0].NewLeafPin != "pin" {
		t.Fatalf("history after the migration: %+v, %v; want the first_seen and chain_changed kept", ev, err)
	}
	var unnotified int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE notified = 0`).Scan(&unnotified); err != nil || unnotified != 1 {
		t.Errorf("%d events still to announce after the migration (%v), want the chain_changed's 1", unnotified, err)
	}
	rows, err := db.read.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("foreign_key_check reports a violation after the migration")
	}
}
