package storage

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

func newAlert(target string, kind pinwatchd.Kind, subject string, addrs ...string) pinwatchd.Alert {
	return pinwatchd.Alert{Target: target, Kind: kind, Subject: subject, Severity: pinwatchd.SeverityCritical,
		Addresses: addrs, State: pinwatchd.AlertOpen, Message: "pin-set \"ios\" has no pin matching", OpenedAt: t0, LastNotifiedAt: t0}
}

func TestSaveAlertsWithNotifications(t *testing.T) {
	db, path := openTest(t)
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.2:443", "10.0.0.1:443")
	note := pinwatchd.Notification{Type: pinwatchd.ChangeOpened, Alert: &a, Channel: "#api", CreatedAt: t0}
	if err := db.SaveAlerts(ctx, []pinwatchd.Alert{a}, []pinwatchd.Notification{note}); err != nil {
		t.Fatal(err)
	}
	open, err := db.OpenAlerts(ctx, "api")
	if err != nil || len(open) != 1 {
		t.Fatalf("OpenAlerts = %v, %v; want one", open, err)
	}
	got := open[0]
	if got.ID == 0 || got.Kind != pinwatchd.KindPinMismatch || got.Subject != "ios" || got.Severity != pinwatchd.SeverityCritical ||
		!slices.Equal(got.Addresses, a.Addresses) || !got.OpenedAt.Equal(t0) || !got.LastNotifiedAt.Equal(t0) || !got.ResolvedAt.IsZero() {
		t.Errorf("stored alert = %+v", got)
	}
	pending, err := db.Pending(ctx, t0, 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("Pending = %v, %v; want one", pending, err)
	}
	if pending[0].Alert == nil || pending[0].Alert.ID != got.ID || pending[0].Channel != "#api" || pending[0].Type != pinwatchd.ChangeOpened {
		t.Errorf("pending notification = %+v, want it to name alert %d", pending[0], got.ID)
	}
	if early, _ := db.Pending(ctx, t0.Add(-time.Second), 10); len(early) != 0 {
		t.Errorf("a notification created at t0 is due before t0: %v", early)
	}

	// Resolving updates the same row; the alert leaves the open set.
	got.State, got.ResolvedAt, got.ResolveReason = pinwatchd.AlertResolved, t0.Add(time.Hour), "pins match again"
	if err := db.SaveAlerts(ctx, []pinwatchd.Alert{got}, nil); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.OpenAlerts(ctx, "api"); len(open) != 0 {
		t.Errorf("open alerts after resolve = %v", open)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	all, err := ro.Alerts(ctx, true)
	if err != nil || len(all) != 1 || all[0].State != pinwatchd.AlertResolved || all[0].ResolveReason != "pins match again" {
		t.Errorf("Alerts(all) = %+v, %v", all, err)
	}
	if open, _ := ro.Alerts(ctx, false); len(open) != 0 {
		t.Errorf("Alerts(open) = %+v, want none", open)
	}
	// A new alert of the same identity can open once the old one resolved.
	again := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.1:443")
	if err := db.SaveAlerts(ctx, []pinwatchd.Alert{again}, nil); err != nil {
		t.Fatalf("reopen after resolve: %v", err)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	db, _ := openTest(t)
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindCertExpiring, "abc")
	b := newAlert("www", pinwatchd.KindTimeout, "10.0.0.9:443", "10.0.0.9:443")
	notes := []pinwatchd.Notification{
		{Type: pinwatchd.ChangeOpened, Alert: &a, CreatedAt: t0},
		{Type: pinwatchd.ChangeOpened, Alert: &b, CreatedAt: t0},
		{Type: pinwatchd.ChangeChainChanged, Event: &pinwatchd.Event{Target: "api", Address: "10.0.0.1:443", Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeKeyRotated}, CreatedAt: t0.Add(time.Second)},
	}
	if err := db.SaveAlerts(ctx, []pinwatchd.Alert{a, b}, notes); err != nil {
		t.Fatal(err)
	}
	pending, _ := db.Pending(ctx, t0.Add(time.Minute), 10)
	if len(pending) != 3 || pending[0].Alert.Target != "api" || pending[1].Alert.Target != "www" || pending[2].Event == nil {
		t.Fatalf("pending = %+v, want api, www, then the event", pending)
	}
	if n, _, _ := db.PendingCount(ctx); n != 3 {
		t.Errorf("PendingCount = %d, want 3", n)
	}
	// A failed attempt moves the notification later and records why.
	if err := db.Retry(ctx, pending[1].ID, t0.Add(10*time.Minute), "slack answered 503"); err != nil {
		t.Fatal(err)
	}
	due, _ := db.Pending(ctx, t0.Add(time.Minute), 10)
	if len(due) != 2 {
		t.Errorf("after Retry, %d due, want 2", len(due))
	}
	later, _ := db.Pending(ctx, t0.Add(10*time.Minute), 10)
	if len(later) != 3 || later[1].Attempts != 1 || later[1].LastError != "slack answered 503" {
		t.Errorf("retried notification = %+v", later[1])
	}
	if _, maxAttempts, _ := db.PendingCount(ctx); maxAttempts != 1 {
		t.Errorf("max attempts = %d, want 1", maxAttempts)
	}
	// The opener's thread is reported on the alert's later notifications.
	if err := db.SetThread(ctx, pending[0].Alert.ID, "C123", "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	later, _ = db.Pending(ctx, t0.Add(10*time.Minute), 10)
	if later[0].Alert.Channel != "C123" || later[0].Alert.ThreadTS != "1700000000.000100" {
		t.Errorf("thread not reported: %+v", later[0].Alert)
	}
	// Delivered is idempotent and removes only the given notifications.
	if err := db.Delivered(ctx, later[0].ID, later[2].ID, 999); err != nil {
		t.Fatal(err)
	}
	if err := db.Delivered(ctx, later[0].ID); err != nil {
		t.Fatalf("second Delivered: %v", err)
	}
	left, _ := db.Pending(ctx, t0.Add(time.Hour), 10)
	if len(left) != 1 || left[0].Alert.Target != "www" {
		t.Errorf("left in outbox = %+v, want only www", left)
	}
}

func TestFailureCounts(t *testing.T) {
	db, _ := openTest(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	record(t, db, okObs("api", "10.0.0.1:443", at(0), c), okObs("api", "10.0.0.2:443", at(0), c))
	record(t, db, failObs("api", "10.0.0.1:443", at(1), pinwatchd.KindTimeout, "slow"), okObs("api", "10.0.0.2:443", at(1), c))
	record(t, db, failObs("api", "10.0.0.1:443", at(2), pinwatchd.KindTimeout, "slow"))
	record(t, db, failObs("api", "10.0.0.1:443", at(3), pinwatchd.KindConnectFailed, "refused"))
	counts, err := db.FailureCounts(t.Context(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts["10.0.0.1:443"] != 3 {
		t.Errorf("FailureCounts = %v, want 10.0.0.1:443 failing 3 times in a row", counts)
	}
	record(t, db, okObs("api", "10.0.0.1:443", at(4), c))
	if counts, _ := db.FailureCounts(t.Context(), "api"); len(counts) != 0 {
		t.Errorf("after a success, FailureCounts = %v, want none", counts)
	}
}

func TestPruneResolvedAlerts(t *testing.T) {
	db, _ := openTest(t)
	ctx := t.Context()
	old := newAlert("api", pinwatchd.KindPinMismatch, "ios")
	old.State, old.ResolvedAt = pinwatchd.AlertResolved, t0
	waiting := newAlert("api", pinwatchd.KindCertExpired, "abc")
	waiting.State, waiting.ResolvedAt = pinwatchd.AlertResolved, t0
	open := newAlert("api", pinwatchd.KindChainUntrusted, "")
	if err := db.SaveAlerts(ctx, []pinwatchd.Alert{old, waiting, open},
		[]pinwatchd.Notification{{Type: pinwatchd.ChangeResolved, Alert: &waiting, CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	st, err := db.Prune(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Alerts != 1 {
		t.Errorf("pruned %d alerts, want 1 (the resolved one no notification waits for)", st.Alerts)
	}
	all, _ := db.Alerts(ctx, true)
	var kinds []pinwatchd.Kind
	for _, a := range all {
		kinds = append(kinds, a.Kind)
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []pinwatchd.Kind{pinwatchd.KindCertExpired, pinwatchd.KindChainUntrusted}) {
		t.Errorf("alerts left = %v", kinds)
	}
}
