package storage

import (
	"maps"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// Migration 0010 keys the name state by vantage: what a node stored
// before (a name unresolved twice, an alerted address missing once) is kept
// under the empty vantage, which a node of any vantage reads until its first save
// of the target takes it over.
func TestMigrateNameStateKeepsRows(t *testing.T) {
	path, raw := openAtVersion(t, 9)
	if _, err := raw.ExecContext(t.Context(), `INSERT INTO name_rounds (target, address, rounds)
		VALUES ('api', '', 2), ('api', '10.0.0.2:443', 1), ('web', '', 1)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open migrates from version 9: %v", err)
	}
	defer db.Close()
	want := [][]int64{{3, 0}}
	if got := IntsForTest(t, db, `SELECT count(*), count(*) FILTER (WHERE vantage <> '') FROM name_rounds`); len(got) != 1 || got[0][0] != want[0][0] || got[0][1] != want[0][1] {
		t.Fatalf("name_rounds after the migration (rows, rows of a vantage) = %v, want %v", got, want)
	}
	got, err := db.NameState(t.Context(), "api", "eu")
	if err != nil || got.Unresolved != 2 || !maps.Equal(got.Absent, map[string]int{"10.0.0.2:443": 1}) {
		t.Errorf("NameState(api, eu) after the migration = %+v, %v; want unresolved 2, 10.0.0.2:443 absent once", got, err)
	}

	// eu, still without an answer, carries the count on and takes the
	// rows over; web's stay for whoever probes it.
	if err := db.SaveNameState(t.Context(), "api", "eu", pinwatchd.NameState{Unresolved: 3, Absent: got.Absent}); err != nil {
		t.Fatal(err)
	}
	if got := IntsForTest(t, db, `SELECT count(*) FROM name_rounds WHERE vantage = ''`); got[0][0] != 1 {
		t.Errorf("rows of vantage '' after eu saved api: %d, want 1 (web's)", got[0][0])
	}
	if got, err := db.NameState(t.Context(), "web", "us"); err != nil || got.Unresolved != 1 {
		t.Errorf("NameState(web, us) = %+v, %v; want the unresolved 1 from before", got, err)
	}
}
