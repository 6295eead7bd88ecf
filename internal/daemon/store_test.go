package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgDatabase creates a PostgreSQL database owned by a new role that logs
// in over TCP with a password, and returns the URL the daemon is given (no
// password in it), the password file, and the superuser's URL of the same
// database for the test's own reads.
func pgDatabase(t *testing.T) (url, passwordFile, admin, password string) {
	t.Helper()
	c := pgtest.Shared(t)
	role, pw := c.CreateRole(t)
	db := c.CreateDatabase(t, role)
	passwordFile = filepath.Join(t.TempDir(), "db-password")
	if err := os.WriteFile(passwordFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c.TCPURL(role, db), passwordFile, c.SocketURL(pgtest.SuperUser, db), pw
}

// The daemon runs on a PostgreSQL database named by the config, logging in
// with the password of database_password_file: it migrates the database,
// records, opens alerts, and never logs the password.
func TestRunOnPostgres(t *testing.T) {
	url, pwFile, admin, pw := pgDatabase(t)
	e := newEndpoint(t)
	cfg := newConfig(t, t.TempDir(), e.target(t, "legacy", e.pki.Leaf.Pin()))
	cfg.Database, cfg.DatabasePasswordFile = url, pwFile
	var logs logBuffer
	r := start(t, cfg, Options{Log: logs.logger(), Version: "test"})
	if got := r.d.DatabasePath(); got != url {
		t.Errorf("DatabasePath = %q, want %q", got, url)
	}
	waitFor(t, "the start-up line naming the database", func() bool {
		return len(logs.find(t, map[string]string{"msg": "pinwatchd started", "database": url})) == 1
	})
	a := waitForOpenAlert(t, admin, "legacy", pinwatchd.KindMissingBackupPin)
	if len(a.Addresses) != 1 || a.Addresses[0] != e.srv.Addr {
		t.Errorf("alert = %+v, want it at %s", a, e.srv.Addr)
	}
	if !hasEvent(history(t, admin, "legacy"), pinwatchd.EventFirstSeen) {
		t.Error("no first_seen in the history")
	}
	if !r.d.healthy(t.Context()) {
		t.Error("the daemon is not healthy: its database does not answer a ping")
	}
	r.stop(t)
	if strings.Contains(logs.String(), pw) {
		t.Errorf("the log holds the database password:\n%s", logs.String())
	}
}

// config check connects to a PostgreSQL database: a wrong password or a
// server that is not there is a problem of the database key, named without
// the password. Loading the config for run or a reload does not connect.
func TestCheckConfigPostgres(t *testing.T) {
	url, pwFile, _, pw := pgDatabase(t)
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong-password")
	if err := os.WriteFile(wrong, []byte("not-"+pw), 0o600); err != nil {
		t.Fatal(err)
	}
	const target = "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"
	write := func(database, passwordFile string) string {
		path := filepath.Join(dir, "config.toml")
		doc := "database = \"" + database + "\"\ndatabase_password_file = \"" + passwordFile + "\"\n" + target
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	noEnv := func(string) string { return "" }
	if _, err := CheckConfig(write(url, pwFile), noEnv); err != nil {
		t.Errorf("CheckConfig with the right password: %v", err)
	}
	_, err := CheckConfig(write(url, wrong), noEnv)
	if err == nil || !strings.Contains(err.Error(), "database: open database "+url+": ") ||
		!strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), pw) {
		t.Errorf("CheckConfig with a wrong password: %v, want a database problem naming the URL and no password", err)
	}
	if _, err := LoadConfig(write(url, wrong), noEnv); err != nil {
		t.Errorf("LoadConfig (run, reload) with a wrong password: %v, want no connection attempt", err)
	}
	gone := "postgres://nobody@" + freeAddr(t) + "/db" // nothing listens there
	if _, err := CheckConfig(write(gone, pwFile), noEnv); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("CheckConfig with no server: %v, want connection refused", err)
	}
}
