package pinwatchdtest

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// The checks of OutboxContract about channels, parking and identity.

// IDs are never reused: after the notification with the highest ID was
// delivered, a new one gets a higher ID still, and a late Delivered of the
// old ID leaves the new one alone.
func checkIDsNeverReused(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Second)))
	highest := slices.Max(ids(in))
	c.delivered(t, highest)
	later := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0.Add(2*time.Second)))[0]
	if later.ID <= highest {
		t.Fatalf("a notification enqueued after %d was delivered got ID %d; IDs must never be reused", highest, later.ID)
	}
	c.delivered(t, highest) // late: another sender, or a repeated bookkeeping step
	wantIDs(t, "after a late Delivered of a removed ID", c.pending(t, now, 500), in[0].ID, later.ID)
}

// Pending's limit applies to each channel: a channel with a backlog never
// hides the notifications of another.
func checkLimitPerChannel(t *testing.T, c *contract) {
	on := func(n pinwatchd.Notification, channel string) pinwatchd.Notification {
		n.Channel = channel
		return n
	}
	var ns []pinwatchd.Notification
	for i := range 5 { // the busy channel's are the oldest
		ns = append(ns, on(c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Duration(i)*time.Second)), "#busy"))
	}
	ns = append(ns,
		on(c.alert(pinwatchd.ChangeOpened, ct0.Add(10*time.Second)), "#quiet"),
		on(c.alert(pinwatchd.ChangeOpened, ct0.Add(11*time.Second)), ""),
		on(c.alert(pinwatchd.ChangeOpened, ct0.Add(12*time.Second)), "#quiet"),
		on(c.alert(pinwatchd.ChangeOpened, ct0.Add(13*time.Second)), "#quiet"),
	)
	in := c.enqueue(t, ns...)
	busy, quiet, def := in[:5], []pinwatchd.Notification{in[5], in[7], in[8]}, in[6]
	wantIDs(t, "limit 2", c.pending(t, now, 2), busy[0].ID, busy[1].ID, quiet[0].ID, def.ID, quiet[1].ID)
	wantIDs(t, "limit 1", c.pending(t, now, 1), busy[0].ID, quiet[0].ID, def.ID)
	wantIDs(t, "limit 0", c.pending(t, now, 0))
	// Rows of a channel that are not due do not count against its limit.
	c.retry(t, busy[0].ID, now.Add(time.Hour), "slack answered 503")
	c.park(t, busy[1].ID, now, "channel_not_found")
	wantIDs(t, "limit 2, two of the busy channel not due", c.pending(t, now, 2),
		busy[2].ID, busy[3].ID, quiet[0].ID, def.ID, quiet[1].ID)
}

// Park counts the attempt and keeps the notification, with why it failed,
// out of Pending; the others are untouched.
func checkPark(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0.Add(time.Second)), c.alert(pinwatchd.ChangeOpened, ct0.Add(2*time.Second)))
	c.retry(t, in[0].ID, now, "slack answered 500")
	c.park(t, in[0].ID, now, "post to slack channel #gone: channel_not_found")
	c.park(t, in[1].ID, now, "post to slack webhook: slack server error: 404 Not Found")
	for _, at := range []time.Time{now, now.Add(time.Hour), now.Add(365 * 24 * time.Hour)} {
		got := c.pending(t, at, 500)
		wantIDs(t, "after two were parked", got, in[2].ID)
		if len(got) == 1 && (got[0].Attempts != 0 || got[0].LastError != "") {
			t.Errorf("Park of others changed notification %d: Attempts %d, LastError %q", got[0].ID, got[0].Attempts, got[0].LastError)
		}
	}
	c.delivered(t, in[2].ID)
	wantIDs(t, "only parked ones left", c.pending(t, now.Add(time.Hour), 500))
	// Kept: Requeue brings them back as they were parked.
	if n := c.requeue(t, now.Add(time.Minute)); n != 2 {
		t.Errorf("Requeue returned %d, want the 2 parked", n)
	}
	got := c.pending(t, now.Add(time.Minute), 500)
	wantIDs(t, "after Requeue", got, in[0].ID, in[1].ID)
	if len(got) == 2 {
		if g := got[0]; g.Attempts != 2 || g.LastError != "post to slack channel #gone: channel_not_found" {
			t.Errorf("parked after a retry: Attempts %d, LastError %q; want 2 and the refusal", g.Attempts, g.LastError)
		}
		if g := got[1]; g.Attempts != 1 || content(t, g) != content(t, in[1]) {
			t.Errorf("parked event came back with Attempts %d as %s", g.Attempts, content(t, g))
		}
	}
}

// Park of an unknown or delivered ID is not an error and changes nothing.
func checkParkUnknown(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Second)))
	c.delivered(t, in[0].ID)
	for _, id := range []int64{in[0].ID, in[1].ID + 1000, 0} {
		c.park(t, id, now, "channel_not_found")
	}
	got := c.pending(t, now, 500)
	wantIDs(t, "after Park of unknown ids", got, in[1].ID)
	if len(got) == 1 && (got[0].Attempts != 0 || got[0].LastError != "") {
		t.Errorf("a Park of an unknown id changed notification %d: Attempts %d, LastError %q", got[0].ID, got[0].Attempts, got[0].LastError)
	}
	if n := c.requeue(t, now); n != 0 {
		t.Errorf("Requeue returned %d after parking only unknown ids, want 0", n)
	}
}

// Requeue returns the parked notifications due at its time, counts them,
// and leaves the others alone; with none parked it returns 0.
func checkRequeue(t *testing.T, c *contract) {
	if n := c.requeue(t, now); n != 0 {
		t.Errorf("Requeue of an empty outbox returned %d", n)
	}
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Second)),
		c.alert(pinwatchd.ChangeOpened, ct0.Add(2*time.Second)))
	c.retry(t, in[1].ID, now.Add(time.Hour), "slack answered 503")
	c.park(t, in[0].ID, now, "is_archived")
	c.park(t, in[2].ID, now, "is_archived")
	at := now.Add(10*time.Minute + 300*time.Millisecond)
	if n := c.requeue(t, at); n != 2 {
		t.Errorf("Requeue returned %d, want 2", n)
	}
	wantIDs(t, "a second before Requeue's time", c.pending(t, at.Add(-time.Second), 500))
	got := c.pending(t, at, 500)
	wantIDs(t, "at Requeue's time", got, in[0].ID, in[2].ID)
	for _, g := range got {
		if !g.NextAttempt.Equal(at.Truncate(time.Second)) {
			t.Errorf("requeued %d: NextAttempt %s, want %s", g.ID, g.NextAttempt, at.Truncate(time.Second))
		}
	}
	if r := find(t, c.pending(t, now.Add(2*time.Hour), 500), in[1].ID); r.Attempts != 1 || !r.NextAttempt.Equal(now.Add(time.Hour)) {
		t.Errorf("Requeue changed a notification that was not parked: Attempts %d, NextAttempt %s", r.Attempts, r.NextAttempt)
	}
	if n := c.requeue(t, at); n != 0 {
		t.Errorf("a second Requeue returned %d, want 0", n)
	}
}
