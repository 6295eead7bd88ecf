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

// TestUpdateAlertsUnprobed: an address the round did not see keeps its
// alerts exactly as they are; only a successful probe, a resolving name or
// an address leaving DNS for good clears it (SPEC §6).
func TestUpdateAlertsUnprobed(t *testing.T) {
	const (
		a, b, c = "10.0.0.1:443", "10.0.0.2:443", "10.0.0.3:443"
		name    = "api.example.com:443"
	)
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(25 * time.Hour) // past renotify_after: only a firing alert is reminded
	pol := pinwatchd.AlertPolicy{FailureThreshold: 2, RenotifyAfter: 24 * time.Hour, NotifyResolved: true}
	warn, crit := pinwatchd.SeverityWarning, pinwatchd.SeverityCritical
	f := func(k pinwatchd.Kind, sev pinwatchd.Severity, addr, pinset string) pinwatchd.Finding {
		return pinwatchd.Finding{Kind: k, Severity: sev, Address: addr, PinSet: pinset, Cert: "abc123", Message: string(k) + " at " + addr}
	}
	alert := func(k pinwatchd.Kind, sev pinwatchd.Severity, subject string, addrs ...string) pinwatchd.Alert {
		if addrs == nil {
			addrs = []string{}
		}
		return pinwatchd.Alert{ID: 9, Target: "api", Kind: k, Severity: sev, Subject: subject, Addresses: addrs,
			State: pinwatchd.AlertOpen, Message: "as opened", OpenedAt: t0, LastNotifiedAt: t0}
	}
	mismatch := alert(pinwatchd.KindPinMismatch, crit, "inline", a, b)
	dnsFailed := f(pinwatchd.KindDNSFailed, warn, name, "")
	unresolved := func(count int) Round {
		return Round{Findings: []pinwatchd.Finding{dnsFailed}, Seen: map[string]Seen{name: SeenFailed}, Failures: map[string]int{name: count}}
	}
	type wantAlert struct {
		kind    pinwatchd.Kind
		state   pinwatchd.AlertState
		addrs   []string
		reason  string
		subject string // checked when set
	}
	tests := []struct {
		name    string
		open    []pinwatchd.Alert
		round   Round
		changes []string // "type kind"
		want    []wantAlert
	}{
		{
			name:  "a DNS blip keeps pin_mismatch as it is, without a reminder",
			open:  []pinwatchd.Alert{mismatch},
			round: unresolved(1),
			want:  []wantAlert{{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertOpen, addrs: []string{a, b}}},
		},
		{
			name: "a DNS blip keeps every kind about the addresses",
			open: []pinwatchd.Alert{
				alert(pinwatchd.KindIPInconsistent, warn, "", a, b),
				alert(pinwatchd.KindIPInconsistent, warn, ""), // as stored before alerts listed its addresses
				alert(pinwatchd.KindMissingBackupPin, warn, "inline", a),
				alert(pinwatchd.KindCertExpiring, warn, "abc123", a),
				alert(pinwatchd.KindChainUntrusted, crit, "", b),
				alert(pinwatchd.KindHSTSMissing, warn, "hsts", a),
				alert(pinwatchd.KindConnectFailed, warn, b, b),
			},
			round:   unresolved(5),
			changes: []string{"opened dns_failed"},
			want: []wantAlert{
				{kind: pinwatchd.KindIPInconsistent, state: pinwatchd.AlertOpen, addrs: []string{a, b}},
				{kind: pinwatchd.KindIPInconsistent, state: pinwatchd.AlertOpen, addrs: []string{}},
				{kind: pinwatchd.KindMissingBackupPin, state: pinwatchd.AlertOpen, addrs: []string{a}},
				{kind: pinwatchd.KindCertExpiring, state: pinwatchd.AlertOpen, addrs: []string{a}},
				{kind: pinwatchd.KindChainUntrusted, state: pinwatchd.AlertOpen, addrs: []string{b}},
				{kind: pinwatchd.KindHSTSMissing, state: pinwatchd.AlertOpen, addrs: []string{a}},
				{kind: pinwatchd.KindConnectFailed, state: pinwatchd.AlertOpen, addrs: []string{b}},
				{kind: pinwatchd.KindDNSFailed, state: pinwatchd.AlertOpen, addrs: []string{name}, subject: "api.example.com"},
			},
		},
		{
			name:    "dns_failed opens at the threshold, about the host name",
			open:    []pinwatchd.Alert{mismatch},
			round:   unresolved(2),
			changes: []string{"opened dns_failed"},
			want: []wantAlert{
				{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertOpen, addrs: []string{a, b}},
				{kind: pinwatchd.KindDNSFailed, state: pinwatchd.AlertOpen, addrs: []string{name}, subject: "api.example.com"},
			},
		},
		{
			name: "the name resolves again: dns_failed resolves, the pin_mismatch still firing is reminded only by its own clock",
			open: []pinwatchd.Alert{
				alert(pinwatchd.KindDNSFailed, warn, "api.example.com", name),
				func() pinwatchd.Alert { m := mismatch; m.LastNotifiedAt = now.Add(-time.Hour); return m }(),
			},
			round: Round{Resolved: true, Findings: []pinwatchd.Finding{f(pinwatchd.KindPinMismatch, crit, a, "inline"), f(pinwatchd.KindPinMismatch, crit, b, "inline")},
				Seen: answered(a, b)},
			changes: []string{"resolved dns_failed"},
			want: []wantAlert{
				{kind: pinwatchd.KindDNSFailed, state: pinwatchd.AlertResolved, addrs: []string{name}, reason: "the name resolves again"},
				{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertOpen, addrs: []string{a, b}},
			},
		},
		{
			name: "a failed probe does not clear its address either",
			open: []pinwatchd.Alert{mismatch},
			round: Round{Resolved: true, Findings: []pinwatchd.Finding{f(pinwatchd.KindConnectFailed, warn, b, "")},
				Seen: map[string]Seen{a: SeenAll, b: SeenFailed}, Failures: map[string]int{b: 1}},
			want: []wantAlert{{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertOpen, addrs: []string{b}}},
		},
		{
			name: "a chain without headers clears the chain kinds, not the header kinds",
			open: []pinwatchd.Alert{
				alert(pinwatchd.KindPinMismatch, crit, "inline", a),
				alert(pinwatchd.KindMissingBackupPin, warn, pinwatchd.PinSetHeader, a),
				alert(pinwatchd.KindHSTSMissing, warn, "hsts", a),
			},
			round: Round{Resolved: true, Findings: []pinwatchd.Finding{f(pinwatchd.KindTimeout, warn, a, "")},
				Seen: map[string]Seen{a: SeenChain}, Failures: map[string]int{a: 1}},
			changes: []string{"resolved pin_mismatch"},
			want: []wantAlert{
				{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertResolved, addrs: []string{a}, reason: "a pin of the set matches the served chain again"},
				{kind: pinwatchd.KindMissingBackupPin, state: pinwatchd.AlertOpen, addrs: []string{a}},
				{kind: pinwatchd.KindHSTSMissing, state: pinwatchd.AlertOpen, addrs: []string{a}},
			},
		},
		{
			name:    "an address that left DNS is dropped from a firing alert without a message",
			open:    []pinwatchd.Alert{mismatch},
			round:   Round{Resolved: true, Findings: []pinwatchd.Finding{f(pinwatchd.KindPinMismatch, crit, a, "inline")}, Seen: answered(a), Gone: []string{b}},
			changes: []string{"reminder pin_mismatch"}, // its own 24h clock ran out
			want:    []wantAlert{{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertOpen, addrs: []string{a}}},
		},
		{
			name:    "an alert whose last address left DNS resolves saying so",
			open:    []pinwatchd.Alert{alert(pinwatchd.KindPinMismatch, crit, "inline", b), alert(pinwatchd.KindIPInconsistent, warn, "", b)},
			round:   Round{Resolved: true, Seen: answered(a), Gone: []string{b}},
			changes: []string{"resolved pin_mismatch", "resolved ip_inconsistent"},
			want: []wantAlert{
				{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertResolved, addrs: []string{b}, reason: "no longer served at 10.0.0.2:443"},
				{kind: pinwatchd.KindIPInconsistent, state: pinwatchd.AlertResolved, addrs: []string{b}, reason: "no longer served at 10.0.0.2:443"},
			},
		},
		{
			name:    "cleared at one address and gone from the other: both reasons",
			open:    []pinwatchd.Alert{mismatch},
			round:   Round{Resolved: true, Seen: answered(a), Gone: []string{b}},
			changes: []string{"resolved pin_mismatch"},
			want: []wantAlert{{kind: pinwatchd.KindPinMismatch, state: pinwatchd.AlertResolved, addrs: []string{a, b},
				reason: "a pin of the set matches the served chain again; no longer served at 10.0.0.2:443"}},
		},
		{
			name: "ip_inconsistent lists the addresses that served a chain",
			round: Round{Resolved: true, Findings: []pinwatchd.Finding{f(pinwatchd.KindIPInconsistent, warn, "", "")},
				Seen: map[string]Seen{a: SeenAll, b: SeenChain, c: SeenFailed}},
			changes: []string{"opened ip_inconsistent"},
			want:    []wantAlert{{kind: pinwatchd.KindIPInconsistent, state: pinwatchd.AlertOpen, addrs: []string{a, b}}},
		},
		{
			name:  "ip_inconsistent stays open while an address it lists is missing from the answer",
			open:  []pinwatchd.Alert{alert(pinwatchd.KindIPInconsistent, warn, "", a, b)},
			round: Round{Resolved: true, Seen: answered(a)},
			want:  []wantAlert{{kind: pinwatchd.KindIPInconsistent, state: pinwatchd.AlertOpen, addrs: []string{b}}},
		},
		{
			name: "an open connectivity alert keeps firing below the threshold",
			open: []pinwatchd.Alert{alert(pinwatchd.KindTimeout, warn, a, a)},
			round: Round{Resolved: true, Findings: []pinwatchd.Finding{f(pinwatchd.KindTimeout, warn, a, "")},
				Seen: map[string]Seen{a: SeenFailed}, Failures: map[string]int{a: 1}},
			changes: []string{"reminder timeout"},
			want:    []wantAlert{{kind: pinwatchd.KindTimeout, state: pinwatchd.AlertOpen, addrs: []string{a}}},
		},
		{
			name:    "pin-set expiry needs no probe: judged in a DNS blip",
			open:    []pinwatchd.Alert{alert(pinwatchd.KindPinSetExpiring, warn, "ios")},
			round:   unresolved(1),
			changes: []string{"resolved pinset_expiring"},
			want:    []wantAlert{{kind: pinwatchd.KindPinSetExpiring, state: pinwatchd.AlertResolved, addrs: []string{}, reason: "the pin-set's expiry date is no longer near"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, changes := UpdateAlerts("api", tt.open, tt.round, pol, now)
			var got []string
			for _, ch := range changes {
				got = append(got, string(ch.Type)+" "+string(ch.Alert.Kind))
			}
			if !slices.Equal(got, tt.changes) {
				t.Errorf("changes %v, want %v", got, tt.changes)
			}
			if len(next) != len(tt.want) {
				t.Fatalf("next has %d alerts, want %d: %+v", len(next), len(tt.want), next)
			}
			for i, w := range tt.want {
				n := next[i]
				if n.Kind != w.kind || n.State != w.state || !slices.Equal(n.Addresses, w.addrs) || n.ResolveReason != w.reason ||
					(w.subject != "" && n.Subject != w.subject) {
					t.Errorf("alert %d = %s %s %v reason %q subject %q; want %s %s %v reason %q subject %q",
						i, n.Kind, n.State, n.Addresses, n.ResolveReason, n.Subject, w.kind, w.state, w.addrs, w.reason, w.subject)
				}
				if n.ID == 0 || n.State != pinwatchd.AlertOpen || slices.Contains(got, "reminder "+string(n.Kind)) {
					continue
				}
				// An open alert that was not announced is not re-notified,
				// and a round that saw nothing leaves its message alone.
				for _, o := range tt.open {
					if o.Key() == n.Key() && (!n.LastNotifiedAt.Equal(o.LastNotifiedAt) || !tt.round.Resolved && n.Message != o.Message) {
						t.Errorf("alert %s was touched: notified %v message %q, was %v %q", n.Kind, n.LastNotifiedAt, n.Message, o.LastNotifiedAt, o.Message)
					}
				}
			}
		})
	}
}
