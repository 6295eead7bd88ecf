package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrReadOnly is returned by the methods that write when the database was
// opened with OpenReadOnly.
var ErrReadOnly = errors.New("database is open read-only")

// writePragmas are applied to every write connection (a PRAGMA run with Exec
// reaches one pooled connection only, so they live in the DSN). _txlock
// makes every transaction BEGIN IMMEDIATE: it takes the write lock at the
// start, where busy_timeout applies, instead of failing with SQLITE_BUSY
// when a read upgrades to a write. temp_store(MEMORY) keeps statement
// journals in memory: every multi-row write to a STRICT table inside a
// transaction has one, and past 64 KiB (the span extensions of every
// commit) SQLite spilled it to a new file in /var/tmp each time.
const writePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_txlock=immediate"

// readPragmas are applied to the read connections of a read-write DB. The
// file is already in WAL mode (the write connection migrated it first);
// query_only keeps a stray write off these connections.
const readPragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=query_only(1)"

// readOnlyPragmas are those of OpenReadOnly. mode=ro is SQLite's own URI
// parameter: it never creates the file and refuses every write.
const readOnlyPragmas = "mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)&_pragma=cache_size(-32768)"

// maxReaders bounds the read connections of one DB.
const maxReaders = 4

// DB is a pinwatchd database. Its methods are safe for concurrent use.
//
// Writes go through one connection (SetMaxOpenConns(1)) and a mutex: SQLite
// allows one writer per file anyway, so a pool of writers would only queue
// on the file lock, and the mutex also guards the in-memory caches that the
// writing code uses. Reads use their own pool, so a query never waits
// behind a large write batch (WAL lets readers and the writer proceed
// together). Other processes reading or writing the same file are fine: the
// busy timeout and BEGIN IMMEDIATE serialise writers across processes, and
// nothing cached here is trusted without the database confirming it.
type DB struct {
	path  string
	read  *sql.DB
	write *sql.DB // nil when read-only

	reads *readStatements // prepared on first use

	wmu     sync.Mutex // serialises writes; guards the caches below
	stmts   *statements
	addrs   *lru[addrKey, int64]   // (target, address, vantage) → addresses.id; addresses are never deleted
	chains  *lru[[32]byte, int64]  // chain hash → chains.id
	headers *lru[[32]byte, int64]  // header hash → header_values.id
	tlsa    *lru[[32]byte, int64]  // TLSA value hash → tlsa_values.id
	certs   *lru[string, struct{}] // certificate SHA-256 known to be stored
	// memo is the latest span of each address this DB recorded, valid
	// while data_version is memoVersion (spanmemo.go).
	memo        *lru[int64, spanMemo]
	memoVersion int64
}

// addrKey is what an addresses row stands for: one address of a target,
// as one vantage point probes it.
type addrKey struct{ target, address, vantage string }

// cacheSize bounds each in-memory cache of known addresses, chains, header
// values and certificates. The caches only save work; their size never
// changes what is stored.
const cacheSize = 4096

// FileMode is the mode of a database file Open creates, whatever the
// process umask (SPEC §7); its -wal and -shm files get no more than the
// database file has. The database holds the fleet's alert state and
// history.
const FileMode fs.FileMode = 0o600

// Open opens the database at path read-write, creating the file (mode
// FileMode) if it does not exist, and applies the migrations it lacks. It
// refuses a database whose schema is newer than this binary (see
// SchemaError). Close it when done.
func Open(ctx context.Context, path string) (*DB, error) {
	uri, err := fileURI(path)
	if err != nil {
		return nil, err
	}
	// SQLite only says "unable to open database file" when the directory is
	// missing.
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open database %s: directory %s does not exist", path, dir)
		}
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	write, err := sql.Open("sqlite", uri+"?"+writePragmas)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	db := &DB{
		path:    path,
		write:   write,
		addrs:   newLRU[addrKey, int64](cacheSize),
		chains:  newLRU[[32]byte, int64](cacheSize),
		headers: newLRU[[32]byte, int64](cacheSize),
		tlsa:    newLRU[[32]byte, int64](cacheSize),
		certs:   newLRU[string, struct{}](cacheSize),
		memo:    newLRU[int64, spanMemo](spanMemoSize),
		reads:   newReadStatements(),
	}
	if err := migrate(ctx, write, path); err != nil {
		write.Close()
		return nil, err
	}
	if err := restrictSidecars(path); err != nil {
		write.Close()
		return nil, err
	}
	db.read, err = sql.Open("sqlite", uri+"?"+readPragmas)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(maxReaders)
	db.read.SetMaxIdleConns(maxReaders)
	db.stmts = newStatements()
	return db, nil
}

// OpenReadOnly opens an existing database for queries. It works while
// another process (the daemon) writes the file, never creates the file (a
// missing database is an error wrapping fs.ErrNotExist that names the
// path), and refuses a database whose schema is older or newer than this
// binary's, since it cannot migrate it. Record and Prune return ErrReadOnly.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open database %s: %w", path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	uri, err := fileURI(path)
	if err != nil {
		return nil, err
	}
	read, err := sql.Open("sqlite", uri+"?"+readOnlyPragmas)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	read.SetMaxOpenConns(maxReaders)
	read.SetMaxIdleConns(maxReaders)
	var version int
	if err := read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		read.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if latest := latestVersion(); version != latest {
		read.Close()
		return nil, &SchemaError{Path: path, Version: version, Known: latest}
	}
	return &DB{path: path, read: read, reads: newReadStatements()}, nil
}

// Path returns the file name the database was opened with.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers a query. The daemon's watchdog and
// /healthz use it.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database %s: %w", db.path, err)
	}
	return nil
}

// Close waits for the write in progress, if any, and closes the database.
// The last connection to close checkpoints the write-ahead log into the
// file.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var errs []error
	errs = append(errs, db.reads.close())
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.stmts != nil {
		errs = append(errs, db.stmts.close())
		db.stmts = nil
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database %s: %w", db.path, err)
	}
	return nil
}

// resetCaches forgets everything cached and reports whether anything was.
// The caller holds wmu.
func (db *DB) resetCaches() bool {
	had := db.addrs.len()+db.chains.len()+db.headers.len()+db.certs.len()+db.tlsa.len()+db.memo.len() > 0
	db.memo.clear()
	db.addrs.clear()
	db.chains.clear()
	db.headers.clear()
	db.tlsa.clear()
	db.certs.clear()
	return had
}

// createFile creates an empty database file of mode FileMode, unless a
// file is already there. SQLite would create it with 0644 less the umask;
// an empty file is a valid empty database to it.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	// The umask may have taken bits off; set exactly FileMode.
	err = f.Chmod(FileMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	return nil
}

// restrictSidecars gives the -wal and -shm files of the database at path
// no permission the database file itself lacks (FileMode for a file Open
// created). SQLite creates them with the database file's mode, but files
// left by an older version or another tool may be wider.
func restrictSidecars(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	want := st.Mode().Perm()
	for _, suffix := range []string{"-wal", "-shm"} {
		side := path + suffix
		sst, err := os.Stat(side)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("open database %s: %w", path, err)
		}
		if sst.Mode().Perm()&^want != 0 {
			if err := os.Chmod(side, sst.Mode().Perm()&want); err != nil {
				return fmt.Errorf("open database %s: restrict %s: %w", path, side, err)
			}
		}
	}
	return nil
}

// fileURI turns a file name into the SQLite URI the driver opens: absolute,
// with the characters that end or escape a URI path percent-encoded.
func fileURI(path string) (string, error) {
	if path == "" {
		return "", errors.New("open database: the database path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("open database %s: %w", path, err)
	}
	abs = filepath.ToSlash(abs)
	if !strings.HasPrefix(abs, "/") {
		abs = "/" + abs // a Windows drive letter
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(abs)
	return "file://" + esc, nil
}
