package pinwatchdtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// The checks of OutboxContract about the nodes that share one outbox
// (SPEC §14): claims, their leases, and pauses.

// lease is how long the checks' claims last.
const lease = 30 * time.Second

func (c *contract) claim(t *testing.T, owner string, at time.Time) []pinwatchd.Notification {
	t.Helper()
	ns, err := c.o.Claim(t.Context(), owner, at, at.Add(lease), 500)
	if err != nil {
		t.Fatalf("Claim(%s, %s) = %v", owner, at.Format(time.RFC3339), err)
	}
	return ns
}

// Claim returns what Pending returns and leases it: another owner gets
// none of it until the lease ends, the owner gets it again (extending the
// lease), and after the lease another owner takes it over.
func checkClaim(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0.Add(time.Second)))
	got := c.claim(t, "a", now)
	wantIDs(t, "a's claim", got, ids(in)...)
	for _, w := range in {
		if g := find(t, got, w.ID); content(t, g) != content(t, w) {
			t.Errorf("claimed notification %d came back as\n%s\nwant\n%s", w.ID, content(t, g), content(t, w))
		}
	}
	wantIDs(t, "Pending while claimed", c.pending(t, now, 500), ids(in)...)
	wantIDs(t, "b's claim while a's lease lasts", c.claim(t, "b", now.Add(lease-time.Second)))
	wantIDs(t, "a's claim again", c.claim(t, "a", now.Add(lease-time.Second)), ids(in)...)
	// a's second claim extended the lease to now+2·lease-1s.
	wantIDs(t, "b's claim within the extended lease", c.claim(t, "b", now.Add(lease+time.Second)))
	wantIDs(t, "b's claim after a's lease", c.claim(t, "b", now.Add(2*lease)), ids(in)...)
	wantIDs(t, "a's claim while b's lease lasts", c.claim(t, "a", now.Add(2*lease)))
}

// A channel is delivered by one owner at a time: while a holds a lease on
// one of a channel's notifications, another owner claims none of that
// channel, not even newer ones, but claims other channels.
func checkClaimChannel(t *testing.T, c *contract) {
	first := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0))
	wantIDs(t, "a's claim", c.claim(t, "a", now), first[0].ID)
	later := c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Minute))
	other := c.alert(pinwatchd.ChangeOpened, ct0.Add(time.Minute))
	other.Channel = "#other"
	more := c.enqueue(t, later, other)
	wantIDs(t, "b's claim", c.claim(t, "b", now), more[1].ID)
	wantIDs(t, "a's next claim", c.claim(t, "a", now), first[0].ID, more[0].ID)
}

// Retry, Park and Release end a claim: another owner claims the
// notification as soon as it is due. (The events share the channel
// "#changes", the alert the default one.)
func checkClaimEnds(t *testing.T, c *contract) {
	in := c.enqueue(t, c.alert(pinwatchd.ChangeOpened, ct0), event(ct0), event(ct0.Add(time.Second)))
	wantIDs(t, "a's claim", c.claim(t, "a", now), ids(in)...)
	c.retry(t, in[0].ID, now.Add(time.Second), "slack answered 503")
	c.park(t, in[1].ID, now, "channel_not_found")
	wantIDs(t, "b's claim after a's retry", c.claim(t, "b", now.Add(time.Second)), in[0].ID)
	if err := c.o.Release(t.Context(), "b"); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if err := c.o.Release(t.Context(), "a"); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if err := c.o.Release(t.Context(), "a"); err != nil {
		t.Fatalf("Release again = %v", err)
	}
	wantIDs(t, "c's claim after the releases", c.claim(t, "c", now.Add(time.Second)), in[0].ID, in[2].ID)
}

// A paused channel is claimed by no owner until the pause ends; a shorter
// pause does not cut a longer one; other channels go on.
func checkPause(t *testing.T, c *contract) {
	paused := c.alert(pinwatchd.ChangeOpened, ct0)
	other := c.alert(pinwatchd.ChangeOpened, ct0)
	other.Channel = "#other"
	in := c.enqueue(t, paused, other)
	for _, p := range []time.Duration{10 * time.Minute, time.Minute} {
		if err := c.o.Pause(t.Context(), "", now.Add(p)); err != nil {
			t.Fatalf("Pause = %v", err)
		}
	}
	wantIDs(t, "claim during the pause", c.claim(t, "a", now), in[1].ID)
	wantIDs(t, "claim after the shorter pause", c.claim(t, "b", now.Add(5*time.Minute)), in[1].ID)
	wantIDs(t, "claim after the pause", c.claim(t, "b", now.Add(10*time.Minute)), in[0].ID, in[1].ID)
}

// Owners claiming at the same time never both get one notification.
func checkClaimConcurrent(t *testing.T, c *contract) {
	var ns []pinwatchd.Notification
	for i := range 40 {
		n := c.alert(pinwatchd.ChangeOpened, ct0)
		n.Channel = fmt.Sprintf("#c%d", i%8)
		ns = append(ns, n)
	}
	in := c.enqueue(t, ns...)
	var mu sync.Mutex
	owner := map[int64]string{}
	var wg sync.WaitGroup
	for o := range 4 {
		name := fmt.Sprintf("node-%d", o)
		wg.Go(func() {
			got, err := c.o.Claim(t.Context(), name, now, now.Add(lease), 500)
			if err != nil {
				t.Errorf("Claim(%s) = %v", name, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, n := range got {
				if prev, ok := owner[n.ID]; ok {
					t.Errorf("notification %d claimed by %s and %s", n.ID, prev, name)
				}
				owner[n.ID] = name
			}
		})
	}
	wg.Wait()
	var claimed []int64
	for id := range owner {
		claimed = append(claimed, id)
	}
	slices.Sort(claimed)
	if !slices.Equal(claimed, ids(in)) {
		t.Errorf("claimed %v, want every notification once: %v", claimed, ids(in))
	}
}
