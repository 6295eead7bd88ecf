package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is matched (errors.Is) by the SchemaError of a database
// written by a newer pinwatchd.
var ErrSchemaTooNew = errors.New("database schema is newer than this pinwatchd")

// SchemaError is returned when a database's schema version (its
// user_version) is one this binary cannot use: newer than the migrations it
// knows, or, for OpenReadOnly, older than them.
type SchemaError struct {
	Path    string
	Version int // the database's user_version
	Known   int // the newest version this binary knows
}

// Error names the file and both versions, and what to do.
func (e *SchemaError) Error() string {
	if e.Version > e.Known {
		return fmt.Sprintf("database %s has schema version %d but this pinwatchd knows versions up to %d; use a newer pinwatchd",
			e.Path, e.Version, e.Known)
	}
	return fmt.Sprintf("database %s has schema version %d but this pinwatchd needs %d; open it read-write once (pinwatchd run or check --record) to migrate it",
		e.Path, e.Version, e.Known)
}

// Is matches ErrSchemaTooNew when the database is newer than the binary.
func (e *SchemaError) Is(target error) bool {
	return target == ErrSchemaTooNew && e.Version > e.Known
}

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
		panic("storage: embedded migrations: " + err.Error())
	}
	return len(ms)
}

// migrate applies the migrations the database at path lacks, each in its own
// transaction together with its PRAGMA user_version, and refuses a database
// newer than the binary. Another process migrating at the same time is
// fine: each step re-reads the version after taking the write lock.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate database %s: %w", path, err)
	}
	version, err := userVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if version > len(ms) {
		return &SchemaError{Path: path, Version: version, Known: len(ms)}
	}
	for _, m := range ms[version:] {
		if err := applyMigration(ctx, db, m); err != nil {
			var se *SchemaError
			if errors.As(err, &se) {
				se.Path = path
				return se
			}
			return fmt.Errorf("migrate database %s to version %d (%s): %w", path, m.version, m.name, err)
		}
	}
	return nil
}

// applyMigration applies m in one transaction. Foreign keys are off while
// it runs, as SQLite's own recipe for rebuilding a table that others
// reference asks (a PRAGMA that only works outside a transaction, so on a
// connection of its own), and are checked before the step commits: a step
// that breaks a reference fails and leaves nothing behind.
func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return err
	}
	// The connection returns to the pool: foreign keys go back on whatever
	// happened, and a connection that cannot turn them on is not reused.
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return err
	}
	switch {
	case cur >= m.version && cur > latestVersion():
		return &SchemaError{Version: cur, Known: latestVersion()}
	case cur >= m.version:
		return nil // another process got there first
	case cur != m.version-1:
		return fmt.Errorf("schema version is %d, want %d", cur, m.version-1)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if err := checkForeignKeys(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return err
	}
	return tx.Commit()
}

// checkForeignKeys fails when a row references one that does not exist.
func checkForeignKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var (
			table, parent string
			rowid         sql.NullInt64
			fkid          int64
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("row %d of %s references a missing row of %s", rowid.Int64, table, parent)
	}
	return rows.Err()
}

func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
