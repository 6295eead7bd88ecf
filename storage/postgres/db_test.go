package postgres_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/storage/postgres"
)

// A role whose password the server asks for over TCP gets it from the
// password file, from PGPASSFILE, or from the URL; the password never
// shows in Path or in an error.
func TestPassword(t *testing.T) {
	t.Setenv("PGPASSWORD", "")
	c := pgtest.Shared(t)
	role, pw := c.CreateRole(t)
	dbName := c.CreateDatabase(t, role)
	url := c.TCPURL(role, dbName)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass")) // not the user's ~/.pgpass

	opens := func(t *testing.T, url string, o postgres.Options) {
		t.Helper()
		db, err := postgres.Open(t.Context(), url, o)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer db.Close()
		if err := db.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(db.Path(), pw) {
			t.Errorf("Path() = %s holds the password", db.Path())
		}
	}
	fails := func(t *testing.T, url string, o postgres.Options, want string) {
		t.Helper()
		db, err := postgres.Open(t.Context(), url, o)
		if err == nil {
			db.Close()
			t.Fatalf("Open succeeded, want %q", want)
		}
		if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "open database "+postgres.Redact(url)+": ") {
			t.Errorf("Open error = %q, want it to name the URL and say %q", err, want)
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "not-the-password") {
			t.Errorf("the error holds a password: %v", err)
		}
	}

	t.Run("password file", func(t *testing.T) {
		opens(t, url, postgres.Options{PasswordFile: write("pw", pw+"\n")})
	})
	t.Run("PGPASSFILE", func(t *testing.T) {
		t.Setenv("PGPASSFILE", write("pgpass", fmt.Sprintf("127.0.0.1:%d:%s:%s:%s\n", c.Port, dbName, role, pw)))
		opens(t, url, postgres.Options{})
	})
	t.Run("in the URL", func(t *testing.T) {
		inline := strings.Replace(url, role+"@", role+":"+pw+"@", 1)
		opens(t, inline, postgres.Options{})
		if got := postgres.Redact(inline); got != url {
			t.Errorf("Redact(URL with password) = %s, want %s", got, url)
		}
		fails(t, strings.Replace(inline, "/"+dbName, "/nosuchdb", 1), postgres.Options{}, `database "nosuchdb" does not exist`)
	})
	t.Run("wrong password", func(t *testing.T) {
		fails(t, url, postgres.Options{PasswordFile: write("wrong", "not-the-password")}, "password authentication failed")
	})
	t.Run("none", func(t *testing.T) {
		fails(t, url, postgres.Options{}, "password authentication failed for user \""+role+"\" (SQLSTATE 28P01); no password was given: set database_password_file or PGPASSFILE")
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "nope")
		fails(t, url, postgres.Options{PasswordFile: missing}, "password file "+missing+" cannot be read: no such file or directory")
	})
	t.Run("empty file", func(t *testing.T) {
		empty := write("empty", "\n")
		fails(t, url, postgres.Options{PasswordFile: empty}, "password file "+empty+" is empty")
	})
}

func TestOpenErrors(t *testing.T) {
	pgtest.Shared(t)
	for _, tt := range []struct {
		name, url, want string
	}{
		{"a file path", "/var/lib/pinwatchd/pinwatchd.db",
			"open database /var/lib/pinwatchd/pinwatchd.db: not a postgres:// or postgresql:// URL"},
		{"a bad parameter", "postgres://u:hunter2@127.0.0.1/db?sslmode=sometimes",
			"open database postgres://u@127.0.0.1/db?sslmode=sometimes: the URL cannot be parsed: failed to configure TLS (sslmode is invalid)"},
		{"nothing listening", "postgres://u@127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/db?connect_timeout=5",
			"connect: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.Open(t.Context(), tt.url, postgres.Options{})
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), "open database "+postgres.Redact(tt.url)) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %q, want it to name the URL and say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error holds the password: %v", err)
			}
		})
	}
}
