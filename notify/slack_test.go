package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

func newWebhookSlack(t *testing.T, f *pinwatchdtest.Slack) *Slack {
	t.Helper()
	s, err := NewSlack(SlackConfig{WebhookURL: f.WebhookURL(), Timeout: 5 * time.Second, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newBotSlack(t *testing.T, f *pinwatchdtest.Slack, token string) *Slack {
	t.Helper()
	s, err := NewSlack(SlackConfig{Token: token, Channel: "#tls-alerts", APIURL: strings.TrimSuffix(f.APIURL(), "/"),
		Timeout: 5 * time.Second, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertNoSecrets fails when s holds the webhook's secret path or the token.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range []string{"s3cretW3bh00kPath", "s3cretT0ken", strings.TrimPrefix(webhookPath, "/")} {
		if strings.Contains(s, sec) {
			t.Errorf("%s leaks a secret (%q): %s", what, sec, s)
		}
	}
}

func TestSlackWebhookSendsTheRenderedMessage(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	s := newWebhookSlack(t, f)
	notes := everyKindNotes()
	for i := range notes {
		rec, err := s.Notify(t.Context(), Batch{Notes: notes[i : i+1]})
		if err != nil || rec != (Receipt{}) {
			t.Fatalf("notify %s: %v, %v", notes[i].Type, rec, err)
		}
	}
	reqs := f.Requests()
	if len(reqs) != len(notes) {
		t.Fatalf("%d webhook requests, want %d", len(reqs), len(notes))
	}
	for i, r := range reqs {
		var want map[string]any
		b, _ := json.Marshal(Render(&notes[i], fixedNow).WebhookMessage(""))
		_ = json.Unmarshal(b, &want)
		got, _ := json.Marshal(r.JSON)
		wantJSON, _ := json.Marshal(want)
		if r.Path != webhookPath || string(got) != string(wantJSON) {
			t.Errorf("request %d to %s:\n%s\nwant the rendered message:\n%s", i, r.Path, got, wantJSON)
		}
	}
}

func TestSlackClassifiesFailures(t *testing.T) {
	cases := []struct {
		name  string
		bot   bool
		reply pinwatchdtest.SlackReply
		class ErrorClass
		after time.Duration
		says  string
	}{
		{"webhook 500", false, pinwatchdtest.SlackReply{Status: 500, Body: "<html>oops</html>"}, Retryable, 0, "500"},
		{"webhook 503", false, pinwatchdtest.SlackReply{Status: 503}, Retryable, 0, "503"},
		{"webhook 429 retry-after", false, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "7"}}, RateLimited, 7 * time.Second, "rate limit"},
		{"webhook 429 without retry-after", false, pinwatchdtest.SlackReply{Status: 429}, RateLimited, defaultRetryAfter, "429"},
		{"webhook channel_not_found", false, pinwatchdtest.SlackReply{Status: 404, Body: "channel_not_found"}, Permanent, 0, "404"},
		{"webhook invalid_token", false, pinwatchdtest.SlackReply{Status: 403, Body: "invalid_token"}, Permanent, 0, "403"},
		{"webhook invalid_payload", false, pinwatchdtest.SlackReply{Status: 400, Body: "invalid_payload"}, Permanent, 0, "400"},
		{"api invalid_auth", true, pinwatchdtest.SlackReply{Status: 200, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":false,"error":"invalid_auth"}`}, Permanent, 0, "invalid_auth"},
		{"api channel_not_found", true, pinwatchdtest.SlackReply{Status: 200, Body: `{"ok":false,"error":"channel_not_found"}`}, Permanent, 0, "channel_not_found"},
		{"api internal_error", true, pinwatchdtest.SlackReply{Status: 200, Body: `{"ok":false,"error":"internal_error"}`}, Retryable, 0, "internal_error"},
		{"api 429", true, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "3"}}, RateLimited, 3 * time.Second, "rate limit"},
		{"api 502", true, pinwatchdtest.SlackReply{Status: 502}, Retryable, 0, "502"},
		{"api not_in_channel", true, pinwatchdtest.SlackReply{Status: 200, Body: `{"ok":false,"error":"not_in_channel"}`}, Permanent, 0, "not_in_channel"},
		{"api is_archived", true, pinwatchdtest.SlackReply{Status: 200, Body: `{"ok":false,"error":"is_archived"}`}, Permanent, 0, "is_archived"},
		{"api invalid_blocks", true, pinwatchdtest.SlackReply{Status: 200, Body: `{"ok":false,"error":"invalid_blocks"}`}, Permanent, 0, "invalid_blocks"},
		// Retry-After is honoured up to MaxRetryAfter, whatever it says.
		{"webhook 429 retry-after of years", false, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "100000000"}}, RateLimited, MaxRetryAfter, "rate limit"},
		{"api 429 retry-after of years", true, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "100000000"}}, RateLimited, MaxRetryAfter, "rate limit"},
		{"webhook 429 retry-after past int64", false, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "99999999999999999999999"}}, RateLimited, MaxRetryAfter, "rate limit"},
		{"webhook 429 retry-after just over the cap", false, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "901"}}, RateLimited, MaxRetryAfter, "rate limit"},
		{"webhook 429 retry-after at the cap", false, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "900"}}, RateLimited, 15 * time.Minute, "rate limit"},
		{"webhook 429 negative retry-after", false, pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "-5"}}, RateLimited, 0, "rate limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := pinwatchdtest.NewSlack(t)
			f.Push(tc.reply)
			s := newWebhookSlack(t, f)
			if tc.bot {
				s = newBotSlack(t, f, testToken)
			}
			_, err := s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{alertNote(pinwatchd.ChangeOpened, pinMismatchAlert())}})
			de, ok := errors.AsType[*DeliveryError](err)
			if !ok {
				t.Fatalf("Notify = %v, want a *DeliveryError", err)
			}
			if de.Class != tc.class || de.RetryAfter != tc.after || !strings.Contains(de.Error(), tc.says) {
				t.Errorf("got %s after %s: %q; want %s after %s mentioning %q", de.Class, de.RetryAfter, de, tc.class, tc.after, tc.says)
			}
			assertNoSecrets(t, "error", de.Error())
		})
	}
}

// A Retry-After given as an HTTP date is honoured too, up to
// MaxRetryAfter.
func TestSlackRetryAfterDate(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	f.Push(pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)}},
		pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": time.Now().AddDate(3, 0, 0).UTC().Format(http.TimeFormat)}})
	s := newWebhookSlack(t, f)
	_, err := s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{resolveNote()}})
	de, ok := errors.AsType[*DeliveryError](err)
	if !ok || de.Class != RateLimited || de.RetryAfter < 90*time.Second || de.RetryAfter > 121*time.Second {
		t.Fatalf("Notify = %v; want rate limited for about two minutes", err)
	}
	_, err = s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{resolveNote()}})
	if de, ok := errors.AsType[*DeliveryError](err); !ok || de.Class != RateLimited || de.RetryAfter != MaxRetryAfter {
		t.Fatalf("Notify = %v; want rate limited for %s, not three years", err, MaxRetryAfter)
	}
}

func TestSlackConnectionFailuresAreRetryableAndRedacted(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		s, err := NewSlack(SlackConfig{WebhookURL: "http://" + addr + webhookPath})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{resolveNote()}})
		de, ok := errors.AsType[*DeliveryError](err)
		if !ok || de.Class != Retryable || !strings.Contains(de.Error(), "[redacted]") {
			t.Fatalf("Notify = %v; want a retryable error with the URL redacted", err)
		}
		assertNoSecrets(t, "error", de.Error())
	})
	t.Run("hanging server", func(t *testing.T) {
		f := pinwatchdtest.NewSlack(t)
		f.Push(pinwatchdtest.SlackReply{Hang: true})
		s, err := NewSlack(SlackConfig{WebhookURL: f.WebhookURL(), Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{resolveNote()}})
		de, ok := errors.AsType[*DeliveryError](err)
		if !ok || de.Class != Retryable || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Notify = %v; want a retryable client timeout", err)
		}
		if t.Context().Err() != nil {
			t.Fatal("the test's own context ended; the client timeout did not fire")
		}
		assertNoSecrets(t, "error", de.Error())
	})
}

func TestSlackBotThreadsAndUpdatesOnResolve(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	s := newBotSlack(t, f, testToken)
	ctx := t.Context()
	opened := alertNote(pinwatchd.ChangeOpened, pinMismatchAlert())
	opened.Channel = "#api-team"
	rec, err := s.Notify(ctx, Batch{Channel: "#api-team", Notes: []pinwatchd.Notification{opened}})
	if err != nil || rec.Channel != "CAPI-TEAM" || rec.TS == "" {
		t.Fatalf("opener: %+v, %v", rec, err)
	}
	threaded := func(n pinwatchd.Notification) pinwatchd.Notification {
		n.Channel = "#api-team"
		n.Alert.Channel, n.Alert.ThreadTS = rec.Channel, rec.TS
		return n
	}
	esc := escalationNote()
	esc.Alert.ID = 12
	for _, n := range []pinwatchd.Notification{threaded(reminderNote()), threaded(esc), threaded(resolveNote())} {
		if _, err := s.Notify(ctx, Batch{Channel: "#api-team", Notes: []pinwatchd.Notification{n}}); err != nil {
			t.Fatalf("%s: %v", n.Type, err)
		}
	}
	reqs := f.Requests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests, want opener, reminder, escalation, resolve and update", len(reqs))
	}
	if r := reqs[0]; r.Path != "/api/chat.postMessage" || r.Form.Get("channel") != "#api-team" || r.Form.Get("thread_ts") != "" {
		t.Errorf("opener: %s %v", r.Path, r.Form)
	}
	for i, typ := range []string{"reminder", "escalation", "resolve"} {
		r := reqs[i+1]
		if r.Path != "/api/chat.postMessage" || r.Form.Get("channel") != rec.Channel || r.Form.Get("thread_ts") != rec.TS {
			t.Errorf("%s was not posted in the opener's thread: %s channel=%q thread_ts=%q", typ, r.Path, r.Form.Get("channel"), r.Form.Get("thread_ts"))
		}
		if broadcast := r.Form.Get("reply_broadcast") == "true"; broadcast != (typ == "escalation") {
			t.Errorf("%s: reply_broadcast=%v", typ, broadcast)
		}
	}
	if !strings.HasPrefix(reqs[3].Text(), "Resolved") {
		t.Errorf("resolve text = %q", reqs[3].Text())
	}
	up := reqs[4]
	if up.Path != "/api/chat.update" || up.Form.Get("channel") != rec.Channel || up.Form.Get("ts") != rec.TS ||
		!strings.HasPrefix(up.Text(), "Resolved: pin_mismatch on api") || !strings.Contains(up.Form.Get("blocks"), "*Resolved*") {
		t.Errorf("the opener was not updated to show it resolved: %s %v", up.Path, up.Form)
	}
}

// A failed chat.update does not fail the resolve, which is already in the
// thread: retrying would post it twice.
func TestSlackResolveSurvivesFailedUpdate(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	var buf pinwatchdtest.SyncBuffer
	s, err := NewSlack(SlackConfig{Token: testToken, Channel: "#tls-alerts", APIURL: f.APIURL(), Log: jsonLogger(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	n := resolveNote()
	n.Alert.Channel, n.Alert.ThreadTS = "CTLS-ALERTS", "1700000000.000001"
	f.Push(pinwatchdtest.SlackReply{}, pinwatchdtest.SlackReply{Status: 200, Body: `{"ok":false,"error":"message_not_found"}`})
	if _, err := s.Notify(t.Context(), Batch{Notes: []pinwatchd.Notification{n}}); err != nil {
		t.Fatalf("resolve failed because of the update: %v", err)
	}
	if len(f.Requests()) != 2 || !strings.Contains(buf.String(), "message_not_found") {
		t.Errorf("want the update tried and its failure logged; log:\n%s", buf.String())
	}
}

func TestNewSlackRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		cfg  SlackConfig
		want string
	}{
		{SlackConfig{}, "neither a webhook URL nor a bot token"},
		{SlackConfig{WebhookURL: "https://hooks.slack.com" + webhookPath, Token: testToken, Channel: "#x"}, "both a webhook URL and a bot token"},
	} {
		_, err := NewSlack(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSlack(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
		if err != nil {
			assertNoSecrets(t, "error", err.Error())
		}
	}
}

// A bot token needs no default channel when every batch names one (SPEC
// §8: channel may be omitted when every target sets slack_channel).
func TestSlackTokenWithoutDefaultChannel(t *testing.T) {
	f := pinwatchdtest.NewSlack(t)
	s, err := NewSlack(SlackConfig{Token: testToken, APIURL: f.APIURL(), Timeout: 5 * time.Second, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatalf("NewSlack with a token and no default channel: %v", err)
	}
	if _, err := s.Notify(t.Context(), Batch{Channel: "#api-team", Notes: []pinwatchd.Notification{alertNote(pinwatchd.ChangeOpened, pinMismatchAlert())}}); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/api/chat.postMessage" || reqs[0].Form.Get("channel") != "#api-team" {
		t.Errorf("requests = %+v, want one chat.postMessage to #api-team", reqs)
	}
}

func TestRedact(t *testing.T) {
	hook := "https://hooks.slack.com" + webhookPath
	r := newRedactor(hook, testToken, "")
	for _, tc := range []struct{ in, want string }{
		{`Post "` + hook + `": dial tcp: connection refused`, `Post "[redacted]": dial tcp: connection refused`},
		{"request to hooks.slack.com" + webhookPath + " failed", "request to hooks.slack.com[redacted] failed"},
		{"path services%2FT0PINWATCH%2FB0PINWATCH%2Fs3cretW3bh00kPathXyz", "path [redacted]"},
		{"token=" + testToken + "&channel=x", "token=[redacted]&channel=x"},
		{"Bearer " + testToken, "Bearer [redacted]"},
		{"nothing secret here: /services", "nothing secret here: /services"},
	} {
		if got := r.redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Short values are not treated as secrets: redacting "/" would wreck
	// every message.
	if got := newRedactor("http://x/").redact("a/b"); got != "a/b" {
		t.Errorf("a one-character path was redacted: %q", got)
	}
}

func TestBackoff(t *testing.T) {
	for attempts, want := range map[int]time.Duration{
		0: time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 4: 16 * time.Second,
		5: 30 * time.Second, 63: 30 * time.Second, 1000: 30 * time.Second, -1: time.Second,
	} {
		if got := Backoff(attempts); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", attempts, got, want)
		}
	}
}
