package pinwatchd_test

import (
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The event names of `history --json` (SPEC §5); they are stored in the
// database, so a rename would orphan recorded history.
func TestEventTypeIdentifiers(t *testing.T) {
	tests := []struct {
		event pinwatchd.EventType
		id    string
	}{
		{pinwatchd.EventFirstSeen, "first_seen"},
		{pinwatchd.EventChainChanged, "chain_changed"},
		{pinwatchd.EventProbeFailed, "probe_failed"},
		{pinwatchd.EventRecovered, "recovered"},
	}
	for _, tt := range tests {
		if string(tt.event) != tt.id {
			t.Errorf("event %q, want the SPEC identifier %q", tt.event, tt.id)
		}
	}
}
