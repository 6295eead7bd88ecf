package pinwatchdtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Secrets of the fake Slack unless WebhookPath says otherwise: neither may
// ever appear in the errors, logs or output of the code under test.
const (
	SlackWebhookPath = "/services/T0PINWATCH/B0PINWATCH/s3cretW3bh00kPathXyz"
	SlackToken       = "xoxb-1111-2222-s3cretT0kenValue"
)

// Web API methods the fake Slack answers under /api/.
const (
	apiPostMessage = "/api/chat.postMessage"
	apiUpdate      = "/api/chat.update"
)

// SlackRequest is one request the fake Slack received.
type SlackRequest struct {
	At     time.Time // when it arrived
	Method string
	Path   string
	JSON   map[string]any // webhook payload
	Form   url.Values     // Web API form
	// Status is the HTTP status the fake answered; 0 for a hung request.
	Status int
	// Accepted reports whether the fake answered as Slack does when it
	// takes a message: 200 "ok" from the webhook, "ok": true from the Web
	// API.
	Accepted bool
}

// Text returns the message text of the request.
func (r SlackRequest) Text() string {
	if r.Form != nil {
		return r.Form.Get("text")
	}
	s, _ := r.JSON["text"].(string)
	return s
}

// SlackReply is a scripted answer of the fake Slack (see Slack.Push). The
// zero SlackReply answers as Slack would.
type SlackReply struct {
	Status int
	Header map[string]string
	Body   string
	Hang   bool // block until the client gives up
}

// Slack is a real HTTP server on 127.0.0.1 standing in for Slack's incoming
// webhook (POST to the webhook path) and Web API (POST chat.postMessage and
// chat.update under /api/, with SlackToken). It records every request and
// answers like Slack: "ok" from the webhook; from the Web API the message's
// channel ID ("#tls" becomes "CTLS") and a fresh ts, or invalid_auth for
// another token. Push scripts the next answers (PushFor those of one
// channel), SetStatus fails every other request and ChannelError refuses
// every post to one channel. Any other method or path is answered 404 and recorded as
// unexpected (see CheckPaths). Its methods are safe for concurrent use.
type Slack struct {
	srv         *httptest.Server
	webhookPath string
	webhookOnly bool
	arrived     chan struct{}

	mu         sync.Mutex
	reqs       []SlackRequest
	script     []SlackReply            // consumed in order by expected requests
	scriptFor  map[string][]SlackReply // by channel, consumed before script
	status     int                     // answer once the script is used up; 0: as Slack
	refusals   map[string]string       // Web API channel → error code it answers
	ts         int
	unexpected []string
}

// SlackOption adjusts NewSlack.
type SlackOption func(*Slack)

// WebhookPath serves the webhook at path instead of SlackWebhookPath.
func WebhookPath(path string) SlackOption {
	return func(s *Slack) { s.webhookPath = path }
}

// WebhookOnly treats requests to the Web API as unexpected, for code that is
// configured with a webhook only.
func WebhookOnly() SlackOption {
	return func(s *Slack) { s.webhookOnly = true }
}

// NewSlack starts a fake Slack, closed at the end of the test.
func NewSlack(t testing.TB, opts ...SlackOption) *Slack {
	t.Helper()
	s := &Slack{webhookPath: SlackWebhookPath, arrived: make(chan struct{}, 100)}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the server's base URL, http://127.0.0.1:port.
func (s *Slack) URL() string { return s.srv.URL }

// WebhookURL returns the incoming webhook's URL, secret path included.
func (s *Slack) WebhookURL() string { return s.srv.URL + s.webhookPath }

// APIURL returns the Web API's base URL, ending in "/api/".
func (s *Slack) APIURL() string { return s.srv.URL + "/api/" }

// WebhookFile writes the webhook URL and a newline to dir/slack-webhook
// (mode 0600), as an operator stores it, and returns the file's path.
func (s *Slack) WebhookFile(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "slack-webhook")
	if err := os.WriteFile(path, []byte(s.WebhookURL()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Push scripts the answers to the next expected requests, in order; once
// they are used up, requests are answered as SetStatus says.
func (s *Slack) Push(rs ...SlackReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// PushFor scripts the answers to the next expected requests for channel,
// in order: a Web API post whose "channel" is channel, or a webhook post
// whose payload's "channel" is ("" for a post that names none). They are
// used before the replies of Push, which requests for other channels
// consume as usual.
func (s *Slack) PushFor(channel string, rs ...SlackReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scriptFor == nil {
		s.scriptFor = map[string][]SlackReply{}
	}
	s.scriptFor[channel] = append(s.scriptFor[channel], rs...)
}

// ChannelError makes the Web API refuse every chat.postMessage to channel
// (as the client names it, e.g. "#gone") with apiError, as Slack does:
// status 200 and {"ok": false, "error": apiError}, e.g. channel_not_found,
// not_in_channel or is_archived. These answers take precedence over Push
// and SetStatus and consume no pushed reply; an empty apiError lifts the
// refusal.
func (s *Slack) ChannelError(channel, apiError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals == nil {
		s.refusals = map[string]string{}
	}
	if apiError == "" {
		delete(s.refusals, channel)
		return
	}
	s.refusals[channel] = apiError
}

// SetStatus makes the fake answer every expected request that no pushed
// reply covers with status and a short error body; 0 or http.StatusOK
// restores Slack's own answers.
func (s *Slack) SetStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Arrived receives a value as each request arrives (up to 100 unread).
func (s *Slack) Arrived() <-chan struct{} { return s.arrived }

// Requests returns the requests received so far, in order of arrival.
func (s *Slack) Requests() []SlackRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// CheckPaths fails the test when the fake received a request other than a
// POST to the webhook or, unless WebhookOnly, to the Web API.
func (s *Slack) CheckPaths(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unexpected) > 0 {
		t.Errorf("the fake Slack received unexpected requests: %v", s.unexpected)
	}
}

// answer is what the fake writes back.
type answer struct {
	status int
	header map[string]string
	body   string
	hang   bool
}

func (s *Slack) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	req := SlackRequest{At: at, Method: r.Method, Path: r.URL.Path}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		req.Form, _ = url.ParseQuery(string(body))
	} else {
		_ = json.Unmarshal(body, &req.JSON)
	}
	s.mu.Lock()
	s.ts++
	ts := fmt.Sprintf("1700000000.%06d", s.ts)
	var ans answer
	switch {
	case !s.expected(r):
		s.unexpected = append(s.unexpected, r.Method+" "+r.URL.Path)
		ans = answer{status: http.StatusNotFound, body: "no_service"}
	case r.URL.Path == apiPostMessage && s.refusals[req.Form.Get("channel")] != "":
		b, _ := json.Marshal(s.refusals[req.Form.Get("channel")])
		ans = answer{status: http.StatusOK, header: map[string]string{"Content-Type": "application/json"}, body: `{"ok":false,"error":` + string(b) + `}`}
	case len(s.scriptFor[req.channel()]) > 0:
		rep := s.scriptFor[req.channel()][0]
		s.scriptFor[req.channel()] = s.scriptFor[req.channel()][1:]
		ans = s.scripted(rep, req, ts)
	case len(s.script) > 0:
		rep := s.script[0]
		s.script = s.script[1:]
		ans = s.scripted(rep, req, ts)
	case s.status != 0 && s.status != http.StatusOK:
		ans = answer{status: s.status, body: strings.ToLower(strings.ReplaceAll(http.StatusText(s.status), " ", "_"))}
	default:
		ans = s.slackAnswer(req, ts)
	}
	if !ans.hang {
		req.Status = ans.status
		req.Accepted = s.accepts(req.Path, ans)
	}
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	if ans.hang {
		<-r.Context().Done()
		return
	}
	for k, v := range ans.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(ans.status)
	_, _ = io.WriteString(w, ans.body)
}

// scripted is the answer of a pushed reply; the zero reply answers as
// Slack.
func (s *Slack) scripted(rep SlackReply, req SlackRequest, ts string) answer {
	if rep.Status == 0 && !rep.Hang {
		return s.slackAnswer(req, ts)
	}
	return answer{status: rep.Status, header: rep.Header, body: rep.Body, hang: rep.Hang}
}

// channel returns the channel a request names: the Web API's "channel"
// field or the webhook payload's.
func (r SlackRequest) channel() string {
	if r.Form != nil {
		return r.Form.Get("channel")
	}
	c, _ := r.JSON["channel"].(string)
	return c
}

// expected reports whether Slack serves r's method and path.
func (s *Slack) expected(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.URL.Path {
	case s.webhookPath:
		return true
	case apiPostMessage, apiUpdate:
		return !s.webhookOnly
	}
	return false
}

// accepts reports whether ans tells the client that Slack took its message.
func (s *Slack) accepts(path string, ans answer) bool {
	if ans.status != http.StatusOK {
		return false
	}
	if path == s.webhookPath {
		return ans.body == "ok"
	}
	var reply struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal([]byte(ans.body), &reply) == nil && reply.OK
}

// slackAnswer is Slack's own answer to an expected request.
func (s *Slack) slackAnswer(req SlackRequest, ts string) answer {
	if req.Path == s.webhookPath {
		return answer{status: http.StatusOK, body: "ok"}
	}
	header := map[string]string{"Content-Type": "application/json"}
	if req.Form.Get("token") != SlackToken {
		return answer{status: http.StatusOK, header: header, body: `{"ok":false,"error":"invalid_auth"}`}
	}
	channel := "C" + strings.ToUpper(strings.TrimPrefix(req.Form.Get("channel"), "#"))
	if strings.HasPrefix(req.Form.Get("channel"), "C") {
		channel = req.Form.Get("channel")
	}
	if req.Path == apiUpdate {
		ts = req.Form.Get("ts")
	}
	b, _ := json.Marshal(map[string]any{"ok": true, "channel": channel, "ts": ts,
		"message": map[string]any{"type": "message", "text": req.Form.Get("text"), "ts": ts}})
	return answer{status: http.StatusOK, header: header, body: string(b) + "\n"}
}
