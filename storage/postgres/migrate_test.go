package postgres_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/postgres"
)

// The PostgreSQL migrations are the SQLite backend's numbered steps, one
// for one, so that a schema version means the same tables on both.
func TestMigrationsMirrorSQLite(t *testing.T) {
	sqlite, err := filepath.Glob(filepath.Join("..", "migrations", "*.sql"))
	if err != nil || len(sqlite) == 0 {
		t.Fatalf("no SQLite migrations in ../migrations (%v)", err)
	}
	for i := range sqlite {
		sqlite[i] = filepath.Base(sqlite[i])
	}
	if got := postgres.MigrationNamesForTest(t); !slices.Equal(got, sqlite) {
		t.Errorf("PostgreSQL migrations %v, SQLite migrations %v: mirror each SQLite step in storage/postgres/migrations", got, sqlite)
	}
}

// open opens url read-write and closes it when the test ends.
func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenMigratesOnce(t *testing.T) {
	url := pgtest.Database(t)
	db := open(t, url)
	latest := postgres.LatestVersionForTest()
	want := [][]int64{{int64(latest), int64(len(postgres.MigrationNamesForTest(t)))}}
	if got := postgres.IntsForTest(t, db, `SELECT max(version), count(*) FROM schema_migrations`); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("schema_migrations (max, count) = %v, want %v", got, want)
	}
	db.Close()
	// Reopening applies nothing.
	db = open(t, url)
	if got := postgres.IntsForTest(t, db, `SELECT max(version), count(*) FROM schema_migrations`); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after a reopen schema_migrations (max, count) = %v, want %v", got, want)
	}
}

// Nodes starting together on a new database apply each migration once,
// one after the other under the advisory lock, and all open it.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), url, postgres.Options{})
			if err == nil {
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	db := open(t, url)
	latest, steps := int64(postgres.LatestVersionForTest()), int64(len(postgres.MigrationNamesForTest(t)))
	if got := postgres.IntsForTest(t, db, `SELECT count(*), count(DISTINCT version), max(version) FROM schema_migrations`); got[0][0] != steps || got[0][1] != steps || got[0][2] != latest {
		t.Errorf("schema_migrations (rows, versions, max) = %v, want each of the %d steps once, up to version %d", got[0], steps, latest)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := pgtest.Database(t)
	db := open(t, url)
	if err := postgres.ExecForTest(t, db, `INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	path := postgres.Redact(url)
	want := fmt.Sprintf("database %s has schema version 99 but this pinwatchd knows versions up to %d; use a newer pinwatchd",
		path, postgres.LatestVersionForTest())
	if db, err := postgres.Open(t.Context(), url, postgres.Options{}); err == nil {
		db.Close()
		t.Fatal("Open of a database with schema version 99 succeeded")
	} else if err.Error() != want || !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Errorf("Open error = %q (ErrSchemaTooNew: %v), want %q", err, errors.Is(err, storage.ErrSchemaTooNew), want)
	}
	if _, err := postgres.OpenReadOnly(t.Context(), url, postgres.Options{}); err == nil || err.Error() != want {
		t.Errorf("OpenReadOnly error = %v, want %q", err, want)
	}
}

// A read-only handle cannot migrate: a database pinwatchd never opened
// read-write is refused, saying how to migrate it.
func TestOpenReadOnlyRefusesUnmigrated(t *testing.T) {
	url := pgtest.Database(t)
	_, err := postgres.OpenReadOnly(t.Context(), url, postgres.Options{})
	var se *storage.SchemaError
	if !errors.As(err, &se) || se.Version != 0 || !strings.Contains(err.Error(), "open it read-write once") || errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("OpenReadOnly of an empty database: %v; want a SchemaError saying how to migrate", err)
	}
}

// Even a statement sneaking past the API cannot write through a read-only
// handle: its sessions are read-only.
func TestReadOnlySessions(t *testing.T) {
	url := pgtest.Database(t)
	open(t, url)
	ro, err := postgres.OpenReadOnly(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	err = postgres.ExecForTest(t, ro, "DELETE FROM events")
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("DELETE through a read-only handle: %v, want a read-only transaction error", err)
	}
}

// A database from before migration 0011 (spans without a print column),
// holding a recorded round, is migrated on open and keeps its history:
// the next unchanged round extends the same spans.
func TestMigrateSpanPrintKeepsHistory(t *testing.T) {
	url := pgtest.Database(t)
	db := open(t, url)
	p := testpki.New(t)
	chain := []pinwatchd.Cert{pinwatchd.CertFromX509(p.Leaf.Cert), pinwatchd.CertFromX509(p.Intermediate.Cert)}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	round := func(db *postgres.DB, at time.Time) []pinwatchd.Event {
		t.Helper()
		var obs []pinwatchd.Observation
		for i, target := range []string{"api", "www"} {
			obs = append(obs, pinwatchd.Observation{Target: target, Address: fmt.Sprintf("127.0.0.%d:443", i+1), Vantage: "eu",
				SNI: "localhost", Time: at, TLSVersion: "TLS 1.3", ServedChain: chain, VerifiedChain: chain,
				Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true}})
		}
		evs, err := db.Record(t.Context(), obs)
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		return evs
	}
	if evs := round(db, t0); len(evs) != 2 {
		t.Fatalf("first round recorded %d events, want two first_seen", len(evs))
	}
	// Back to the schema of version 10.
	if err := postgres.ExecForTest(t, db, `ALTER TABLE spans DROP COLUMN print; DELETE FROM schema_migrations WHERE version = 11`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, url)
	if got := postgres.IntsForTest(t, db, `SELECT max(version) FROM schema_migrations`); got[0][0] != 11 {
		t.Fatalf("schema version after the reopen = %d, want 11", got[0][0])
	}
	if evs := round(db, t0.Add(time.Hour)); len(evs) != 0 {
		t.Errorf("an unchanged round after the migration recorded %+v", evs)
	}
	if got := postgres.IntsForTest(t, db, `SELECT count(*), min(probe_count), max(probe_count) FROM spans`); len(got) != 1 || got[0][0] != 2 || got[0][1] != 2 || got[0][2] != 2 {
		t.Errorf("spans (count, min and max probes) = %v, want the two first spans extended once each", got)
	}
}
