package web

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestHistoryTimeline(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	a, b := "192.0.2.1:443", "192.0.2.2:443"
	events := []pinwatchd.Event{
		{Time: now.Add(-10 * day), Address: a, Event: pinwatchd.EventFirstSeen, NewLeafPin: "K1"},
		{Time: now.Add(-8 * day), Address: a, Event: pinwatchd.EventProbeFailed, ErrorKind: pinwatchd.KindTimeout, ErrorMessage: "took too long"},
		{Time: now.Add(-7 * day), Address: a, Event: pinwatchd.EventRecovered},
		{Time: now.Add(-5 * day), Address: a, Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeKeyRotated, OldLeafPin: "K1", NewLeafPin: "K2"},
		{Time: now.Add(-4 * day), Address: a, Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeRenewed, OldLeafPin: "K2", NewLeafPin: "K2"},
		{Time: now.Add(-3 * day), Address: a, Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeIssuerChanged, OldLeafPin: "K2", NewLeafPin: "K2", Issuer: "CN=new CA"},
		{Time: now.Add(-2 * day), Address: "192.0.2.9:443", Event: pinwatchd.EventFirstSeen}, // an address no longer served
		{Time: now.Add(-1 * day), Address: b, Event: pinwatchd.EventProbeFailed, ErrorKind: pinwatchd.KindConnectFailed},
	}
	tl := historyTimeline(events, []string{a, b}, now.Add(-10*day), now)
	var lanes []string
	for _, l := range tl.Lanes {
		lanes = append(lanes, l.Label)
	}
	if strings.Join(lanes, " ") != a+" "+b+" 192.0.2.9:443" {
		t.Errorf("lanes = %v", lanes)
	}
	var classes []string
	for _, m := range tl.Marks {
		classes = append(classes, m.Class+"/"+m.Shape)
		if m.X < tlLeft || m.X > tlRight {
			t.Errorf("mark %s at x %v, outside the chart", m.Class, m.X)
		}
	}
	want := "first_seen/circle probe_failed/circle recovered/circle key_rotated/diamond renewed/circle issuer_changed/circle first_seen/circle probe_failed/circle"
	if strings.Join(classes, " ") != want {
		t.Errorf("marks:\n got %s\nwant %s", strings.Join(classes, " "), want)
	}
	if !strings.Contains(tl.Marks[3].Title, "key rotated, leaf key K1 → K2") || !strings.Contains(tl.Marks[5].Title, "issuer CN=new CA") ||
		!strings.Contains(tl.Marks[1].Title, "probe failed (timeout): took too long") {
		t.Errorf("mark titles: %q / %q / %q", tl.Marks[3].Title, tl.Marks[5].Title, tl.Marks[1].Title)
	}
	// One bar from the failure to the recovery on a, one still open on b.
	if len(tl.Bars) != 2 {
		t.Fatalf("bars = %+v, want 2", tl.Bars)
	}
	if bar := tl.Bars[0]; bar.X != tl.Marks[1].X || bar.X+bar.Width != tl.Marks[2].X || bar.Y+bar.Height/2 != tl.Lanes[0].Y {
		t.Errorf("a's failure bar = %+v, want from the failure to the recovery on a's lane", bar)
	}
	if bar := tl.Bars[1]; bar.X+bar.Width != tlRight || !strings.Contains(bar.Title, "failing since") {
		t.Errorf("b's failure bar = %+v, want it to run until now", bar)
	}
}

func TestHistoryTimelineEmpty(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tl := historyTimeline(nil, nil, time.Time{}, now)
	if len(tl.Marks) != 0 || len(tl.Ticks) == 0 || len(tl.Ticks) > 9 || tl.Height <= tlTop {
		t.Errorf("empty timeline = %+v", tl)
	}
}
