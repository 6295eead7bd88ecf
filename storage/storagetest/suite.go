// Package storagetest is the store contract's test-suite (STYLE: two
// backends, one contract): Run checks a storage.Store backend against
// every backend-independent promise of storage.Store (recording and
// spans, events and their announcement, alerts, the outbox with
// pinwatchdtest.OutboxContract, the queries, retention, several handles
// on one database), and the SQLite backend (package storage) and the
// PostgreSQL one (storage/postgres) each run it, unchanged, from a test.
// What only one backend has (SQLite's file modes, pragmas and schema
// golden; PostgreSQL's advisory locks) is tested beside that backend.
//
// Only _test.go files import it.
package storagetest

import (
	"testing"

	"github.com/pinwatchd/pinwatchd/storage"
)

// Database is one new, empty database under test, opened read-write, as
// a Factory returns it.
type Database struct {
	// Store is the handle the checks use; the factory closes it when the
	// test ends (closing it twice is harmless).
	Store storage.Store
	// Reopen opens another read-write handle on the same database, as
	// another process would; the caller closes it.
	Reopen func(t testing.TB) (storage.Store, error)
	// OpenReadOnly opens a read-only handle on the same database, as the
	// query commands do; the caller closes it.
	OpenReadOnly func(t testing.TB) (storage.Store, error)
	// Ints runs query, whose columns are all integers (written to work on
	// both backends, NULL read as 0), and returns its rows.
	Ints func(t testing.TB, query string) [][]int64
	// Size returns the bytes the database takes (SQLite: the file, after
	// a checkpoint; PostgreSQL: its tables and their indexes).
	Size func(t testing.TB) int64
}

// Factory returns a new, empty, migrated Database for one test, removed
// when the test ends. It fails or skips the test when it cannot.
type Factory func(t testing.TB) Database

// check is one promise of the contract.
type check struct {
	name string
	fn   func(t *testing.T, newDB Factory)
}

// checks are every promise Run checks, one subtest each, grouped by file.
var checks = concat(recordChecks, alertChecks, announceChecks, nameChecks, outboxChecks, queryChecks,
	recentChecks, pruneChecks, concurrencyChecks, churnChecks, growthChecks, tlsaChecks, preflightChecks, sharedChecks, vantageChecks,
	linkChecks, batchChecks)

func concat(lists ...[]check) []check {
	var out []check
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Run checks the backend newDB opens against the store contract, one
// subtest per promise, each on a new database.
func Run(t *testing.T, newDB Factory) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newDB) })
	}
}

// countRows returns the number of rows of table.
func countRows(t testing.TB, db Database, table string) int {
	t.Helper()
	rows := db.Ints(t, "SELECT count(*) FROM "+table)
	return int(rows[0][0])
}

// reopen opens another read-write handle, closed when the test ends.
func reopen(t testing.TB, db Database) storage.Store {
	t.Helper()
	s, err := db.Reopen(t)
	if err != nil {
		t.Fatalf("open another handle: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openReadOnly opens a read-only handle, closed when the test ends.
func openReadOnly(t testing.TB, db Database) storage.Store {
	t.Helper()
	s, err := db.OpenReadOnly(t)
	if err != nil {
		t.Fatalf("open read-only: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
