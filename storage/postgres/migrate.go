package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinwatchd/pinwatchd/storage"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Advisory lock keys (one bigint each), shared by every process using the
// database. They are arbitrary but fixed: "pinw" and a number.
const (
	lockMigrate int64 = 0x70696e77_00000001 // applying a migration
	lockRecord  int64 = 0x70696e77_00000002 // Record and Prune
	lockClaim   int64 = 0x70696e77_00000003 // claiming outbox rows (Claim)
	// announcing chain changes, once per (target, new leaf) (SPEC §14)
	lockAnnounce int64 = 0x70696e77_00000008
)

// lockNameState is the first half of the two-int advisory lock of one
// target's name state (the second is the hash of the target's name).
const lockNameState int32 = 0x70696e77

// lockAlertState is the first half of the two-int advisory lock of one
// target's alerts (the second is the hash of the target's name): the nodes
// sharing the database move a target's alerts one at a time.
const lockAlertState int32 = 0x70696e78

// versionTable lists the migrations applied, one row each; the schema
// version is the highest.
const versionTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer NOT NULL PRIMARY KEY,
    name       text    NOT NULL,
    applied_at bigint  NOT NULL
)`

type migration struct {
	version int
	name    string
	sql     string
}

var loadMigrations = sync.OnceValues(func() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name does not start with a number and '_'", e.Name())
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want version %d next", e.Name(), len(ms)+1)
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	return ms, nil
})

// latestVersion returns the schema version the embedded migrations reach.
func latestVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		panic("storage/postgres: embedded migrations: " + err.Error())
	}
	return len(ms)
}

// migrate applies the migrations the database lacks, each in its own
// transaction under an advisory lock, so that processes starting together
// apply each step once; it refuses a database newer than the binary.
func migrate(ctx context.Context, pool *pgxpool.Pool, dbPath string) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate database %s: %w", dbPath, err)
	}
	for {
		m, err := migrateStep(ctx, pool, ms)
		var se *storage.SchemaError
		switch {
		case errors.As(err, &se):
			se.Path = dbPath
			return se
		case err != nil && m != nil:
			return fmt.Errorf("migrate database %s to version %d (%s): %w", dbPath, m.version, m.name, err)
		case err != nil:
			return fmt.Errorf("migrate database %s: %w", dbPath, err)
		case m == nil:
			return nil
		}
	}
}

// migrateStep applies the next migration the database lacks and returns
// it, or nil when the database is up to date.
func migrateStep(ctx context.Context, pool *pgxpool.Pool, ms []migration) (*migration, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockMigrate); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, versionTable); err != nil {
		return nil, err
	}
	var cur int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return nil, err
	}
	switch {
	case cur > len(ms):
		return nil, &storage.SchemaError{Version: cur, Known: len(ms)}
	case cur == len(ms):
		return nil, tx.Commit(ctx)
	}
	m := &ms[cur]
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return m, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, time.Now().Unix()); err != nil {
		return m, err
	}
	return m, tx.Commit(ctx)
}

// schemaVersion returns the database's schema version, 0 when pinwatchd
// never migrated it.
func schemaVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// Check connects to the database at url, as Open would, and checks that
// its schema is one this binary can use (not newer; an older one Open
// migrates), without changing anything: what `config check` asks of a
// database before `run` opens it. Errors are Open's.
func Check(ctx context.Context, url string, o Options) error {
	db, err := connect(ctx, url, o, true)
	if err != nil {
		return err
	}
	defer db.Close()
	version, err := schemaVersion(ctx, db.pool)
	if err != nil {
		return fmt.Errorf("open database %s: %w", db.path, err)
	}
	if latest := latestVersion(); version > latest {
		return &storage.SchemaError{Path: db.path, Version: version, Known: latest}
	}
	return nil
}
