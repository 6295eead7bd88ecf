package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pgtest"
)

// pinwatchd on PostgreSQL (SPEC §14), as processes: config check connects,
// run records and alerts, check --record adds to the same database, and
// the queries read it through the config (with its password file) or
// --database; the password appears in no output.
func TestPostgresEndToEnd(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	c := pgtest.Shared(t)
	role, pw := c.CreateRole(t)
	dbName := c.CreateDatabase(t, role)
	url := c.TCPURL(role, dbName)
	admin := c.SocketURL(pgtest.SuperUser, dbName) // the same database, for --database

	f := newFleet(t)
	srv := f.serve(t, hstsHeaders)
	writeFile(t, filepath.Join(f.dir, "db-password"), pw+"\n")
	writeFile(t, filepath.Join(f.dir, "wrong-password"), "not-"+pw+"\n")
	cfgPath := filepath.Join(f.dir, "config.toml")
	writeConfig := func(passwordFile string) {
		cfg := config.Default()
		cfg.Database, cfg.DatabasePasswordFile = url, passwordFile
		cfg.Schedule = mustSchedule(t, "@every 1s")
		cfg.Timeout = config.Duration{Duration: 2 * time.Second}
		cfg.Alerts.FailureThreshold = 1
		cfg.TargetConfigs = []config.TargetConfig{f.target(t, "legacy", srv, withPins(f.pki.Leaf.Pin()))}
		var b bytes.Buffer
		if err := config.Encode(&b, cfg); err != nil {
			t.Fatal(err)
		}
		writeFile(t, cfgPath, b.String())
	}
	noPassword := func(what, out string) {
		t.Helper()
		if strings.Contains(out, pw) {
			t.Errorf("%s shows the database password:\n%s", what, out)
		}
	}

	// config check logs in; with a wrong password it names the database key.
	writeConfig("wrong-password")
	stdout, stderr, code := cliRun(t, "config", "check", "--config", cfgPath)
	if code != exitError || !strings.Contains(stderr, "database: open database "+url+": ") || !strings.Contains(stderr, "password authentication failed") {
		t.Errorf("config check with a wrong password: exit %d\n%s%s\nwant exit 3 and a database problem naming %s", code, stdout, stderr, url)
	}
	noPassword("config check", stdout+stderr)
	writeConfig("db-password")
	if stdout, stderr, code := cliRun(t, "config", "check", "--config", cfgPath); code != exitOK || !strings.HasPrefix(stdout, "ok: ") {
		t.Fatalf("config check: exit %d\n%s%s", code, stdout, stderr)
	}

	d := startDaemon(t, cfgPath)
	if !strings.Contains(d.output.String(), `database="`+url+`"`) {
		t.Errorf("the start-up line does not name the database %s:\n%s", url, d.output.String())
	}
	waitFor(t, "a missing_backup_pin alert on legacy", func() bool {
		return openAlert(queryAlerts(t, admin, false), "legacy", "missing_backup_pin")
	})
	// The queries find the database, and its password, through the config.
	stdout, stderr, code = cliRun(t, "alerts", "--json", "--config", cfgPath)
	var doc e2eAlerts
	if code != exitOK || json.Unmarshal([]byte(stdout), &doc) != nil || !openAlert(doc, "legacy", "missing_backup_pin") {
		t.Errorf("alerts --config: exit %d\n%s%s\nwant the open missing_backup_pin", code, stdout, stderr)
	}
	d.stop(t)
	noPassword("the daemon's log", d.output.String())

	// check --record writes to the same database while nothing else runs.
	if stdout, stderr, code := cliRun(t, "check", "--record", "--config", cfgPath); code != 1 {
		t.Errorf("check --record: exit %d, want 1 (a warning)\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = cliRun(t, "history", "--config", cfgPath)
	if code != exitOK || !strings.Contains(stdout, "first_seen") || !strings.Contains(stdout, srv.Addr) {
		t.Errorf("history --config: exit %d\n%s%s\nwant the first_seen of %s", code, stdout, stderr, srv.Addr)
	}
	noPassword("history", stdout+stderr)
	stdout, stderr, code = cliRun(t, "certs", "--json", "--config", cfgPath)
	if code != exitOK || !strings.Contains(stdout, `"leaf_pin": "`+f.pki.Leaf.Pin().String()+`"`) {
		t.Errorf("certs --config: exit %d\n%s%s\nwant the leaf's pin", code, stdout, stderr)
	}
	// Without the password (--database names the URL, no PGPASSFILE), the
	// query fails saying where the password goes, and shows none.
	_, stderr, code = cliRun(t, "history", "--database", url)
	if code != exitError || !strings.Contains(stderr, "no password was given: set database_password_file or PGPASSFILE") {
		t.Errorf("history --database %s without a password: exit %d\n%s", url, code, stderr)
	}
}
