package notify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Secrets of the fake Slack: neither may ever appear in errors or logs.
const (
	webhookPath = "/services/T0PINWATCH/B0PINWATCH/s3cretW3bh00kPathXyz"
	testToken   = "xoxb-1111-2222-s3cretT0kenValue"
)

// fixedNow is the clock of the render tests.
var fixedNow = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

// slackRequest is one request the fake Slack received.
type slackRequest struct {
	Path string
	JSON map[string]any // webhook payload
	Form url.Values     // Web API form
}

// Text returns the message text of the request.
func (r slackRequest) Text() string {
	if r.Form != nil {
		return r.Form.Get("text")
	}
	s, _ := r.JSON["text"].(string)
	return s
}

// reply is a scripted answer of the fake Slack.
type reply struct {
	Status int
	Header map[string]string
	Body   string
	Hang   bool // block until the client gives up
}

// fakeSlack is a real HTTP server on loopback standing in for Slack's
// incoming webhook (POST webhookPath) and Web API (chat.postMessage,
// chat.update under /api/).
type fakeSlack struct {
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []slackRequest
	script []reply // consumed in order, then every request succeeds
	ts     int
	notify chan struct{}
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{notify: make(chan struct{}, 100)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) webhookURL() string { return f.srv.URL + webhookPath }
func (f *fakeSlack) apiURL() string     { return f.srv.URL + "/api/" }

// push scripts the next answers.
func (f *fakeSlack) push(rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, rs...)
}

func (f *fakeSlack) requests() []slackRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := slackRequest{Path: r.URL.Path}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		req.Form, _ = url.ParseQuery(string(body))
	} else {
		_ = json.Unmarshal(body, &req.JSON)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	var rep reply
	if len(f.script) > 0 {
		rep, f.script = f.script[0], f.script[1:]
	}
	f.ts++
	ts := fmt.Sprintf("1700000000.%06d", f.ts)
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
	if rep.Hang {
		<-r.Context().Done()
		return
	}
	if rep.Status != 0 {
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.Status)
		_, _ = io.WriteString(w, rep.Body)
		return
	}
	switch r.URL.Path {
	case webhookPath:
		_, _ = io.WriteString(w, "ok")
	case "/api/chat.postMessage", "/api/chat.update":
		w.Header().Set("Content-Type", "application/json")
		if req.Form.Get("token") != testToken {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		channel := "C" + strings.ToUpper(strings.TrimPrefix(req.Form.Get("channel"), "#"))
		if strings.HasPrefix(req.Form.Get("channel"), "C") {
			channel = req.Form.Get("channel")
		}
		if r.URL.Path == "/api/chat.update" {
			ts = req.Form.Get("ts")
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": ts,
			"message": map[string]any{"type": "message", "text": req.Form.Get("text"), "ts": ts}})
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "no_service")
	}
}

// memOutbox is an in-memory Outbox following the interface's contract.
type memOutbox struct {
	mu          sync.Mutex
	rows        map[int64]*pinwatchd.Notification
	nextID      int64
	threads     map[int64][2]string
	fillThreads bool // Pending fills Alert.Channel/ThreadTS from SetThread
	delivered   []int64
	retries     []int64
}

func newMemOutbox() *memOutbox {
	return &memOutbox{rows: map[int64]*pinwatchd.Notification{}, threads: map[int64][2]string{}, fillThreads: true}
}

// add enqueues notifications and returns their IDs.
func (o *memOutbox) add(ns ...pinwatchd.Notification) []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ids []int64
	for _, n := range ns {
		o.nextID++
		n.ID = o.nextID
		c := clone(n)
		o.rows[n.ID] = &c
		ids = append(ids, n.ID)
	}
	return ids
}

func clone(n pinwatchd.Notification) pinwatchd.Notification {
	if n.Alert != nil {
		a := *n.Alert
		a.Addresses = slices.Clone(a.Addresses)
		n.Alert = &a
	}
	if n.Event != nil {
		e := *n.Event
		n.Event = &e
	}
	return n
}

func (o *memOutbox) Pending(_ context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []pinwatchd.Notification
	for _, n := range o.rows {
		if !n.NextAttempt.After(now) {
			c := clone(*n)
			if th, ok := o.threads[alertID(&c)]; ok && o.fillThreads && c.Alert.ThreadTS == "" {
				c.Alert.Channel, c.Alert.ThreadTS = th[0], th[1]
			}
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b pinwatchd.Notification) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out[:min(len(out), limit)], nil
}

func alertID(n *pinwatchd.Notification) int64 {
	if n.Alert == nil {
		return -1
	}
	return n.Alert.ID
}

func (o *memOutbox) Delivered(_ context.Context, ids ...int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		if _, ok := o.rows[id]; ok {
			o.delivered = append(o.delivered, id)
			delete(o.rows, id)
		}
	}
	return nil
}

func (o *memOutbox) Retry(_ context.Context, id int64, next time.Time, lastError string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n, ok := o.rows[id]; ok {
		n.Attempts++
		n.NextAttempt = next
		n.LastError = lastError
		o.retries = append(o.retries, id)
	}
	return nil
}

func (o *memOutbox) SetThread(_ context.Context, alertID int64, channel, ts string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.threads[alertID] = [2]string{channel, ts}
	return nil
}

// row returns a copy of a stored notification, or false once delivered.
func (o *memOutbox) row(id int64) (pinwatchd.Notification, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.rows[id]
	if !ok {
		return pinwatchd.Notification{}, false
	}
	return clone(*n), true
}

func (o *memOutbox) size() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.rows)
}

// fakeClock is a settable clock; After advances it at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Sample notifications, one per kind family.

func alertNote(typ pinwatchd.ChangeType, a pinwatchd.Alert) pinwatchd.Notification {
	return pinwatchd.Notification{Type: typ, Alert: &a, CreatedAt: fixedNow}
}

func pinMismatchAlert() pinwatchd.Alert {
	return pinwatchd.Alert{ID: 12, Target: "api", Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical,
		Subject: "ios-app-5", Addresses: []string{"192.0.2.10:443", "[2001:db8::10]:443"}, State: pinwatchd.AlertOpen,
		Message:  `pin-set "ios-app-5" has no pin matching the chain served at 192.0.2.10:443 (leaf key n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=; pinned: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, mCc1m4GSr8SsZBLQs3aSPF1ZQqoe7fRtSK1x1MWDaUQ=)`,
		OpenedAt: fixedNow.Add(-5 * time.Minute)}
}

func missingBackupAlert() pinwatchd.Alert {
	return pinwatchd.Alert{ID: 13, Target: "api", Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning,
		Subject: "inline", Addresses: []string{"192.0.2.10:443"}, State: pinwatchd.AlertOpen,
		Message:  `pin-set "inline" has a single pin (n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=), so it has no backup pin for a key rotation`,
		OpenedAt: fixedNow.Add(-5 * time.Minute)}
}

func certExpiringAlert() pinwatchd.Alert {
	return pinwatchd.Alert{ID: 14, Target: "shop", Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityWarning,
		Subject:   "3f1d1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0918273645546372819a0b1c2",
		Addresses: []string{"198.51.100.7:443", "198.51.100.8:443", "198.51.100.9:443"}, State: pinwatchd.AlertOpen,
		Message:  `certificate "shop.example.com" (leaf) served at 198.51.100.7:443 expires on 2026-12-05 12:00 UTC (11 days left)`,
		OpenedAt: fixedNow.Add(-time.Hour)}
}

func timeoutAlert() pinwatchd.Alert {
	return pinwatchd.Alert{ID: 15, Target: "legacy", Kind: pinwatchd.KindTimeout, Severity: pinwatchd.SeverityWarning,
		Subject: "203.0.113.5:8443", Addresses: []string{"203.0.113.5:8443"}, State: pinwatchd.AlertOpen,
		Message:  "probe of 203.0.113.5:8443 failed (timeout): no TLS handshake within 10s",
		OpenedAt: fixedNow.Add(-30 * time.Minute)}
}

func headerMalformedAlert() pinwatchd.Alert {
	return pinwatchd.Alert{ID: 16, Target: "intranet<&>", Kind: pinwatchd.KindHeaderMalformed, Severity: pinwatchd.SeverityWarning,
		Subject: "header", Addresses: []string{"10.1.2.3:443"}, State: pinwatchd.AlertOpen,
		Message:  `the Public-Key-Pins header served at 10.1.2.3:443 is malformed and ignored for pinning: max-age is missing; pin-sha256 "<!channel>&x" does not decode to 32 bytes`,
		OpenedAt: fixedNow.Add(-2 * time.Minute)}
}

func chainChangedEvent() pinwatchd.Event {
	return pinwatchd.Event{Time: fixedNow.Add(-time.Minute), Target: "api", Address: "192.0.2.10:443",
		Event: pinwatchd.EventChainChanged, Class: pinwatchd.ChangeKeyRotated,
		OldLeafPin: "n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=", NewLeafPin: "Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=",
		OldLeafSHA256: "aa11", NewLeafSHA256: "bb22",
		Issuer: "CN=Example Intermediate CA,O=Example", NotAfter: fixedNow.Add(70*24*time.Hour + 3*time.Hour)}
}

func eventNote(e pinwatchd.Event) pinwatchd.Notification {
	return pinwatchd.Notification{Type: pinwatchd.ChangeChainChanged, Event: &e, CreatedAt: fixedNow}
}

func reminderNote() pinwatchd.Notification {
	a := pinMismatchAlert()
	a.OpenedAt = fixedNow.Add(-72 * time.Hour)
	a.LastNotifiedAt = fixedNow.Add(-48 * time.Hour)
	return alertNote(pinwatchd.ChangeReminder, a)
}

func escalationNote() pinwatchd.Notification {
	a := certExpiringAlert()
	a.Severity = pinwatchd.SeverityCritical
	a.Message = `certificate "shop.example.com" (leaf) served at 198.51.100.7:443 expires on 2026-11-29 12:00 UTC (5 days left)`
	a.OpenedAt = fixedNow.Add(-6 * 24 * time.Hour)
	n := alertNote(pinwatchd.ChangeEscalated, a)
	n.PrevSeverity = pinwatchd.SeverityWarning
	return n
}

func resolveNote() pinwatchd.Notification {
	a := pinMismatchAlert()
	a.State = pinwatchd.AlertResolved
	a.ResolveReason = "a pin of the set matches the served chain again"
	a.ResolvedAt = fixedNow
	a.OpenedAt = fixedNow.Add(-26 * time.Hour)
	return alertNote(pinwatchd.ChangeResolved, a)
}

// everyKindNotes is one notification of each kind family and change type.
func everyKindNotes() []pinwatchd.Notification {
	return []pinwatchd.Notification{
		alertNote(pinwatchd.ChangeOpened, pinMismatchAlert()),
		alertNote(pinwatchd.ChangeOpened, missingBackupAlert()),
		alertNote(pinwatchd.ChangeOpened, certExpiringAlert()),
		alertNote(pinwatchd.ChangeOpened, timeoutAlert()),
		alertNote(pinwatchd.ChangeOpened, headerMalformedAlert()),
		eventNote(chainChangedEvent()),
		reminderNote(), escalationNote(), resolveNote(),
	}
}

// digestNotes is a busy round: seven changes for one channel.
func digestNotes() []pinwatchd.Notification {
	// Every kind but the reminder and the escalation: seven changes.
	all := everyKindNotes()
	ns := append(all[:6:6], all[8])
	for i := range ns {
		ns[i].Channel = "#api-team"
	}
	return ns
}

// kindAndTarget returns the kind identifier and target a notification's
// text must name.
func kindAndTarget(n *pinwatchd.Notification) (string, string) {
	if n.Event != nil {
		return string(pinwatchd.KindChainChanged), n.Event.Target
	}
	return string(n.Alert.Kind), n.Alert.Target
}
