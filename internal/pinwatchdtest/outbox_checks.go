package pinwatchdtest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// The checks of OutboxContract, one promise each.

// An empty outbox returns none and no error.
func checkEmpty(t *testing.T, c *contract) {
	if ns := c.pending(t, now, 500); len(ns) != 0 {
		t.Errorf("an empty outbox returned %d notifications", len(ns))
	}
}

// Pending returns the notifications as they were enqueued, not yet tried.
func checkContent(t *testing.T, c *contract) {
	esc := c.alert(pinwatchd.ChangeEscalated, ct0)
	esc.Channel, esc.PrevSeverity = "#api-team", pinwatchd.SeverityInfo
	esc.Alert.Severity = pinwatchd.SeverityCritical
	in := c.enqueue(t, esc, event(ct0.Add(time.Second)))
	got := c.pending(t, now, 500)
	wantIDs(t, "two enqueued", got, ids(in)...)
	for _, w := range in {
		g := find(t, got, w.ID)
		if gc, wc := content(t, g), content(t, w); gc != wc {
			t.Errorf("notification %d came back as\n%s\nwant\n%s", w.ID, gc, wc)
		}
		if !g.CreatedAt.Equal(w.CreatedAt) || g.Attempts != 0 || g.LastError != "" {
			t.Errorf("notification %d: CreatedAt %s, Attempts %d, LastError %q; want %s, 0, none",
				w.ID, g.CreatedAt, g.Attempts, g.LastError, w.CreatedAt)
		}
	}
	if in[0].Alert.ID == 0 {
		t.Errorf("the escalation was stored about alert 0, want the ID of the alert saved with it")
	}
}

// Pending returns the oldest first: by CreatedAt, then by ID.
func checkOrder(t *testing.T, c *contract) {
	in := c.enqueue(t,
		c.alert(pinwatchd.ChangeOpened, ct0.Add(2*time.Second)),
		c.alert(pinwatchd.ChangeOpened, ct0),
		event(ct0.Add(time.Second)),
	)
	more := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0.Add(-time.Minute)))
	wantIDs(t, "created out of order", c.pending(t, now, 500), more[1].ID, in[1].ID, more[0].ID, in[2].ID, in[0].ID)
}

// Pending returns up to limit notifications, the oldest.
func checkLimit(t *testing.T, c *contract) {
	var ns []pinwatchd.Notification
	for i := range 5 {
		ns = append(ns, c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Duration(4-i)*time.Second)))
	}
	in := c.enqueue(t, ns...)
	oldest := []int64{in[4].ID, in[3].ID, in[2].ID, in[1].ID, in[0].ID}
	for _, limit := range []int{0, 1, 2, 4, 5, 6, 500} {
		want := oldest[:min(limit, len(oldest))]
		wantIDs(t, "limit "+strconv.Itoa(limit), c.pending(t, now, limit), want...)
	}
}

// Pending returns only notifications whose NextAttempt is at or before now.
func checkDue(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Second)))
	next := now.Add(time.Minute)
	c.retry(t, in[0].ID, next, "slack answered 500")
	wantIDs(t, "now, before the retry", c.pending(t, now, 500), in[1].ID)
	wantIDs(t, "a second before the retry", c.pending(t, next.Add(-time.Second), 500), in[1].ID)
	wantIDs(t, "at the retry", c.pending(t, next, 500), in[0].ID, in[1].ID)
	wantIDs(t, "after the retry", c.pending(t, next.Add(time.Hour), 500), in[0].ID, in[1].ID)
}

// Retry adds an attempt and sets NextAttempt and LastError; the
// notification is otherwise unchanged and the others untouched.
func checkRetry(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0.Add(time.Second)))
	x, y := in[0].ID, in[1].ID
	for i, next := range []time.Time{now.Add(time.Second), now.Add(3 * time.Second), now.Add(2 * time.Second)} {
		lastError := "attempt " + strconv.Itoa(i+1) + " failed"
		c.retry(t, x, next, lastError)
		got := c.pending(t, now.Add(time.Hour), 500)
		wantIDs(t, "after a retry", got, x, y)
		gx, gy := find(t, got, x), find(t, got, y)
		if gx.Attempts != i+1 || !gx.NextAttempt.Equal(next) || gx.LastError != lastError {
			t.Errorf("after retry %d: Attempts %d, NextAttempt %s, LastError %q; want %d, %s, %q",
				i+1, gx.Attempts, gx.NextAttempt, gx.LastError, i+1, next, lastError)
		}
		if content(t, gx) != content(t, in[0]) || !gx.CreatedAt.Equal(in[0].CreatedAt) {
			t.Errorf("Retry changed the notification: %s at %s", content(t, gx), gx.CreatedAt)
		}
		if gy.Attempts != 0 || gy.LastError != "" {
			t.Errorf("Retry of %d changed %d: Attempts %d, LastError %q", x, y, gy.Attempts, gy.LastError)
		}
	}
}

// Retry of an unknown or delivered ID is not an error and changes nothing.
func checkRetryUnknown(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Second)))
	c.delivered(t, in[0].ID)
	for _, id := range []int64{in[0].ID, in[1].ID + 1000} {
		c.retry(t, id, now.Add(time.Hour), "late")
	}
	got := c.pending(t, now, 500)
	wantIDs(t, "after retries of unknown ids", got, in[1].ID)
	if len(got) == 1 && (got[0].Attempts != 0 || got[0].LastError != "") {
		t.Errorf("a retry of an unknown id changed notification %d: Attempts %d, LastError %q",
			got[0].ID, got[0].Attempts, got[0].LastError)
	}
}

// Delivered removes the notifications; it is idempotent, and unknown IDs
// are not an error.
func checkDelivered(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0.Add(time.Second)),
		c.alert(pinwatchd.ChangeOpened, ct0.Add(2*time.Second)))
	c.delivered(t)
	wantIDs(t, "after Delivered of no ids", c.pending(t, now, 500), ids(in)...)
	c.delivered(t, in[0].ID, in[2].ID)
	wantIDs(t, "after Delivered of two", c.pending(t, now, 500), in[1].ID)
	c.delivered(t, in[0].ID, in[2].ID)
	wantIDs(t, "after Delivered of the same two again", c.pending(t, now, 500), in[1].ID)
	c.delivered(t, in[2].ID+1000, in[1].ID, in[0].ID)
	wantIDs(t, "after Delivered of the last with unknown ids", c.pending(t, now, 500))
}

// A notification about an alert whose opener was recorded with SetThread
// carries the thread, also when it was enqueued before the opener was
// delivered, and also when it is enqueued afterwards.
func checkThread(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), c.alert(pinwatchd.ChangeOpened, ct0), event(ct0))
	opener, other, ev := in[0], in[1], in[2]
	resolve := c.enqueue(t, followUp(opener, pinwatchd.ChangeResolved, ct0.Add(time.Second)))[0]
	c.delivered(t, opener.ID)
	th := [2]string{"CTLS-ALERTS", "1700000000.000001"}
	c.setThread(t, opener.Alert.ID, th[0], th[1])
	reminder := c.enqueue(t, followUp(opener, pinwatchd.ChangeReminder, ct0.Add(2*time.Second)))[0]
	if reminder.Alert.ID != opener.Alert.ID || resolve.Alert.ID != opener.Alert.ID {
		t.Fatalf("follow-ups stored about alerts %d and %d, want %d", resolve.Alert.ID, reminder.Alert.ID, opener.Alert.ID)
	}
	got := c.pending(t, now, 500)
	wantIDs(t, "after the opener was delivered", got, other.ID, ev.ID, resolve.ID, reminder.ID)
	if g := thread(find(t, got, resolve.ID)); g != th {
		t.Errorf("resolve enqueued before the opener was delivered: thread %q, want %q", g, th)
	}
	if g := thread(find(t, got, reminder.ID)); g != th {
		t.Errorf("reminder enqueued after the thread was recorded: thread %q, want %q", g, th)
	}
	if g := thread(find(t, got, other.ID)); g != [2]string{} {
		t.Errorf("the opener of another alert has thread %q, want none", g)
	}
	if e := find(t, got, ev.ID); e.Alert != nil {
		t.Errorf("a chain_changed notification has an alert: %+v", e.Alert)
	}
}

// SetThread overwrites an earlier thread, also one a notification carried
// when it was enqueued.
func checkThreadOverwritten(t *testing.T, c *contract) {
	opener := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0))[0]
	c.setThread(t, opener.Alert.ID, "CFIRST", "1700000000.000001")
	stale := followUp(opener, pinwatchd.ChangeEscalated, ct0.Add(time.Second))
	stale.Alert.Channel, stale.Alert.ThreadTS = "CFIRST", "1700000000.000001"
	esc := c.enqueue(t, stale)[0]
	th := [2]string{"CSECOND", "1700000000.000002"}
	c.setThread(t, opener.Alert.ID, th[0], th[1])
	got := c.pending(t, now, 500)
	wantIDs(t, "opener and escalation", got, opener.ID, esc.ID)
	for _, n := range got {
		if g := thread(n); g != th {
			t.Errorf("%s after the thread was overwritten: thread %q, want %q", n.Type, g, th)
		}
	}
}

// SetThread of an unknown alert is not an error and threads nothing.
func checkThreadUnknown(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0.Add(time.Second)))
	for _, id := range []int64{in[0].Alert.ID + 1000, 0, -1} {
		c.setThread(t, id, "CNOWHERE", "1700000000.000009")
	}
	got := c.pending(t, now, 500)
	wantIDs(t, "after SetThread of unknown alerts", got, ids(in)...)
	for _, n := range got {
		if g := thread(n); g != [2]string{} {
			t.Errorf("%s has thread %q after SetThread of unknown alerts, want none", n.Type, g)
		}
	}
}

// Times are stored to the second: two notifications created within one
// second are of the same time, so they come in ID order.
func checkSameSecond(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0.Add(700*time.Millisecond)),
		c.alert(pinwatchd.ChangeOpened, ct0.Add(200*time.Millisecond)))
	wantIDs(t, "created within one second, later first", c.pending(t, now, 500), ids(in)...)
}

// Times are stored to the second: CreatedAt comes back truncated.
func checkCreatedSecond(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0.Add(700*time.Millisecond)))
	got := c.pending(t, now, 500)
	wantIDs(t, "one enqueued", got, ids(in)...)
	if len(got) == 1 && !got[0].CreatedAt.Equal(ct0) {
		t.Errorf("CreatedAt %s, enqueued %s; want %s (stored to the second)",
			got[0].CreatedAt.Format(time.RFC3339Nano), in[0].CreatedAt.Format(time.RFC3339Nano), ct0.Format(time.RFC3339Nano))
	}
}

// Times are stored to the second: a retry's NextAttempt comes back
// truncated, and is due from that second on.
func checkNextSecond(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0))
	next := now.Add(10*time.Second + 600*time.Millisecond)
	c.retry(t, in[0].ID, next, "slack answered 503")
	wantIDs(t, "in the second before NextAttempt's", c.pending(t, now.Add(9*time.Second+900*time.Millisecond), 500))
	got := c.pending(t, now.Add(10*time.Second+100*time.Millisecond), 500)
	wantIDs(t, "in NextAttempt's second, before it", got, in[0].ID)
	if len(got) == 1 && !got[0].NextAttempt.Equal(now.Add(10*time.Second)) {
		t.Errorf("NextAttempt %s after Retry with %s; want %s (stored to the second)",
			got[0].NextAttempt.Format(time.RFC3339Nano), next.Format(time.RFC3339Nano), now.Add(10*time.Second).Format(time.RFC3339Nano))
	}
}

// All methods are safe for concurrent use (run the suite with -race).
func checkConcurrent(t *testing.T, c *contract) {
	var ns []pinwatchd.Notification
	for i := range 40 {
		ns = append(ns, c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Duration(i)*time.Second)))
	}
	in := c.enqueue(t, ns...)
	ctx := t.Context()
	var workers, readers sync.WaitGroup
	for w := range 4 {
		workers.Go(func() {
			for i := w; i < len(in); i += 4 {
				if err := c.o.Retry(ctx, in[i].ID, now, "busy"); err != nil {
					t.Errorf("Retry(%d) = %v", in[i].ID, err)
				}
				if err := c.o.SetThread(ctx, in[i].Alert.ID, "CTLS", "1700000000.000001"); err != nil {
					t.Errorf("SetThread(%d) = %v", in[i].Alert.ID, err)
				}
				if err := c.o.Delivered(ctx, in[i].ID); err != nil {
					t.Errorf("Delivered(%d) = %v", in[i].ID, err)
				}
			}
		})
	}
	done := make(chan struct{})
	for range 2 {
		readers.Go(func() {
			for {
				if _, err := c.o.Pending(ctx, now, 500); err != nil {
					t.Errorf("Pending = %v", err)
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	workers.Wait()
	close(done)
	readers.Wait()
	if got := c.pending(t, now, 500); len(got) != 0 {
		t.Errorf("%d notifications left after every one was delivered: %v", len(got), ids(got))
	}
}
