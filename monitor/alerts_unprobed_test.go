package monitor

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

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
