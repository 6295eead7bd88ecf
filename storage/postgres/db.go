package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinwatchd/pinwatchd/storage"
)

// Options tune how a database is opened.
type Options struct {
	// PasswordFile names a file holding the password (its content,
	// trimmed), such as a systemd credential. "" leaves the password to
	// libpq's PGPASSFILE (else ~/.pgpass), $PGPASSWORD or the URL.
	PasswordFile string
}

// DB is a pinwatchd database on a PostgreSQL server. Its methods are safe
// for concurrent use, also by several processes on one database.
type DB struct {
	path     string // the URL without its password
	pool     *pgxpool.Pool
	readOnly bool

	wmu     sync.Mutex             // serialises this process's Record and Prune; guards the caches
	addrs   *lru[addrKey, int64]   // (target, address, vantage) → addresses.id; addresses are never deleted
	chains  *lru[[32]byte, int64]  // chain hash → chains.id
	headers *lru[[32]byte, int64]  // header hash → header_values.id
	certs   *lru[string, struct{}] // certificate SHA-256 known to be stored
}

// addrKey is what an addresses row stands for: one address of a target,
// as one vantage point probes it.
type addrKey struct{ target, address, vantage string }

// cacheSize bounds each in-memory cache; the caches only save queries.
const cacheSize = 4096

// connectTimeout bounds a connection attempt whose URL sets no
// connect_timeout: a server that does not answer is an error, not a hang.
const connectTimeout = 10 * time.Second

// maxConns bounds the connections of one DB, unless the URL sets
// pool_max_conns: one writer at a time for Record, the outbox sender, the
// dashboard and the queries.
const maxConns = 8

// Open connects to the database at url (postgres:// or postgresql://, see
// IsURL), applies the migrations it lacks and returns it. It refuses a
// database whose schema is newer than this binary (a storage.SchemaError
// matching storage.ErrSchemaTooNew). Errors name the URL without its
// password and never hold the password. Close it when done.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	db, err := connect(ctx, url, o, false)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db.pool, db.path); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly connects to the database at url for queries: every
// transaction is read-only, the methods that write return errors wrapping
// storage.ErrReadOnly, and a schema older or newer than this binary's is
// refused (a storage.SchemaError), since it cannot migrate it.
func OpenReadOnly(ctx context.Context, url string, o Options) (*DB, error) {
	db, err := connect(ctx, url, o, true)
	if err != nil {
		return nil, err
	}
	version, err := schemaVersion(ctx, db.pool)
	if err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("open database %s: %w", db.path, err)
	}
	if latest := latestVersion(); version != latest {
		db.pool.Close()
		return nil, &storage.SchemaError{Path: db.path, Version: version, Known: latest}
	}
	return db, nil
}

// connect parses url, reads the password file and checks that the server
// answers.
func connect(ctx context.Context, url string, o Options, readOnly bool) (*DB, error) {
	path := Redact(url)
	if !IsURL(url) {
		return nil, fmt.Errorf("open database %s: not a postgres:// or postgresql:// URL", path)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %s", path, parseProblem(err))
	}
	if o.PasswordFile != "" {
		pw, err := readPassword(o.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
		cfg.ConnConfig.Password = pw
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "pinwatchd"
	}
	// Times are unix seconds; the session zone only matters to humans.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if !strings.Contains(url, "pool_max_conns=") {
		cfg.MaxConns = maxConns
	}
	password := cfg.ConnConfig.Password
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, scrub(fmt.Errorf("open database %s: %w", path, err), password)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		var pe *pgconn.PgError
		if password == "" && errors.As(err, &pe) && pe.Code == "28P01" { // invalid_password
			return nil, fmt.Errorf("open database %s: %w; no password was given: set database_password_file or PGPASSFILE", path, err)
		}
		return nil, scrub(fmt.Errorf("open database %s: %w", path, err), password)
	}
	return &DB{
		path: path, pool: pool, readOnly: readOnly,
		addrs:   newLRU[addrKey, int64](cacheSize),
		chains:  newLRU[[32]byte, int64](cacheSize),
		headers: newLRU[[32]byte, int64](cacheSize),
		certs:   newLRU[string, struct{}](cacheSize),
	}, nil
}

// parseProblem is what a parse error of pgx says, without the connection
// string it quotes.
func parseProblem(err error) string {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return "the URL cannot be parsed"
	}
	msg := pe.Error()
	// "cannot parse `URL`: problem": keep the problem only.
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+3:]
	}
	return "the URL cannot be parsed: " + msg
}

// scrub replaces the password, should an error quote it, with xxxxx. The
// driver's errors name the user, database and host, never the password;
// this is a second line of defence.
func scrub(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// readPassword reads a one-line password file. Errors name the file, never
// its content.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("password file %s cannot be read: %w", path, err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty", path)
	}
	return pw, nil
}

// Path returns the URL the database was opened with, without its password.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers a query. The daemon's watchdog and
// /healthz use it.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database %s: %w", db.path, err)
	}
	return nil
}

// Close waits for the Record or Prune in progress, if any, and closes
// every connection.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.pool.Close()
	return nil
}

// writeTx runs fn in one read-write transaction; op names it in errors.
func (db *DB) writeTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	if db.readOnly {
		return fmt.Errorf("%s in %s: %w", op, db.path, storage.ErrReadOnly)
	}
	if err := pgx.BeginFunc(ctx, db.pool, fn); err != nil {
		return fmt.Errorf("%s in %s: %w", op, db.path, err)
	}
	return nil
}

// readTx runs fn in one read-only transaction that sees one snapshot.
func (db *DB) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// resetCaches forgets everything cached and reports whether anything was.
// The caller holds wmu.
func (db *DB) resetCaches() bool {
	had := db.addrs.len()+db.chains.len()+db.headers.len()+db.certs.len() > 0
	db.addrs.clear()
	db.chains.clear()
	db.headers.clear()
	db.certs.clear()
	return had
}

func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }
