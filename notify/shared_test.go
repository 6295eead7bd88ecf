package notify

import (
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// Two nodes' Senders on one outbox (SPEC §14) deliver each notification
// once: what one has claimed, the other leaves alone.
func TestSendersShareTheOutbox(t *testing.T) {
	e := newSenderEnv(t, "")
	other := e.newSender()
	var ids []int64
	for i := range 6 {
		n := alertNote(pinwatchd.ChangeOpened, pinMismatchAlert())
		n.Channel = []string{"", "#a", "#b"}[i%3]
		ids = append(ids, e.out.add(at(n, t0.Add(-time.Duration(6-i)*time.Second)))...)
	}
	e.clock.Set(t0)
	e.s.pass(t.Context(), false)
	other.pass(t.Context(), false)
	e.s.workers.Wait()
	other.workers.Wait()
	if n := len(e.f.Requests()); n != len(ids) || e.out.size() != 0 {
		t.Fatalf("%d requests reached Slack, %d left in the outbox; want each of the %d once", n, e.out.size(), len(ids))
	}
}

// A 429 one node gets pauses the channel for every node until its
// Retry-After; other channels go on.
func TestSendersShareARateLimitPause(t *testing.T) {
	e := newSenderEnv(t, "")
	e.f.PushFor("", pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "7"}})
	limited := e.out.add(at(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), t0.Add(-time.Second)))
	if n := e.passAt(t, t0); n != 1 {
		t.Fatalf("first pass: %d requests, want the rate-limited one", n)
	}
	// Another node, which never saw the 429, holds back too.
	other := e.newSender()
	late := alertNote(pinwatchd.ChangeOpened, certExpiringAlert())
	elsewhere := alertNote(pinwatchd.ChangeOpened, certExpiringAlert())
	elsewhere.Channel = "#other"
	more := e.out.add(at(late, t0.Add(time.Second)), at(elsewhere, t0.Add(time.Second)))
	e.clock.Set(t0.Add(7*time.Second - time.Millisecond))
	before := len(e.f.Requests())
	passAndWait(t, other)
	if n := len(e.f.Requests()) - before; n != 1 {
		t.Fatalf("the other node sent %d messages during the pause, want only the other channel's", n)
	}
	if _, ok := e.out.row(more[0]); !ok {
		t.Errorf("the other node delivered to the paused channel")
	}
	e.clock.Set(t0.Add(7 * time.Second))
	before = len(e.f.Requests())
	passAndWait(t, other)
	if n := len(e.f.Requests()) - before; n != 2 || e.out.size() != 0 {
		t.Fatalf("after the pause: %d requests, %d left; want the paused channel's two delivered (ids %v, %v)", n, e.out.size(), limited, more[0])
	}
}

// A node that dies mid-send (its claims never released) holds its
// notifications for the lease only; then another node delivers them.
func TestLeaseOfADeadSenderEnds(t *testing.T) {
	e := newSenderEnv(t, "")
	id := e.out.add(at(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), t0.Add(-time.Second)))[0]
	// The dead node's claim, as it was when it stopped answering.
	if got, err := e.out.Claim(t.Context(), "dead", t0, t0.Add(Lease), pendingLimit); err != nil || len(got) != 1 {
		t.Fatalf("Claim = %v, %v", got, err)
	}
	if n := e.passAt(t, t0.Add(Lease-time.Second)); n != 0 {
		t.Fatalf("%d requests while the dead node's lease lasts", n)
	}
	if n := e.passAt(t, t0.Add(Lease)); n != 1 {
		t.Fatalf("%d requests once the lease ended, want the notification delivered", n)
	}
	if _, ok := e.out.row(id); ok {
		t.Errorf("the notification is still in the outbox")
	}
}
