package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

var outboxChecks = []check{
	{"OutboxContract", checkOutboxContract},
	{"OutboxLifecycle", checkOutboxLifecycle},
	{"OutboxCounts", checkOutboxCounts},
}

// The outbox keeps the promises of notify.Outbox.
func checkOutboxContract(t *testing.T, newDB Factory) {
	pinwatchdtest.OutboxContract(t, func(t *testing.T) (pinwatchdtest.Outbox, pinwatchdtest.Enqueue) {
		db := newDB(t)
		return db.Store, func(t *testing.T, ns ...pinwatchd.Notification) []pinwatchd.Notification {
			t.Helper()
			return enqueueForTest(t, db, ns)
		}
	})
}

// enqueueForTest stores ns the way the runner does, through SaveAlerts with
// the new alerts they are about, and returns them with the IDs the outbox
// and the alerts got.
func enqueueForTest(t *testing.T, db Database, ns []pinwatchd.Notification) []pinwatchd.Notification {
	t.Helper()
	var alerts []pinwatchd.Alert
	for _, n := range ns {
		if a := n.Alert; a != nil && a.ID == 0 && !slices.ContainsFunc(alerts, func(b pinwatchd.Alert) bool { return b.Key() == a.Key() }) {
			alerts = append(alerts, *a)
		}
	}
	if err := db.Store.SaveAlerts(t.Context(), alerts, ns); err != nil {
		t.Fatalf("SaveAlerts: %v", err)
	}
	// The rows just added have the largest IDs (one writer).
	rows := db.Ints(t, fmt.Sprintf(`SELECT id, coalesce(alert_id, 0) FROM outbox ORDER BY id DESC LIMIT %d`, len(ns)))
	out := slices.Clone(ns)
	for i, r := range rows {
		j := len(out) - 1 - i
		out[j].ID = r[0]
		if out[j].Alert != nil {
			a := *out[j].Alert
			a.ID = r[1]
			out[j].Alert = &a
		}
	}
	return out
}

func checkOutboxLifecycle(t *testing.T, newDB Factory) {
	db := newDB(t)
	s := db.Store
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindCertExpiring, "abc")
	b := newAlert("www", pinwatchd.KindTimeout, "10.0.0.9:443", "10.0.0.9:443")
	notes := []pinwatchd.Notification{
		{Type: pinwatchd.ChangeOpened, Alert: &a, CreatedAt: t0},
		{Type: pinwatchd.ChangeOpened, Alert: &b, CreatedAt: t0},
		{Type: pinwatchd.ChangeChainChanged, Event: &pinwatchd.Event{Target: "api", Address: "10.0.0.1:443", Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeKeyRotated}, CreatedAt: t0.Add(time.Second)},
	}
	if err := s.SaveAlerts(ctx, []pinwatchd.Alert{a, b}, notes); err != nil {
		t.Fatal(err)
	}
	pending, _ := s.Pending(ctx, t0.Add(time.Minute), 10)
	if len(pending) != 3 || pending[0].Alert.Target != "api" || pending[1].Alert.Target != "www" || pending[2].Event == nil {
		t.Fatalf("pending = %+v, want api, www, then the event", pending)
	}
	if n, _, _ := s.PendingCount(ctx); n != 3 {
		t.Errorf("PendingCount = %d, want 3", n)
	}
	// A failed attempt moves the notification later and records why.
	if err := s.Retry(ctx, pending[1].ID, t0.Add(10*time.Minute), "slack answered 503"); err != nil {
		t.Fatal(err)
	}
	due, _ := s.Pending(ctx, t0.Add(time.Minute), 10)
	if len(due) != 2 {
		t.Errorf("after Retry, %d due, want 2", len(due))
	}
	later, _ := s.Pending(ctx, t0.Add(10*time.Minute), 10)
	if len(later) != 3 || later[1].Attempts != 1 || later[1].LastError != "slack answered 503" {
		t.Errorf("retried notification = %+v", later[1])
	}
	if _, maxAttempts, _ := s.PendingCount(ctx); maxAttempts != 1 {
		t.Errorf("max attempts = %d, want 1", maxAttempts)
	}
	// The opener's thread is reported on the alert's later notifications.
	if err := s.SetThread(ctx, pending[0].Alert.ID, "C123", "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	later, _ = s.Pending(ctx, t0.Add(10*time.Minute), 10)
	if later[0].Alert.Channel != "C123" || later[0].Alert.ThreadTS != "1700000000.000100" {
		t.Errorf("thread not reported: %+v", later[0].Alert)
	}
	// Delivered is idempotent and removes only the given notifications.
	if err := s.Delivered(ctx, later[0].ID, later[2].ID, 999); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(ctx, later[0].ID); err != nil {
		t.Fatalf("second Delivered: %v", err)
	}
	left, _ := s.Pending(ctx, t0.Add(time.Hour), 10)
	if len(left) != 1 || left[0].Alert.Target != "www" {
		t.Errorf("left in outbox = %+v, want only www", left)
	}
}

// PendingCount leaves parked notifications out; Undeliverable counts them,
// names their alerts and the latest refusal.
func checkOutboxCounts(t *testing.T, newDB Factory) {
	db := newDB(t)
	s := db.Store
	ctx := t.Context()
	alert := func(target string) *pinwatchd.Alert {
		return &pinwatchd.Alert{Target: target, Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning,
			Subject: "inline", State: pinwatchd.AlertOpen, OpenedAt: t0}
	}
	in := enqueueForTest(t, db, []pinwatchd.Notification{
		{Type: pinwatchd.ChangeOpened, Alert: alert("a"), CreatedAt: t0},
		{Type: pinwatchd.ChangeOpened, Alert: alert("b"), CreatedAt: t0},
		{Type: pinwatchd.ChangeOpened, Alert: alert("c"), CreatedAt: t0, Channel: "#gone"},
		{Type: pinwatchd.ChangeChainChanged, Event: &pinwatchd.Event{Target: "d", Event: pinwatchd.EventChainChanged}, CreatedAt: t0, Channel: "#gone"},
	})
	if u, err := s.Undeliverable(ctx); err != nil || u.Count != 0 || u.Alerts != nil || u.LastError != "" {
		t.Fatalf("Undeliverable with none parked = %+v, %v", u, err)
	}
	if err := s.Retry(ctx, in[0].ID, t0.Add(time.Minute), "slack answered 503"); err != nil {
		t.Fatal(err)
	}
	if err := s.Park(ctx, in[2].ID, t0, "post to slack channel #gone: is_archived"); err != nil {
		t.Fatal(err)
	}
	if err := s.Park(ctx, in[3].ID, t0.Add(time.Second), "post to slack channel #gone: channel_not_found"); err != nil {
		t.Fatal(err)
	}
	if n, maxAttempts, err := s.PendingCount(ctx); err != nil || n != 2 || maxAttempts != 1 {
		t.Errorf("PendingCount = %d, %d, %v; want 2 waiting (parked ones left out), up to 1 attempt", n, maxAttempts, err)
	}
	u, err := s.Undeliverable(ctx)
	if err != nil || u.Count != 2 || !slices.Equal(u.Alerts, []int64{in[2].Alert.ID}) || u.LastError != "post to slack channel #gone: channel_not_found" {
		t.Errorf("Undeliverable = %+v, %v; want 2, alert %d, the latest refusal", u, err, in[2].Alert.ID)
	}
	if n, err := s.Requeue(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("Requeue = %d, %v; want 2", n, err)
	}
	if u, _ := s.Undeliverable(ctx); u.Count != 0 {
		t.Errorf("Undeliverable after Requeue = %+v", u)
	}
}
