package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

var announceChecks = []check{
	{"PendingEvents", checkPendingEvents},
	{"AnnounceEvents", checkAnnounceEvents},
	{"AnnounceEventsQuietly", checkAnnounceEventsQuietly},
	{"AnnounceEventsRefusesStrayNotes", checkAnnounceEventsRefusesStrayNotes},
}

// rotation records a first round of target at addr, then a key rotation an
// hour later, and returns the chain_changed event Record derived.
func rotation(t *testing.T, s storage.Store, p *testpki.PKI, target, addr string) pinwatchd.Event {
	t.Helper()
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	record(t, s, okObs(target, addr, t0, a))
	evs := record(t, s, okObs(target, addr, t0.Add(time.Hour), b))
	if len(evs) != 1 || evs[0].Event != pinwatchd.EventChainChanged || evs[0].ID == 0 {
		t.Fatalf("rotation recorded %+v, want one chain_changed with an ID", evs)
	}
	return evs[0]
}

// eventNote is the notification announcing e.
func eventNote(e pinwatchd.Event) pinwatchd.Notification {
	return pinwatchd.Notification{Channel: "#tls", Type: pinwatchd.ChangeChainChanged, Event: &e, CreatedAt: t0.Add(2 * time.Hour)}
}

// pendingIDs returns the IDs of target's events to announce.
func pendingIDs(t *testing.T, s storage.Store, target string) []int64 {
	t.Helper()
	evs, err := s.PendingEvents(t.Context(), target)
	if err != nil {
		t.Fatalf("PendingEvents(%s): %v", target, err)
	}
	ids := []int64{}
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

// outboxEvents returns the event IDs of the notifications in the outbox.
func outboxEvents(t *testing.T, s storage.Store) []int64 {
	t.Helper()
	ns, err := s.Pending(t.Context(), t0.Add(24*time.Hour), 100)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	ids := []int64{}
	for _, n := range ns {
		if n.Event == nil {
			t.Fatalf("outbox holds a notification about no event: %+v", n)
		}
		ids = append(ids, n.Event.ID)
	}
	return ids
}

func checkPendingEvents(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	changed := rotation(t, db.Store, p, "api", "127.0.0.1:443")
	// Other event types are never waiting to be announced.
	record(t, db.Store, failObs("api", "127.0.0.1:443", t0.Add(2*time.Hour), pinwatchd.KindTimeout, "i/o timeout"))
	record(t, db.Store, okObs("www", "127.0.0.2:443", t0, pkiChain(p.Leaf, p.Intermediate, p.Root)))

	got, err := db.Store.PendingEvents(t.Context(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != changed {
		t.Fatalf("PendingEvents(api) =\n%+v\nwant the rotation as Record returned it\n%+v", got, []pinwatchd.Event{changed})
	}
	for _, target := range []string{"www", "nosuch"} {
		if ids := pendingIDs(t, db.Store, target); len(ids) != 0 {
			t.Errorf("PendingEvents(%s) = %v, want none", target, ids)
		}
	}
	// PendingTargets names the targets PendingEvents has events of, once
	// each, and none once they are announced.
	rotation(t, db.Store, testpki.New(t), "api", "127.0.0.3:443")
	if got := pendingTargets(t, db.Store); !slices.Equal(got, []string{"api"}) {
		t.Errorf("PendingTargets = %q, want [api]", got)
	}
	evs, err := db.Store.PendingEvents(t.Context(), "api")
	if err != nil || len(evs) != 2 {
		t.Fatalf("PendingEvents(api) = %+v, %v; want two rotations", evs, err)
	}
	if _, err := db.Store.AnnounceEvents(t.Context(), []int64{evs[0].ID, evs[1].ID}, nil); err != nil {
		t.Fatal(err)
	}
	if got := pendingTargets(t, db.Store); len(got) != 0 {
		t.Errorf("PendingTargets after the announcement = %q, want none", got)
	}
}

// pendingTargets returns PendingTargets' answer, sorted.
func pendingTargets(t *testing.T, s storage.Store) []string {
	t.Helper()
	got, err := s.PendingTargets(t.Context())
	if err != nil {
		t.Fatalf("PendingTargets: %v", err)
	}
	slices.Sort(got)
	return got
}

func checkAnnounceEvents(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	ev := rotation(t, db.Store, p, "api", "127.0.0.1:443")
	ctx := t.Context()

	n, err := db.Store.AnnounceEvents(ctx, []int64{ev.ID}, []pinwatchd.Notification{eventNote(ev)})
	if err != nil || n != 1 {
		t.Fatalf("AnnounceEvents = %d, %v; want 1 enqueued", n, err)
	}
	if got := outboxEvents(t, db.Store); len(got) != 1 || got[0] != ev.ID {
		t.Fatalf("outbox holds events %v, want [%d]", got, ev.ID)
	}
	if ids := pendingIDs(t, db.Store, "api"); len(ids) != 0 {
		t.Errorf("event still pending after its announcement: %v", ids)
	}

	// A second announcement of the same event, as a runner that read it
	// before the first one committed would make, enqueues nothing.
	n, err = db.Store.AnnounceEvents(ctx, []int64{ev.ID}, []pinwatchd.Notification{eventNote(ev)})
	if err != nil || n != 0 {
		t.Fatalf("repeated AnnounceEvents = %d, %v; want 0 enqueued and no error", n, err)
	}
	if got := outboxEvents(t, db.Store); len(got) != 1 {
		t.Errorf("outbox holds %v after a repeated announcement, want the one notification", got)
	}
	// The history still shows the event.
	hist, err := db.Store.History(ctx, "api", time.Time{})
	if err != nil || len(hist) != 2 || hist[1].ID != ev.ID {
		t.Errorf("History = %+v, %v; want first_seen and the rotation", hist, err)
	}
	// An unknown (pruned) event is skipped.
	if n, err := db.Store.AnnounceEvents(ctx, []int64{ev.ID + 1000}, nil); err != nil || n != 0 {
		t.Errorf("AnnounceEvents of an unknown event = %d, %v; want 0, nil", n, err)
	}
}

func checkAnnounceEventsQuietly(t *testing.T, newDB Factory) {
	db := newDB(t)
	ev := rotation(t, db.Store, testpki.New(t), "api", "127.0.0.1:443")
	if n, err := db.Store.AnnounceEvents(t.Context(), []int64{ev.ID}, nil); err != nil || n != 0 {
		t.Fatalf("AnnounceEvents without notes = %d, %v", n, err)
	}
	if ids := pendingIDs(t, db.Store, "api"); len(ids) != 0 {
		t.Errorf("a quietly marked event is still pending: %v", ids)
	}
	if got := outboxEvents(t, db.Store); len(got) != 0 {
		t.Errorf("marking without notes enqueued %v", got)
	}
}

func checkAnnounceEventsRefusesStrayNotes(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	ev := rotation(t, db.Store, p, "api", "127.0.0.1:443")
	other := rotation(t, db.Store, p, "www", "127.0.0.2:443")
	_, err := db.Store.AnnounceEvents(t.Context(), []int64{ev.ID}, []pinwatchd.Notification{eventNote(ev), eventNote(other)})
	if err == nil || !strings.Contains(err.Error(), "notification 1 is about none of the events") {
		t.Fatalf("AnnounceEvents with a note about another event: %v, want an error naming it", err)
	}
	if ids := pendingIDs(t, db.Store, "api"); len(ids) != 1 {
		t.Errorf("a refused call marked the event: pending %v", ids)
	}
	if got := outboxEvents(t, db.Store); len(got) != 0 {
		t.Errorf("a refused call enqueued %v", got)
	}
}
