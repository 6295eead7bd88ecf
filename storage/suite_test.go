package storage_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/storagetest"
)

var _ storage.Store = (*storage.DB)(nil)

// newSQLite is the SQLite backend's factory for the shared suite: a new
// database file in a temporary directory.
func newSQLite(t testing.TB) storagetest.Database {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := storage.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return storagetest.Database{
		Store:        db,
		Reopen:       func(t testing.TB) (storage.Store, error) { return storage.Open(t.Context(), path) },
		OpenReadOnly: func(t testing.TB) (storage.Store, error) { return storage.OpenReadOnly(t.Context(), path) },
		Ints:         func(t testing.TB, query string) [][]int64 { return storage.IntsForTest(t, db, query) },
		Size:         func(t testing.TB) int64 { return storage.SizeForTest(t, db) },
	}
}

// The SQLite backend keeps the store contract.
func TestStoreContract(t *testing.T) {
	storagetest.Run(t, newSQLite)
}

// BenchmarkRound10000 records rounds of 10,000 unchanged targets, the
// figure SPEC §11 budgets on PostgreSQL, for comparison: the whole round in
// one transaction, 256 observations per transaction, 32 (a group commit of
// the daemon), one per transaction.
func BenchmarkRound10000(b *testing.B) {
	for _, batch := range []int{10_000, 256, 32, 1} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			storagetest.BenchmarkRound(b, newSQLite, 10_000, batch)
		})
	}
}
