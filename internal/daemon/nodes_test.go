package daemon

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

// slackTexts returns the texts of the messages the stand-in Slack accepted.
func slackTexts(s *pinwatchdtest.Slack) []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Accepted {
			out = append(out, r.Text())
		}
	}
	return out
}

// A node sharing the database that stops heartbeating (its row goes
// stale) gets a vantage_silent alert from the running daemon, announced in
// Slack; when it heartbeats again the alert resolves with a "Resolved"
// message. The daemon lists itself in the nodes table and never raises the
// alert for itself.
func TestDaemonRaisesAndResolvesVantageSilent(t *testing.T) {
	e := newEndpoint(t)
	dir := t.TempDir()
	cfg := newConfig(t, dir, e.target(t, "api", e.pki.Leaf.Pin(), testpki.KeyPin(t, e.pki.Spare)))
	cfg.Vantage = "eu-west-1"
	slack := pinwatchdtest.NewSlack(t)
	cfg.Slack.WebhookURLFile = slack.WebhookFile(t, dir)
	cfg.Alerts.DigestWindow.Duration = 0

	// The other node last reported an hour ago; node_silent_after is its
	// default here, 5 minutes.
	other, err := storage.Open(t.Context(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	hourAgo := time.Now().UTC().Add(-time.Hour)
	us := pinwatchd.Node{Vantage: "us-east-1", Host: "probe-us", Version: "v1.0.0", StartedAt: hourAgo.Add(-time.Hour), LastSeen: hourAgo}
	if err := other.Heartbeat(t.Context(), us); err != nil {
		t.Fatal(err)
	}

	logs := &logBuffer{}
	start(t, cfg, Options{Log: logs.logger(), Version: "v9.9.9"})
	nodes, err := other.Nodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || nodes[0].Vantage != "eu-west-1" || nodes[0].Version != "v9.9.9" || time.Since(nodes[0].LastSeen) > time.Minute {
		t.Fatalf("nodes once the daemon is up = %+v, want eu-west-1 (v9.9.9, just seen) beside us-east-1", nodes)
	}

	a := waitForOpenAlert(t, cfg.Database, "vantage/us-east-1", pinwatchd.KindVantageSilent)
	if a.Subject != "us-east-1" || a.Severity != pinwatchd.SeverityWarning || !strings.Contains(a.Message, "node us-east-1 (host probe-us) has not reported for 1h") {
		t.Errorf("alert = %+v, want a warning about us-east-1 silent for an hour", a)
	}
	waitFor(t, "the vantage_silent message in Slack", func() bool {
		return slices.ContainsFunc(slackTexts(slack), func(s string) bool {
			return strings.Contains(s, "vantage_silent") && strings.Contains(s, "vantage/us-east-1")
		})
	})

	// us-east-1 reports again.
	us.LastSeen = time.Now().UTC()
	if err := other.Heartbeat(t.Context(), us); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the vantage_silent alert to resolve", func() bool {
		return findAlert(alerts(t, cfg.Database, false), "vantage/us-east-1", pinwatchd.KindVantageSilent) == nil
	})
	resolved := findAlert(alerts(t, cfg.Database, true), "vantage/us-east-1", pinwatchd.KindVantageSilent)
	if resolved == nil || resolved.ResolveReason != "the node reports again" {
		t.Errorf("resolved alert = %+v, want resolved because the node reports again", resolved)
	}
	waitFor(t, "the Resolved message in Slack", func() bool {
		return slices.ContainsFunc(slackTexts(slack), func(s string) bool {
			return strings.HasPrefix(s, "Resolved") && strings.Contains(s, "vantage_silent")
		})
	})
	for _, a := range alerts(t, cfg.Database, true) {
		if a.Kind == pinwatchd.KindVantageSilent && a.Subject != "us-east-1" {
			t.Errorf("alert %+v: only us-east-1 was ever silent", a)
		}
	}
}
