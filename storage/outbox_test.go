package storage

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

var _ pinwatchdtest.Outbox = (*DB)(nil)

// The outbox kept in a database file keeps the promises of notify.Outbox.
func TestOutboxContract(t *testing.T) {
	open := func(t *testing.T) (pinwatchdtest.Outbox, pinwatchdtest.Enqueue) {
		db, _ := openTest(t)
		return db, func(t *testing.T, ns ...pinwatchd.Notification) []pinwatchd.Notification {
			t.Helper()
			return enqueueForTest(t, db, ns)
		}
	}
	pinwatchdtest.OutboxContract(t, open)
}

// enqueueForTest stores ns the way the runner does, through SaveAlerts with
// the new alerts they are about, and returns them with the IDs the outbox
// and the alerts got.
func enqueueForTest(t *testing.T, db *DB, ns []pinwatchd.Notification) []pinwatchd.Notification {
	t.Helper()
	var alerts []pinwatchd.Alert
	for _, n := range ns {
		if a := n.Alert; a != nil && a.ID == 0 && !slices.ContainsFunc(alerts, func(b pinwatchd.Alert) bool { return b.Key() == a.Key() }) {
			alerts = append(alerts, *a)
		}
	}
	if err := db.SaveAlerts(t.Context(), alerts, ns); err != nil {
		t.Fatalf("SaveAlerts: %v", err)
	}
	// The rows just added have the largest IDs (one writer).
	rows, err := db.read.QueryContext(t.Context(), `SELECT id, alert_id FROM outbox ORDER BY id DESC LIMIT ?`, len(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := slices.Clone(ns)
	for i := len(out) - 1; rows.Next(); i-- {
		var alertID sql.NullInt64
		if err := rows.Scan(&out[i].ID, &alertID); err != nil {
			t.Fatal(err)
		}
		if out[i].Alert != nil {
			a := *out[i].Alert
			a.ID = alertID.Int64
			out[i].Alert = &a
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
