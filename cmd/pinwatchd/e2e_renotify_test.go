package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
)

// TestDaemonRenotify: with renotify_after = "1s" a still-firing alert is
// reminded about on later rounds; with "0s" (SPEC §10: reminders off) it is
// announced once and never again, while the daemon keeps probing it.
func TestDaemonRenotify(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	for _, tc := range []struct {
		name      string
		after     time.Duration
		reminders bool
	}{
		{"every second", time.Second, true},
		{"off", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFleet(t)
			srv := f.serve(t, hstsHeaders)
			slack := newE2ESlack(t)
			db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
			e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), renotify: &tc.after, targets: []config.TargetConfig{
				f.target(t, "legacy", srv, withPins(f.pki.Leaf.Pin())),
			}}.write(t, cfg)
			d := startDaemon(t, cfg)
			waitFor(t, "the opening message of legacy's missing_backup_pin", func() bool {
				return slack.Count("opened", "legacy", "missing_backup_pin") == 1
			})
			// Several more rounds, each well past a 1s renotify_after.
			waitRounds(t, db, "legacy")
			waitRounds(t, db, "legacy")
			if tc.reminders {
				waitFor(t, "a reminder about legacy", func() bool {
					return slack.Count("reminder", "legacy", "missing_backup_pin") >= 1
				})
			}
			d.stop(t)
			if n := slack.Count("opened", "legacy", "missing_backup_pin"); n != 1 {
				t.Errorf("Slack got %d opening messages, want 1", n)
			}
			if n := slack.Count("reminder", "legacy", "missing_backup_pin"); !tc.reminders && n != 0 {
				t.Errorf("renotify_after = \"0s\": Slack got %d reminders, want none", n)
			}
		})
	}
}
