package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// Several vantage points sharing one database (SPEC §14).
var vantageChecks = []check{
	{"VantageSpansAndEvents", checkVantageSpansAndEvents},
	{"VantageQueries", checkVantageQueries},
	{"VantageTakesOverRowsFromBefore", checkVantageTakesOverRowsFromBefore},
	{"ChainChangeAnnouncedOncePerNewLeaf", checkChainChangeAnnouncedOncePerNewLeaf},
	{"ChainChangeAnnouncedOnceAcrossCalls", checkChainChangeAnnouncedOnceAcrossCalls},
	{"Nodes", checkNodes},
}

// vantageEvent is an event as the vantage checks compare it.
type vantageEvent struct {
	Vantage string
	Event   pinwatchd.EventType
}

func vantageEvents(evs []pinwatchd.Event) []vantageEvent {
	out := []vantageEvent{}
	for _, e := range evs {
		out = append(out, vantageEvent{e.Vantage, e.Event})
	}
	return out
}

// Two vantages probing one address each keep their own span and their own
// first_seen, probe_failed and recovered; an unchanged probe of either only
// moves its own span.
func checkVantageSpansAndEvents(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	const addr = "10.0.0.1:443"
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

	evs := record(t, db.Store, fromVantage("eu", okObs("api", addr, at(0), c)))
	evs = append(evs, record(t, db.Store, fromVantage("us", okObs("api", addr, at(0), c)))...)
	if got, want := vantageEvents(evs), []vantageEvent{{"eu", pinwatchd.EventFirstSeen}, {"us", pinwatchd.EventFirstSeen}}; !slices.Equal(got, want) {
		t.Fatalf("first probes from eu and us recorded %v, want %v", got, want)
	}
	// Unchanged probes from both extend a span each: no new rows.
	spans := countRows(t, db, "spans")
	for i := 1; i <= 3; i++ {
		if evs := record(t, db.Store, fromVantage("eu", okObs("api", addr, at(i), c)), fromVantage("us", okObs("api", addr, at(i), c))); len(evs) != 0 {
			t.Fatalf("unchanged probes recorded %v, want nothing", vantageEvents(evs))
		}
	}
	if got := countRows(t, db, "spans"); got != spans || spans != 2 {
		t.Errorf("spans = %d after unchanged probes (%d before), want 2: one per vantage", got, spans)
	}
	// eu fails while us keeps answering: the failure is eu's alone.
	evs = record(t, db.Store, fromVantage("eu", failObs("api", addr, at(4), pinwatchd.KindConnectFailed, "refused")),
		fromVantage("us", okObs("api", addr, at(4), c)))
	evs = append(evs, record(t, db.Store, fromVantage("eu", failObs("api", addr, at(5), pinwatchd.KindConnectFailed, "refused")),
		fromVantage("us", okObs("api", addr, at(5), c)))...)
	evs = append(evs, record(t, db.Store, fromVantage("eu", okObs("api", addr, at(6), c)), fromVantage("us", okObs("api", addr, at(6), c)))...)
	if got, want := vantageEvents(evs), []vantageEvent{{"eu", pinwatchd.EventProbeFailed}, {"eu", pinwatchd.EventRecovered}}; !slices.Equal(got, want) {
		t.Errorf("eu failing twice then answering, us answering throughout, recorded %v, want %v", got, want)
	}
	hist, err := db.Store.History(t.Context(), "api", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []vantageEvent{{"eu", pinwatchd.EventFirstSeen}, {"us", pinwatchd.EventFirstSeen},
		{"eu", pinwatchd.EventProbeFailed}, {"eu", pinwatchd.EventRecovered}}
	if got := vantageEvents(hist); !slices.Equal(got, want) {
		t.Errorf("History = %v, want %v, each with its vantage", got, want)
	}
}

// Certs, LatestObservations and RecentObservations answer per (target,
// address, vantage), and an address is stale (left DNS) only against the
// latest round of its own vantage.
func checkVantageQueries(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	// eu sees two addresses, then only .1; us, probing later, sees only .2.
	record(t, db.Store, fromVantage("eu", okObs("api", "10.0.0.1:443", t0, c)), fromVantage("eu", okObs("api", "10.0.0.2:443", t0, c)))
	record(t, db.Store, fromVantage("eu", okObs("api", "10.0.0.1:443", t0.Add(time.Minute), c)))
	record(t, db.Store, fromVantage("us", okObs("api", "10.0.0.2:443", t0.Add(2*time.Minute), c)))

	certs, err := db.Store.Certs(t.Context(), t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		address, vantage string
		stale            pinwatchd.Staleness
	}
	var got []row
	for _, s := range certs {
		got = append(got, row{s.Address, s.Vantage, s.Stale})
	}
	want := []row{{"10.0.0.1:443", "eu", ""}, {"10.0.0.2:443", "eu", pinwatchd.StaleLeftDNS}, {"10.0.0.2:443", "us", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("Certs = %+v, want %+v: per (address, vantage), stale against its own vantage's rounds", got, want)
	}

	for name, query := range map[string]func() ([]pinwatchd.Observation, error){
		"LatestObservations": func() ([]pinwatchd.Observation, error) { return db.Store.LatestObservations(t.Context(), "api") },
		"RecentObservations": func() ([]pinwatchd.Observation, error) { return db.Store.RecentObservations(t.Context(), "api") },
	} {
		obs, err := query()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []row
		for _, o := range obs {
			got = append(got, row{address: o.Address, vantage: o.Vantage})
		}
		want := []row{{address: "10.0.0.1:443", vantage: "eu"}, {address: "10.0.0.2:443", vantage: "eu"}, {address: "10.0.0.2:443", vantage: "us"}}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
}

// A database from before vantage points holds rows of the empty vantage: the first
// vantage to record such an address continues its spans and history
// instead of seeing it for the first time again.
func checkVantageTakesOverRowsFromBefore(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	const addr = "10.0.0.1:443"
	record(t, db.Store, okObs("api", addr, t0, c)) // no vantage, as recorded before
	if evs := record(t, db.Store, fromVantage("eu", okObs("api", addr, t0.Add(time.Hour), c))); len(evs) != 0 {
		t.Errorf("the first probe from eu after an upgrade recorded %v, want nothing (the span continues)", vantageEvents(evs))
	}
	if n := countRows(t, db, "spans"); n != 1 {
		t.Errorf("spans = %d, want 1: eu extends the span from before", n)
	}
	// A second vantage is new there.
	evs := record(t, db.Store, fromVantage("us", okObs("api", addr, t0.Add(time.Hour), c)))
	if got, want := vantageEvents(evs), []vantageEvent{{"us", pinwatchd.EventFirstSeen}}; !slices.Equal(got, want) {
		t.Errorf("the first probe from us recorded %v, want %v", got, want)
	}
	hist, err := db.Store.History(t.Context(), "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := []vantageEvent{{"eu", pinwatchd.EventFirstSeen}, {"us", pinwatchd.EventFirstSeen}}
	if got := vantageEvents(hist); !slices.Equal(got, want) {
		t.Errorf("History = %v, want %v: the history from before belongs to eu now", got, want)
	}
}

// Two vantages (and two addresses) seeing one rotation record a
// chain_changed each, but only the first announced is notified; a later
// rotation back to the old certificate is news again.
func checkChainChangeAnnouncedOncePerNewLeaf(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	round := func(i int, c chain) []pinwatchd.Event {
		return record(t, db.Store, fromVantage("eu", okObs("api", "10.0.0.1:443", at(i), c)), fromVantage("eu", okObs("api", "10.0.0.2:443", at(i), c)),
			fromVantage("us", okObs("api", "10.0.0.1:443", at(i), c)))
	}
	announce := func() (ids []int64, enqueued int) {
		t.Helper()
		evs, err := db.Store.PendingEvents(t.Context(), "api")
		if err != nil {
			t.Fatal(err)
		}
		var notes []pinwatchd.Notification
		for _, e := range evs {
			ids = append(ids, e.ID)
			notes = append(notes, eventNote(e))
		}
		n, err := db.Store.AnnounceEvents(t.Context(), ids, notes)
		if err != nil {
			t.Fatalf("AnnounceEvents: %v", err)
		}
		return ids, n
	}

	round(0, a)
	changes := round(1, b)
	if len(changes) != 3 {
		t.Fatalf("a rotation seen at 2 addresses from eu and 1 from us recorded %d events, want 3 chain_changed", len(changes))
	}
	ids, n := announce()
	if len(ids) != 3 || n != 1 {
		t.Errorf("announcing the rotation: %d events pending, %d notifications enqueued; want 3 and 1 (once per new leaf)", len(ids), n)
	}
	if got := outboxEvents(t, db.Store); !slices.Equal(got, []int64{changes[0].ID}) {
		t.Errorf("outbox announces events %v, want only the first, %d", got, changes[0].ID)
	}
	if left := pendingIDs(t, db.Store, "api"); len(left) != 0 {
		t.Errorf("events %v still pending: the repeats should be marked", left)
	}
	// Rolling back to a is a change to announce, once.
	round(2, a)
	if _, n := announce(); n != 1 {
		t.Errorf("the rollback enqueued %d notifications, want 1", n)
	}
	// Forward to b again: b was announced before, but not since a came back.
	round(3, b)
	if _, n := announce(); n != 1 {
		t.Errorf("rotating to b again enqueued %d notifications, want 1", n)
	}
}

// A node that records the rotation after another node announced it stores
// its own chain_changed, which is marked when announced but not notified
// again.
func checkChainChangeAnnouncedOnceAcrossCalls(t *testing.T, newDB Factory) {
	db := newDB(t)
	other := reopen(t, db) // the second node
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	const addr = "10.0.0.1:443"
	record(t, db.Store, fromVantage("eu", okObs("api", addr, t0, a)))
	record(t, other, fromVantage("us", okObs("api", addr, t0.Add(time.Minute), a)))

	euChange := record(t, db.Store, fromVantage("eu", okObs("api", addr, t0.Add(time.Hour), b)))
	if n, err := db.Store.AnnounceEvents(t.Context(), []int64{euChange[0].ID}, []pinwatchd.Notification{eventNote(euChange[0])}); err != nil || n != 1 {
		t.Fatalf("eu announcing its rotation: %d enqueued, %v; want 1", n, err)
	}
	usChange := record(t, other, fromVantage("us", okObs("api", addr, t0.Add(time.Hour+time.Minute), b)))
	if len(usChange) != 1 || usChange[0].Event != pinwatchd.EventChainChanged || usChange[0].Vantage != "us" {
		t.Fatalf("us recorded %+v, want its own chain_changed", usChange)
	}
	if n, err := other.AnnounceEvents(t.Context(), []int64{usChange[0].ID}, []pinwatchd.Notification{eventNote(usChange[0])}); err != nil || n != 0 {
		t.Errorf("us announcing the same rotation: %d enqueued, %v; want 0", n, err)
	}
	if left := pendingIDs(t, db.Store, "api"); len(left) != 0 {
		t.Errorf("events %v still pending, want none", left)
	}
	if got := outboxEvents(t, db.Store); !slices.Equal(got, []int64{euChange[0].ID}) {
		t.Errorf("outbox announces events %v, want eu's only", got)
	}
}

// Heartbeat adds a node's row, then moves it; Nodes lists every node by
// vantage, also to a read-only handle, which cannot heartbeat.
func checkNodes(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	if nodes, err := db.Store.Nodes(ctx); err != nil || len(nodes) != 0 {
		t.Fatalf("Nodes of a new database = %v, %v; want none", nodes, err)
	}
	us := pinwatchd.Node{Vantage: "us-east-1", Host: "probe-2", Version: "v1.4.0", StartedAt: t0, LastSeen: t0}
	eu := pinwatchd.Node{Vantage: "eu-west-1", Host: "probe-1", Version: "v1.4.0", StartedAt: t0, LastSeen: t0.Add(time.Second)}
	for _, n := range []pinwatchd.Node{us, eu} {
		if err := db.Store.Heartbeat(ctx, n); err != nil {
			t.Fatalf("Heartbeat(%s): %v", n.Vantage, err)
		}
	}
	// eu restarts with a new version and heartbeats again, from another handle.
	eu = pinwatchd.Node{Vantage: "eu-west-1", Host: "probe-1b", Version: "v1.5.0", StartedAt: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour + 10*time.Second + 300*time.Millisecond)}
	if err := reopen(t, db).Heartbeat(ctx, eu); err != nil {
		t.Fatalf("Heartbeat(eu-west-1) again: %v", err)
	}
	eu.LastSeen = eu.LastSeen.Truncate(time.Second)
	ro := openReadOnly(t, db)
	got, err := ro.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []pinwatchd.Node{eu, us}; !slices.EqualFunc(got, want, sameNode) {
		t.Errorf("Nodes = %+v, want %+v (one row per vantage, the latest heartbeat's, to the second)", got, want)
	}
	if err := ro.Heartbeat(ctx, us); !errors.Is(err, storage.ErrReadOnly) {
		t.Errorf("Heartbeat on a read-only handle: %v, want ErrReadOnly", err)
	}
	if _, err := ro.ForgetNode(ctx, "us-east-1"); !errors.Is(err, storage.ErrReadOnly) {
		t.Errorf("ForgetNode on a read-only handle: %v, want ErrReadOnly", err)
	}

	// A node that left for good is forgotten: its row goes, the others stay.
	if found, err := db.Store.ForgetNode(ctx, "us-east-1"); err != nil || !found {
		t.Fatalf("ForgetNode(us-east-1) = %v, %v; want true", found, err)
	}
	if found, err := db.Store.ForgetNode(ctx, "us-east-1"); err != nil || found {
		t.Errorf("ForgetNode(us-east-1) again = %v, %v; want false, no error", found, err)
	}
	if got, err := ro.Nodes(ctx); err != nil || !slices.EqualFunc(got, []pinwatchd.Node{eu}, sameNode) {
		t.Errorf("Nodes after forgetting us-east-1 = %+v, %v; want eu-west-1 alone", got, err)
	}
}

func sameNode(a, b pinwatchd.Node) bool {
	return a.Vantage == b.Vantage && a.Host == b.Host && a.Version == b.Version &&
		a.StartedAt.Equal(b.StartedAt) && a.LastSeen.Equal(b.LastSeen)
}
