package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// Every refusal the SPEC calls permanent parks the notification: kept,
// counted, logged once, never retried by this Sender.
func TestSenderParksPermanentFailures(t *testing.T) {
	apiError := func(code string) pinwatchdtest.SlackReply {
		return pinwatchdtest.SlackReply{Status: 200, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"ok":false,"error":"` + code + `"}`}
	}
	for _, tc := range []struct {
		name  string
		token string
		reply pinwatchdtest.SlackReply
		says  string
	}{
		{"channel_not_found", testToken, apiError("channel_not_found"), "channel_not_found"},
		{"not_in_channel", testToken, apiError("not_in_channel"), "not_in_channel"},
		{"is_archived", testToken, apiError("is_archived"), "is_archived"},
		{"invalid_blocks", testToken, apiError("invalid_blocks"), "invalid_blocks"},
		{"invalid_auth", "xoxb-9999-revoked-s3cretT0kenValue", pinwatchdtest.SlackReply{}, "invalid_auth"},
		{"webhook 404", "", pinwatchdtest.SlackReply{Status: http.StatusNotFound, Body: "no_service"}, "404"},
		{"webhook 403", "", pinwatchdtest.SlackReply{Status: http.StatusForbidden, Body: "action_prohibited"}, "403"},
		{"webhook 400", "", pinwatchdtest.SlackReply{Status: http.StatusBadRequest, Body: "invalid_payload"}, "400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSenderEnv(t, tc.token)
			var results []string
			e.s.cfg.Result = func(r string, n int) { results = append(results, fmt.Sprint(r, n)) }
			e.f.Push(tc.reply)
			ids := e.out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()), at(resolveNote(), t0.Add(time.Second)))
			if n := e.passAt(t, t0.Add(time.Second)); n < 2 {
				t.Fatalf("%d requests; want the refused one and then the next of the channel", n)
			}
			row, ok := e.out.row(ids[0])
			if !ok || !e.out.isParked(ids[0]) || row.Attempts != 1 || !strings.Contains(row.LastError, tc.says) {
				t.Fatalf("refused notification: kept %v, parked %v, attempts %d, last error %q; want kept, parked, 1, %q",
					ok, e.out.isParked(ids[0]), row.Attempts, row.LastError, tc.says)
			}
			for _, d := range []time.Duration{time.Minute, time.Hour, 48 * time.Hour} {
				if n := e.passAt(t, t0.Add(d)); n != 0 {
					t.Errorf("%d requests %s later: a parked notification was retried", n, d)
				}
			}
			if len(results) == 0 || results[0] != ResultPermanent+"1" {
				t.Errorf("results %v, want the refusal counted as %s first", results, ResultPermanent)
			}
			// Each parked notification is logged once (with a wrong token,
			// Slack refuses the second one too).
			logged := map[string]int{}
			for _, l := range e.logs.Lines(t) {
				if l["level"] == "ERROR" {
					logged[fmt.Sprint(l["notification_id"])]++
					if l["error_class"] != "permanent" || l["target"] != "api" || !strings.Contains(fmt.Sprint(l["err"]), tc.says) ||
						!strings.Contains(fmt.Sprint(l["msg"]), "undeliverable") {
						t.Errorf("error line lacks class, target, cause or what happens next: %v", l)
					}
				}
			}
			for _, id := range ids {
				want := 0
				if e.out.isParked(id) {
					want = 1
				}
				if got := logged[fmt.Sprint(id)]; got != want {
					t.Errorf("notification %d (parked: %v) has %d error log lines, want %d:\n%s", id, e.out.isParked(id), got, want, e.logs.String())
				}
			}
			assertNoSecrets(t, "log", e.logs.String())
		})
	}
}

// A new Sender (the daemon's, after a restart or a reload) tries the parked
// notifications once more: the operator may have fixed the channel.
func TestSenderRunRequeuesParked(t *testing.T) {
	e := newSenderEnv(t, testToken)
	e.f.ChannelError("#gone", "channel_not_found")
	n := alertNote(pinwatchd.ChangeOpened, pinMismatchAlert())
	n.Channel = "#gone"
	id := e.out.add(n)[0]
	e.passAt(t, t0)
	if !e.out.isParked(id) {
		t.Fatal("the refused notification was not parked")
	}
	e.f.ChannelError("#gone", "") // the bot was invited back
	snd := NewSender(SenderConfig{Outbox: e.out, Slack: e.slack, Log: jsonLogger(e.logs), PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- snd.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.out.size() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if e.out.size() != 0 {
		t.Fatalf("the requeued notification was not delivered by the new Sender")
	}
	if !strings.Contains(e.logs.String(), "trying the undeliverable notifications once more") {
		t.Errorf("the requeue is not logged:\n%s", e.logs.String())
	}
}

// One channel refusing 600 queued notifications for good hides nothing:
// the other channel's alerts go out in the same pass, and each refused one
// is tried once.
func TestSenderDeadChannelHidesNoOther(t *testing.T) {
	e := newSenderEnv(t, testToken)
	e.s = e.newSenderWindow(10 * time.Second)
	e.f.ChannelError("#gone", "channel_not_found")
	var dead []pinwatchd.Notification
	for i := range 600 {
		dead = append(dead, targetNote(fmt.Sprintf("dead-%03d", i), "#gone", t0.Add(-time.Hour)))
	}
	for i, id := range e.out.add(dead...) {
		dead[i].ID = id
	}
	live := e.out.add(targetNote("live", "#tls-alerts", t0.Add(-time.Minute)))[0]
	e.passAt(t, t0)
	if _, ok := e.out.row(live); ok {
		t.Fatalf("the healthy channel's notification was not delivered in the first pass")
	}
	if e.f.Count("opened", "live", "timeout") != 1 {
		t.Errorf("Slack did not get the healthy channel's alert")
	}
	e.passAt(t, t0.Add(time.Second)) // the rest past the first page
	tried := map[string]int{}
	for _, r := range e.f.Requests() {
		if r.Form.Get("channel") == "#gone" {
			for _, x := range pinwatchdtest.SlackEntries(r.Text()) {
				tried[x.Target]++
			}
		}
	}
	for _, n := range dead {
		if tried[n.Alert.Target] != 1 {
			t.Fatalf("%s was tried %d times, want once", n.Alert.Target, tried[n.Alert.Target])
		}
		if !e.out.isParked(n.ID) {
			t.Fatalf("%s is not parked", n.Alert.Target)
		}
	}
	if n := e.passAt(t, t0.Add(time.Hour)); n != 0 {
		t.Errorf("%d requests an hour later, want none: every refused one is parked", n)
	}
}

// A channel in backoff or paused by a 429 delays no other channel.
func TestSenderFailingChannelDelaysNoOther(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply pinwatchdtest.SlackReply
	}{
		{"server error", pinwatchdtest.SlackReply{Status: 503}},
		{"rate limited", pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "600"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSenderEnv(t, testToken)
			for range 10 {
				e.f.PushFor("#busy", tc.reply)
			}
			e.out.add(targetNote("busy-0", "#busy", t0.Add(-time.Minute)), targetNote("busy-1", "#busy", t0.Add(-time.Minute)))
			for i := range 5 {
				at := t0.Add(time.Duration(i) * 2 * time.Second)
				e.out.add(targetNote(fmt.Sprintf("calm-%d", i), "#calm", at))
				e.passAt(t, at)
				if c := e.f.Count("opened", fmt.Sprintf("calm-%d", i), "timeout"); c != 1 {
					t.Fatalf("calm-%d reached Slack %d times in the pass after it was enqueued, want once", i, c)
				}
			}
			if e.f.Count("opened", "busy-0", "timeout") != 0 || e.out.size() != 2 {
				t.Errorf("the failing channel's notifications: %d left, want both kept", e.out.size())
			}
		})
	}
}

// A channel whose Slack request hangs delays no other channel: the other's
// delivery completes while the hung request is still open.
func TestSenderHangingChannelDelaysNoOther(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	f.PushFor("#stuck", pinwatchdtest.SlackReply{Hang: true})
	s, err := NewSlack(SlackConfig{Token: testToken, Channel: "#tls-alerts", APIURL: f.APIURL(), Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	out := newMemOutbox()
	out.add(targetNote("stuck", "#stuck", t0.Add(-time.Minute)), targetNote("fine", "#fine", t0))
	snd := NewSender(SenderConfig{Outbox: out, Slack: s, PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- snd.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for f.Count("opened", "fine", "timeout") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stuckOpen := func() bool {
		for _, r := range f.Requests() {
			if r.Form.Get("channel") == "#stuck" && r.Status == 0 {
				return true
			}
		}
		return false
	}
	if f.Count("opened", "fine", "timeout") != 1 || !stuckOpen() {
		t.Errorf("delivered to #fine: %d, #stuck request hanging: %v; want #fine served while #stuck hangs",
			f.Count("opened", "fine", "timeout"), stuckOpen())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended, with a request hanging")
	}
	if _, ok := out.row(1); !ok {
		t.Errorf("the hung notification was dropped")
	}
}

// A Retry-After of years pauses the channel for MaxRetryAfter, also in the
// outbox (which outlives the process).
func TestSenderCapsRetryAfter(t *testing.T) {
	e := newSenderEnv(t, "")
	e.f.Push(pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "100000000"}})
	id := e.out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()))[0]
	e.passAt(t, t0)
	row, _ := e.out.row(id)
	if !row.NextAttempt.Equal(t0.Add(MaxRetryAfter)) {
		t.Fatalf("next attempt %s after Retry-After: 100000000, want %s (15 minutes)", row.NextAttempt, t0.Add(MaxRetryAfter))
	}
	if n := e.passAt(t, t0.Add(MaxRetryAfter-time.Second)); n != 0 {
		t.Fatalf("%d requests before the capped pause ended", n)
	}
	if n := e.passAt(t, t0.Add(MaxRetryAfter)); n != 1 || e.out.size() != 0 {
		t.Fatalf("%d requests and %d left after the capped pause, want it delivered", n, e.out.size())
	}
}

// acceptThenCancel stands in for Slack accepting a message just as a reload
// or shutdown cancels the Sender.
type acceptThenCancel struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	posts  int
}

func (a *acceptThenCancel) Notify(ctx context.Context, b Batch) (Receipt, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.posts++
	a.cancel()
	return Receipt{Channel: "CTLS", TS: "1700000000.000001"}, nil
}

// Once Slack accepted a message, the outbox bookkeeping is done even though
// the Sender's context ended meanwhile: the next Sender does not post it
// again, and follow-ups are threaded.
func TestSenderBookkeepingOutlivesCancel(t *testing.T) {
	out := newMemOutbox()
	id := out.add(alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()))[0]
	ctx, cancel := context.WithCancel(t.Context())
	slack := &acceptThenCancel{cancel: cancel}
	snd := NewSender(SenderConfig{Outbox: out, Slack: slack, Now: func() time.Time { return t0 }})
	snd.pass(ctx, false)
	snd.workers.Wait()
	if ctx.Err() == nil {
		t.Fatal("the stand-in did not cancel the Sender")
	}
	if _, ok := out.row(id); ok {
		t.Fatalf("the accepted notification is still in the outbox after a cancel: it would be posted again")
	}
	if th := out.threads[12]; th != [2]string{"CTLS", "1700000000.000001"} {
		t.Errorf("the opener's thread was not recorded after a cancel: %v", th)
	}
	// The next Sender (after the reload) has nothing to post.
	next := NewSender(SenderConfig{Outbox: out, Slack: slack, Now: func() time.Time { return t0 }})
	if err := next.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if slack.posts != 1 {
		t.Errorf("Slack got the message %d times across the reload, want once", slack.posts)
	}
}
