package monitor_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
)

func TestForgetNode(t *testing.T) {
	f := newRNFixture(t)
	ctx := t.Context()
	now := f.now
	for _, n := range []pinwatchd.Node{
		{Vantage: "a", Host: "probe-a", StartedAt: now.Add(-time.Hour), LastSeen: now.Add(-5 * time.Second)},
		{Vantage: "b", Host: "probe-b", StartedAt: now.Add(-48 * time.Hour), LastSeen: now.Add(-time.Hour)},
	} {
		if err := f.db.Heartbeat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	alert := func(target string, sites ...pinwatchd.Site) pinwatchd.Alert {
		return pinwatchd.Alert{Target: target, Kind: pinwatchd.KindPinMismatch, Subject: "inline", Severity: pinwatchd.SeverityCritical,
			State: pinwatchd.AlertOpen, OpenedAt: now.Add(-time.Hour), Message: "pin mismatch",
			Sites: sites, Addresses: pinwatchd.SiteAddresses(sites)}
	}
	const addr = "192.0.2.10:443"
	if err := f.db.SaveAlerts(ctx, []pinwatchd.Alert{
		alert("api", pinwatchd.Site{Vantage: "a", Address: addr}, pinwatchd.Site{Vantage: "b", Address: addr}),
		alert("web", pinwatchd.Site{Vantage: "b", Address: addr}),
		alert("old", pinwatchd.Site{Vantage: "a", Address: addr}),
	}, nil); err != nil {
		t.Fatal(err)
	}
	pol := pinwatchd.AlertPolicy{NotifyResolved: true}
	channelOf := func(target string) string { return "#" + target }

	if _, err := monitor.ForgetNode(ctx, f.db, "a", time.Minute, pol, channelOf, now); !errors.Is(err, monitor.ErrNodeAlive) {
		t.Errorf("forgetting a node that reported 5s ago: %v, want ErrNodeAlive", err)
	}
	if _, err := monitor.ForgetNode(ctx, f.db, "c", time.Minute, pol, channelOf, now); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("forgetting an unknown node: %v, want an error naming it", err)
	}
	done, err := monitor.ForgetNode(ctx, f.db, "b", time.Minute, pol, channelOf, now)
	if err != nil {
		t.Fatal(err)
	}
	if done.Withdrawn != 2 || done.Resolved != 1 {
		t.Errorf("ForgetNode(b) = %+v, want 2 alerts withdrawn, 1 resolved", done)
	}
	nodes, err := f.db.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].Vantage != "a" {
		t.Errorf("nodes after forgetting b = %+v, %v; want a alone", nodes, err)
	}
	all, err := f.db.Alerts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		vs := pinwatchd.SiteVantages(a.Sites)
		switch a.Target {
		case "api":
			if a.State != pinwatchd.AlertOpen || !slices.Equal(vs, []string{"a"}) {
				t.Errorf("api's alert = %s, vantages %v; want open, seen by a alone", a.State, vs)
			}
		case "web":
			if a.State != pinwatchd.AlertResolved || a.ResolveReason != "node b was forgotten" {
				t.Errorf("web's alert = %s (%q); want resolved because b was forgotten", a.State, a.ResolveReason)
			}
		case "old":
			if a.State != pinwatchd.AlertOpen || !slices.Equal(vs, []string{"a"}) {
				t.Errorf("old's alert, which b never listed = %s, vantages %v; want untouched", a.State, vs)
			}
		}
	}
	ns := f.take()
	if got := describe(ns); !slices.Equal(got, []string{"resolved pin_mismatch"}) || ns[0].Channel != "#web" || ns[0].Alert.Target != "web" {
		t.Errorf("notifications %v, want web's alert resolved, to #web", got)
	}
}
