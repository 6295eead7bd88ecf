package web

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestFleetRowsOrder(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	obs := func(target string, days int) []addressState {
		o := pinwatchd.Observation{Target: target, Address: "a:1", Time: now,
			ServedChain: []pinwatchd.Cert{{Pin: pinwatchd.Pin{1}, NotAfter: now.Add(time.Duration(days) * 24 * time.Hour)}}}
		return []addressState{{latest: o, chain: &o}}
	}
	recent := map[string][]addressState{
		"a-crit": obs("a-crit", 80), "b-crit": obs("b-crit", 10), "warn": obs("warn", 5),
		"ok-far": obs("ok-far", 300), "ok-near": obs("ok-near", 40), "ok-b": obs("ok-b", 40),
		"failing": {{latest: pinwatchd.Observation{Target: "failing", Address: "a:1", Time: now,
			Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout}}}},
	}
	var targets []pinwatchd.Target
	for _, n := range []string{"never", "ok-far", "ok-near", "ok-b", "warn", "failing", "b-crit", "a-crit"} {
		targets = append(targets, pinwatchd.Target{Name: n, Host: n + ".example.test"})
	}
	open := []pinwatchd.Alert{
		{Target: "a-crit", Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen},
		{Target: "a-crit", Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen},
		{Target: "b-crit", Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen},
		{Target: "warn", Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen},
		{Target: "failing", Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen},
		{Target: "removed", Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen},
	}
	rows := fleetRows(Fleet{Targets: targets, Thresholds: pinwatchd.DefaultThresholds}, recent, open, now)
	var got []string
	for _, r := range rows {
		got = append(got, r.Name+":"+r.Status)
	}
	// Critical by days left, warning by days left (failing has none, so
	// last), then ok ones by days left and name, and the one never probed.
	want := "b-crit:critical a-crit:critical warn:warning failing:warning ok-b:ok ok-near:ok ok-far:ok never:not_probed"
	if strings.Join(got, " ") != want {
		t.Errorf("fleet order:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if a := rows[1]; a.OpenAlerts != 2 || !slices.Equal(a.Kinds, []string{"pin_mismatch", "cert_expiring"}) {
		t.Errorf("a-crit: %d open, kinds %v", a.OpenAlerts, a.Kinds)
	}
	if f := rows[3]; !slices.Equal(f.Failing, []string{"timeout"}) || f.DaysLeft != nil || f.LastProbe == nil {
		t.Errorf("failing row = %+v", f)
	}
	if w := rows[2]; *w.DaysLeft != 5 || w.LeafLevel != "critical" {
		t.Errorf("warn row days %d level %s", *w.DaysLeft, w.LeafLevel)
	}

	page := buildFleetPage(Fleet{Targets: targets, Thresholds: pinwatchd.DefaultThresholds}, recent, open, now, " OK-", "ok")
	if page.Total != 8 || len(page.Targets) != 3 || page.Counts["critical"] != 2 || page.Counts["not_probed"] != 1 {
		t.Errorf("filtered page: total %d, %d shown, counts %v", page.Total, len(page.Targets), page.Counts)
	}
}
