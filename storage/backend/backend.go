// Package backend opens a pinwatchd database from the config's database
// value (SPEC §7, §14): a postgres:// or postgresql:// URL is a PostgreSQL
// database (storage/postgres), anything else the path of a SQLite file
// (package storage). It lives apart from both so that neither imports the
// other, and the daemon and the command line open databases one way.
package backend

import (
	"context"
	"errors"

	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/postgres"
)

// Options are what opening a database needs besides its name.
type Options struct {
	// PasswordFile is the config's database_password_file: the file
	// holding the PostgreSQL password. "" leaves it to PGPASSFILE
	// (~/.pgpass). A SQLite database takes none.
	PasswordFile string
}

// ErrPasswordForSQLite is returned when a password file is given for a
// SQLite database.
var ErrPasswordForSQLite = errors.New("a database password file is for a PostgreSQL database only; this database is a SQLite file")

// IsPostgres reports whether database names a PostgreSQL database.
func IsPostgres(database string) bool { return postgres.IsURL(database) }

// Display returns database as messages may show it: a URL without its
// password, a file path as it is.
func Display(database string) string {
	if IsPostgres(database) {
		return postgres.Redact(database)
	}
	return database
}

// Open opens database read-write, creating (SQLite) or migrating it as
// needed; see storage.Open and postgres.Open. Close it when done.
func Open(ctx context.Context, database string, o Options) (storage.Store, error) {
	if IsPostgres(database) {
		return nonNil(postgres.Open(ctx, database, postgres.Options{PasswordFile: o.PasswordFile}))
	}
	if o.PasswordFile != "" {
		return nil, ErrPasswordForSQLite
	}
	return nonNil(storage.Open(ctx, database))
}

// OpenReadOnly opens an existing database for queries; see
// storage.OpenReadOnly (a missing file is an error wrapping
// fs.ErrNotExist) and postgres.OpenReadOnly.
func OpenReadOnly(ctx context.Context, database string, o Options) (storage.Store, error) {
	if IsPostgres(database) {
		return nonNil(postgres.OpenReadOnly(ctx, database, postgres.Options{PasswordFile: o.PasswordFile}))
	}
	if o.PasswordFile != "" {
		return nil, ErrPasswordForSQLite
	}
	return nonNil(storage.OpenReadOnly(ctx, database))
}

// Check reports whether a PostgreSQL database can be used now: the server
// answers, takes the password, and holds a schema this binary can use
// (postgres.Check). For a SQLite file it checks nothing (the config checks
// its directory).
func Check(ctx context.Context, database string, o Options) error {
	if !IsPostgres(database) {
		return nil
	}
	return postgres.Check(ctx, database, postgres.Options{PasswordFile: o.PasswordFile})
}

// nonNil returns a nil Store on error, rather than a Store holding a nil
// pointer.
func nonNil[T storage.Store](db T, err error) (storage.Store, error) {
	if err != nil {
		return nil, err
	}
	return db, nil
}
