package pinwatchdtest_test

import (
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/notify"
)

// The entries the end-to-end tests count are read from notify's message
// texts: every change type, as a single message and as a digest line.
func TestSlackEntriesReadRenderedMessages(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	alert := func(typ pinwatchd.ChangeType, target string, kind pinwatchd.Kind) pinwatchd.Notification {
		a := pinwatchd.Alert{ID: 3, Target: target, Kind: kind, Severity: pinwatchd.SeverityWarning, Subject: "inline",
			Addresses: []string{"127.0.0.1:8443"}, State: pinwatchd.AlertOpen, Message: "pin-set \"inline\" has a single pin",
			OpenedAt: now.Add(-48 * time.Hour), LastNotifiedAt: now.Add(-24 * time.Hour)}
		n := pinwatchd.Notification{Type: typ, Alert: &a, CreatedAt: now}
		switch typ {
		case pinwatchd.ChangeEscalated:
			n.PrevSeverity, a.Severity = pinwatchd.SeverityWarning, pinwatchd.SeverityCritical
		case pinwatchd.ChangeResolved:
			a.State, a.ResolvedAt, a.ResolveReason = pinwatchd.AlertResolved, now, "a backup pin was added"
		}
		return n
	}
	chain := pinwatchd.Notification{Type: pinwatchd.ChangeChainChanged, CreatedAt: now, Event: &pinwatchd.Event{
		Time: now, Target: "api", Address: "127.0.0.1:8443", Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeKeyRotated,
		OldLeafPin: "n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=", NewLeafPin: "Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=",
		Issuer: "CN=Test Intermediate", NotAfter: now.Add(90 * 24 * time.Hour)}}
	notes := []pinwatchd.Notification{
		alert(pinwatchd.ChangeOpened, "legacy", pinwatchd.KindMissingBackupPin),
		alert(pinwatchd.ChangeReminder, "api", pinwatchd.KindPinMismatch),
		alert(pinwatchd.ChangeEscalated, "shop", pinwatchd.KindCertExpiring),
		alert(pinwatchd.ChangeResolved, "api", pinwatchd.KindPinMismatch),
		chain,
	}
	want := []pinwatchdtest.SlackEntry{
		{Change: "opened", Target: "legacy", Kind: "missing_backup_pin"},
		{Change: "reminder", Target: "api", Kind: "pin_mismatch"},
		{Change: "escalated", Target: "shop", Kind: "cert_expiring"},
		{Change: "resolved", Target: "api", Kind: "pin_mismatch"},
		{Change: "chain_changed", Target: "api", Kind: "chain_changed", Class: "key_rotated"},
	}
	check := func(how string, got []pinwatchdtest.SlackEntry) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d: %+v", how, len(got), len(want), got)
		}
		for i, g := range got {
			if g.Text == "" {
				t.Errorf("%s entry %d has no text", how, i)
			}
			g.Text = ""
			if g != want[i] {
				t.Errorf("%s entry %d = %+v, want %+v", how, i, g, want[i])
			}
		}
	}
	var single []pinwatchdtest.SlackEntry
	for i := range notes {
		single = append(single, pinwatchdtest.SlackEntries(notify.Render(&notes[i], now).Text)...)
	}
	check("single messages", single)
	check("digest", pinwatchdtest.SlackEntries(notify.RenderDigest(notes, now).Text))
	if got := pinwatchdtest.SlackEntries("hello"); len(got) != 1 || got[0].Change != "unknown" || got[0].Text != "hello" {
		t.Errorf("SlackEntries(hello) = %+v, want one unknown entry", got)
	}
}
