package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// alertsFixture stores three open alerts: one announced, one whose
// notification waits after a failed attempt, and one whose notification
// Slack refused for good; it returns the database path.
func alertsFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := storage.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 23, 18, 32, 3, 0, time.UTC)
	as := []pinwatchd.Alert{
		{Target: "legacy", Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning, Subject: "inline", State: pinwatchd.AlertOpen, OpenedAt: at},
		{Target: "partner", Kind: pinwatchd.KindChainUntrusted, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen, OpenedAt: at},
		{Target: "api", Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical, Subject: "mobile-app", State: pinwatchd.AlertOpen, OpenedAt: at},
	}
	var ns []pinwatchd.Notification
	for i := range as {
		ns = append(ns, pinwatchd.Notification{Type: pinwatchd.ChangeOpened, Alert: &as[i], CreatedAt: at})
	}
	if err := db.SaveAlerts(t.Context(), as, ns); err != nil {
		t.Fatal(err)
	}
	pending, err := db.Pending(t.Context(), at, 10)
	if err != nil || len(pending) != 3 {
		t.Fatalf("Pending = %d, %v", len(pending), err)
	}
	for _, n := range pending {
		switch n.Alert.Target {
		case "legacy":
			err = db.Delivered(t.Context(), n.ID)
		case "partner":
			err = db.Park(t.Context(), n.ID, at, "post to slack channel #partners: \x1b[31mchannel_not_found")
		case "api":
			err = db.Retry(t.Context(), n.ID, at.Add(time.Minute), "slack answered 503")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestAlertsShowsUndeliverable(t *testing.T) {
	db := alertsFixture(t)
	stdout, stderr, code := runCmd(t, "", nil, "alerts", "--database", db)
	if code != exitOK {
		t.Fatalf("alerts exited %d: %s", code, stderr)
	}
	for _, want := range []string{
		"\n1 notification waiting in the outbox (up to 1 attempt failed so far; see the daemon's log)\n",
		"\n1 notification undeliverable: Slack refused it for good (post to slack channel #partners:  [31mchannel_not_found); kept, and tried again when pinwatchd starts or reloads\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("alerts lacks %q:\n%s", strings.TrimSpace(want), stdout)
		}
	}

	stdout, stderr, code = runCmd(t, "", nil, "alerts", "--json", "--database", db)
	if code != exitOK {
		t.Fatalf("alerts --json exited %d: %s", code, stderr)
	}
	var doc struct {
		Alerts []struct {
			Target        string `json:"target"`
			Undeliverable *bool  `json:"undeliverable"`
		} `json:"alerts"`
		Pending       *int `json:"notifications_pending"`
		Undeliverable *int `json:"notifications_undeliverable"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("alerts --json: %v\n%s", err, stdout)
	}
	if doc.Pending == nil || *doc.Pending != 1 || doc.Undeliverable == nil || *doc.Undeliverable != 1 || len(doc.Alerts) != 3 {
		t.Fatalf("alerts --json = %s; want 3 alerts, 1 pending, 1 undeliverable", stdout)
	}
	for _, a := range doc.Alerts {
		if a.Undeliverable == nil || *a.Undeliverable != (a.Target == "partner") {
			t.Errorf("alert of %s: undeliverable %v, want %v", a.Target, a.Undeliverable, a.Target == "partner")
		}
	}
}

// With nothing refused, the text says nothing about undeliverable
// notifications and the JSON counts none.
func TestAlertsWithoutUndeliverable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pinwatchd.db")
	s, err := storage.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	stdout, _, _ := runCmd(t, "", nil, "alerts", "--database", db)
	if strings.Contains(stdout, "undeliverable") || strings.Contains(stdout, "outbox") {
		t.Errorf("alerts on an empty database:\n%s", stdout)
	}
	stdout, _, _ = runCmd(t, "", nil, "alerts", "--json", "--database", db)
	if !strings.Contains(stdout, `"notifications_undeliverable": 0`) || !strings.Contains(stdout, `"notifications_pending": 0`) {
		t.Errorf("alerts --json on an empty database:\n%s", stdout)
	}
}
