package storage

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

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

// A database of the schema before the outbox migration keeps its queued
// notifications, their IDs and attempts; a next attempt that an unbounded
// Retry-After put years away comes back to at most 15 minutes from now; and
// the IDs of the rebuilt table are never reused.
func TestMigrateOutbox(t *testing.T) {
	path, raw := openBefore(t, "_outbox.sql")
	payload := func(target string) string {
		return `{"Type":"opened","Alert":{"Target":"` + target + `","Kind":"pin_mismatch","Severity":"critical","Subject":"inline","State":"open"},"CreatedAt":"2026-03-01T12:00:00Z"}`
	}
	threeYears := time.Now().AddDate(3, 0, 0).Unix()
	for _, r := range []struct {
		id       int64
		target   string
		attempts int
		next     int64
	}{{4, "a", 0, t0.Unix()}, {7, "b", 2, t0.Unix()}, {9, "c", 1, threeYears}} {
		if _, err := raw.ExecContext(t.Context(), `INSERT INTO outbox (id, created_at, channel, alert_id, payload, attempts, next_attempt, last_error)
VALUES (?, ?, '', NULL, ?, ?, ?, 'earlier failure')`, r.id, t0.Unix(), payload(r.target), r.attempts, r.next); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	before := time.Now()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open migrates: %v", err)
	}
	defer db.Close()
	got, err := db.Pending(t.Context(), before.Add(15*time.Minute+time.Second), 500)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, n := range got {
		ids = append(ids, n.ID)
	}
	if !slices.Equal(ids, []int64{4, 7, 9}) {
		t.Fatalf("after the migration Pending returned notifications %v, want 4, 7 and 9", ids)
	}
	if got[1].Attempts != 2 || got[1].LastError != "earlier failure" || got[1].Alert.Target != "b" {
		t.Errorf("notification 7 came back as %+v", got[1])
	}
	if next := got[2].NextAttempt; next.After(time.Now().Add(15*time.Minute)) || next.Before(before.Add(15*time.Minute-time.Second)) {
		t.Errorf("a next attempt 3 years away became %s, want 15 minutes after the migration", next)
	}
	// The highest ID was 9: delivered, it is not given out again.
	if err := db.Delivered(t.Context(), 9); err != nil {
		t.Fatal(err)
	}
	fresh := enqueueForTest(t, db, []pinwatchd.Notification{{Type: pinwatchd.ChangeChainChanged, CreatedAt: t0,
		Event: &pinwatchd.Event{Target: "api", Event: pinwatchd.EventChainChanged}}})
	if fresh[0].ID <= 9 {
		t.Errorf("a notification enqueued after the migration got ID %d, want above 9", fresh[0].ID)
	}
}
