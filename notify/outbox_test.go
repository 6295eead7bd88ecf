package notify

import (
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// pinwatchdtest.Outbox declares Outbox's method set again; both directions
// of assignment keep the two the same.
var (
	_ Outbox               = pinwatchdtest.Outbox(nil)
	_ pinwatchdtest.Outbox = Outbox(nil)
	_ Outbox               = (*memOutbox)(nil)
)

// The Sender's tests trust memOutbox to behave like the real outbox: it
// passes the same contract suite as storage.DB.
func TestMemOutboxContract(t *testing.T) {
	pinwatchdtest.OutboxContract(t, func(t *testing.T) (pinwatchdtest.Outbox, pinwatchdtest.Enqueue) {
		o := newMemOutbox()
		var alerts int64
		return o, func(t *testing.T, ns ...pinwatchd.Notification) []pinwatchd.Notification {
			out := make([]pinwatchd.Notification, len(ns))
			created := map[pinwatchd.AlertKey]int64{} // new alerts of this call
			for i, n := range ns {
				n = clone(n)
				if a := n.Alert; a != nil && a.ID == 0 {
					if created[a.Key()] == 0 {
						alerts++
						created[a.Key()] = alerts
					}
					a.ID = created[a.Key()]
				}
				out[i] = n
			}
			for i, id := range o.add(out...) {
				out[i].ID = id
			}
			return out
		}
	})
}
