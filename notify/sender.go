package notify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Outbox is the durable queue of notifications the Sender drains (SQLite in
// storage). Notifications are written to it in the same transaction as the
// alert change that causes them. All methods are safe for concurrent use;
// times are stored to the second.
type Outbox interface {
	// Pending returns up to limit undelivered notifications whose
	// NextAttempt is at or before now, oldest first (by CreatedAt, then
	// ID). An empty outbox returns none and no error. For a notification
	// about an alert whose opening message was recorded with SetThread,
	// Alert.Channel and Alert.ThreadTS hold that thread, even when the
	// notification was enqueued before the opener was delivered.
	Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error)
	// Delivered removes the notifications with these IDs once Slack
	// accepted them. Idempotent: unknown or already removed IDs are not an
	// error.
	Delivered(ctx context.Context, ids ...int64) error
	// Retry records a failed attempt of notification id: Attempts+1,
	// NextAttempt = next, LastError = lastError (already free of secrets).
	// An unknown ID (already delivered) is not an error.
	Retry(ctx context.Context, id int64, next time.Time, lastError string) error
	// SetThread remembers the Slack channel ID and message ts of an
	// alert's opening message, for threading its later notifications.
	// Overwrites an earlier value; an unknown alert ID is not an error.
	SetThread(ctx context.Context, alertID int64, channel, ts string) error
}

// Backoff of retryable failures: from MinBackoff, doubling per attempt, at
// most MaxBackoff. Permanent failures are retried every MaxBackoff.
const (
	MinBackoff = time.Second
	MaxBackoff = 30 * time.Second
)

// DefaultPollInterval is how often Run looks for due notifications when
// nothing woke it.
const DefaultPollInterval = 30 * time.Second

// pendingLimit is the most notifications one pass fetches.
const pendingLimit = 500

// Results passed to SenderConfig.Result, one per notification.
const (
	ResultDelivered   = "delivered"
	ResultRetry       = "retry"
	ResultRateLimited = "rate_limited"
	ResultPermanent   = "permanent"
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Outbox is the queue to drain. Required.
	Outbox Outbox
	// Slack delivers the notifications; nil means log only (every
	// notification is logged and then counts as delivered).
	Slack Notifier
	// Log receives one line per notification and the delivery errors;
	// nil discards them.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After waits like time.After; nil means time.After. Tests inject a
	// clock that advances on demand.
	After func(time.Duration) <-chan time.Time
	// PollInterval is how often Run looks for due notifications without a
	// Wake; 0 means DefaultPollInterval.
	PollInterval time.Duration
	// Result, when set, is called with each outcome and the number of
	// notifications it concerned (metrics).
	Result func(result string, n int)
}

// Sender drains an Outbox into a Notifier: per channel in order, several
// changes of one round as a digest, retrying failures with backoff, and
// removing a notification only once it was accepted. Run, Flush and Wake
// are safe for concurrent use; passes over the outbox are serialised.
type Sender struct {
	cfg  SenderConfig
	logN *LogNotifier
	log  *slog.Logger
	wake chan struct{}

	mu          sync.Mutex           // serialises passes and guards below
	pausedUntil time.Time            // after a 429: no sends before
	blocked     map[string]time.Time // channel → no sends before (keeps order after a failure)
	retrying    map[int64]time.Time  // notification → next attempt scheduled by this process
	logged      map[int64]bool       // notifications already logged
	threads     map[int64]Receipt    // alert → opening message, as delivered by this process
}

// NewSender returns a Sender for cfg.
func NewSender(cfg SenderConfig) *Sender {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	return &Sender{
		cfg:      cfg,
		logN:     NewLogNotifier(cfg.Log),
		log:      cfg.Log,
		wake:     make(chan struct{}, 1),
		blocked:  map[string]time.Time{},
		retrying: map[int64]time.Time{},
		logged:   map[int64]bool{},
		threads:  map[int64]Receipt{},
	}
}

// Wake asks Run to look at the outbox now. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers due notifications until ctx is done, then returns nil. It
// looks at the outbox at start, on Wake, when a retry or a rate-limit pause
// falls due, and every PollInterval.
func (s *Sender) Run(ctx context.Context) error {
	for {
		next, _ := s.pass(ctx)
		wait := s.cfg.PollInterval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.cfg.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-s.cfg.After(wait):
		}
	}
}

// Flush tries to deliver everything pending, waiting out backoffs, until the
// outbox has nothing due and nothing this Sender scheduled for a retry, or
// ctx is done (shutdown). It returns an error naming how many notifications
// it left behind when ctx ended first; they stay in the outbox.
func (s *Sender) Flush(ctx context.Context) error {
	for {
		next, fetched := s.pass(ctx)
		s.mu.Lock()
		left := len(s.retrying)
		s.mu.Unlock()
		if ctx.Err() != nil {
			return fmt.Errorf("flush notifications: %d left in the outbox: %w", max(left, fetched), ctx.Err())
		}
		if fetched == 0 && left == 0 {
			return nil
		}
		var wait time.Duration
		if !next.IsZero() {
			wait = max(next.Sub(s.cfg.Now()), 0)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush notifications: %d left in the outbox: %w", max(left, fetched), ctx.Err())
		case <-s.cfg.After(wait):
		}
	}
}

// pass fetches the due notifications and delivers what it may. It returns
// when it should run again (zero: nothing known) and how many notifications
// it fetched.
func (s *Sender) pass(ctx context.Context) (next time.Time, fetched int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if now.Before(s.pausedUntil) {
		return s.pausedUntil, 0
	}
	ns, err := s.cfg.Outbox.Pending(ctx, now, pendingLimit)
	if err != nil {
		if ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not read the notification outbox", slog.String(attrErr, err.Error()))
		}
		return time.Time{}, 0
	}
	s.forgetGone(now, ns)
	progress := false
	for _, g := range byChannel(ns) {
		if now.Before(s.blocked[g.Channel]) {
			continue
		}
		for _, b := range batches(g) {
			if !s.deliver(ctx, now, b) {
				break
			}
			progress = true
		}
		if ctx.Err() != nil || now.Before(s.pausedUntil) {
			break
		}
	}
	if len(ns) == pendingLimit && progress {
		return now, len(ns) // more may be due
	}
	return s.earliest(now), len(ns)
}

// forgetGone drops what this Sender remembers of notifications that are due
// but no longer pending (removed from the outbox by someone else), so that
// Flush does not wait for them.
func (s *Sender) forgetGone(now time.Time, ns []pinwatchd.Notification) {
	if len(ns) == pendingLimit {
		return // the page may have cut them off
	}
	pending := make(map[int64]bool, len(ns))
	for _, n := range ns {
		pending[n.ID] = true
	}
	for id, t := range s.retrying {
		if !t.After(now) && !pending[id] {
			delete(s.retrying, id)
			delete(s.logged, id)
		}
	}
}

// earliest returns the first time after now at which something this Sender
// knows of falls due, or zero.
func (s *Sender) earliest(now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	consider(s.pausedUntil)
	for _, t := range s.retrying {
		consider(t)
	}
	for _, t := range s.blocked {
		consider(t)
	}
	return next
}

// deliver sends one batch and records the outcome. It reports whether the
// batch was accepted (the next batch of the channel may follow).
func (s *Sender) deliver(ctx context.Context, now time.Time, b Batch) bool {
	for i := range b.Notes {
		n := &b.Notes[i]
		if a := n.Alert; a != nil && a.ThreadTS == "" {
			if r, ok := s.threads[a.ID]; ok {
				a.Channel, a.ThreadTS = r.Channel, r.TS
			}
		}
		if n.ID == 0 || !s.logged[n.ID] {
			s.logN.Log(ctx, n)
			s.logged[n.ID] = true
		}
	}
	var rec Receipt
	var err error
	if s.cfg.Slack != nil {
		rec, err = s.cfg.Slack.Notify(ctx, b)
	}
	if err == nil {
		s.delivered(ctx, b, rec)
		return true
	}
	if ctx.Err() != nil {
		return false // shutting down: the notifications stay as they are
	}
	// Retry-After and the backoff count from the failed answer, not from
	// the start of the pass: earlier sends of the pass took time.
	s.failed(ctx, s.cfg.Now(), b, asDeliveryError(err))
	return false
}

// delivered removes an accepted batch from the outbox and remembers the
// thread of an opening message.
func (s *Sender) delivered(ctx context.Context, b Batch, rec Receipt) {
	ids := make([]int64, len(b.Notes))
	for i, n := range b.Notes {
		ids[i] = n.ID
		delete(s.retrying, n.ID)
		delete(s.logged, n.ID)
	}
	delete(s.blocked, b.Channel)
	s.result(ResultDelivered, len(b.Notes))
	if err := s.cfg.Outbox.Delivered(ctx, ids...); err != nil {
		// Slack has it; the row stays and may be sent again, never lost.
		s.log.LogAttrs(ctx, slog.LevelError, "could not remove delivered notifications from the outbox",
			slog.Any("ids", ids), slog.String(attrErr, err.Error()))
	}
	if len(b.Notes) != 1 || b.Notes[0].Alert == nil || b.Notes[0].Alert.ID == 0 {
		return // a digest does not become a thread
	}
	n := &b.Notes[0]
	switch {
	case n.Type == pinwatchd.ChangeOpened && rec.TS != "":
		s.threads[n.Alert.ID] = rec
		if err := s.cfg.Outbox.SetThread(ctx, n.Alert.ID, rec.Channel, rec.TS); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not record the slack thread of an alert",
				slog.Int64(attrAlert, n.Alert.ID), slog.String(attrErr, err.Error()))
		}
	case n.Type == pinwatchd.ChangeResolved:
		delete(s.threads, n.Alert.ID)
	}
}

// failed schedules the next attempt of every notification of b and logs
// why; a 429 pauses every send, other failures hold back the channel so that
// its notifications stay in order.
func (s *Sender) failed(ctx context.Context, now time.Time, b Batch, de *DeliveryError) {
	attempts := 0
	for _, n := range b.Notes {
		attempts = max(attempts, n.Attempts)
	}
	var wait time.Duration
	level, msg, result := slog.LevelWarn, "slack delivery failed; will retry", ResultRetry
	switch de.Class {
	case RateLimited:
		wait = max(de.RetryAfter, MinBackoff)
		s.pausedUntil = now.Add(wait)
		msg, result = "slack rate limit; pausing every send", ResultRateLimited
	case Permanent:
		wait = MaxBackoff
		level, result = slog.LevelError, ResultPermanent
		msg = "slack refused the notification; it stays in the outbox until the slack settings are fixed"
	default:
		wait = Backoff(attempts)
	}
	next := now.Add(wait)
	s.blocked[b.Channel] = next
	s.result(result, len(b.Notes))
	for _, n := range b.Notes {
		s.retrying[n.ID] = next
		if err := s.cfg.Outbox.Retry(ctx, n.ID, next, de.Error()); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not record a failed notification attempt",
				slog.Int64(attrNotification, n.ID), slog.String(attrErr, err.Error()))
		}
	}
	first := b.Notes[0]
	attrs := []slog.Attr{
		slog.String(attrTarget, first.Target()), slog.String(attrChange, string(first.Type)),
		slog.Int64(attrNotification, first.ID), slog.Int(attrCount, len(b.Notes)),
		slog.Int(attrAttempts, attempts+1), slog.String(attrClassOfErr, de.Class.String()),
		slog.Duration(attrRetryIn, wait), slog.String(attrErr, de.Error()),
	}
	if b.Channel != "" {
		attrs = append(attrs, slog.String(attrChannel, b.Channel))
	}
	s.log.LogAttrs(ctx, level, msg, attrs...)
}

func (s *Sender) result(r string, n int) {
	if s.cfg.Result != nil {
		s.cfg.Result(r, n)
	}
}

// Backoff returns the wait after a retryable failure of a notification that
// had failed attempts times before: MinBackoff doubled per attempt, capped
// at MaxBackoff.
func Backoff(attempts int) time.Duration {
	if attempts < 0 {
		attempts = 0
	}
	if attempts >= 5 {
		return MaxBackoff
	}
	return min(MinBackoff<<attempts, MaxBackoff)
}

// byChannel groups notifications by destination channel, keeping their order
// and the order in which channels first appear.
func byChannel(ns []pinwatchd.Notification) []Batch {
	var groups []Batch
	index := map[string]int{}
	for _, n := range ns {
		i, ok := index[n.Channel]
		if !ok {
			i = len(groups)
			index[n.Channel] = i
			groups = append(groups, Batch{Channel: n.Channel})
		}
		groups[i].Notes = append(groups[i].Notes, n)
	}
	return groups
}

// batches splits one channel's notifications into messages: runs of more
// than DigestThreshold from one round (the same CreatedAt second) become
// digests of at most MaxDigest entries, everything else goes alone.
func batches(g Batch) []Batch {
	var out []Batch
	ns := g.Notes
	for i := 0; i < len(ns); {
		j := i + 1
		round := ns[i].CreatedAt.Truncate(time.Second)
		for j < len(ns) && ns[j].CreatedAt.Truncate(time.Second).Equal(round) {
			j++
		}
		run := ns[i:j]
		if len(run) > DigestThreshold {
			parts := (len(run) + MaxDigest - 1) / MaxDigest
			size := (len(run) + parts - 1) / parts
			for k := 0; k < len(run); k += size {
				out = append(out, Batch{Channel: g.Channel, Notes: run[k:min(k+size, len(run))]})
			}
		} else {
			for k := range run {
				out = append(out, Batch{Channel: g.Channel, Notes: run[k : k+1]})
			}
		}
		i = j
	}
	return out
}
