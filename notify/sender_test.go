package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

var t0 = fixedNow

type senderEnv struct {
	f     *pinwatchdtest.Slack
	out   *memOutbox
	clock *fakeClock
	logs  *pinwatchdtest.SyncBuffer
	slack *Slack
	s     *Sender
}

// newSenderEnv wires a Sender to a fake Slack through a webhook, or through
// the Web API with token when token is set.
func newSenderEnv(t *testing.T, token string) *senderEnv {
	t.Helper()
	e := &senderEnv{f: pinwatchdtest.NewSlack(t), out: newMemOutbox(), clock: &fakeClock{now: t0}, logs: &pinwatchdtest.SyncBuffer{}}
	cfg := SlackConfig{WebhookURL: e.f.WebhookURL(), Timeout: 5 * time.Second, Now: e.clock.Now, Log: jsonLogger(e.logs)}
	if token != "" {
		cfg = SlackConfig{Token: token, Channel: "#tls-alerts", APIURL: e.f.APIURL(), Timeout: 5 * time.Second, Now: e.clock.Now, Log: jsonLogger(e.logs)}
	}
	var err error
	if e.slack, err = NewSlack(cfg); err != nil {
		t.Fatal(err)
	}
	e.s = e.newSender()
	return e
}

func (e *senderEnv) newSender() *Sender {
	return e.newSenderWindow(0)
}

// newSenderWindow returns a Sender with a digest window.
func (e *senderEnv) newSenderWindow(window time.Duration) *Sender {
	return NewSender(SenderConfig{Outbox: e.out, Slack: e.slack, Log: jsonLogger(e.logs), Now: e.clock.Now, After: e.clock.After,
		DigestWindow: window})
}

// passAt runs one pass of the sender at time at, waits for the deliveries
// it started, and returns how many requests reached Slack meanwhile.
func (e *senderEnv) passAt(t *testing.T, at time.Time) int {
	t.Helper()
	e.clock.Set(at)
	before := len(e.f.Requests())
	passAndWait(t, e.s)
	return len(e.f.Requests()) - before
}

// passAndWait runs one pass of s and waits for the deliveries it started.
func passAndWait(t *testing.T, s *Sender) {
	t.Helper()
	s.pass(t.Context(), false)
	s.workers.Wait()
}

// at returns a copy of n created at t.
func at(n pinwatchd.Notification, t time.Time) pinwatchd.Notification {
	n.CreatedAt = t
	return n
}

func TestSenderDeliversEveryKindAndLogsIt(t *testing.T) {
	e := newSenderEnv(t, "")
	notes := everyKindNotes()
	for i := range notes {
		notes[i].CreatedAt = t0.Add(time.Duration(i-20) * time.Second) // one round each
	}
	ids := e.out.add(notes...)
	if n := e.passAt(t, t0); n != len(notes) {
		t.Fatalf("%d requests for %d notifications", n, len(notes))
	}
	for i, r := range e.f.Requests() {
		if want := Render(&notes[i], t0).Text; r.Text() != want {
			t.Errorf("request %d text %q, want %q", i, r.Text(), want)
		}
	}
	if e.out.size() != 0 || !slices.Equal(e.out.delivered, ids) {
		t.Errorf("delivered %v, want %v in order; %d left", e.out.delivered, ids, e.out.size())
	}
	var logged []string
	for _, l := range e.logs.Lines(t) {
		if l["change"] != nil {
			logged = append(logged, fmt.Sprint(l["kind"], " ", l["target"]))
		}
	}
	if len(logged) != len(notes) {
		t.Errorf("%d notification log lines for %d notifications: %v", len(logged), len(notes), logged)
	}
	if n := e.passAt(t, t0.Add(time.Hour)); n != 0 {
		t.Errorf("%d requests after everything was delivered", n)
	}
}

func TestSenderRetriesServerErrorsThenDeliversOnce(t *testing.T) {
	e := newSenderEnv(t, "")
	e.f.Push(pinwatchdtest.SlackReply{Status: 500}, pinwatchdtest.SlackReply{Status: 503})
	id := e.out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()))[0]

	if n := e.passAt(t, t0); n != 1 {
		t.Fatalf("first pass: %d requests", n)
	}
	row, _ := e.out.row(id)
	if row.Attempts != 1 || !row.NextAttempt.Equal(t0.Add(time.Second)) || !strings.Contains(row.LastError, "500") {
		t.Fatalf("after a 500: attempts %d, next %s, last error %q; want 1, +1s, the 500", row.Attempts, row.NextAttempt, row.LastError)
	}
	if n := e.passAt(t, t0.Add(999*time.Millisecond)); n != 0 {
		t.Fatalf("%d requests before the backoff elapsed", n)
	}
	if n := e.passAt(t, t0.Add(time.Second)); n != 1 {
		t.Fatalf("no retry once the backoff elapsed")
	}
	row, _ = e.out.row(id)
	if row.Attempts != 2 || !row.NextAttempt.Equal(t0.Add(3*time.Second)) || !strings.Contains(row.LastError, "503") {
		t.Fatalf("after a 503: attempts %d, next %s, last error %q; want 2, +3s (backoff 2s), the 503", row.Attempts, row.NextAttempt, row.LastError)
	}
	if n := e.passAt(t, t0.Add(2*time.Second)); n != 0 {
		t.Fatalf("%d requests before the doubled backoff elapsed", n)
	}
	if n := e.passAt(t, t0.Add(3*time.Second)); n != 1 {
		t.Fatalf("no retry once the doubled backoff elapsed")
	}
	if _, ok := e.out.row(id); ok || !slices.Equal(e.out.delivered, []int64{id}) {
		t.Fatalf("not delivered exactly once: delivered %v", e.out.delivered)
	}
	if n := e.passAt(t, t0.Add(time.Minute)); n != 0 {
		t.Errorf("%d requests after delivery", n)
	}
}

// A 429 pauses its channel for the Retry-After; another channel goes on.
func TestSenderHonoursRetryAfter(t *testing.T) {
	e := newSenderEnv(t, "")
	e.f.PushFor("", pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "7"}})
	a := alertNote(pinwatchd.ChangeOpened, pinMismatchAlert())
	a2 := resolveNote()
	b := alertNote(pinwatchd.ChangeOpened, certExpiringAlert())
	b.Channel = "#other"
	ids := e.out.add(at(a, t0.Add(-3*time.Second)), at(a2, t0.Add(-2*time.Second)), at(b, t0.Add(-time.Second)))

	if n := e.passAt(t, t0); n != 2 {
		t.Fatalf("first pass: %d requests; want the rate-limited one and the other channel's", n)
	}
	ra, _ := e.out.row(ids[0])
	ra2, _ := e.out.row(ids[1])
	if _, ok := e.out.row(ids[2]); ok {
		t.Errorf("the other channel's notification was held back by a 429 of the default channel")
	}
	if ra.Attempts != 1 || !ra.NextAttempt.Equal(t0.Add(7*time.Second)) || ra2.Attempts != 0 {
		t.Fatalf("rate-limited: %+v / %+v", ra, ra2)
	}
	for _, d := range []time.Duration{time.Second, 6 * time.Second, 6999 * time.Millisecond} {
		if n := e.passAt(t, t0.Add(d)); n != 0 {
			t.Fatalf("%d requests %s into a Retry-After of 7s", n, d)
		}
	}
	if n := e.passAt(t, t0.Add(7*time.Second)); n != 2 || e.out.size() != 0 {
		t.Fatalf("after Retry-After: %d requests, %d left; want both of the paused channel delivered", n, e.out.size())
	}
}

func TestSenderThreadsBotMessages(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			e := newSenderEnv(t, testToken)
			// Without a restart the Sender's own memory must thread the
			// follow-ups; after one, the outbox supplies the thread.
			e.out.fillThreads = restart
			e.out.add(at(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), t0))
			if n := e.passAt(t, t0); n != 1 {
				t.Fatalf("opener: %d requests", n)
			}
			th, ok := e.out.threads[12]
			if !ok || th[0] != "CTLS-ALERTS" || th[1] == "" {
				t.Fatalf("opener's thread not recorded: %v", e.out.threads)
			}
			if restart {
				e.s = e.newSender()
			}
			e.out.add(at(reminderNote(), t0.Add(time.Hour)), at(resolveNote(), t0.Add(2*time.Hour)))
			if n := e.passAt(t, t0.Add(3*time.Hour)); n != 3 {
				t.Fatalf("%d requests, want reminder, resolve and update", n)
			}
			reqs := e.f.Requests()[1:]
			for i, r := range reqs[:2] {
				if r.Path != "/api/chat.postMessage" || r.Form.Get("channel") != th[0] || r.Form.Get("thread_ts") != th[1] {
					t.Errorf("follow-up %d not in the opener's thread: %s %v", i, r.Path, r.Form)
				}
			}
			if up := reqs[2]; up.Path != "/api/chat.update" || up.Form.Get("ts") != th[1] || !strings.HasPrefix(up.Text(), "Resolved") {
				t.Errorf("opener not updated on resolve: %s %v", up.Path, up.Form)
			}
		})
	}
}

func TestSenderDigestsABusyRound(t *testing.T) {
	e := newSenderEnv(t, "")
	e.s = e.newSenderWindow(10 * time.Second)
	busy := digestNotes() // seven for #api-team
	var five, two []pinwatchd.Notification
	for i := range 5 {
		a := timeoutAlert()
		a.Target = fmt.Sprintf("five-%d", i)
		n := alertNote(pinwatchd.ChangeOpened, a)
		n.Channel = "#five"
		five = append(five, n)
	}
	two = []pinwatchd.Notification{alertNote(pinwatchd.ChangeOpened, missingBackupAlert()), eventNote(chainChangedEvent())}
	e.out.add(slices.Concat(busy, five, two)...)
	if n := e.passAt(t, t0.Add(9*time.Second)); n != 0 {
		t.Fatalf("%d requests inside the digest window", n)
	}
	if n := e.passAt(t, t0.Add(10*time.Second)); n != 1+5+2 {
		t.Fatalf("%d requests; want one digest for #api-team and 7 single messages", n)
	}
	var digests []pinwatchdtest.SlackRequest
	for _, r := range e.f.Requests() {
		if strings.Contains(r.Text(), "pinwatchd notifications") {
			digests = append(digests, r)
		}
	}
	if len(digests) != 1 || digests[0].JSON["channel"] != "#api-team" || !strings.HasPrefix(digests[0].Text(), "7 pinwatchd notifications:") {
		t.Fatalf("digests: %v", digests)
	}
	for i := range busy {
		kind, target := kindAndTarget(&busy[i])
		if !strings.Contains(digests[0].Text(), kind+" on "+esc(target)) && !strings.Contains(digests[0].Text(), kind+" (key_rotated) on "+target) {
			t.Errorf("digest does not list %s on %s", kind, target)
		}
	}
	if e.out.size() != 0 {
		t.Errorf("%d notifications left", e.out.size())
	}
}

// A failure holds back the rest of its channel so that order is kept; other
// channels go on.
func TestSenderKeepsOrderPerChannel(t *testing.T) {
	e := newSenderEnv(t, "")
	e.f.PushFor("", pinwatchdtest.SlackReply{Status: 502})
	a1 := at(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), t0.Add(-3*time.Second))
	a2 := at(resolveNote(), t0.Add(-2*time.Second))
	b1 := at(alertNote(pinwatchd.ChangeOpened, certExpiringAlert()), t0.Add(-time.Second))
	b1.Channel = "#other"
	e.out.add(a1, a2, b1)
	if n := e.passAt(t, t0); n != 2 {
		t.Fatalf("%d requests; want the failing one and the other channel's", n)
	}
	if n := e.passAt(t, t0.Add(time.Second)); n != 2 {
		t.Fatalf("%d requests after the backoff; want both of the held channel", n)
	}
	var held, other []string
	for _, r := range e.f.Requests() {
		if r.JSON["channel"] == "#other" {
			other = append(other, r.Text()[:20])
		} else {
			held = append(held, r.Text()[:20])
		}
	}
	want := []string{Render(&a1, t0).Text[:20], Render(&a1, t0).Text[:20], Render(&a2, t0).Text[:20]}
	if !slices.Equal(held, want) || !slices.Equal(other, []string{Render(&b1, t0).Text[:20]}) {
		t.Errorf("order of the held channel %q, want %q; other channel %q", held, want, other)
	}
}

// Every error and log line of a failing run is free of the webhook's secret
// path and of the token.
func TestSenderNeverLeaksSecrets(t *testing.T) {
	logs := &pinwatchdtest.SyncBuffer{}
	f := pinwatchdtest.NewSlack(t)
	// The 404 parks the first notification; the second then gets a 500,
	// and the last 500 is the direct Notify's.
	f.Push(pinwatchdtest.SlackReply{Status: 500, Body: "error at " + webhookPath}, pinwatchdtest.SlackReply{Hang: true},
		pinwatchdtest.SlackReply{Status: 404, Body: "channel_not_found"}, pinwatchdtest.SlackReply{Status: 500},
		pinwatchdtest.SlackReply{Status: 500})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	configs := []SlackConfig{
		{WebhookURL: f.WebhookURL(), Timeout: 300 * time.Millisecond},
		{WebhookURL: "http://" + closed + webhookPath},
		{Token: testToken, Channel: "#tls-alerts", APIURL: "http://" + closed + "/api/" + testToken + "/"},
		{Token: "xoxb-1111-2222-s3cretT0kenWrong", Channel: "#tls-alerts", APIURL: f.APIURL()},
	}
	var everything []string
	for _, cfg := range configs {
		cfg.Log = jsonLogger(logs)
		s, err := NewSlack(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out, clock := newMemOutbox(), &fakeClock{now: t0}
		ids := out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), resolveNote())
		snd := NewSender(SenderConfig{Outbox: out, Slack: s, Log: jsonLogger(logs), Now: clock.Now, After: clock.After})
		for i := range 3 {
			clock.Set(t0.Add(time.Duration(i) * time.Minute))
			passAndWait(t, snd)
		}
		for _, id := range ids {
			row, ok := out.row(id)
			if !ok {
				t.Fatalf("%+v: a failing notification was dropped", cfg)
			}
			everything = append(everything, row.LastError)
		}
		_, err = s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{resolveNote()}})
		if err == nil {
			t.Fatalf("%+v: delivery did not fail", cfg)
		}
		everything = append(everything, err.Error(), fmt.Sprintf("%v %+v", err, err))
	}
	everything = append(everything, logs.String())
	all := strings.Join(everything, "\n")
	assertNoSecrets(t, "errors and logs", all)
	if !strings.Contains(all, "[redacted]") || !strings.Contains(all, "invalid_auth") || !strings.Contains(all, "connection refused") {
		t.Errorf("the failing run did not fail the expected ways:\n%s", all)
	}
}

func TestSenderRunDeliversOnWake(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	s, err := NewSlack(SlackConfig{WebhookURL: f.WebhookURL()})
	if err != nil {
		t.Fatal(err)
	}
	out := newMemOutbox()
	snd := NewSender(SenderConfig{Outbox: out, Slack: s, PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- snd.Run(ctx) }()

	out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()))
	snd.Wake()
	snd.Wake() // never blocks, even with a wake pending
	select {
	case <-f.Arrived():
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not deliver after Wake (within an hour-long poll interval)")
	}
	for range 1000 {
		if out.size() == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out.size() != 0 {
		t.Fatal("the delivered notification was not removed from the outbox")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil on shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestSenderFlush(t *testing.T) {
	t.Run("delivers everything pending", func(t *testing.T) {
		e := newSenderEnv(t, "")
		e.f.Push(pinwatchdtest.SlackReply{Status: 500}, pinwatchdtest.SlackReply{Status: 500})
		e.out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), resolveNote(), eventNote(chainChangedEvent()))
		if err := e.s.Flush(t.Context()); err != nil {
			t.Fatalf("Flush = %v", err)
		}
		if e.out.size() != 0 || len(e.f.Requests()) != 5 {
			t.Errorf("%d left after %d requests; want all delivered after two retries", e.out.size(), len(e.f.Requests()))
		}
	})
	t.Run("stops at the deadline and keeps the rest", func(t *testing.T) {
		f := pinwatchdtest.NewSlack(t)
		for range 20 {
			f.Push(pinwatchdtest.SlackReply{Status: 503})
		}
		s, err := NewSlack(SlackConfig{WebhookURL: f.WebhookURL()})
		if err != nil {
			t.Fatal(err)
		}
		out := newMemOutbox()
		id := out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()))[0]
		snd := NewSender(SenderConfig{Outbox: out, Slack: s}) // real clock: the retry is 1s away
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		err = snd.Flush(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 left in the outbox") {
			t.Fatalf("Flush = %v; want the deadline and 1 left", err)
		}
		if row, ok := out.row(id); !ok || row.Attempts != 1 {
			t.Errorf("row %+v kept=%v; want kept with one attempt", row, ok)
		}
	})
}

func TestSenderLogOnly(t *testing.T) {
	var logs pinwatchdtest.SyncBuffer
	out := newMemOutbox()
	out.add(alertNote(pinwatchd.ChangeOpened, timeoutAlert()), eventNote(chainChangedEvent()))
	var results []string
	snd := NewSender(SenderConfig{Outbox: out, Log: jsonLogger(&logs), Result: func(r string, n int) {
		results = append(results, fmt.Sprint(r, n))
	}})
	if err := snd.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	lines := logs.Lines(t)
	if out.size() != 0 || len(lines) != 2 || lines[0]["kind"] != "timeout" || lines[1]["kind"] != "chain_changed" {
		t.Errorf("%d left; log:\n%s", out.size(), logs.String())
	}
	if !slices.Equal(results, []string{"delivered1", "delivered1"}) {
		t.Errorf("results %v", results)
	}
}
