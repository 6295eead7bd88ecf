package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// waitRounds waits until the daemon has probed target at least twice after
// now, as `certs` shows it.
func waitRounds(t *testing.T, db, target string) {
	t.Helper()
	after := time.Now().Add(2 * time.Second).Truncate(time.Second)
	waitFor(t, "two more rounds of "+target, func() bool {
		return !lastSeen(t, db, target).Before(after)
	})
}

// A key rotation that `check --record` sees first is announced by the
// daemon started afterwards, once, and not again after a restart (SPEC §6).
func TestDaemonAnnouncesRecordedRotation(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	api := f.serve(t, hstsHeaders)
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		f.target(t, "api", api),
	}}.write(t, cfg)

	if stdout, stderr, code := cliRun(t, "check", "--record", "--config", cfg); code != exitOK {
		t.Fatalf("first check --record: exit %d: %s\n%s", code, stderr, stdout)
	}
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	api.SetCertificate(testpki.Chain(rotated, f.pki.Intermediate))
	oldPin, newPin := f.pki.Leaf.Pin().String(), rotated.Pin().String()
	stdout, stderr, code := cliRun(t, "check", "--record", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "api  "+api.Addr+"  chain_changed (key_rotated)") ||
		!strings.Contains(stdout, oldPin+" -> "+newPin) {
		t.Fatalf("check --record after the rotation: exit %d, want 0 and the rotation printed:\n%s\n%s", code, stdout, stderr)
	}
	if _, ok := findEvent(queryHistory(t, db), "api", "chain_changed", nil); !ok {
		t.Fatal("history lacks the rotation check --record recorded")
	}
	if n := len(slack.Requests()); n != 0 {
		t.Fatalf("Slack got %d requests before any daemon ran", n)
	}

	d := startDaemon(t, cfg)
	waitFor(t, "the daemon to announce the recorded rotation", func() bool {
		return slack.Count("chain_changed", "api", "chain_changed") >= 1
	})
	waitRounds(t, db, "api")
	d.stop(t)
	if n := slack.Count("chain_changed", "api", "chain_changed"); n != 1 {
		t.Errorf("the rotation was announced %d times, want once", n)
	}
	for _, e := range slack.Delivered() {
		if e.Change == "chain_changed" && (e.Class != "key_rotated" || !strings.Contains(e.Text, oldPin) || !strings.Contains(e.Text, newPin)) {
			t.Errorf("announcement lacks class key_rotated or the old and new pins: %s", e.Text)
		}
	}

	// A restart on the same database announces nothing again.
	d2 := startDaemon(t, cfg)
	waitRounds(t, db, "api")
	if as := queryAlerts(t, db, false); as.NotificationsPending != 0 {
		t.Errorf("notifications_pending = %d after the restart, want 0", as.NotificationsPending)
	}
	d2.stop(t)
	if n := len(slack.Delivered()); n != 1 {
		t.Errorf("Slack got %d messages across two daemon runs, want only the rotation: %+v", n, slack.Delivered())
	}
	changes := 0
	for _, e := range queryHistory(t, db) {
		if e.Event == "chain_changed" {
			changes++
		}
	}
	if changes != 1 {
		t.Errorf("history holds %d chain changes, want the one check --record saw", changes)
	}
	slack.CheckPaths(t)
}
