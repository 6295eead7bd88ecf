package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const oneTarget = "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"

// The database key as written: a postgres:// or postgresql:// URL is a
// PostgreSQL database (SPEC §14), whose password never sits in the URL;
// every message leaves the URL out, since it may hold one.
func TestDatabaseSyntax(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"postgres", `database = "postgres://pinwatchd@db.example.com:5432/pinwatchd?sslmode=verify-full"`, ""},
		{"postgresql", `database = "postgresql://pinwatchd@/pinwatchd?host=/run/postgresql"`, ""},
		{"with a password file", "database = \"postgres://pinwatchd@db.example.com/pw\"\ndatabase_password_file = \"db-password\"", ""},
		{"password in the URL", `database = "postgres://pinwatchd:hunter2@db.example.com/pw"`,
			"d.toml:1: database: database holds a password, but the URL is shown in logs: put the password in the file database_password_file names (or in PGPASSFILE)"},
		{"password parameter", `database = "postgres://pinwatchd@db.example.com/pw?password=hunter2"`,
			"d.toml:1: database: database holds a password, but the URL is shown in logs: put the password in the file database_password_file names (or in PGPASSFILE)"},
		{"not a URL", `database = "postgres://pinwatchd:hunter2@db.example.com:port/pw"`,
			"d.toml:1: database: database is neither a file path nor a valid URL; give a SQLite file's path or a postgres://USER@HOST:PORT/DB URL"},
		{"another engine", `database = "mysql://u:hunter2@db.example.com/pw"`,
			"d.toml:1: database: database is a mysql:// URL; give a SQLite file's path or a postgres:// (postgresql://) URL"},
		{"a password for SQLite", "database = \"pinwatchd.db\"\ndatabase_password_file = \"db-password\"",
			"d.toml:2: database_password_file: database_password_file is set, but database is not a postgres:// URL; the password is for a PostgreSQL database only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Syntax is checked whatever the options: the queries, which
			// skip the daemon's checks, would read the same value.
			_, err := Parse(strings.NewReader(tc.doc+"\n"+oneTarget), "d.toml", Options{})
			if got := errString(err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Contains(errString(err), "hunter2") {
				t.Errorf("the database password leaked: %v", err)
			}
		})
	}
}

// With the daemon's options, a PostgreSQL database needs a readable
// password file, if one is named, and passes Options.Database (the
// connection `config check` makes); no file or directory is checked.
func TestPostgresDatabase(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "db-password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const url = "postgres://pinwatchd@db.example.com/pw"
	doc := func(file string) string {
		d := "database = \"" + url + "\"\n"
		if file != "" {
			d += "database_password_file = \"" + file + "\"\n"
		}
		return d + oneTarget
	}
	var called int
	connect := func(err error) Options {
		o := DaemonOptions(func(string) string { return "" })
		o.Database = func(c *Config) error {
			called++
			if c.Database != url {
				t.Errorf("Options.Database got database %q, want %q", c.Database, url)
			}
			return err
		}
		return o
	}
	for _, tc := range []struct {
		name, file string
		o          Options
		want       string
		calls      int
	}{
		{"no password file", "", connect(nil), "", 1},
		{"readable password file", pw, connect(nil), "", 1},
		{"missing password file", filepath.Join(dir, "nope"), connect(nil),
			"d.toml:2: database_password_file: file " + filepath.Join(dir, "nope") + " cannot be read: no such file or directory", 0},
		{"empty password file", empty, connect(nil), "d.toml:2: database_password_file: file " + empty + " is empty", 0},
		{"secret files skipped", filepath.Join(dir, "nope"), Options{SkipSecretFiles: true, CheckDatabase: true}, "", 0},
		{"no connection", pw, connect(errors.New("open database " + url + ": connection refused")),
			"d.toml:1: database: open database " + url + ": connection refused", 1},
		{"without the daemon's checks", filepath.Join(dir, "nope"), Options{Database: func(*Config) error { called++; return nil }}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called = 0
			_, err := Parse(strings.NewReader(doc(tc.file)), "d.toml", tc.o)
			if got := errString(err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if called != tc.calls {
				t.Errorf("Options.Database called %d times, want %d", called, tc.calls)
			}
			if strings.Contains(errString(err), "s3cret") {
				t.Errorf("the password leaked: %v", err)
			}
		})
	}
}

// database_password_file is a path relative to the config file, or under
// systemd a bare name of a credential, as the Slack secret files are.
func TestDatabasePasswordFilePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pinwatchd.toml")
	body := "database = \"postgres://pinwatchd@db.example.com/pw\"\ndatabase_password_file = \"db-password\"\n" + oneTarget
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "db-password"); c.DatabasePasswordFile != want {
		t.Errorf("outside systemd database_password_file = %s, want %s", c.DatabasePasswordFile, want)
	}
	creds := t.TempDir()
	env := map[string]string{"INVOCATION_ID": "x", "CREDENTIALS_DIRECTORY": creds}
	c, err = Load(path, Options{Credential: func(name string) (string, bool) {
		return CredentialPath(func(k string) string { return env[k] }, name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(creds, "db-password"); c.DatabasePasswordFile != want {
		t.Errorf("under systemd database_password_file = %s, want the credential %s", c.DatabasePasswordFile, want)
	}
	if c.Database != "postgres://pinwatchd@db.example.com/pw" {
		t.Errorf("database = %s: a URL is not a path relative to the config", c.Database)
	}
}

func TestIsPostgresURL(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://u@h/db": true, "pinwatchd.db": false,
		"/var/lib/pinwatchd/postgres://x": false, "mysql://u@h/db": false,
	} {
		if got := IsPostgresURL(s); got != want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", s, got, want)
		}
	}
}
