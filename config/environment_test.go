package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatabaseCheck checks, with the daemon's options, that the database
// is one the daemon can open read-write, and that only those options check
// it (check and the queries never write it).
func TestDatabaseCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const target = "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"
	for _, tc := range []struct {
		name, database, want string
	}{
		{"new file", filepath.Join(dir, "new.db"), ""},
		{"existing file", existing, ""},
		{"missing directory", filepath.Join(dir, "nope", "pw.db"),
			"d.toml:1: database: database " + filepath.Join(dir, "nope", "pw.db") + ": directory " + filepath.Join(dir, "nope") + " does not exist; create it, or set database to a file in an existing directory"},
		{"file as directory", filepath.Join(file, "pw.db"),
			"d.toml:1: database: database " + filepath.Join(file, "pw.db") + ": " + file + " is not a directory"},
		{"directory as database", dir,
			"d.toml:1: database: database " + dir + " is not a regular file"},
		// A PostgreSQL database has no file to check (SPEC §14); see
		// TestPostgresDatabase.
		{"PostgreSQL URL", "postgres://u@db.example.com/pw", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "database = \"" + tc.database + "\"\n" + target
			_, err := Parse(strings.NewReader(doc), "d.toml", DaemonOptions(func(string) string { return "" }))
			if got := errString(err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if _, err := Parse(strings.NewReader(doc), "d.toml", Options{}); err != nil {
				t.Errorf("without CheckDatabase: %v, want no database check", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "new.db")); err == nil {
				t.Errorf("the check created the database")
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".pinwatchd-check-*"))
			if len(left) > 0 {
				t.Errorf("the check left %v behind", left)
			}
		})
	}
	// The default database under systemd is in $STATE_DIRECTORY.
	env := map[string]string{"INVOCATION_ID": "x", "STATE_DIRECTORY": filepath.Join(dir, "state")}
	_, err := Parse(strings.NewReader(target), "d.toml", DaemonOptions(func(k string) string { return env[k] }))
	want := "d.toml: database: database " + filepath.Join(dir, "state", "pinwatchd.db") + " (the default): directory " + filepath.Join(dir, "state") + " does not exist; create it, or set database to a file in an existing directory"
	if got := errString(err); got != want {
		t.Errorf("default under systemd:\n%s\nwant\n%s", got, want)
	}
	// Outside systemd the default is in the working directory; the message
	// says where the service keeps it. A removed working directory stands
	// for one the user cannot write (root writes any).
	gone := filepath.Join(dir, "gone")
	if err := os.Mkdir(gone, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(gone)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	_, err = Parse(strings.NewReader(target), "d.toml", DaemonOptions(func(string) string { return "" }))
	want = "d.toml: database: database pinwatchd.db (the default outside systemd, which uses $STATE_DIRECTORY/pinwatchd.db): cannot create files in directory . ("
	if got := errString(err); !strings.HasPrefix(got, want) {
		t.Errorf("default outside systemd, in a removed working directory:\n%s\nwant it to start with\n%s", got, want)
	}
}

// TestDatabaseCheckUnwritable: a directory the process cannot create files
// in is a problem naming it. As root (CI) a mode-0500 directory is writable,
// so the test uses /sys, where nobody creates files.
func TestDatabaseCheckUnwritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		dir = "/sys"
	}
	msg := databaseProblem(filepath.Join(dir, "pw.db"), "pw.db")
	if want := "database pw.db: cannot create files in directory " + dir + " ("; !strings.HasPrefix(msg, want) || !strings.Contains(msg, "permission denied") {
		t.Errorf("got %q, want it to start with %q and say permission denied", msg, want)
	}
}

// TestNotifierCheck checks that Options.Notifier runs on a config with a
// Slack notifier whose [slack] table is otherwise fine, and that its error
// is a problem of [slack].
func TestNotifierCheck(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "hook")
	if err := os.WriteFile(hook, []byte("https://hooks.slack.com/services/T0/B0/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const target = "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"
	calls := 0
	o := Options{Notifier: func(c *Config) error {
		calls++
		if u, err := c.Slack.Webhook(); err != nil || u != "https://hooks.slack.com/services/T0/B0/x" {
			t.Errorf("the notifier check sees webhook %q, %v", u, err)
		}
		return errors.New("no route to Slack")
	}}
	_, err := Parse(strings.NewReader("[slack]\nwebhook_url_file = \""+hook+"\"\n"+target), "s.toml", o)
	if want := "s.toml:1: slack: the Slack notifier cannot be built: no route to Slack"; errString(err) != want || calls != 1 {
		t.Errorf("got %v after %d calls, want %q after 1", err, calls, want)
	}
	// Not called: log only, a [slack] problem already listed, secret files
	// not read.
	calls = 0
	for _, doc := range []string{target, "[slack]\nwebhook_url_file = \"" + filepath.Join(dir, "absent") + "\"\n" + target} {
		_, _ = Parse(strings.NewReader(doc), "s.toml", o)
	}
	o.SkipSecretFiles = true
	_, _ = Parse(strings.NewReader("[slack]\nwebhook_url_file = \""+hook+"\"\n"+target), "s.toml", o)
	if calls != 0 {
		t.Errorf("the notifier check ran %d times, want never", calls)
	}
}
