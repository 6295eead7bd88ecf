package postgres_test

import (
	"os"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/postgres"
	"github.com/pinwatchd/pinwatchd/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var _ storage.Store = (*postgres.DB)(nil)

// newPostgres is the PostgreSQL backend's factory for the shared suite: a
// new database on the package's throwaway cluster.
func newPostgres(t testing.TB) storagetest.Database {
	t.Helper()
	url := pgtest.Database(t)
	db, err := postgres.Open(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return storagetest.Database{
		Store: db,
		Reopen: func(t testing.TB) (storage.Store, error) {
			return postgres.Open(t.Context(), url, postgres.Options{})
		},
		OpenReadOnly: func(t testing.TB) (storage.Store, error) {
			return postgres.OpenReadOnly(t.Context(), url, postgres.Options{})
		},
		Ints: func(t testing.TB, query string) [][]int64 { return postgres.IntsForTest(t, db, query) },
		Size: func(t testing.TB) int64 { return postgres.SizeForTest(t, db) },
	}
}

// The PostgreSQL backend keeps the store contract: the suite SQLite runs.
func TestStoreContract(t *testing.T) {
	storagetest.Run(t, newPostgres)
}
