package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Stand-ins for the daemon's peers in the end-to-end tests: Slack's
// incoming webhook and systemd's notify socket.

// slackHit is one request the fake Slack received.
type slackHit struct {
	At     time.Time
	Path   string
	Status int // what the fake answered
	Text   string
}

// e2eSlack is a real HTTP server on loopback standing in for Slack's
// incoming webhook. It records every request and answers 200 "ok", 500,
// or 429 with a Retry-After, as the test sets it.
type e2eSlack struct {
	srv *httptest.Server

	mu         sync.Mutex
	status     int    // answer to every request
	limitOnce  string // when set, the next request gets 429 with this Retry-After
	hits       []slackHit
	unexpected []string
}

func newE2ESlack(t *testing.T) *e2eSlack {
	t.Helper()
	s := &e2eSlack{status: http.StatusOK}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *e2eSlack) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	var msg struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(body, &msg)
	s.mu.Lock()
	status, retryAfter := s.status, ""
	if s.limitOnce != "" {
		status, retryAfter, s.limitOnce = http.StatusTooManyRequests, s.limitOnce, ""
	}
	if r.Method != http.MethodPost || r.URL.Path != webhookPathSecret {
		s.unexpected = append(s.unexpected, r.Method+" "+r.URL.Path)
		status = http.StatusNotFound
	}
	s.hits = append(s.hits, slackHit{At: at, Path: r.URL.Path, Status: status, Text: msg.Text})
	s.mu.Unlock()
	switch status {
	case http.StatusOK:
		_, _ = io.WriteString(w, "ok")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "rate_limited")
	default:
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "server_error")
	}
}

// setStatus makes the fake answer every request with status.
func (s *e2eSlack) setStatus(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// rateLimitNext makes the next request get 429 with Retry-After: retryAfter.
func (s *e2eSlack) rateLimitNext(retryAfter string) {
	s.mu.Lock()
	s.limitOnce = retryAfter
	s.mu.Unlock()
}

// webhookFile writes the webhook URL file into dir and returns its path.
func (s *e2eSlack) webhookFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "slack-webhook")
	writeFile(t, path, s.srv.URL+webhookPathSecret+"\n")
	return path
}

func (s *e2eSlack) requests() []slackHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackHit(nil), s.hits...)
}

// delivered returns the notifications of every accepted request, in order;
// a digest yields one entry per line.
func (s *e2eSlack) delivered() []slackEntry {
	var out []slackEntry
	for _, h := range s.requests() {
		if h.Status == http.StatusOK {
			out = append(out, slackEntries(h.Text)...)
		}
	}
	return out
}

// count returns how many delivered notifications have this change, target
// and kind ("chain_changed" for chain events).
func (s *e2eSlack) count(change, target, kind string) int {
	n := 0
	for _, e := range s.delivered() {
		if e.Change == change && e.Target == target && e.Kind == kind {
			n++
		}
	}
	return n
}

// checkPaths fails the test when the fake received a request other than a
// POST to the webhook.
func (s *e2eSlack) checkPaths(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unexpected) > 0 {
		t.Errorf("the fake Slack received unexpected requests: %v", s.unexpected)
	}
}

// slackEntry is one notification as Slack shows it: the change, the target
// and the kind named in the message text.
type slackEntry struct {
	Change string // opened, escalated, reminder, resolved, chain_changed
	Target string
	Kind   string
	Class  string // chain_changed only
	Text   string
}

// Message texts (notify/render.go): single messages, then digest lines.
var (
	singleResolved = regexp.MustCompile(`^Resolved: ([a-z_]+) on (\S+) \(was `)
	singleReminder = regexp.MustCompile(`^Still firing since .*?: (?:CRITICAL|WARNING|INFO) ([a-z_]+) on (\S+?): `)
	singleChange   = regexp.MustCompile(`^INFO chain_changed \(([a-z_]+)\) on (\S+) at `)
	singleEscalate = regexp.MustCompile(`^(?:CRITICAL|WARNING|INFO) ([a-z_]+) on (\S+) escalated from `)
	singleOpened   = regexp.MustCompile(`^(?:CRITICAL|WARNING|INFO) ([a-z_]+) on (\S+?): `)
	digestHead     = regexp.MustCompile(`^\d+ pinwatchd notifications:`)
	digestResolved = regexp.MustCompile(`^Resolved ([a-z_]+) on (\S+?): `)
	digestChange   = regexp.MustCompile(`^chain_changed \(([a-z_]+)\) on (\S+) at `)
	digestEscalate = regexp.MustCompile(`^(?:critical|warning|info) ([a-z_]+) on (\S+?), escalated `)
	digestReminder = regexp.MustCompile(`^(?:critical|warning|info) ([a-z_]+) on (\S+?), still firing `)
	digestOpened   = regexp.MustCompile(`^(?:critical|warning|info) ([a-z_]+) on (\S+?): `)
)

// slackEntries splits a message text into its notifications.
func slackEntries(text string) []slackEntry {
	if !digestHead.MatchString(text) {
		return []slackEntry{parseEntry(text, false)}
	}
	var out []slackEntry
	for _, line := range strings.Split(text, "\n")[1:] {
		if l, ok := strings.CutPrefix(line, "• "); ok {
			out = append(out, parseEntry(l, true))
		}
	}
	return out
}

func parseEntry(text string, digest bool) slackEntry {
	type form struct {
		re     *regexp.Regexp
		change string
	}
	forms := []form{{singleResolved, "resolved"}, {singleReminder, "reminder"}, {singleChange, "chain_changed"},
		{singleEscalate, "escalated"}, {singleOpened, "opened"}}
	if digest {
		forms = []form{{digestResolved, "resolved"}, {digestChange, "chain_changed"}, {digestEscalate, "escalated"},
			{digestReminder, "reminder"}, {digestOpened, "opened"}}
	}
	for _, f := range forms {
		m := f.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		if f.change == "chain_changed" {
			return slackEntry{Change: f.change, Kind: "chain_changed", Class: m[1], Target: m[2], Text: text}
		}
		return slackEntry{Change: f.change, Kind: m[1], Target: m[2], Text: text}
	}
	return slackEntry{Change: "unknown", Text: text}
}

// sdMessage is one datagram the daemon sent to $NOTIFY_SOCKET.
type sdMessage struct {
	At   time.Time
	Text string
}

// sdListener stands in for systemd's notify socket.
type sdListener struct {
	path string
	mu   sync.Mutex
	msgs []sdMessage
}

func newSDListener(t *testing.T) *sdListener {
	t.Helper()
	dir, err := os.MkdirTemp("", "pwsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &sdListener{path: filepath.Join(dir, "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: l.path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on %s: %v", l.path, err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, sdMessage{At: time.Now(), Text: string(buf[:n])})
			l.mu.Unlock()
		}
	}()
	return l
}

// messages returns what arrived so far.
func (l *sdListener) messages() []sdMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sdMessage(nil), l.msgs...)
}

// next waits for the first message at index from or later that match
// accepts, and returns its index.
func (l *sdListener) next(t *testing.T, what string, from int, match func(string) bool) int {
	t.Helper()
	i := -1
	waitFor(t, what+" on the notify socket", func() bool {
		msgs := l.messages()
		for j := from; j < len(msgs); j++ {
			if match(msgs[j].Text) {
				i = j
				return true
			}
		}
		return false
	})
	return i
}

// httpGet fetches url and returns the status and body; status 0 when the
// request failed.
func httpGet(url string) (int, string) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
