package notify

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Outbox is the durable queue of notifications the Sender drains (SQLite in
// storage, or PostgreSQL in storage/postgres), possibly with the Senders of
// other nodes sharing the database. Notifications are written to it in the same transaction as the
// alert change that causes them. IDs are never reused: once a notification
// is removed, its ID names no later one, so a late Delivered cannot remove
// a newer notification. All methods are safe for concurrent use; times are
// stored to the second.
type Outbox interface {
	// Pending returns the notifications whose NextAttempt is at or before
	// now and that are not parked: up to limit of each channel
	// (Notification.Channel), the oldest of each, so that one channel's
	// backlog never hides another channel's notifications. They come
	// oldest first (by CreatedAt, then ID). An empty outbox returns none
	// and no error. For a notification about an alert whose opening
	// message was recorded with SetThread, Alert.Channel and
	// Alert.ThreadTS hold that thread, even when the notification was
	// enqueued before the opener was delivered.
	Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error)
	// Delivered removes the notifications with these IDs once Slack
	// accepted them. Idempotent: unknown or already removed IDs are not an
	// error.
	Delivered(ctx context.Context, ids ...int64) error
	// Retry records a failed attempt of notification id: Attempts+1,
	// NextAttempt = next, LastError = lastError (already free of secrets).
	// An unknown ID (already delivered) is not an error.
	Retry(ctx context.Context, id int64, next time.Time, lastError string) error
	// Park records the last failed attempt of notification id, one Slack
	// refused for good (Attempts+1, LastError = lastError, free of
	// secrets), at time at, and keeps it as undeliverable: it stays in the
	// outbox but Pending leaves it out until Requeue. An unknown ID is not
	// an error.
	Park(ctx context.Context, id int64, at time.Time, lastError string) error
	// Requeue returns every parked notification to the queue, due at now,
	// with its Attempts and LastError, and says how many it returned (0
	// when none was parked).
	Requeue(ctx context.Context, now time.Time) (int, error)
	// SetThread remembers the Slack channel ID and message ts of an
	// alert's opening message, for threading its later notifications.
	// Overwrites an earlier value; an unknown alert ID is not an error.
	SetThread(ctx context.Context, alertID int64, channel, ts string) error
	// Claim leases to owner, until until, the notifications it is to
	// deliver at now and returns them as Pending does: what Pending(now,
	// limit) returns, less every channel of which another owner holds a
	// notification whose lease ends after now, and every channel paused
	// past now (Pause). Notifications owner claimed before are claimed
	// again, their lease extended. Claims of several owners, also in
	// several processes, serialise, so that one channel is delivered by
	// one owner at a time and a notification is claimed by one owner at
	// a time. Retry, Park and Delivered end a notification's claim.
	Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]pinwatchd.Notification, error)
	// Release ends every claim of owner, so that another owner may claim
	// those notifications at once. Idempotent.
	Release(ctx context.Context, owner string) error
	// Pause holds every owner's deliveries to channel until until (Claim
	// leaves the channel out), after a 429 of Slack. A pause that ends
	// later is kept.
	Pause(ctx context.Context, channel string, until time.Time) error
}

// Backoff of retryable failures: from MinBackoff, doubling per attempt, at
// most MaxBackoff.
const (
	MinBackoff = time.Second
	MaxBackoff = 30 * time.Second
)

// DefaultPollInterval is how often Run looks for due notifications when
// nothing woke it.
const DefaultPollInterval = 30 * time.Second

// Lease is how long a Sender's claim on a notification lasts (SPEC §14):
// a node that dies mid-send holds its notifications no longer than this,
// then another node delivers them. A Sender renews the claims of what it
// holds every third of it.
const Lease = 30 * time.Second

// pendingLimit is the most notifications of one channel one pass fetches:
// whole digests, so that a backlog is split where Slack's block limit
// forces it and nowhere else.
const pendingLimit = 10 * MaxDigest

// maxWorkers bounds the channels delivered to at the same time.
const maxWorkers = 16

// Results passed to SenderConfig.Result, one per notification.
const (
	ResultDelivered   = "delivered"
	ResultRetry       = "retry"
	ResultRateLimited = "rate_limited"
	ResultPermanent   = "permanent" // refused for good: parked as undeliverable
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Outbox is the queue to drain. Required.
	Outbox Outbox
	// Owner names this Sender in its claims on the outbox (Outbox.Claim):
	// unique among the Senders of the nodes sharing the outbox, and never
	// reused. Empty means a random name.
	Owner string
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
	// DigestWindow coalesces the notifications of one channel: nothing is
	// sent to a channel before its oldest due notification is this old
	// (by CreatedAt); then everything due for it goes out, more than
	// DigestThreshold as digests. 0 turns digests off: every notification
	// goes alone as soon as it is due. Log-only delivery never waits.
	DigestWindow time.Duration
	// Result, when set, is called with each outcome and the number of
	// notifications it concerned (metrics), possibly from several
	// goroutines at once.
	Result func(result string, n int)
}

// Sender drains an Outbox into a Notifier. Channels are independent: each
// is delivered to by a goroutine of its own, in order, so that a channel in
// backoff, paused by a 429 or hanging never delays another. It coalesces a
// channel's notifications over the digest window, retries failures with
// backoff, parks what Slack refuses for good, and removes a notification
// only once it was accepted. Run, Flush and Wake are safe for concurrent
// use; passes over the outbox are serialised.
type Sender struct {
	cfg  SenderConfig
	logN *LogNotifier
	log  *slog.Logger
	wake chan struct{}

	passMu  sync.Mutex     // serialises passes
	workers sync.WaitGroup // channel deliveries under way
	slots   chan struct{}  // bounds them to maxWorkers

	mu       sync.Mutex               // guards the fields below
	channels map[string]*channelState // by Notification.Channel
	retrying map[int64]time.Time      // notification → next attempt scheduled by this process
	logged   map[int64]bool           // notifications already logged
	threads  map[int64]Receipt        // alert → opening message, as delivered by this process
}

// channelState is what a Sender knows of one channel.
type channelState struct {
	busy  bool      // a delivery to it is under way
	until time.Time // no sends before: backoff after a failure, or a 429's pause
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
	if cfg.Owner == "" {
		cfg.Owner = "sender-" + rand.Text()
	}
	return &Sender{
		cfg:      cfg,
		logN:     NewLogNotifier(cfg.Log),
		log:      cfg.Log,
		wake:     make(chan struct{}, 1),
		slots:    make(chan struct{}, maxWorkers),
		channels: map[string]*channelState{},
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

// Run delivers due notifications until ctx is done, then waits for the
// deliveries under way to end, releases its claims and returns nil. It first returns the
// notifications an earlier run parked to the queue (Outbox.Requeue): the
// daemon starts a Sender at start-up and at every reload, which is when an
// operator may have fixed what Slack refused. It looks at the outbox at
// start, on Wake, when a delivery ends, when a retry, a pause or a digest
// window falls due, and every PollInterval.
func (s *Sender) Run(ctx context.Context) error {
	defer s.release(ctx)
	defer s.workers.Wait()
	s.requeue(ctx)
	for {
		next, _ := s.pass(ctx, false)
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

// release ends this Sender's claims on the outbox, so that another node
// (or the Sender of a reload) delivers what it leaves at once rather than
// after the lease. Not cut short by ctx.
func (s *Sender) release(ctx context.Context) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := s.cfg.Outbox.Release(ctx, s.cfg.Owner); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "could not release the claimed notifications; other nodes deliver them once the lease ends",
			slog.String(attrErr, err.Error()))
	}
}

// requeue returns parked notifications to the queue and says so in the log.
func (s *Sender) requeue(ctx context.Context) {
	n, err := s.cfg.Outbox.Requeue(ctx, s.cfg.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.LogAttrs(ctx, slog.LevelError, "could not requeue the undeliverable notifications", slog.String(attrErr, err.Error()))
	case n > 0:
		s.log.LogAttrs(ctx, slog.LevelInfo, "trying the undeliverable notifications once more", slog.Int(attrCount, n))
	}
}

// Flush tries to deliver everything pending at once, digest windows
// ignored and backoffs waited out, until the outbox has nothing due and
// nothing this Sender scheduled for a retry, or ctx is done (shutdown). It
// returns an error naming how many notifications it left behind when ctx
// ended first; they stay in the outbox. Parked notifications are left
// alone. Notifications another node holds, or paused by a 429, are left
// to it. It releases its claims when it returns. Call it when Run is not
// running.
func (s *Sender) Flush(ctx context.Context) error {
	defer s.release(ctx)
	for {
		next, fetched := s.pass(ctx, true)
		s.workers.Wait()
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

// pass claims the due notifications (Outbox.Claim) and starts a delivery for every
// channel that is neither busy, nor held back by a failure or a pause, nor
// (unless flush) inside its digest window. It returns when something it
// knows of falls due (zero: nothing) and how many notifications it
// fetched. Deliveries go on after it returns; each wakes Run when it ends.
func (s *Sender) pass(ctx context.Context, flush bool) (next time.Time, fetched int) {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	now := s.cfg.Now()
	ns, err := s.cfg.Outbox.Claim(ctx, s.cfg.Owner, now, now.Add(Lease), pendingLimit)
	if err != nil {
		if ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not read the notification outbox", slog.String(attrErr, err.Error()))
		}
		return time.Time{}, 0
	}
	groups := byChannel(ns)
	s.forgetGone(now, ns, groups)
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if len(ns) > 0 {
		consider(now.Add(Lease / 3)) // renew the claims of what is held
	}
	for _, g := range groups {
		s.mu.Lock()
		st := s.channel(g.Channel)
		busy, until := st.busy, st.until
		s.mu.Unlock()
		switch {
		case busy:
			continue // its delivery wakes Run when it ends
		case now.Before(until):
			consider(until)
			continue
		}
		digests := s.cfg.DigestWindow > 0 && s.cfg.Slack != nil
		if hold := holdUntil(g, now, s.cfg.DigestWindow); digests && !flush && hold.After(now) {
			consider(hold)
			continue
		}
		if !s.start(ctx, g.Channel, batches(g, digests)) {
			break // shutting down
		}
	}
	s.mu.Lock()
	for _, t := range s.retrying {
		consider(t)
	}
	for _, st := range s.channels {
		consider(st.until)
	}
	s.mu.Unlock()
	return next, len(ns)
}

// channel returns the state of a channel, creating it. s.mu is held.
func (s *Sender) channel(name string) *channelState {
	st, ok := s.channels[name]
	if !ok {
		st = &channelState{}
		s.channels[name] = st
	}
	return st
}

// start delivers bs to channel in a goroutine of its own, once one of the
// maxWorkers slots is free. It reports false when ctx ended first.
func (s *Sender) start(ctx context.Context, channel string, bs []Batch) bool {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.mu.Lock()
	s.channel(channel).busy = true
	s.mu.Unlock()
	s.workers.Add(1)
	go func() {
		defer func() {
			s.mu.Lock()
			s.channel(channel).busy = false
			s.mu.Unlock()
			<-s.slots
			s.workers.Done()
			s.Wake()
		}()
		for _, b := range bs {
			if ctx.Err() != nil || !s.deliver(ctx, b) {
				return // the rest of the channel waits, in order
			}
		}
	}()
	return true
}

// forgetGone drops what this Sender remembers of notifications that are due
// but no longer pending (removed from the outbox by someone else), so that
// Flush does not wait for them.
func (s *Sender) forgetGone(now time.Time, ns []pinwatchd.Notification, groups []Batch) {
	for _, g := range groups {
		if len(g.Notes) >= pendingLimit {
			return // the page may have cut them off
		}
	}
	pending := make(map[int64]bool, len(ns))
	for _, n := range ns {
		pending[n.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.retrying {
		if !t.After(now) && !pending[id] {
			delete(s.retrying, id)
			delete(s.logged, id)
		}
	}
}

func (s *Sender) result(r string, n int) {
	if s.cfg.Result != nil {
		s.cfg.Result(r, n)
	}
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
