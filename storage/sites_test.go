package storage

import (
	"slices"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The alerts of a database from before several nodes shared one keep
// their addresses, each a site of no vantage, for the next node to take
// over.
func TestMigrateSites(t *testing.T) {
	path, raw := openBefore(t, "_shared.sql")
	if _, err := raw.Exec(`INSERT INTO alerts (target, kind, subject, severity, addresses, state, message, resolve_reason, opened_at, channel, thread_ts)
VALUES ('api', 'pin_mismatch', 'ios', 'critical', '["10.0.0.1:443","10.0.0.2:443"]', 'open', 'm', '', 100, '', ''),
       ('api', 'pinset_expiring', 'ios', 'warning', '[]', 'open', 'm', '', 100, '', '')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
	open, err := db.OpenAlerts(t.Context(), "api")
	if err != nil || len(open) != 2 {
		t.Fatalf("OpenAlerts = %+v, %v", open, err)
	}
	want := []pinwatchd.Site{{Address: "10.0.0.1:443"}, {Address: "10.0.0.2:443"}}
	if !slices.Equal(open[0].Sites, want) || !slices.Equal(open[0].Addresses, []string{"10.0.0.1:443", "10.0.0.2:443"}) {
		t.Errorf("migrated alert: sites %v, addresses %v; want %v", open[0].Sites, open[0].Addresses, want)
	}
	if len(open[1].Sites) != 0 {
		t.Errorf("migrated alert without address: sites %v, want none", open[1].Sites)
	}
}
