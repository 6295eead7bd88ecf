package storage

import (
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// Spans written before migration 0011 have no print: an unchanged
// observation still extends them (read whole), gives them their print, and
// the next one extends them by the print alone; a changed one starts a
// span.
func TestSpansWithoutPrintAreExtended(t *testing.T) {
	db, path := openTest(t)
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	round := func(db *DB, at time.Time, c chain) []pinwatchd.Event {
		return record(t, db, okObs("api", "127.0.0.1:443", at, c), okObs("www", "127.0.0.2:443", at, c))
	}
	round(db, t0, a)
	if _, err := db.write.ExecContext(t.Context(), `UPDATE spans SET print = NULL`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for i := 1; i <= 2; i++ {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		if evs := round(db, t0.Add(time.Duration(i)*time.Hour), a); len(evs) != 0 {
			t.Errorf("unchanged round %d recorded events %+v", i, evs)
		}
		db.Close()
	}
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := IntsForTest(t, db, `SELECT count(*), min(probe_count), max(probe_count), count(print) FROM spans`)
	if want := []int64{2, 3, 3, 2}; len(got) != 1 || len(got[0]) != 4 || got[0][0] != want[0] || got[0][1] != want[1] || got[0][2] != want[2] || got[0][3] != want[3] {
		t.Errorf("spans (count, min and max probes, with a print) = %v, want %v", got, want)
	}
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	if evs := round(db, t0.Add(3*time.Hour), b); len(evs) != 2 {
		t.Errorf("a rotation on both addresses recorded %+v, want two chain changes", evs)
	}
}
