package pinwatchdtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Outbox has the method set of notify.Outbox, whose doc comments are the
// contract OutboxContract checks. It is declared again here because notify's
// own tests import this package; a test asserts that the two stay the same.
type Outbox interface {
	Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error)
	Delivered(ctx context.Context, ids ...int64) error
	Retry(ctx context.Context, id int64, next time.Time, lastError string) error
	Park(ctx context.Context, id int64, at time.Time, lastError string) error
	Requeue(ctx context.Context, now time.Time) (int, error)
	SetThread(ctx context.Context, alertID int64, channel, ts string) error
	Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]pinwatchd.Notification, error)
	Release(ctx context.Context, owner string) error
	Pause(ctx context.Context, channel string, until time.Time) error
}

// Enqueue stores notifications in the outbox under test the way the code
// that feeds it does, and returns them as stored: with their IDs, and with
// Alert.ID set. A notification whose Alert has ID 0 is about a new alert,
// saved with it (the notifications of one call with the same Target, Kind
// and Subject are about the same new alert); one whose Alert has an ID is
// about that alert. The suite passes notifications with Attempts, LastError
// and NextAttempt zero and CreatedAt before every time it asks Pending
// about. It fails the test on error.
type Enqueue func(t *testing.T, ns ...pinwatchd.Notification) []pinwatchd.Notification

// OutboxContract checks that an Outbox keeps every promise of notify.Outbox's
// doc comments, one subtest per promise: an empty outbox returns none;
// Pending returns the notifications as enqueued, oldest first (CreatedAt,
// then ID), at most limit of each channel, only those due and not parked;
// Retry counts the attempt and sets NextAttempt and LastError, and ignores
// unknown IDs; Park counts the attempt, keeps LastError and leaves the
// notification out of Pending until Requeue, which returns every parked one
// due at its time and counts them; Park ignores unknown IDs; Delivered
// removes, is idempotent and ignores unknown IDs; IDs are never reused, so a
// late Delivered never removes a newer notification; SetThread threads the alert's
// notifications (enqueued before or after, overwriting earlier threads) and
// ignores unknown alerts; times are kept to the second; the methods are safe
// for concurrent use (run it with -race). Claim leases what Pending returns
// to one owner, a channel at a time, except paused channels; a lease ends
// with its time, Retry, Park or Release; concurrent owners never claim one
// notification both. open returns a new, empty outbox
// and the way to fill it; it is called once per subtest.
func OutboxContract(t *testing.T, open func(t *testing.T) (Outbox, Enqueue)) {
	for _, ch := range outboxChecks {
		t.Run(ch.name, func(t *testing.T) {
			o, enqueue := open(t)
			ch.fn(t, &contract{o: o, enqueue: enqueue})
		})
	}
}

// outboxCheck is one promise of the contract.
type outboxCheck struct {
	name string
	fn   func(t *testing.T, c *contract)
}

var outboxChecks = []outboxCheck{
	{"empty outbox", checkEmpty},
	{"content kept", checkContent},
	{"oldest first", checkOrder},
	{"limit", checkLimit},
	{"due at or before now", checkDue},
	{"retry", checkRetry},
	{"retry of an unknown id", checkRetryUnknown},
	{"delivered", checkDelivered},
	{"ids never reused", checkIDsNeverReused},
	{"limit per channel", checkLimitPerChannel},
	{"park", checkPark},
	{"park of an unknown id", checkParkUnknown},
	{"requeue", checkRequeue},
	{"thread", checkThread},
	{"thread overwritten", checkThreadOverwritten},
	{"claim", checkClaim},
	{"claim keeps a channel with one owner", checkClaimChannel},
	{"claim ends with retry, park and release", checkClaimEnds},
	{"pause", checkPause},
	{"claims of concurrent owners", checkClaimConcurrent},
	{"thread of an unknown alert", checkThreadUnknown},
	{"same second in id order", checkSameSecond},
	{"created at to the second", checkCreatedSecond},
	{"next attempt to the second", checkNextSecond},
	{"concurrent use", checkConcurrent},
}

// ct0 is when the suite's notifications are created; now is when it asks
// for them unless a check says otherwise.
var (
	ct0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now = ct0.Add(time.Hour)
)

// contract is one check's outbox.
type contract struct {
	o       Outbox
	enqueue Enqueue
	alerts  int // new alerts handed out so far, for their names
}

// alert returns a notification of typ about a new alert with a target of
// its own, created at.
func (c *contract) alert(typ pinwatchd.ChangeType, at time.Time) pinwatchd.Notification {
	c.alerts++
	a := pinwatchd.Alert{Target: fmt.Sprintf("target-%d", c.alerts), Kind: pinwatchd.KindMissingBackupPin,
		Severity: pinwatchd.SeverityWarning, Subject: "inline", Addresses: []string{"127.0.0.1:8443"},
		State: pinwatchd.AlertOpen, Message: "pin-set \"inline\" has a single pin", OpenedAt: at}
	return pinwatchd.Notification{Type: typ, Alert: &a, CreatedAt: at}
}

// followUp returns a notification of typ about the alert of n, created at.
func followUp(n pinwatchd.Notification, typ pinwatchd.ChangeType, at time.Time) pinwatchd.Notification {
	a := *n.Alert
	a.Addresses = slices.Clone(a.Addresses)
	a.Channel, a.ThreadTS = "", ""
	if typ == pinwatchd.ChangeResolved {
		a.State, a.ResolvedAt, a.ResolveReason = pinwatchd.AlertResolved, at, "a backup pin was added"
	}
	if typ == pinwatchd.ChangeReminder {
		a.LastNotifiedAt = at.Add(-time.Hour)
	}
	return pinwatchd.Notification{Type: typ, Alert: &a, CreatedAt: at}
}

// event returns a chain_changed notification created at.
func event(at time.Time) pinwatchd.Notification {
	return pinwatchd.Notification{Type: pinwatchd.ChangeChainChanged, Channel: "#changes", CreatedAt: at,
		Event: &pinwatchd.Event{Time: at, Target: "api", Address: "127.0.0.1:8443", Event: pinwatchd.EventChainChanged,
			Class: pinwatchd.ChangeKeyRotated, OldLeafPin: "n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=",
			NewLeafPin: "Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=", OldLeafSHA256: "aa11", NewLeafSHA256: "bb22",
			Issuer: "CN=Test Intermediate", NotAfter: at.Add(90 * 24 * time.Hour)}}
}

// pending calls Pending and fails the test on error.
func (c *contract) pending(t *testing.T, at time.Time, limit int) []pinwatchd.Notification {
	t.Helper()
	ns, err := c.o.Pending(t.Context(), at, limit)
	if err != nil {
		t.Fatalf("Pending(%s, %d) = %v", at.Format(time.RFC3339Nano), limit, err)
	}
	return ns
}

// retry calls Retry and fails the test on error.
func (c *contract) retry(t *testing.T, id int64, next time.Time, lastError string) {
	t.Helper()
	if err := c.o.Retry(t.Context(), id, next, lastError); err != nil {
		t.Fatalf("Retry(%d) = %v", id, err)
	}
}

// delivered calls Delivered and fails the test on error.
func (c *contract) delivered(t *testing.T, ids ...int64) {
	t.Helper()
	if err := c.o.Delivered(t.Context(), ids...); err != nil {
		t.Fatalf("Delivered(%v) = %v", ids, err)
	}
}

// park calls Park and fails the test on error.
func (c *contract) park(t *testing.T, id int64, at time.Time, lastError string) {
	t.Helper()
	if err := c.o.Park(t.Context(), id, at, lastError); err != nil {
		t.Fatalf("Park(%d) = %v", id, err)
	}
}

// requeue calls Requeue and fails the test on error.
func (c *contract) requeue(t *testing.T, at time.Time) int {
	t.Helper()
	n, err := c.o.Requeue(t.Context(), at)
	if err != nil {
		t.Fatalf("Requeue(%s) = %v", at.Format(time.RFC3339), err)
	}
	return n
}

// setThread calls SetThread and fails the test on error.
func (c *contract) setThread(t *testing.T, alertID int64, channel, ts string) {
	t.Helper()
	if err := c.o.SetThread(t.Context(), alertID, channel, ts); err != nil {
		t.Fatalf("SetThread(%d, %q, %q) = %v", alertID, channel, ts, err)
	}
}

// ids returns the IDs of ns.
func ids(ns []pinwatchd.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// wantIDs fails the test unless got holds the notifications of want, in
// that order.
func wantIDs(t *testing.T, what string, got []pinwatchd.Notification, want ...int64) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, want) && (len(g) != 0 || len(want) != 0) {
		t.Errorf("%s: Pending returned ids %v, want %v", what, g, want)
	}
}

// find returns the notification of id in ns.
func find(t *testing.T, ns []pinwatchd.Notification, id int64) pinwatchd.Notification {
	t.Helper()
	for _, n := range ns {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("notification %d is not pending (pending: %v)", id, ids(ns))
	return pinwatchd.Notification{}
}

// content returns what n says, without what the outbox keeps about it
// (ID, CreatedAt, Attempts, NextAttempt, LastError) and without the thread
// of its alert, in a form easy to compare.
func content(t *testing.T, n pinwatchd.Notification) string {
	t.Helper()
	n.ID, n.CreatedAt, n.Attempts, n.NextAttempt, n.LastError = 0, time.Time{}, 0, time.Time{}, ""
	if n.Alert != nil {
		a := *n.Alert
		a.Channel, a.ThreadTS = "", ""
		n.Alert = &a
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// thread returns the thread a pending notification carries.
func thread(n pinwatchd.Notification) [2]string {
	if n.Alert == nil {
		return [2]string{}
	}
	return [2]string{n.Alert.Channel, n.Alert.ThreadTS}
}
