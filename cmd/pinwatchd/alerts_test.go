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

// An alert shared by several nodes shows the vantages that see it, in the
// table and as (vantage, address) sites in the JSON; --vantage keeps the
// alerts one vantage sees.
func TestAlertsShowsVantages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := storage.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 18, 32, 3, 0, time.UTC)
	both := []pinwatchd.Site{{Vantage: "eu-west", Address: "192.0.2.10:443"}, {Vantage: "us-east", Address: "192.0.2.11:443"}}
	as := []pinwatchd.Alert{
		{Target: "api", Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical, Subject: "ios", State: pinwatchd.AlertOpen, OpenedAt: at,
			Sites: both, Addresses: pinwatchd.SiteAddresses(both)},
		{Target: "partner", Kind: pinwatchd.KindChainUntrusted, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen, OpenedAt: at,
			Sites: []pinwatchd.Site{{Vantage: "us-east"}}},
	}
	if err := db.SaveAlerts(t.Context(), as, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	stdout, stderr, code := runCmd(t, "", nil, "alerts", "--database", path)
	if code != exitOK {
		t.Fatalf("alerts exited %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "VANTAGES") || !strings.Contains(stdout, "eu-west,us-east") {
		t.Errorf("alerts does not show the vantages of the shared alert:\n%s", stdout)
	}
	stdout, stderr, code = runCmd(t, "", nil, "alerts", "--json", "--vantage", "eu-west", "--database", path)
	if code != exitOK {
		t.Fatalf("alerts --json --vantage exited %d: %s", code, stderr)
	}
	var doc struct {
		Alerts []struct {
			Target    string   `json:"target"`
			Addresses []string `json:"addresses"`
			Sites     []struct {
				Vantage string `json:"vantage"`
				Address string `json:"address"`
			} `json:"sites"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("alerts --json: %v\n%s", err, stdout)
	}
	if len(doc.Alerts) != 1 || doc.Alerts[0].Target != "api" || len(doc.Alerts[0].Sites) != 2 ||
		doc.Alerts[0].Sites[1].Vantage != "us-east" || doc.Alerts[0].Sites[1].Address != "192.0.2.11:443" || len(doc.Alerts[0].Addresses) != 2 {
		t.Errorf("alerts --json --vantage eu-west = %s; want the api alert only, with both sites and addresses", stdout)
	}
	stdout, _, _ = runCmd(t, "", nil, "alerts", "--vantage", "nowhere", "--database", path)
	if !strings.Contains(stdout, "no open alerts") {
		t.Errorf("alerts --vantage nowhere:\n%s", stdout)
	}
}
