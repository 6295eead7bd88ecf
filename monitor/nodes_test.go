package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestSilentNodes(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const after = 5 * time.Minute
	pol := pinwatchd.AlertPolicy{NotifyResolved: true, RenotifyAfter: 24 * time.Hour}
	node := func(v string, age time.Duration) pinwatchd.Node {
		return pinwatchd.Node{Vantage: v, Host: "host-" + v, Version: "v1", StartedAt: now.Add(-time.Hour), LastSeen: now.Add(-age)}
	}
	openFor := func(v string, notified time.Duration) pinwatchd.Alert {
		return pinwatchd.Alert{ID: 7, Target: "vantage/" + v, Kind: pinwatchd.KindVantageSilent, Subject: v,
			Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen, Addresses: []string{},
			OpenedAt: now.Add(-notified), LastNotifiedAt: now.Add(-notified)}
	}
	type change struct {
		typ     pinwatchd.ChangeType
		subject string
	}
	for _, tc := range []struct {
		name   string
		self   string
		nodes  []pinwatchd.Node
		open   []pinwatchd.Alert
		pol    pinwatchd.AlertPolicy
		want   []change
		reason string // of the resolved alert
	}{
		{name: "every node fresh", self: "eu", nodes: []pinwatchd.Node{node("eu", 0), node("us", 10*time.Second)}},
		{name: "just under the limit", self: "eu", nodes: []pinwatchd.Node{node("eu", 0), node("us", after-time.Second)}},
		{name: "silent for the limit opens", self: "eu", nodes: []pinwatchd.Node{node("eu", 0), node("us", after), node("ap", time.Hour)},
			want: []change{{pinwatchd.ChangeOpened, "ap"}, {pinwatchd.ChangeOpened, "us"}}},
		{name: "never for itself", self: "eu", nodes: []pinwatchd.Node{node("eu", time.Hour)}},
		{name: "already open stays quiet", self: "eu", nodes: []pinwatchd.Node{node("eu", 0), node("us", time.Hour)},
			open: []pinwatchd.Alert{openFor("us", time.Hour)}},
		{name: "reminded after renotify_after", self: "eu", nodes: []pinwatchd.Node{node("eu", 0), node("us", 30*time.Hour)},
			open: []pinwatchd.Alert{openFor("us", 25*time.Hour)}, want: []change{{pinwatchd.ChangeReminder, "us"}}},
		{name: "heartbeat again resolves", self: "eu", nodes: []pinwatchd.Node{node("eu", 0), node("us", time.Second)},
			open: []pinwatchd.Alert{openFor("us", time.Hour)}, want: []change{{pinwatchd.ChangeResolved, "us"}}, reason: "the node reports again"},
		{name: "the node itself resolves its own", self: "us", nodes: []pinwatchd.Node{node("us", 0)},
			open: []pinwatchd.Alert{openFor("us", time.Hour)}, want: []change{{pinwatchd.ChangeResolved, "us"}}, reason: "the node reports again"},
		{name: "row gone resolves", self: "eu", nodes: []pinwatchd.Node{node("eu", 0)},
			open: []pinwatchd.Alert{openFor("us", time.Hour)}, want: []change{{pinwatchd.ChangeResolved, "us"}}, reason: "the node is no longer listed"},
		{name: "other kinds under vantage/ are not its business", self: "eu", nodes: []pinwatchd.Node{node("eu", 0)},
			open: []pinwatchd.Alert{{ID: 9, Target: "vantage/mx1.example.com", Kind: pinwatchd.KindTimeout, Subject: "192.0.2.1:25", State: pinwatchd.AlertOpen}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pol
			if tc.pol != (pinwatchd.AlertPolicy{}) {
				p = tc.pol
			}
			next, changes := SilentNodes(tc.self, tc.nodes, tc.open, after, p, now)
			var got []change
			for _, c := range changes {
				got = append(got, change{c.Type, c.Alert.Subject})
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changes = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("changes = %v, want %v", got, tc.want)
				}
			}
			if len(next) != len(changes) {
				t.Errorf("%d alerts to store for %d changes: only changed alerts are stored", len(next), len(changes))
			}
			for _, c := range changes {
				a := c.Alert
				switch c.Type {
				case pinwatchd.ChangeOpened:
					if a.Target != "vantage/"+a.Subject || a.Kind != pinwatchd.KindVantageSilent || a.Severity != pinwatchd.SeverityWarning ||
						a.State != pinwatchd.AlertOpen || !a.OpenedAt.Equal(now) || !strings.Contains(a.Message, "node "+a.Subject+" (host host-"+a.Subject+") has not reported for ") {
						t.Errorf("opened alert = %+v", a)
					}
				case pinwatchd.ChangeResolved:
					if a.State != pinwatchd.AlertResolved || !a.ResolvedAt.Equal(now) || a.ResolveReason != tc.reason || a.ID != 7 {
						t.Errorf("resolved alert = %+v, want resolved at %v because %q", a, now, tc.reason)
					}
				case pinwatchd.ChangeReminder:
					if !a.LastNotifiedAt.Equal(now) || a.State != pinwatchd.AlertOpen {
						t.Errorf("reminded alert = %+v", a)
					}
				}
			}
		})
	}
	t.Run("resolved quietly without notify_resolved", func(t *testing.T) {
		next, changes := SilentNodes("eu", []pinwatchd.Node{node("eu", 0), node("us", 0)}, []pinwatchd.Alert{openFor("us", time.Hour)}, after, pinwatchd.AlertPolicy{}, now)
		if len(next) != 1 || next[0].State != pinwatchd.AlertResolved || len(changes) != 0 {
			t.Errorf("next = %+v, changes = %+v; want the alert resolved and nothing announced", next, changes)
		}
	})
}
