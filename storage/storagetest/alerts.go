package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var alertChecks = []check{
	{"SaveAlertsWithNotifications", checkSaveAlertsWithNotifications},
	{"SaveAlertsRefusesASecondOpenAlert", checkSecondOpenAlert},
	{"FailureCounts", checkFailureCounts},
}

func newAlert(target string, kind pinwatchd.Kind, subject string, addrs ...string) pinwatchd.Alert {
	return pinwatchd.Alert{Target: target, Kind: kind, Subject: subject, Severity: pinwatchd.SeverityCritical,
		Addresses: addrs, State: pinwatchd.AlertOpen, Message: "pin-set \"ios\" has no pin matching", OpenedAt: t0, LastNotifiedAt: t0}
}

func checkSaveAlertsWithNotifications(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.2:443", "10.0.0.1:443")
	note := pinwatchd.Notification{Type: pinwatchd.ChangeOpened, Alert: &a, Channel: "#api", CreatedAt: t0}
	if err := db.Store.SaveAlerts(ctx, []pinwatchd.Alert{a}, []pinwatchd.Notification{note}); err != nil {
		t.Fatal(err)
	}
	open, err := db.Store.OpenAlerts(ctx, "api")
	if err != nil || len(open) != 1 {
		t.Fatalf("OpenAlerts = %v, %v; want one", open, err)
	}
	got := open[0]
	if got.ID == 0 || got.Kind != pinwatchd.KindPinMismatch || got.Subject != "ios" || got.Severity != pinwatchd.SeverityCritical ||
		!slices.Equal(got.Addresses, a.Addresses) || !got.OpenedAt.Equal(t0) || !got.LastNotifiedAt.Equal(t0) || !got.ResolvedAt.IsZero() {
		t.Errorf("stored alert = %+v", got)
	}
	pending, err := db.Store.Pending(ctx, t0, 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("Pending = %v, %v; want one", pending, err)
	}
	if pending[0].Alert == nil || pending[0].Alert.ID != got.ID || pending[0].Channel != "#api" || pending[0].Type != pinwatchd.ChangeOpened {
		t.Errorf("pending notification = %+v, want it to name alert %d", pending[0], got.ID)
	}
	if early, _ := db.Store.Pending(ctx, t0.Add(-time.Second), 10); len(early) != 0 {
		t.Errorf("a notification created at t0 is due before t0: %v", early)
	}

	// Resolving updates the same row; the alert leaves the open set.
	got.State, got.ResolvedAt, got.ResolveReason = pinwatchd.AlertResolved, t0.Add(time.Hour), "pins match again"
	if err := db.Store.SaveAlerts(ctx, []pinwatchd.Alert{got}, nil); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.Store.OpenAlerts(ctx, "api"); len(open) != 0 {
		t.Errorf("open alerts after resolve = %v", open)
	}
	ro := openReadOnly(t, db)
	all, err := ro.Alerts(ctx, true)
	if err != nil || len(all) != 1 || all[0].State != pinwatchd.AlertResolved || all[0].ResolveReason != "pins match again" {
		t.Errorf("Alerts(all) = %+v, %v", all, err)
	}
	if open, _ := ro.Alerts(ctx, false); len(open) != 0 {
		t.Errorf("Alerts(open) = %+v, want none", open)
	}
	// A new alert of the same identity can open once the old one resolved.
	again := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.1:443")
	if err := db.Store.SaveAlerts(ctx, []pinwatchd.Alert{again}, nil); err != nil {
		t.Fatalf("reopen after resolve: %v", err)
	}
}

// At most one alert of a (target, kind, subject) is open: a second one is
// refused with its notification, and the first stays as it was.
func checkSecondOpenAlert(t *testing.T, newDB Factory) {
	db := newDB(t)
	ctx := t.Context()
	a := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.1:443")
	if err := db.Store.SaveAlerts(ctx, []pinwatchd.Alert{a}, nil); err != nil {
		t.Fatal(err)
	}
	dup := newAlert("api", pinwatchd.KindPinMismatch, "ios", "10.0.0.2:443")
	err := db.Store.SaveAlerts(ctx, []pinwatchd.Alert{dup}, []pinwatchd.Notification{{Type: pinwatchd.ChangeOpened, Alert: &dup, CreatedAt: t0}})
	if err == nil || !strings.Contains(err.Error(), `alert api/pin_mismatch "ios"`) {
		t.Fatalf("SaveAlerts of a second open alert: %v, want an error naming it", err)
	}
	if open, _ := db.Store.OpenAlerts(ctx, "api"); len(open) != 1 || !slices.Equal(open[0].Addresses, []string{"10.0.0.1:443"}) {
		t.Errorf("open alerts = %+v, want the first one only", open)
	}
	if n, _, _ := db.Store.PendingCount(ctx); n != 0 {
		t.Errorf("the refused alert's notification was enqueued (%d pending)", n)
	}
}

func checkFailureCounts(t *testing.T, newDB Factory) {
	db := newDB(t)
	p := testpki.New(t)
	c := pkiChain(p.Leaf, p.Intermediate, p.Root)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	record(t, db.Store, okObs("api", "10.0.0.1:443", at(0), c), okObs("api", "10.0.0.2:443", at(0), c))
	record(t, db.Store, failObs("api", "10.0.0.1:443", at(1), pinwatchd.KindTimeout, "slow"), okObs("api", "10.0.0.2:443", at(1), c))
	record(t, db.Store, failObs("api", "10.0.0.1:443", at(2), pinwatchd.KindTimeout, "slow"))
	record(t, db.Store, failObs("api", "10.0.0.1:443", at(3), pinwatchd.KindConnectFailed, "refused"))
	counts, err := db.Store.FailureCounts(t.Context(), "api", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts["10.0.0.1:443"] != 3 {
		t.Errorf("FailureCounts = %v, want 10.0.0.1:443 failing 3 times in a row", counts)
	}
	record(t, db.Store, okObs("api", "10.0.0.1:443", at(4), c))
	if counts, _ := db.Store.FailureCounts(t.Context(), "api", ""); len(counts) != 0 {
		t.Errorf("after a success, FailureCounts = %v, want none", counts)
	}

	// Each vantage counts its own probes of an address (SPEC §14).
	record(t, db.Store, fromVantage("eu", failObs("www", "10.0.0.3:443", at(5), pinwatchd.KindTimeout, "slow")),
		fromVantage("us", okObs("www", "10.0.0.3:443", at(5), c)))
	record(t, db.Store, fromVantage("eu", failObs("www", "10.0.0.3:443", at(6), pinwatchd.KindTimeout, "slow")))
	if counts, _ := db.Store.FailureCounts(t.Context(), "www", "eu"); len(counts) != 1 || counts["10.0.0.3:443"] != 2 {
		t.Errorf("FailureCounts at eu = %v, want 10.0.0.3:443 failing twice (its own probes)", counts)
	}
	if counts, _ := db.Store.FailureCounts(t.Context(), "www", "us"); len(counts) != 0 {
		t.Errorf("FailureCounts at us = %v, want none: the failures were eu's", counts)
	}
}
