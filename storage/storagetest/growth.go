package storagetest

import (
	"testing"
	"time"
)

var growthChecks = []check{
	{"UnchangedProbesDoNotGrow", checkUnchangedProbesDoNotGrow},
}

// The database grows with changes, not with probes (SPEC §9): after a
// first round has stored everything once, 20 rounds of 200 unchanged
// targets (4,000 probes, one transaction per round) add at most 16 KiB.
// On PostgreSQL every extended span leaves a dead row version behind,
// which the next round's HOT pruning must reclaim.
func checkUnchangedProbesDoNotGrow(t *testing.T, newDB Factory) {
	const targets, rounds = 200, 20
	db := newDB(t)
	obs := benchFleet(targets) // one vantage, as the daemon records them (SPEC §14)
	record(t, db.Store, obs...)
	record(t, db.Store, obs...) // the first extension of every span
	before := db.Size(t)
	for r := 1; r <= rounds; r++ {
		for i := range obs {
			obs[i].Time = t0.Add(time.Duration(r) * time.Hour)
		}
		if evs := record(t, db.Store, obs...); len(evs) != 0 {
			t.Fatalf("round %d of unchanged targets derived %d events", r, len(evs))
		}
	}
	grown := db.Size(t) - before
	t.Logf("%d rounds of %d unchanged targets grew the database by %d bytes", rounds, targets, grown)
	if grown > 16<<10 {
		t.Errorf("%d unchanged probes grew the database by %d bytes, want at most 16 KiB", rounds*targets, grown)
	}
	if got := db.Ints(t, `SELECT count(*), coalesce(sum(probe_count), 0) FROM spans`)[0]; got[0] != targets || got[1] != targets*(rounds+2) {
		t.Errorf("spans (rows, probes) = %v, want %d rows holding %d probes", got, targets, targets*(rounds+2))
	}
}
