package notify

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

func TestHoldUntil(t *testing.T) {
	g := func(created ...time.Time) Batch {
		var b Batch
		for _, c := range created {
			b.Notes = append(b.Notes, pinwatchd.Notification{CreatedAt: c})
		}
		return b
	}
	w := 10 * time.Second
	for _, tc := range []struct {
		name   string
		g      Batch
		window time.Duration
		want   time.Time
	}{
		{"no window", g(t0), 0, time.Time{}},
		{"nothing due", g(), w, time.Time{}},
		{"the oldest opens it", g(t0.Add(-3*time.Second), t0), w, t0.Add(7 * time.Second)},
		{"closed long ago", g(t0.Add(-time.Hour)), w, t0.Add(-time.Hour + w)},
		{"created a little ahead", g(t0.Add(5 * time.Second)), w, t0.Add(15 * time.Second)},
		{"created far ahead (another clock)", g(t0.Add(time.Hour)), w, time.Time{}},
	} {
		if got := holdUntil(tc.g, t0, tc.window); !got.Equal(tc.want) {
			t.Errorf("%s: holdUntil = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestBatches(t *testing.T) {
	notes := func(n int) Batch {
		b := Batch{Channel: "#c"}
		for i := range n {
			b.Notes = append(b.Notes, pinwatchd.Notification{ID: int64(i + 1)})
		}
		return b
	}
	ones := func(n int) []int { return slices.Repeat([]int{1}, n) }
	for _, tc := range []struct {
		name    string
		n       int
		digests bool
		sizes   []int
	}{
		{"five stay single", 5, true, ones(5)},
		{"six become a digest", 6, true, []int{6}},
		{"a full digest", MaxDigest, true, []int{MaxDigest}},
		{"one past the block limit splits evenly", MaxDigest + 1, true, []int{25, 24}},
		{"a hundred", 100, true, []int{34, 34, 32}},
		{"digests off", 12, false, ones(12)},
	} {
		var sizes []int
		var ids []int64
		for _, b := range batches(notes(tc.n), tc.digests) {
			if b.Channel != "#c" {
				t.Errorf("%s: a batch for channel %q", tc.name, b.Channel)
			}
			sizes = append(sizes, len(b.Notes))
			for _, n := range b.Notes {
				ids = append(ids, n.ID)
			}
		}
		if !slices.Equal(sizes, tc.sizes) {
			t.Errorf("%s: batch sizes %v, want %v", tc.name, sizes, tc.sizes)
		}
		if want := notes(tc.n); !slices.Equal(ids, idsOf(want.Notes)) {
			t.Errorf("%s: batches hold %v, want every notification once, in order", tc.name, ids)
		}
	}
}

func idsOf(ns []pinwatchd.Notification) []int64 {
	var out []int64
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// targetNote is an opened timeout alert of its own target, created at.
func targetNote(target, channel string, created time.Time) pinwatchd.Notification {
	a := timeoutAlert()
	a.Target = target
	n := alertNote(pinwatchd.ChangeOpened, a)
	n.Channel, n.CreatedAt = channel, created
	return n
}

// A round's changes reach the outbox one target at a time, each followed by
// a wake-up: none of them sends anything before the window closes, and then
// one digest lists every change.
func TestSenderCoalescesOverTheWindow(t *testing.T) {
	e := newSenderEnv(t, "")
	e.s = e.newSenderWindow(10 * time.Second)
	var names []string
	for i := range 12 {
		name := fmt.Sprintf("fleet-%02d", i)
		names = append(names, name)
		created := t0.Add(time.Duration(i) * 700 * time.Millisecond) // the round takes 8 s
		e.out.add(targetNote(name, "", created))
		if n := e.passAt(t, created); n != 0 { // the wake-up after each target
			t.Fatalf("%d requests on the wake-up after %s, inside the window", n, name)
		}
	}
	if n := e.passAt(t, t0.Add(9999*time.Millisecond)); n != 0 {
		t.Fatalf("%d requests just before the window closed", n)
	}
	if n := e.passAt(t, t0.Add(10*time.Second)); n != 1 {
		t.Fatalf("%d requests when the window closed, want one digest", n)
	}
	text := e.f.Requests()[0].Text()
	if !strings.HasPrefix(text, "12 pinwatchd notifications:") {
		t.Errorf("digest text starts %q", text[:min(len(text), 40)])
	}
	entries := pinwatchdtest.SlackEntries(text)
	for _, name := range names {
		if !slices.ContainsFunc(entries, func(x pinwatchdtest.SlackEntry) bool {
			return x.Target == name && x.Kind == string(pinwatchd.KindTimeout) && x.Change == "opened"
		}) {
			t.Errorf("the digest does not name %s timeout", name)
		}
	}
	if e.out.size() != 0 {
		t.Errorf("%d notifications left after the digest", e.out.size())
	}
}

// The Sender's next look at the outbox is when the window closes, so Run
// needs no wake-up to send the digest.
func TestSenderPassReportsTheWindowEnd(t *testing.T) {
	e := newSenderEnv(t, "")
	e.s = e.newSenderWindow(10 * time.Second)
	e.out.add(targetNote("a", "", t0.Add(-2*time.Second)), targetNote("b", "#other", t0))
	e.clock.Set(t0)
	next, fetched := e.s.pass(t.Context(), false)
	if !next.Equal(t0.Add(8*time.Second)) || fetched != 2 {
		t.Errorf("pass = next %s, %d fetched; want the first window's end %s and 2", next, fetched, t0.Add(8*time.Second))
	}
}

// Up to DigestThreshold changes in a window go out one message each, when
// the window closes.
func TestSenderWindowWithFewChanges(t *testing.T) {
	e := newSenderEnv(t, "")
	e.s = e.newSenderWindow(10 * time.Second)
	for i := range DigestThreshold {
		e.out.add(targetNote(fmt.Sprintf("t%d", i), "", t0.Add(time.Duration(i)*time.Second)))
	}
	if n := e.passAt(t, t0.Add(5*time.Second)); n != 0 {
		t.Fatalf("%d requests inside the window", n)
	}
	if n := e.passAt(t, t0.Add(10*time.Second)); n != DigestThreshold {
		t.Fatalf("%d requests, want %d single messages", n, DigestThreshold)
	}
	for _, r := range e.f.Requests() {
		if strings.Contains(r.Text(), "pinwatchd notifications") {
			t.Errorf("a digest for %d changes: %q", DigestThreshold, r.Text())
		}
	}
}

// digest_window = "0s": every notification goes alone, at once.
func TestSenderWithoutWindow(t *testing.T) {
	e := newSenderEnv(t, "")
	for i := range 12 {
		e.out.add(targetNote(fmt.Sprintf("t%02d", i), "", t0))
	}
	if n := e.passAt(t, t0); n != 12 {
		t.Fatalf("%d requests, want 12 single messages at once", n)
	}
}

// A fleet-wide event larger than one message can hold is split only where
// Slack's block limit forces it, and every entry is still named.
func TestSenderSplitsDigestsOnlyAtTheBlockLimit(t *testing.T) {
	e := newSenderEnv(t, testToken)
	e.s = e.newSenderWindow(10 * time.Second)
	var names []string
	for i := range 100 {
		names = append(names, fmt.Sprintf("t%03d", i))
		e.out.add(targetNote(names[i], "", t0))
	}
	if n := e.passAt(t, t0.Add(10*time.Second)); n != 3 {
		t.Fatalf("%d requests for 100 changes, want 3 digests (at most %d entries each)", n, MaxDigest)
	}
	named := map[string]int{}
	for _, r := range e.f.Requests() {
		var blocks []any
		if err := jsonUnmarshal(r.Form.Get("blocks"), &blocks); err != nil || len(blocks) > maxBlocks {
			t.Errorf("a digest of %d blocks (%v), Slack accepts %d", len(blocks), err, maxBlocks)
		}
		for _, x := range pinwatchdtest.SlackEntries(r.Text()) {
			if x.Kind == string(pinwatchd.KindTimeout) {
				named[x.Target]++
			}
		}
	}
	for _, name := range names {
		if named[name] != 1 {
			t.Errorf("%s named %d times across the digests, want once", name, named[name])
		}
	}
}
