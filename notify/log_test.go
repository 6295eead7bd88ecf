package notify

import (
	"slices"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

func TestLogNotifierWritesOneLinePerNotification(t *testing.T) {
	var buf pinwatchdtest.SyncBuffer
	l := NewLogNotifier(jsonLogger(&buf))
	notes := []pinwatchd.Notification{
		alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()),
		escalationNote(),
		resolveNote(),
		eventNote(chainChangedEvent()),
	}
	notes[0].ID, notes[0].Channel = 7, "#api-team"
	rec, err := l.Notify(t.Context(), Batch{Notes: notes})
	if err != nil || rec != (Receipt{}) {
		t.Fatalf("Notify = %v, %v; want an empty receipt and no error", rec, err)
	}
	lines := buf.Lines(t)
	if len(lines) != len(notes) {
		t.Fatalf("%d log lines for %d notifications:\n%s", len(lines), len(notes), buf.String())
	}
	want := []map[string]any{
		{"level": "WARN", "msg": "alert opened", "target": "api", "kind": "pin_mismatch", "change": "opened",
			"severity": "critical", "notification_id": float64(7), "channel": "#api-team", "alert_id": float64(12),
			"message": pinMismatchAlert().Message},
		{"level": "WARN", "msg": "alert escalated", "target": "shop", "kind": "cert_expiring", "change": "escalated",
			"severity": "critical", "previous_severity": "warning"},
		{"level": "INFO", "msg": "alert resolved", "target": "api", "kind": "pin_mismatch", "change": "resolved",
			"reason": "a pin of the set matches the served chain again"},
		{"level": "INFO", "msg": "chain changed", "target": "api", "kind": "chain_changed", "change": "chain_changed",
			"severity": "info", "address": "192.0.2.10:443", "class": "key_rotated",
			"old_leaf_pin": chainChangedEvent().OldLeafPin, "new_leaf_pin": chainChangedEvent().NewLeafPin,
			"issuer": "CN=Example Intermediate CA,O=Example", "not_after": "2027-02-01T21:00:00Z"},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
	}
	addrs, _ := lines[0]["addresses"].([]any)
	if !slices.Equal(addrs, []any{"192.0.2.10:443", "[2001:db8::10]:443"}) {
		t.Errorf("addresses = %v", lines[0]["addresses"])
	}
}
