package web

import (
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestBuildAlertsPage(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	all := []pinwatchd.Alert{
		{ID: 1, Target: "api", Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen, OpenedAt: now.Add(-3 * day)},
		{ID: 2, Target: "api", Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen, OpenedAt: now.Add(-day)},
		{ID: 3, Target: "gone", Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen, OpenedAt: now.Add(-2 * day)},
		{ID: 4, Target: "api", Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertResolved,
			OpenedAt: now.Add(-9 * day), ResolvedAt: now.Add(-6 * day), ResolveReason: "renewed"},
		{ID: 5, Target: "api", Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertResolved,
			OpenedAt: now.Add(-20 * day), ResolvedAt: now.Add(-8 * day)},
	}
	f := Fleet{Targets: []pinwatchd.Target{{Name: "api"}}}
	p := buildAlertsPage(f, all, 3, 2, time.Time{}, now)
	var open []int64
	for _, a := range p.Open {
		open = append(open, a.ID)
	}
	if len(open) != 3 || open[0] != 2 || open[1] != 1 || open[2] != 3 {
		t.Errorf("open alerts %v, want the critical one first, then oldest first", open)
	}
	if !p.Open[0].Configured || p.Open[2].Configured {
		t.Errorf("only configured targets link to a page: %+v", p.Open)
	}
	if len(p.Resolved) != 1 || p.Resolved[0].ID != 4 || p.Resolved[0].ResolveReason == nil || *p.Resolved[0].ResolveReason != "renewed" {
		t.Errorf("resolved in the last 7 days = %+v, want alert 4", p.Resolved)
	}
	if p.NotificationsPending != 3 || p.MaxAttempts != 2 || !p.ResolvedSince.Equal(now.Add(-7*day)) {
		t.Errorf("backlog %d/%d since %v", p.NotificationsPending, p.MaxAttempts, p.ResolvedSince)
	}
	if p := buildAlertsPage(f, all, 0, 0, now.Add(-10*day), now); len(p.Resolved) != 2 {
		t.Errorf("resolved since 10 days = %d, want 2", len(p.Resolved))
	}
}

func TestEventView(t *testing.T) {
	vs := eventViews([]pinwatchd.Event{
		{Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeIssuerChanged},
		{Event: pinwatchd.EventProbeFailed, ErrorKind: pinwatchd.KindTimeout},
		{Event: pinwatchd.EventFirstSeen},
	})
	for i, want := range []string{"issuer changed", "probe failed (timeout)", "first seen"} {
		if got := vs[i].What(); got != want {
			t.Errorf("What() = %q, want %q", got, want)
		}
	}
	if vs[0].Tag() != "issuer_changed" || vs[1].Tag() != "probe_failed" || vs[2].Class != nil || vs[2].NotAfter != nil {
		t.Errorf("views = %+v", vs)
	}
}
