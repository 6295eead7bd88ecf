package storage

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// openAtVersion creates a database migrated up to version v only, as an
// older pinwatchd left it, and returns its path and a raw handle.
func openAtVersion(t *testing.T, v int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	uri, err := fileURI(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", uri+"?"+writePragmas)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:v] {
		if err := applyMigration(t.Context(), raw, m); err != nil {
			t.Fatalf("apply %s: %v", m.name, err)
		}
	}
	return path, raw
}

// openBefore is openAtVersion at the version before the migration whose
// file name ends with suffix ("_outbox.sql").
func openBefore(t *testing.T, suffix string) (string, *sql.DB) {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, suffix) })
	if i < 0 {
		t.Fatalf("no %s migration", suffix)
	}
	return openAtVersion(t, i)
}

// Migration 0008 rebuilds the addresses table under its ids: the spans
// and events of a database from before vantage points keep their history
// (the empty vantage), foreign keys are enforced again afterwards, and the first
// vantage to record continues the spans rather than starting again.
func TestMigrateVantageKeepsHistory(t *testing.T) {
	path, raw := openAtVersion(t, 7)
	seen := t0.Unix()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO addresses (id, target, address) VALUES (7, 'api', '10.0.0.1:443')`, nil},
		{`INSERT INTO spans (address_id, first_seen, last_seen, probe_count, sni, tls_version, trusted, untrusted_reason,
		                    hostname_valid, hostname_error, error_kind, error_message)
		 VALUES (7, ?, ?, 5, 'localhost', '', 0, '', 0, '', 'connect_failed', 'refused')`, []any{seen, seen}},
		{`INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin, old_leaf_sha256, new_leaf_sha256,
		                     issuer, error_kind, error_message)
		 VALUES (?, 7, 'probe_failed', '', '', '', '', '', '', 'connect_failed', 'refused')`, []any{seen}},
	} {
		if _, err := raw.ExecContext(t.Context(), st.q, st.args...); err != nil {
			t.Fatalf("%s: %v", st.q, err)
		}
	}
	raw.Close()

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open migrates from version 7: %v", err)
	}
	defer db.Close()
	evs, err := db.History(t.Context(), "api", time.Time{})
	if err != nil || len(evs) != 1 || evs[0].Event != pinwatchd.EventProbeFailed || evs[0].Address != "10.0.0.1:443" || evs[0].Vantage != "" {
		t.Fatalf("History after the migration = %+v, %v; want the probe_failed from before, of vantage ''", evs, err)
	}
	var fk int
	if err := db.write.QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys after migrating = %d, %v; want 1", fk, err)
	}
	if _, err := db.write.ExecContext(t.Context(), `INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin,
		old_leaf_sha256, new_leaf_sha256, issuer, error_kind, error_message) VALUES (0, 999, 'first_seen', '', '', '', '', '', '', '', '')`); err == nil {
		t.Error("an event naming no address was stored: foreign keys are not enforced after the migration")
	}

	// The daemon of vantage eu, still failing, extends the span from before.
	o := failObs("api", "10.0.0.1:443", t0.Add(time.Hour), pinwatchd.KindConnectFailed, "refused")
	o.Vantage = "eu"
	if evs := record(t, db, o); len(evs) != 0 {
		t.Errorf("the first probe from eu recorded %+v, want nothing: the address is not new", evs)
	}
	if counts, err := db.FailureCounts(t.Context(), "api", "eu"); err != nil || counts["10.0.0.1:443"] != 6 {
		t.Errorf("FailureCounts at eu = %v, %v; want 6 failures in a row (5 from before, 1 now)", counts, err)
	}
}
