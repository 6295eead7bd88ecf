package backend_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/backend"
	"github.com/pinwatchd/pinwatchd/storage/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The database value chooses the backend: a postgres:// or postgresql://
// URL is PostgreSQL, anything else a SQLite file.
func TestOpenChoosesBackend(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := backend.Open(t.Context(), file, backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.(*storage.DB); !ok || db.Path() != file {
		t.Errorf("Open(%s) = %T at %s, want a SQLite database there", file, db, db.Path())
	}
	db.Close()

	url := pgtest.Database(t)
	for _, u := range []string{url, "postgresql" + strings.TrimPrefix(url, "postgres")} {
		db, err := backend.Open(t.Context(), u, backend.Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", u, err)
		}
		if _, ok := db.(*postgres.DB); !ok {
			t.Errorf("Open(%s) = %T, want a PostgreSQL database", u, db)
		}
		db.Close()
		ro, err := backend.OpenReadOnly(t.Context(), u, backend.Options{})
		if err != nil {
			t.Fatalf("OpenReadOnly(%s): %v", u, err)
		}
		if _, ok := ro.(*postgres.DB); !ok {
			t.Errorf("OpenReadOnly(%s) = %T, want a PostgreSQL database", u, ro)
		}
		ro.Close()
		if err := backend.Check(t.Context(), u, backend.Options{}); err != nil {
			t.Errorf("Check(%s): %v", u, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.db")
	if db, err := backend.OpenReadOnly(t.Context(), missing, backend.Options{}); !errors.Is(err, fs.ErrNotExist) || db != nil {
		t.Errorf("OpenReadOnly of a missing file = %v, %v; want nil and fs.ErrNotExist", db, err)
	}
	if db, err := backend.Open(t.Context(), missing, backend.Options{PasswordFile: "/run/credentials/pw"}); !errors.Is(err, backend.ErrPasswordForSQLite) || db != nil {
		t.Errorf("Open of a SQLite file with a password file = %v, %v; want ErrPasswordForSQLite", db, err)
	}
	if db, err := backend.Open(t.Context(), "postgres://u@/db?sslmode=nonsense", backend.Options{}); err == nil || db != nil {
		t.Errorf("Open of a bad URL = %v, %v; want nil and an error", db, err)
	}
	if err := backend.Check(t.Context(), missing, backend.Options{}); err != nil {
		t.Errorf("Check of a SQLite file: %v, want nil (the config checks files)", err)
	}
}

// Check refuses a database written by a newer pinwatchd, as Open would,
// and changes nothing.
func TestCheckNewerSchema(t *testing.T) {
	url := pgtest.Database(t)
	db, err := backend.Open(t.Context(), url, backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	pgtest.Exec(t, url, "INSERT INTO schema_migrations VALUES (99, 'future', 0)")
	if err := backend.Check(t.Context(), url, backend.Options{}); !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Errorf("Check of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	// An empty database is fine: Open will migrate it.
	if err := backend.Check(t.Context(), pgtest.Database(t), backend.Options{}); err != nil {
		t.Errorf("Check of an empty database: %v", err)
	}
}

func TestDisplay(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/pinwatchd/pinwatchd.db":        "/var/lib/pinwatchd/pinwatchd.db",
		"postgres://u:secret@db.example.com/pw":  "postgres://u@db.example.com/pw",
		"postgresql://u@db.example.com/pw?x=1":   "postgresql://u@db.example.com/pw?x=1",
		"weird:secret@file name with : in it.db": "weird:secret@file name with : in it.db",
	} {
		if got := backend.Display(in); got != want {
			t.Errorf("Display(%q) = %q, want %q", in, got, want)
		}
	}
}
