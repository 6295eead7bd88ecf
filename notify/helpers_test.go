package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

// Secrets of the fake Slack: neither may ever appear in errors or logs.
const (
	webhookPath = pinwatchdtest.SlackWebhookPath
	testToken   = pinwatchdtest.SlackToken
)

// fixedNow is the clock of the render tests.
var fixedNow = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

// memOutbox is an in-memory Outbox following the interface's contract
// (TestMemOutboxContract). Like a database, it refuses every call once its
// context is done.
type memOutbox struct {
	mu      sync.Mutex
	rows    map[int64]*pinwatchd.Notification
	nextID  int64
	threads map[int64][2]string
	// fillThreads: Pending fills Alert.Channel/ThreadTS from SetThread, as
	// the contract says. A test turns it off to see that the Sender threads
	// follow-ups from its own memory.
	fillThreads bool
	delivered   []int64
	retries     []int64
	parked      map[int64]bool
	claims      map[int64]memClaim   // notification → its lease
	pauses      map[string]time.Time // channel → paused until
	claimed     []int64              // every claim, in order
}

// memClaim is a notification's lease.
type memClaim struct {
	owner string
	until time.Time
}

func newMemOutbox() *memOutbox {
	return &memOutbox{rows: map[int64]*pinwatchd.Notification{}, threads: map[int64][2]string{}, fillThreads: true, parked: map[int64]bool{},
		claims: map[int64]memClaim{}, pauses: map[string]time.Time{}}
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
		c.CreatedAt = c.CreatedAt.Truncate(time.Second) // times are stored to the second
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

func (o *memOutbox) Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error) {
	if ctx.Err() != nil { // as a database would
		return nil, ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending(now, limit), nil
}

func (o *memOutbox) Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]pinwatchd.Notification, error) {
	if ctx.Err() != nil { // as a database would
		return nil, ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	held := map[string]bool{}
	for id, c := range o.claims {
		if n, ok := o.rows[id]; ok && c.owner != owner && c.until.After(now) {
			held[n.Channel] = true
		}
	}
	out := slices.DeleteFunc(o.pending(now, limit), func(n pinwatchd.Notification) bool {
		return held[n.Channel] || o.pauses[n.Channel].After(now)
	})
	for _, n := range out {
		o.claims[n.ID] = memClaim{owner, until.Truncate(time.Second)}
		o.claimed = append(o.claimed, n.ID)
	}
	return out, nil
}

func (o *memOutbox) Release(ctx context.Context, owner string) error {
	if ctx.Err() != nil { // as a database would
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, c := range o.claims {
		if c.owner == owner {
			delete(o.claims, id)
		}
	}
	return nil
}

func (o *memOutbox) Pause(ctx context.Context, channel string, until time.Time) error {
	if ctx.Err() != nil { // as a database would
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if until = until.Truncate(time.Second); until.After(o.pauses[channel]) {
		o.pauses[channel] = until
	}
	return nil
}

// pending is Pending with o.mu held.
func (o *memOutbox) pending(now time.Time, limit int) []pinwatchd.Notification {
	var out []pinwatchd.Notification
	for _, n := range o.rows {
		if !n.NextAttempt.After(now) && !o.parked[n.ID] {
			c := clone(*n)
			if c.Alert != nil && o.fillThreads {
				if th, ok := o.threads[c.Alert.ID]; ok {
					c.Alert.Channel, c.Alert.ThreadTS = th[0], th[1] // SetThread's, over any the notification carried
				}
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
	perChannel := map[string]int{}
	return slices.DeleteFunc(out, func(n pinwatchd.Notification) bool {
		perChannel[n.Channel]++
		return perChannel[n.Channel] > limit
	})
}

func (o *memOutbox) Delivered(ctx context.Context, ids ...int64) error {
	if ctx.Err() != nil { // as a database would
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		if _, ok := o.rows[id]; ok {
			o.delivered = append(o.delivered, id)
			delete(o.rows, id)
			delete(o.parked, id)
			delete(o.claims, id)
		}
	}
	return nil
}

func (o *memOutbox) Retry(ctx context.Context, id int64, next time.Time, lastError string) error {
	if ctx.Err() != nil { // as a database would
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n, ok := o.rows[id]; ok {
		n.Attempts++
		n.NextAttempt = next.Truncate(time.Second)
		n.LastError = lastError
		o.retries = append(o.retries, id)
		delete(o.claims, id)
	}
	return nil
}

func (o *memOutbox) Park(ctx context.Context, id int64, _ time.Time, lastError string) error {
	if ctx.Err() != nil { // as a database would
		return ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n, ok := o.rows[id]; ok {
		n.Attempts++
		n.LastError = lastError
		o.parked[id] = true
		delete(o.claims, id)
	}
	return nil
}

func (o *memOutbox) Requeue(ctx context.Context, now time.Time) (int, error) {
	if ctx.Err() != nil { // as a database would
		return 0, ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for id := range o.parked {
		if row, ok := o.rows[id]; ok {
			row.NextAttempt = now.Truncate(time.Second)
			n++
		}
		delete(o.parked, id)
	}
	return n, nil
}

// isParked reports whether notification id is parked.
func (o *memOutbox) isParked(id int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.parked[id]
}

func (o *memOutbox) SetThread(ctx context.Context, alertID int64, channel, ts string) error {
	if ctx.Err() != nil { // as a database would
		return ctx.Err()
	}
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

// jsonUnmarshal decodes a JSON string, such as the blocks of a Web API form.
func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
