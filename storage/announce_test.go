package storage

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// rotation records a first round of target at addr, then a key rotation an
// hour later, and returns the chain_changed event Record derived.
func rotation(t *testing.T, db *DB, p *testpki.PKI, target, addr string) pinwatchd.Event {
	t.Helper()
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	record(t, db, okObs(target, addr, t0, a))
	evs := record(t, db, okObs(target, addr, t0.Add(time.Hour), b))
	if len(evs) != 1 || evs[0].Event != pinwatchd.EventChainChanged || evs[0].ID == 0 {
		t.Fatalf("rotation recorded %+v, want one chain_changed with an ID", evs)
	}
	return evs[0]
}

// pendingIDs returns the IDs of target's events to announce.
func pendingIDs(t *testing.T, db *DB, target string) []int64 {
	t.Helper()
	evs, err := db.PendingEvents(t.Context(), target)
	if err != nil {
		t.Fatalf("PendingEvents(%s): %v", target, err)
	}
	ids := []int64{}
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

// An upgraded database counts the events recorded before the notified mark
// existed as announced; events recorded after the upgrade are announced.
func TestUpgradeKeepsHistoryAnnounced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	// The schema as it was before the migration that added the mark
	// (found by name: migrations are renumbered as they are merged).
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	version := 0
	for _, m := range ms {
		if strings.HasSuffix(m.name, "_events.sql") {
			break
		}
		if _, err := raw.ExecContext(t.Context(), m.sql); err != nil {
			t.Fatalf("apply %s: %v", m.name, err)
		}
		version = m.version
	}
	if version == 0 || version == len(ms) {
		t.Fatalf("no migration before the events migration (%d of %d)", version, len(ms))
	}
	_, err = raw.ExecContext(t.Context(), fmt.Sprintf(`
INSERT INTO addresses (id, target, address) VALUES (1, 'api', '127.0.0.1:443');
INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin, old_leaf_sha256,
                    new_leaf_sha256, issuer, not_after, error_kind, error_message)
VALUES (%d, 1, 'chain_changed', 'key_rotated', 'old', 'new', 'aa', 'bb', 'CN=ca', NULL, '', '');
PRAGMA user_version = %d;`, t0.Unix(), version))
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open (upgrade): %v", err)
	}
	defer db.Close()
	if ids := pendingIDs(t, db, "api"); len(ids) != 0 {
		t.Errorf("an upgrade made old events pending: %v", ids)
	}
	hist, err := db.History(t.Context(), "api", time.Time{})
	if err != nil || len(hist) != 1 || hist[0].Class != pinwatchd.ChangeKeyRotated {
		t.Fatalf("History after the upgrade = %+v, %v; want the old rotation", hist, err)
	}
	ev := rotation(t, db, testpki.New(t), "api", "127.0.0.1:443")
	if ids := pendingIDs(t, db, "api"); len(ids) != 1 || ids[0] != ev.ID {
		t.Errorf("pending after a rotation recorded after the upgrade = %v, want [%d]", ids, ev.ID)
	}
}

// BenchmarkPendingEvents measures the lookup every daemon round makes, in
// the steady state: 1,000 targets, each with a first_seen and an announced
// key rotation, none waiting to be announced.
func BenchmarkPendingEvents(b *testing.B) {
	db, _ := openTest(b)
	root := fakeCert("bench root", "bench root", t0.Add(10*365*24*time.Hour), 0)
	inter := fakeCert("bench intermediate", "bench root", t0.Add(5*365*24*time.Hour), 0)
	for round, key := range []byte{1, 2} {
		var obs []pinwatchd.Observation
		for i := range 1000 {
			o := benchObs(fmt.Sprintf("target-%04d", i), t0.Add(time.Duration(round)*time.Hour),
				benchChain("api", t0.Add(90*24*time.Hour), key, inter, root))
			o.Address = fmt.Sprintf("10.0.%d.%d:443", i/256, i%256)
			obs = append(obs, o)
		}
		for _, e := range record(b, db, obs...) {
			if e.Event == pinwatchd.EventChainChanged {
				if _, err := db.AnnounceEvents(b.Context(), []int64{e.ID}, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	cpu0 := cpuTime()
	for b.Loop() {
		evs, err := db.PendingEvents(b.Context(), "target-0500")
		if err != nil || len(evs) != 0 {
			b.Fatalf("PendingEvents = %v, %v; want none", evs, err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
}
