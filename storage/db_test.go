package storage

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var update = flag.Bool("update", false, "rewrite testdata/schema.golden")

func TestOpenMigratesAndReopens(t *testing.T) {
	db, path := openTest(t)
	if v, err := userVersion(t.Context(), db.write); err != nil || v != latestVersion() {
		t.Fatalf("user_version = %d, %v; want %d", v, err, latestVersion())
	}
	var mode string
	if err := db.read.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	// Statement journals stay in memory (no file in /var/tmp per commit).
	var temp int
	if err := db.write.QueryRowContext(t.Context(), "PRAGMA temp_store").Scan(&temp); err != nil || temp != 2 {
		t.Fatalf("temp_store of the write connection = %d, %v; want 2 (MEMORY)", temp, err)
	}
	p := testpki.New(t)
	record(t, db, okObs("api", "127.0.0.1:443", t0, pkiChain(p.Leaf, p.Intermediate, p.Root)))
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening applies nothing and keeps the data.
	db2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	if v, _ := userVersion(t.Context(), db2.write); v != latestVersion() {
		t.Fatalf("user_version after reopen = %d, want %d", v, latestVersion())
	}
	evs, err := db2.History(t.Context(), "", time.Time{})
	if err != nil || len(evs) != 1 || evs[0].Event != pinwatchd.EventFirstSeen {
		t.Fatalf("History after reopen = %+v, %v; want the first_seen event", evs, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	_, path := openTest(t)
	setUserVersion(t, path, 99)

	want := fmt.Sprintf("database %s has schema version 99 but this pinwatchd knows versions up to %d; use a newer pinwatchd", path, latestVersion())
	db, err := Open(t.Context(), path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database with user_version 99 succeeded")
	}
	if err.Error() != want || !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open error = %q (ErrSchemaTooNew: %v), want %q", err, errors.Is(err, ErrSchemaTooNew), want)
	}
	if _, err := OpenReadOnly(t.Context(), path); err == nil || err.Error() != want {
		t.Errorf("OpenReadOnly error = %v, want %q", err, want)
	}
}

func TestOpenReadOnlyRefusesUnmigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	setUserVersion(t, path, 0) // an empty SQLite file
	_, err := OpenReadOnly(t.Context(), path)
	var se *SchemaError
	if !errors.As(err, &se) || se.Version != 0 || !strings.Contains(err.Error(), path) || errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("OpenReadOnly of an unmigrated file: %v; want a SchemaError naming the path", err)
	}
}

// setUserVersion writes PRAGMA user_version directly, as another binary
// would.
func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadOnlyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := OpenReadOnly(t.Context(), path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || err.Error() != "open database "+path+": file does not exist" {
		t.Fatalf("OpenReadOnly of a missing file: %v; want fs.ErrNotExist naming %s", err, path)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenReadOnly created %s (stat: %v)", path, err)
	}
}

func TestOpenReadOnlyRefusesWrites(t *testing.T) {
	db, path := openTest(t)
	p := testpki.New(t)
	record(t, db, okObs("api", "127.0.0.1:443", t0, pkiChain(p.Leaf, p.Intermediate, p.Root)))
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer ro.Close()
	if _, err := ro.Record(t.Context(), []pinwatchd.Observation{okObs("api", "127.0.0.1:443", t0.Add(time.Hour), pkiChain(p.Leaf, p.Intermediate, p.Root))}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Record on a read-only DB: %v, want ErrReadOnly", err)
	}
	if _, err := ro.Prune(t.Context(), t0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Prune on a read-only DB: %v, want ErrReadOnly", err)
	}
	if err := ro.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	// Even a statement sneaking past the API cannot write.
	if _, err := ro.read.ExecContext(t.Context(), "DELETE FROM events"); err == nil {
		t.Error("DELETE through a read-only connection succeeded")
	}
	if evs, err := ro.History(t.Context(), "api", time.Time{}); err != nil || len(evs) != 1 {
		t.Errorf("History = %d events, %v; want 1", len(evs), err)
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pinwatchd.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at %s: %v", path, err)
	}
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly(%q): %v", path, err)
	}
	ro.Close()
}

func TestSchemaGolden(t *testing.T) {
	db, _ := openTest(t)
	rows, err := db.read.QueryContext(t.Context(),
		`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "-- user_version %d\n", latestVersion())
	for rows.Next() {
		var typ, name, tbl, text string
		if err := rows.Scan(&typ, &name, &tbl, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n-- %s %s on %s\n%s;\n", typ, name, tbl, text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "schema.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./storage -run TestSchemaGolden -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("schema differs from %s (rerun with -update if intended):\n%s", golden, b.String())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 20)), 0o600); err != nil {
		t.Fatal(err)
	}
	missingDir := filepath.Join(dir, "nosuch", "pinwatchd.db")
	tests := []struct {
		name string
		open func() (*DB, error)
		want string
	}{
		{"missing directory", func() (*DB, error) { return Open(t.Context(), missingDir) },
			"open database " + missingDir + ": directory " + filepath.Dir(missingDir) + " does not exist"},
		{"not a database", func() (*DB, error) { return Open(t.Context(), garbage) },
			"open database " + garbage + ": file is not a database (26)"},
		{"not a database, read-only", func() (*DB, error) { return OpenReadOnly(t.Context(), garbage) },
			"open database " + garbage + ": file is not a database (26)"},
		{"empty path", func() (*DB, error) { return Open(t.Context(), "") },
			"open database: the database path is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := tt.open()
			if err == nil {
				db.Close()
				t.Fatalf("open succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

// TestOpenCreatesPrivateFiles checks that a new database and its -wal and
// -shm files are mode 0600 even under a umask that lets everyone read, and
// that sidecars left wider by an older version are narrowed on open.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	p := testpki.New(t)
	record(t, db, okObs("api", "127.0.0.1:443", t0, pkiChain(p.Leaf, p.Intermediate, p.Root)))
	checkModes := func(when string) {
		t.Helper()
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want -rw-------", when, filepath.Base(f), st.Mode().Perm())
			}
		}
	}
	checkModes("while open")

	// A second connection (another process, or a reopen) while the first
	// keeps the -wal and -shm in place: widen them, as an older version
	// running under umask 0 would have left them, and reopen.
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	db2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	checkModes("after reopening with wider sidecars")
	db2.Close()
	db.Close()
}
