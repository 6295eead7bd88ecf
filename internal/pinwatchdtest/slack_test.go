package pinwatchdtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// post sends body to url and returns the status and the answer.
func post(t *testing.T, url, contentType, body string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func postMessage(t *testing.T, s *pinwatchdtest.Slack, token, channel, text string) (int, string) {
	t.Helper()
	form := url.Values{"token": {token}, "channel": {channel}, "text": {text}}
	code, body, _ := post(t, s.APIURL()+"chat.postMessage", "application/x-www-form-urlencoded", form.Encode())
	return code, body
}

// errRecorder stands in for a test, to see what a helper reports.
type errRecorder struct {
	testing.TB
	errs []string
}

func (r *errRecorder) Helper() {}
func (r *errRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestSlackAnswersLikeSlack(t *testing.T) {
	s := pinwatchdtest.NewSlack(t)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || s.WebhookURL() != s.URL()+pinwatchdtest.SlackWebhookPath {
		t.Errorf("URL %s, webhook %s: want loopback and the secret path", s.URL(), s.WebhookURL())
	}
	if code, body, _ := post(t, s.WebhookURL(), "application/json", `{"text":"WARNING missing_backup_pin on legacy: x"}`); code != 200 || body != "ok" {
		t.Errorf("webhook answered %d %q, want 200 ok", code, body)
	}
	if code, body := postMessage(t, s, pinwatchdtest.SlackToken, "#tls", "hi"); code != 200 ||
		!strings.Contains(body, `"ok":true`) || !strings.Contains(body, `"channel":"CTLS"`) || !strings.Contains(body, `"ts":"1700000000.000002"`) {
		t.Errorf("chat.postMessage answered %d %s", code, body)
	}
	if code, body := postMessage(t, s, "xoxb-wrong", "#tls", "hi"); code != 200 || body != `{"ok":false,"error":"invalid_auth"}` {
		t.Errorf("chat.postMessage with another token answered %d %s", code, body)
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded, want 3", len(reqs))
	}
	if r := reqs[0]; r.Path != pinwatchdtest.SlackWebhookPath || r.Method != "POST" || r.Text() != "WARNING missing_backup_pin on legacy: x" ||
		r.Status != 200 || !r.Accepted || r.At.IsZero() {
		t.Errorf("webhook request recorded as %+v", r)
	}
	if r := reqs[1]; r.Form.Get("channel") != "#tls" || r.Text() != "hi" || !r.Accepted {
		t.Errorf("Web API request recorded as %+v", r)
	}
	if reqs[2].Accepted {
		t.Error("invalid_auth counted as accepted")
	}
	if d := s.Delivered(); len(d) != 2 || d[0].Change != "opened" || d[0].Target != "legacy" || d[1].Change != "unknown" {
		t.Errorf("Delivered = %+v, want the webhook's opened entry and the unknown hi", d)
	}
	if n := s.Count("opened", "legacy", "missing_backup_pin"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	rec := &errRecorder{TB: t}
	s.CheckPaths(rec)
	if len(rec.errs) != 0 {
		t.Errorf("CheckPaths reported %v", rec.errs)
	}
}

func TestSlackScriptAndStatus(t *testing.T) {
	s := pinwatchdtest.NewSlack(t)
	s.Push(pinwatchdtest.SlackReply{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: "rate_limited"},
		pinwatchdtest.SlackReply{})
	s.SetStatus(http.StatusInternalServerError)
	for i, want := range []int{429, 200, 500, 500} {
		code, _, h := post(t, s.WebhookURL(), "application/json", `{"text":"x"}`)
		if code != want {
			t.Errorf("request %d answered %d, want %d", i, code, want)
		}
		if want == 429 && h.Get("Retry-After") != "7" {
			t.Errorf("429 without the scripted Retry-After: %v", h)
		}
	}
	s.SetStatus(http.StatusOK)
	if code, body, _ := post(t, s.WebhookURL(), "application/json", `{"text":"x"}`); code != 200 || body != "ok" {
		t.Errorf("after SetStatus(200): %d %q", code, body)
	}
	var accepted []bool
	for _, r := range s.Requests() {
		accepted = append(accepted, r.Accepted)
	}
	if fmt.Sprint(accepted) != "[false true false false true]" {
		t.Errorf("accepted %v", accepted)
	}

	s.Push(pinwatchdtest.SlackReply{Hang: true})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Post(s.WebhookURL(), "application/json", strings.NewReader(`{}`)); err == nil {
		t.Error("a hanging reply answered")
	}
	select {
	case <-s.Arrived():
	default:
		t.Error("Arrived has nothing after requests")
	}
}

func TestSlackUnexpectedRequests(t *testing.T) {
	s := pinwatchdtest.NewSlack(t, pinwatchdtest.WebhookPath("/services/T0/B0/other"), pinwatchdtest.WebhookOnly())
	if s.WebhookURL() != s.URL()+"/services/T0/B0/other" {
		t.Errorf("WebhookURL %s", s.WebhookURL())
	}
	s.Push(pinwatchdtest.SlackReply{Status: 500})
	resp, err := http.Get(s.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := postMessage(t, s, pinwatchdtest.SlackToken, "#tls", "hi"); code != 404 {
		t.Errorf("Web API of a webhook-only Slack answered %d, want 404", code)
	}
	if code, _, _ := post(t, s.URL()+pinwatchdtest.SlackWebhookPath, "application/json", `{}`); code != 404 {
		t.Errorf("the default webhook path answered %d, want 404", code)
	}
	if resp.StatusCode != 404 {
		t.Errorf("GET of the webhook answered %d, want 404", resp.StatusCode)
	}
	if code, _, _ := post(t, s.WebhookURL(), "application/json", `{}`); code != 500 {
		t.Errorf("the scripted reply was used up by an unexpected request: %d", code)
	}
	rec := &errRecorder{TB: t}
	s.CheckPaths(rec)
	want := "the fake Slack received unexpected requests: [GET /services/T0/B0/other POST /api/chat.postMessage POST " +
		pinwatchdtest.SlackWebhookPath + "]"
	if len(rec.errs) != 1 || rec.errs[0] != want {
		t.Errorf("CheckPaths reported %q, want %q", rec.errs, want)
	}
}

func TestSlackWebhookFile(t *testing.T) {
	s := pinwatchdtest.NewSlack(t)
	dir := t.TempDir()
	path := s.WebhookFile(t, dir)
	b, err := os.ReadFile(path)
	if err != nil || path != filepath.Join(dir, "slack-webhook") || string(b) != s.WebhookURL()+"\n" {
		t.Errorf("WebhookFile wrote %q to %s (%v)", b, path, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("webhook file mode %v (%v), want 0600", fi.Mode(), err)
	}
}

func TestSlackChannelError(t *testing.T) {
	s := pinwatchdtest.NewSlack(t)
	s.ChannelError("#gone", "channel_not_found")
	s.Push(pinwatchdtest.SlackReply{Status: 500})
	if code, body := postMessage(t, s, pinwatchdtest.SlackToken, "#gone", "a"); code != 200 || body != `{"ok":false,"error":"channel_not_found"}` {
		t.Errorf("post to the refused channel answered %d %s", code, body)
	}
	// The pushed 500 is still there for the next request to another channel.
	if code, _ := postMessage(t, s, pinwatchdtest.SlackToken, "#tls", "b"); code != 500 {
		t.Errorf("post to another channel answered %d, want the pushed 500", code)
	}
	if code, body := postMessage(t, s, pinwatchdtest.SlackToken, "#tls", "c"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("post to another channel answered %d %s", code, body)
	}
	s.ChannelError("#gone", "")
	if code, body := postMessage(t, s, pinwatchdtest.SlackToken, "#gone", "d"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("post after the refusal was lifted answered %d %s", code, body)
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[0].Accepted || reqs[0].Form.Get("channel") != "#gone" || reqs[1].Accepted || !reqs[2].Accepted || !reqs[3].Accepted {
		t.Errorf("requests recorded as %+v", reqs)
	}
	if d := s.Delivered(); len(d) != 2 {
		t.Errorf("Delivered lists %d entries, want the 2 accepted", len(d))
	}
	s.CheckPaths(t)
}

func TestSlackPushFor(t *testing.T) {
	s := pinwatchdtest.NewSlack(t)
	s.Push(pinwatchdtest.SlackReply{Status: 503})
	s.PushFor("#slow", pinwatchdtest.SlackReply{Status: 429}, pinwatchdtest.SlackReply{}, pinwatchdtest.SlackReply{Status: 502})
	s.PushFor("", pinwatchdtest.SlackReply{Status: 500})
	if code, _ := postMessage(t, s, pinwatchdtest.SlackToken, "#slow", "a"); code != 429 {
		t.Errorf("first post to #slow answered %d, want its 429", code)
	}
	if code, _, _ := post(t, s.WebhookURL(), "application/json", `{"text":"b"}`); code != 500 {
		t.Errorf("webhook post naming no channel answered %d, want the 500 pushed for \"\"", code)
	}
	if code, _, _ := post(t, s.WebhookURL(), "application/json", `{"text":"c","channel":"#fast"}`); code != 503 {
		t.Errorf("webhook post to #fast answered %d, want the 503 of Push", code)
	}
	if code, body := postMessage(t, s, pinwatchdtest.SlackToken, "#slow", "d"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("second post to #slow answered %d %s, want Slack's own answer", code, body)
	}
	if code, _ := postMessage(t, s, pinwatchdtest.SlackToken, "#slow", "e"); code != 502 {
		t.Errorf("third post to #slow answered %d, want its 502", code)
	}
	if code, body := postMessage(t, s, pinwatchdtest.SlackToken, "#slow", "f"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("post to #slow after its script answered %d %s", code, body)
	}
	s.CheckPaths(t)
}
