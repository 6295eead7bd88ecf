package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// A fleet-wide event (every target's key rotated to an unpinned one in one
// round) reaches Slack as one digest naming every target, not as a message
// per change.
func TestDaemonDigestsAFleetWideEvent(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	srv := f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, f.pki.Spare)
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	const n = 12
	var targets []config.TargetConfig
	for i := range n {
		targets = append(targets, f.target(t, fmt.Sprintf("fleet-%02d", i), srv, withPins(f.pki.Leaf.Pin(), spare)))
	}
	// The default digest_window applies.
	window := config.Default().Alerts.DigestWindow.Duration
	e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), digestWindow: window, targets: targets}.write(t, cfg)
	d := startDaemon(t, cfg)
	waitFor(t, "the first round of every target in the history", func() bool {
		events := queryHistory(t, db)
		for _, tc := range targets {
			if _, ok := findEvent(events, tc.Name, "first_seen", nil); !ok {
				return false
			}
		}
		return true
	})
	if as := queryAlerts(t, db, false); len(as.Alerts) != 0 {
		t.Fatalf("alerts open before the rotation: %+v", as.Alerts)
	}

	// Every target serves the same address: one rotation turns them all
	// critical in their next round.
	srv.SetCertificate(testpki.Chain(f.pki.Intermediate.Leaf(t, testpki.Options{}), f.pki.Intermediate))
	waitFor(t, "every target's pin_mismatch and key rotation announced in Slack", func() bool {
		for _, tc := range targets {
			if slack.Count("opened", tc.Name, "pin_mismatch") == 0 || slack.Count("chain_changed", tc.Name, "chain_changed") == 0 {
				return false
			}
		}
		return true
	})
	d.stop(t)

	var messages int
	for _, r := range slack.Requests() {
		if r.Accepted {
			messages++
		}
	}
	t.Logf("%d targets turning critical in one round (%d changes with the key rotations) reached Slack as %d message(s)",
		n, len(slack.Delivered()), messages)
	if messages > 2 {
		t.Errorf("the event reached Slack as %d messages, want at most 2 (digests)", messages)
	}
	for _, tc := range targets {
		if c := slack.Count("opened", tc.Name, "pin_mismatch"); c != 1 {
			t.Errorf("Slack named %s pin_mismatch %d times, want once", tc.Name, c)
		}
		if c := slack.Count("chain_changed", tc.Name, "chain_changed"); c != 1 {
			t.Errorf("Slack named %s chain_changed %d times, want once", tc.Name, c)
		}
	}
	for _, e := range slack.Delivered() {
		if e.Change == "unknown" || e.Target == "" || e.Kind == "" {
			t.Errorf("a Slack entry names no target or kind: %q", e.Text)
		}
	}
	slack.CheckPaths(t)
}

// A channel that refuses every message (channel_not_found) with 600
// notifications queued for it hides nothing: another channel's alert goes
// out within seconds, the refused ones are parked as undeliverable (tried
// once, counted in `alerts` and the metrics), and a reload after the
// channel was fixed delivers them.
func TestDaemonDeadChannelHidesNoOther(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	srv := f.serve(t, hstsHeaders)
	slack := pinwatchdtest.NewSlack(t)
	slack.ChannelError("#dead", "channel_not_found")
	db, cfgPath := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	const dead = 600
	queueForDeadChannel(t, db, dead)

	listen := closedPort(t)
	tokenFile := filepath.Join(f.dir, "slack-token")
	writeFile(t, tokenFile, pinwatchdtest.SlackToken+"\n")
	cfg := config.Default()
	cfg.Database = db
	cfg.Schedule = mustSchedule(t, "@every 1s")
	cfg.Timeout = config.Duration{Duration: 2 * time.Second}
	cfg.Alerts.DigestWindow = config.Duration{Duration: 2 * time.Second}
	cfg.Slack = config.SlackConfig{TokenFile: tokenFile, Channel: "#tls-alerts", APIURL: slack.APIURL()}
	cfg.HTTP.Listen = listen
	cfg.TargetConfigs = []config.TargetConfig{f.target(t, "healthy", srv, withPins(f.pki.Leaf.Pin()))}
	var b bytes.Buffer
	if err := config.Encode(&b, cfg); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, b.String())
	d := startDaemon(t, cfgPath)

	waitFor(t, "the healthy channel's alert in Slack", func() bool {
		return slack.Count("opened", "healthy", "missing_backup_pin") == 1
	})
	var doc outboxDoc
	waitFor(t, "every notification of the dead channel parked as undeliverable", func() bool {
		doc = queryOutbox(t, db)
		return doc.Undeliverable == dead && doc.Pending == 0
	})
	for _, a := range doc.Alerts {
		if want := strings.HasPrefix(a.Target, "dead-"); a.Undeliverable != want {
			t.Errorf("alert of %s %s: undeliverable %v, want %v", a.Target, a.Kind, a.Undeliverable, want)
		}
	}
	text, _, _ := cliRun(t, "alerts", "--database", db)
	if !strings.Contains(text, "600 notifications undeliverable: Slack refused them for good (last: post to slack channel #dead: channel_not_found); kept, and tried again when pinwatchd starts or reloads") {
		t.Errorf("alerts does not say that 600 notifications are undeliverable and why:\n%s", lastLines(text, 3))
	}
	waitFor(t, "pinwatchd_notifications_undeliverable 600", func() bool {
		_, body := httpGet("http://" + listen + "/metrics")
		return strings.Contains(body, "\npinwatchd_notifications_undeliverable 600\n")
	})

	// Each refused notification was tried once and logged once.
	tried := deadEntries(slack)
	for i := range dead {
		if n := tried[fmt.Sprintf("dead-%03d", i)]; n != 1 {
			t.Fatalf("dead-%03d was tried %d times, want once", i, n)
		}
	}
	posts := 0
	for _, r := range slack.Requests() {
		if r.Form.Get("channel") == "#dead" {
			posts++
		}
	}
	if logged := strings.Count(d.output.String(), "slack refused the notification for good"); logged != posts || posts > 13 {
		t.Errorf("%d refusals logged for %d posts to #dead; want one line per post, at most 13 (digests of 48)", logged, posts)
	}

	// The bot is invited back; a reload tries the parked ones again.
	slack.ChannelError("#dead", "")
	d.signal(t, syscall.SIGHUP)
	waitFor(t, "the parked notifications delivered after the reload", func() bool {
		doc = queryOutbox(t, db)
		return doc.Undeliverable == 0 && doc.Pending == 0
	})
	d.stop(t)
	delivered := map[string]int{}
	for _, e := range slack.Delivered() {
		if e.Change == "opened" && e.Kind == "missing_backup_pin" {
			delivered[e.Target]++
		}
	}
	for i := range dead {
		if n := delivered[fmt.Sprintf("dead-%03d", i)]; n != 1 {
			t.Fatalf("dead-%03d reached the fixed channel %d times, want once", i, n)
		}
	}
	if n := delivered["healthy"]; n != 1 {
		t.Errorf("the healthy alert reached Slack %d times, want once", n)
	}
	slack.CheckPaths(t)
}

// queueForDeadChannel stores n open alerts for the channel "#dead" with
// their notifications, an hour old, in the database at path, as an earlier
// run of the daemon would have left them.
func queueForDeadChannel(t *testing.T, path string, n int) {
	t.Helper()
	db, err := storage.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	created := time.Now().Add(-time.Hour).UTC()
	var alerts []pinwatchd.Alert
	var notes []pinwatchd.Notification
	for i := range n {
		a := pinwatchd.Alert{Target: fmt.Sprintf("dead-%03d", i), Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning,
			Subject: "inline", Addresses: []string{"127.0.0.1:443"}, State: pinwatchd.AlertOpen,
			Message: `pin-set "inline" has a single pin, so it has no backup pin for a key rotation`, OpenedAt: created}
		alerts = append(alerts, a)
		notes = append(notes, pinwatchd.Notification{Type: pinwatchd.ChangeOpened, Channel: "#dead", Alert: &alerts[i], CreatedAt: created})
	}
	if err := db.SaveAlerts(t.Context(), alerts, notes); err != nil {
		t.Fatal(err)
	}
}

// deadEntries counts, per target, the entries of the posts to "#dead".
func deadEntries(s *pinwatchdtest.Slack) map[string]int {
	out := map[string]int{}
	for _, r := range s.Requests() {
		if r.Form.Get("channel") == "#dead" {
			for _, e := range pinwatchdtest.SlackEntries(r.Text()) {
				out[e.Target]++
			}
		}
	}
	return out
}

// outboxDoc is what `alerts --json` says of delivery (SPEC §5).
type outboxDoc struct {
	Alerts []struct {
		Target        string `json:"target"`
		Kind          string `json:"kind"`
		Undeliverable bool   `json:"undeliverable"`
	} `json:"alerts"`
	Pending       int `json:"notifications_pending"`
	Undeliverable int `json:"notifications_undeliverable"`
}

// queryOutbox runs `pinwatchd alerts --json --database db`.
func queryOutbox(t *testing.T, db string) outboxDoc {
	t.Helper()
	stdout, stderr, code := cliRun(t, "alerts", "--json", "--database", db)
	if code != exitOK {
		t.Fatalf("pinwatchd alerts exited %d: %s", code, stderr)
	}
	var doc outboxDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("alerts --json printed invalid JSON: %v\n%s", err, stdout)
	}
	return doc
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
