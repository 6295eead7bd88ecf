package monitor

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestUpdateAlerts(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, RenotifyAfter: 24 * time.Hour, NotifyResolved: true, NotifyChanges: true}
	mismatch := func(addr string) pinwatchd.Finding {
		return pinwatchd.Finding{Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical, Address: addr, PinSet: "ios", Message: "pin-set \"ios\" has no pin matching " + addr}
	}
	expiring := func(addr string, sev pinwatchd.Severity) pinwatchd.Finding {
		return pinwatchd.Finding{Kind: pinwatchd.KindCertExpiring, Severity: sev, Address: addr, Cert: "abc123", Message: "leaf expires soon"}
	}
	timeout := func(addr string) pinwatchd.Finding {
		return pinwatchd.Finding{Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityWarning, Address: addr, Message: "timed out"}
	}
	openAlert := func(f pinwatchd.Finding, addrs []string, notified time.Time) pinwatchd.Alert {
		return pinwatchd.Alert{ID: 7, Target: "api", Kind: f.Kind, Severity: f.Severity, Subject: pinwatchd.AlertSubject(&f),
			Addresses: addrs, State: pinwatchd.AlertOpen, Message: f.Message, OpenedAt: t0, LastNotifiedAt: notified}
	}

	type want struct {
		changes []pinwatchd.ChangeType
		states  []pinwatchd.AlertState
	}
	tests := []struct {
		name     string
		open     []pinwatchd.Alert
		findings []pinwatchd.Finding
		failures map[string]int
		seen     map[string]Seen // addresses the round probed
		pol      pinwatchd.AlertPolicy
		now      time.Time
		want     want
		check    func(t *testing.T, next []pinwatchd.Alert, changes []pinwatchd.AlertChange)
	}{
		{
			name:     "one alert for many addresses",
			findings: []pinwatchd.Finding{mismatch("10.0.0.2:443"), mismatch("10.0.0.1:443")},
			now:      t0,
			want:     want{[]pinwatchd.ChangeType{pinwatchd.ChangeOpened}, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
			check: func(t *testing.T, next []pinwatchd.Alert, _ []pinwatchd.AlertChange) {
				a := next[0]
				if a.Subject != "ios" || len(a.Addresses) != 2 || a.Addresses[0] != "10.0.0.1:443" {
					t.Errorf("alert = %+v, want subject ios with both addresses sorted", a)
				}
				if !a.OpenedAt.Equal(t0) || !a.LastNotifiedAt.Equal(t0) {
					t.Errorf("opened %v notified %v, want both %v", a.OpenedAt, a.LastNotifiedAt, t0)
				}
			},
		},
		{
			name:     "info findings and chain_changed open nothing",
			findings: []pinwatchd.Finding{{Kind: pinwatchd.KindHSTSMissing, Severity: pinwatchd.SeverityInfo}, {Kind: pinwatchd.KindChainChanged, Severity: pinwatchd.SeverityWarning}},
			now:      t0,
		},
		{
			name:     "still firing before renotify_after is silent",
			open:     []pinwatchd.Alert{openAlert(mismatch("10.0.0.1:443"), []string{"10.0.0.1:443"}, t0)},
			findings: []pinwatchd.Finding{mismatch("10.0.0.1:443")},
			now:      t0.Add(23 * time.Hour),
			want:     want{nil, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
		},
		{
			name:     "reminder after renotify_after",
			open:     []pinwatchd.Alert{openAlert(mismatch("10.0.0.1:443"), []string{"10.0.0.1:443"}, t0)},
			findings: []pinwatchd.Finding{mismatch("10.0.0.1:443")},
			now:      t0.Add(24 * time.Hour),
			want:     want{[]pinwatchd.ChangeType{pinwatchd.ChangeReminder}, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
			check: func(t *testing.T, next []pinwatchd.Alert, _ []pinwatchd.AlertChange) {
				if !next[0].LastNotifiedAt.Equal(t0.Add(24*time.Hour)) || next[0].ID != 7 {
					t.Errorf("alert after reminder = %+v, want same ID and last notified moved", next[0])
				}
			},
		},
		{
			name:     "no reminders when renotify_after is 0",
			open:     []pinwatchd.Alert{openAlert(mismatch("10.0.0.1:443"), []string{"10.0.0.1:443"}, t0)},
			findings: []pinwatchd.Finding{mismatch("10.0.0.1:443")},
			pol:      pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true},
			now:      t0.Add(1000 * time.Hour),
			want:     want{nil, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
		},
		{
			name:     "escalates when severity rises",
			open:     []pinwatchd.Alert{openAlert(expiring("10.0.0.1:443", pinwatchd.SeverityWarning), []string{"10.0.0.1:443"}, t0)},
			findings: []pinwatchd.Finding{expiring("10.0.0.1:443", pinwatchd.SeverityCritical)},
			now:      t0.Add(time.Hour),
			want:     want{[]pinwatchd.ChangeType{pinwatchd.ChangeEscalated}, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
			check: func(t *testing.T, next []pinwatchd.Alert, changes []pinwatchd.AlertChange) {
				if next[0].Severity != pinwatchd.SeverityCritical || changes[0].PrevSeverity != pinwatchd.SeverityWarning {
					t.Errorf("escalation: severity %v prev %v", next[0].Severity, changes[0].PrevSeverity)
				}
			},
		},
		{
			name:     "resolves when gone from every address, saying why",
			open:     []pinwatchd.Alert{openAlert(expiring("10.0.0.1:443", pinwatchd.SeverityWarning), []string{"10.0.0.1:443", "10.0.0.2:443"}, t0)},
			findings: nil,
			seen:     answered("10.0.0.1:443", "10.0.0.2:443"),
			now:      t0.Add(time.Hour),
			want:     want{[]pinwatchd.ChangeType{pinwatchd.ChangeResolved}, []pinwatchd.AlertState{pinwatchd.AlertResolved}},
			check: func(t *testing.T, next []pinwatchd.Alert, _ []pinwatchd.AlertChange) {
				if next[0].ResolveReason != "the certificate is no longer served (renewed or replaced)" || !next[0].ResolvedAt.Equal(t0.Add(time.Hour)) {
					t.Errorf("resolved alert = %+v", next[0])
				}
			},
		},
		{
			name:     "stays open while one address still shows it",
			open:     []pinwatchd.Alert{openAlert(mismatch("10.0.0.1:443"), []string{"10.0.0.1:443", "10.0.0.2:443"}, t0)},
			findings: []pinwatchd.Finding{mismatch("10.0.0.2:443")},
			seen:     answered("10.0.0.1:443", "10.0.0.2:443"),
			now:      t0.Add(time.Hour),
			want:     want{nil, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
			check: func(t *testing.T, next []pinwatchd.Alert, _ []pinwatchd.AlertChange) {
				if len(next[0].Addresses) != 1 || next[0].Addresses[0] != "10.0.0.2:443" {
					t.Errorf("addresses = %v, want only the one still failing", next[0].Addresses)
				}
			},
		},
		{
			name: "resolve without notification when notify_resolved is off",
			open: []pinwatchd.Alert{openAlert(mismatch("10.0.0.1:443"), []string{"10.0.0.1:443"}, t0)},
			seen: answered("10.0.0.1:443"),
			pol:  pinwatchd.AlertPolicy{FailureThreshold: 2},
			now:  t0.Add(time.Hour),
			want: want{nil, []pinwatchd.AlertState{pinwatchd.AlertResolved}},
		},
		{
			name:     "connectivity below the threshold opens nothing",
			findings: []pinwatchd.Finding{timeout("10.0.0.1:443")},
			failures: map[string]int{"10.0.0.1:443": 1},
			now:      t0,
		},
		{
			name:     "connectivity at the threshold opens",
			findings: []pinwatchd.Finding{timeout("10.0.0.1:443")},
			failures: map[string]int{"10.0.0.1:443": 2},
			now:      t0,
			want:     want{[]pinwatchd.ChangeType{pinwatchd.ChangeOpened}, []pinwatchd.AlertState{pinwatchd.AlertOpen}},
			check: func(t *testing.T, next []pinwatchd.Alert, _ []pinwatchd.AlertChange) {
				if next[0].Subject != "10.0.0.1:443" {
					t.Errorf("subject = %q, want the address", next[0].Subject)
				}
			},
		},
		{
			name:     "one success resolves a connectivity alert",
			open:     []pinwatchd.Alert{openAlert(timeout("10.0.0.1:443"), []string{"10.0.0.1:443"}, t0)},
			failures: map[string]int{},
			seen:     answered("10.0.0.1:443"),
			now:      t0.Add(time.Hour),
			want:     want{[]pinwatchd.ChangeType{pinwatchd.ChangeResolved}, []pinwatchd.AlertState{pinwatchd.AlertResolved}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pol
			if tt.pol != (pinwatchd.AlertPolicy{}) {
				p = tt.pol
			}
			r := Round{Findings: tt.findings, Resolved: true, Seen: tt.seen, Failures: tt.failures}
			next, changes := UpdateAlerts("api", tt.open, r, p, tt.now)
			var gotChanges []pinwatchd.ChangeType
			for _, c := range changes {
				gotChanges = append(gotChanges, c.Type)
			}
			var gotStates []pinwatchd.AlertState
			for _, a := range next {
				gotStates = append(gotStates, a.State)
			}
			if !slices.Equal(gotChanges, tt.want.changes) || !slices.Equal(gotStates, tt.want.states) {
				t.Fatalf("changes %v states %v; want %v %v", gotChanges, gotStates, tt.want.changes, tt.want.states)
			}
			if tt.check != nil {
				tt.check(t, next, changes)
			}
		})
	}
}

// TestUpdateAlertsFlapping: an address that alternates failure and success
// below the threshold never opens an alert.
func TestUpdateAlertsFlapping(t *testing.T) {
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, NotifyResolved: true}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var open []pinwatchd.Alert
	for round := range 10 {
		var findings []pinwatchd.Finding
		failures, seen := map[string]int{}, answered("10.0.0.1:443")
		if round%2 == 0 {
			findings = []pinwatchd.Finding{{Kind: pinwatchd.KindConnectFailed, Severity: pinwatchd.SeverityWarning, Address: "10.0.0.1:443"}}
			failures["10.0.0.1:443"] = 1
			seen["10.0.0.1:443"] = SeenFailed
		}
		r := Round{Findings: findings, Resolved: true, Seen: seen, Failures: failures}
		next, changes := UpdateAlerts("api", open, r, pol, now.Add(time.Duration(round)*time.Minute))
		if len(changes) != 0 || len(next) != 0 {
			t.Fatalf("round %d: changes %v next %v, want none", round, changes, next)
		}
	}
}

// answered is the Seen of a round in which every address answered.
func answered(addrs ...string) map[string]Seen {
	m := make(map[string]Seen, len(addrs))
	for _, a := range addrs {
		m[a] = SeenAll
	}
	return m
}

// An alert carries the details of its worst finding into the messages
// about it: when it opens, and refreshed from the round when reminded.
func TestUpdateAlertsCarriesDetails(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, RenotifyAfter: time.Hour, NotifyResolved: true}
	mismatch := func(sev pinwatchd.Severity, subject string) pinwatchd.Finding {
		return pinwatchd.Finding{Kind: pinwatchd.KindPinMismatch, Severity: sev, Address: "10.0.0.1:443", PinSet: "ios",
			Message: "no pin matches", Details: &pinwatchd.Details{
				Cert:         &pinwatchd.CertSummary{Subject: subject, Issuer: "CN=CA", Position: "leaf"},
				ExpectedPins: []pinwatchd.Pin{{1}, {2}}}}
	}
	report := mismatch(pinwatchd.SeverityInfo, "CN=report-only")
	report.Address = "10.0.0.2:443"
	seen := answered("10.0.0.1:443", "10.0.0.2:443")
	round := func(fs ...pinwatchd.Finding) Round { return Round{Findings: fs, Resolved: true, Seen: seen} }
	_, changes := UpdateAlerts("api", nil, round(report, mismatch(pinwatchd.SeverityCritical, "CN=old")), pol, t0)
	if len(changes) != 1 || changes[0].Alert.Details == nil || changes[0].Alert.Details.Cert.Subject != "CN=old" ||
		len(changes[0].Alert.Details.ExpectedPins) != 2 {
		t.Fatalf("opened %+v, want the critical finding's details", changes)
	}

	stored := changes[0].Alert
	stored.ID, stored.Details = 3, nil // an alert read back from storage has none
	_, changes = UpdateAlerts("api", []pinwatchd.Alert{stored}, round(mismatch(pinwatchd.SeverityCritical, "CN=new")), pol, t0.Add(2*time.Hour))
	if len(changes) != 1 || changes[0].Type != pinwatchd.ChangeReminder || changes[0].Alert.Details == nil ||
		changes[0].Alert.Details.Cert.Subject != "CN=new" {
		t.Fatalf("reminder %+v, want the details of this round's finding", changes)
	}
}
