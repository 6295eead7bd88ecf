package storage

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// prepared returns the write statements prepared on the pool and those a
// transaction prepared for itself, by their first lines.
func prepared(db *DB) (pool, used map[string]bool) {
	pool, used = map[string]bool{}, map[string]bool{}
	for _, w := range db.stmts.all {
		if w.st != nil {
			pool[firstLine(w.query)] = true
		}
		if w.used {
			used[firstLine(w.query)] = true
		}
	}
	return pool, used
}

// TestWriteStatementsPreparedOnUse: opening prepares no write statement; a
// transaction prepares what it runs for itself, and the next one finds
// those on the write connection; a statement no transaction ran is never
// prepared. Records stay right throughout.
func TestWriteStatementsPreparedOnUse(t *testing.T) {
	db, _ := openTest(t)
	if pool, used := prepared(db); len(pool)+len(used) > 0 {
		t.Fatalf("after Open: prepared %v and %v, want none", pool, used)
	}
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	round := func(at time.Time) []pinwatchd.Observation {
		return []pinwatchd.Observation{okObs("api", "127.0.0.1:443", at, c), okObs("api", "127.0.0.2:443", at, c)}
	}

	record(t, db, round(t0)...)
	pool, used := prepared(db)
	if len(pool) > 0 {
		t.Errorf("after the first transaction: %v on the pool, want none yet", pool)
	}
	insertSpan := firstLine(insertSpanSQL)
	if !used[insertSpan] {
		t.Errorf("the first transaction did not prepare %q; it prepared %v", insertSpan, used)
	}
	if used[firstLine(lastTLSASQL)] {
		t.Errorf("a transaction without DANE prepared %q", firstLine(lastTLSASQL))
	}

	record(t, db, round(t0.Add(time.Minute))...)
	pool, used = prepared(db)
	if !pool[insertSpan] {
		t.Errorf("the second transaction found %q unprepared on the pool: %v", insertSpan, pool)
	}
	if len(used) > 0 && !onlyNew(used, pool) {
		t.Errorf("statements both on the pool and pending: %v", used)
	}
	if pool[firstLine(lastTLSASQL)] {
		t.Errorf("%q is prepared though no transaction ran it", firstLine(lastTLSASQL))
	}

	if got := IntsForTest(t, db, `SELECT count(*), min(probe_count), max(probe_count) FROM spans`); got[0][0] != 2 || got[0][1] != 2 || got[0][2] != 2 {
		t.Errorf("spans, fewest and most probes after two rounds of two addresses: %v, want two spans of two probes", got)
	}
}

// onlyNew reports whether no statement of used is also on the pool.
func onlyNew(used, pool map[string]bool) bool {
	for q := range used {
		if pool[q] {
			return false
		}
	}
	return true
}

// TestWriteStatementFailsAtUse: a write statement that cannot be prepared
// fails the Record that needs it, naming the statement, and loses nothing
// recorded before.
func TestWriteStatementFailsAtUse(t *testing.T) {
	db, _ := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	record(t, db, okObs("api", "127.0.0.1:443", t0, c))
	db.wmu.Lock()
	db.stmts.insertEvent.query = strings.Replace(db.stmts.insertEvent.query, "INSERT INTO events", "INSERT INTO no_such_table", 1)
	db.wmu.Unlock()
	other := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	_, err := db.Record(t.Context(), []pinwatchd.Observation{okObs("api", "127.0.0.1:443", t0.Add(time.Minute), other)})
	if err == nil || !strings.Contains(err.Error(), "no_such_table") || !strings.Contains(err.Error(), "prepare") {
		t.Fatalf("Record with an unpreparable statement: %v, want the preparation's error", err)
	}
	if got := IntsForTest(t, db, `SELECT count(*), sum(probe_count) FROM spans`); got[0][0] != 1 || got[0][1] != 1 {
		t.Errorf("spans and probes after the failed Record: %v, want the first span of one probe alone", got)
	}
}

// TestReopenedRecordReadsPrintsWithAddresses: a new process recording an
// unchanged round reads its addresses and their latest spans' prints in
// one statement, and extends every span.
func TestReopenedRecordReadsPrintsWithAddresses(t *testing.T) {
	db, path := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	round := func(at time.Time) []pinwatchd.Observation {
		return []pinwatchd.Observation{okObs("api", "127.0.0.1:443", at, c), okObs("api", "127.0.0.2:443", at, c)}
	}
	record(t, db, round(t0)...)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var used map[string]bool
	if ev := record(t, db, round(t0.Add(time.Hour))...); len(ev) != 0 {
		t.Errorf("an unchanged round gave events %+v", ev)
	}
	_, used = prepared(db)
	if !used[firstLine(addressPrintsSQL)] || used[firstLine(addressesSQL)] || used[firstLine(latestPrintsSQL)] || used[firstLine(latestSpansSQL)] || used[firstLine(latestSpanSQL)] {
		t.Errorf("statements run by the reopened database's first Record: %v, want the addresses' alone among the reads", used)
	}

	// With its spans remembered but its addresses no longer cached (a
	// fleet larger than the address cache), it reads the addresses alone.
	db.wmu.Lock()
	db.addrs.clear()
	db.wmu.Unlock()
	record(t, db, round(t0.Add(2*time.Hour))...)
	pool, used := prepared(db)
	if !used[firstLine(addressesSQL)] || used[firstLine(latestPrintsSQL)] || pool[firstLine(latestPrintsSQL)] {
		t.Errorf("statements of a Record with spans remembered: run %v, on the pool %v; want the addresses' without prints", used, pool)
	}
	if got := IntsForTest(t, db, `SELECT count(*), min(probe_count), max(probe_count) FROM spans`); got[0][0] != 2 || got[0][1] != 3 || got[0][2] != 3 {
		t.Errorf("spans, fewest and most probes: %v, want two spans of three probes", got)
	}
}
