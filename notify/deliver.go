package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// bookkeepingTimeout bounds the outbox writes that follow an answer of
// Slack. They run on a context of their own: once Slack accepted a message,
// a reload or shutdown that cancels the Sender must not keep the row from
// being removed (it would be posted again).
const bookkeepingTimeout = 5 * time.Second

// bookkeeping returns the context of the outbox writes after an answer of
// Slack: ctx's values, not its cancellation, and bookkeepingTimeout.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
}

// deliver sends one batch and records the outcome. It reports whether the
// next batch of the channel may follow: true when b was accepted or parked,
// false when it is to be retried (or ctx ended).
func (s *Sender) deliver(ctx context.Context, b Batch) bool {
	var toLog []*pinwatchd.Notification
	s.mu.Lock()
	for i := range b.Notes {
		n := &b.Notes[i]
		if a := n.Alert; a != nil && a.ThreadTS == "" {
			if r, ok := s.threads[a.ID]; ok {
				a.Channel, a.ThreadTS = r.Channel, r.TS
			}
		}
		if n.ID == 0 || !s.logged[n.ID] {
			toLog = append(toLog, n)
			s.logged[n.ID] = true
		}
	}
	s.mu.Unlock()
	for _, n := range toLog {
		s.logN.Log(ctx, n)
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
	de := asDeliveryError(err)
	if de.Class == Permanent {
		s.park(ctx, s.cfg.Now(), b, de)
		return true
	}
	s.failed(ctx, s.cfg.Now(), b, de)
	return false
}

// delivered removes an accepted batch from the outbox and remembers the
// thread of an opening message. Neither write is cut short by ctx.
func (s *Sender) delivered(ctx context.Context, b Batch, rec Receipt) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	ids := make([]int64, len(b.Notes))
	s.mu.Lock()
	for i, n := range b.Notes {
		ids[i] = n.ID
		delete(s.retrying, n.ID)
		delete(s.logged, n.ID)
	}
	s.channel(b.Channel).until = time.Time{}
	var opener *pinwatchd.Notification
	if len(b.Notes) == 1 && b.Notes[0].Alert != nil && b.Notes[0].Alert.ID != 0 { // a digest does not become a thread
		n := &b.Notes[0]
		switch {
		case n.Type == pinwatchd.ChangeOpened && rec.TS != "":
			s.threads[n.Alert.ID] = rec
			opener = n
		case n.Type == pinwatchd.ChangeResolved:
			delete(s.threads, n.Alert.ID)
		}
	}
	s.mu.Unlock()
	s.result(ResultDelivered, len(b.Notes))
	if err := s.cfg.Outbox.Delivered(ctx, ids...); err != nil {
		// Slack has it; the row stays and may be sent again, never lost.
		s.log.LogAttrs(ctx, slog.LevelError, "could not remove delivered notifications from the outbox",
			slog.Any("ids", ids), slog.String(attrErr, err.Error()))
	}
	if opener != nil {
		if err := s.cfg.Outbox.SetThread(ctx, opener.Alert.ID, rec.Channel, rec.TS); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not record the slack thread of an alert",
				slog.Int64(attrAlert, opener.Alert.ID), slog.String(attrErr, err.Error()))
		}
	}
}

// park keeps the notifications of a batch Slack refused for good as
// undeliverable, and logs it once. The channel goes on with its next batch.
func (s *Sender) park(ctx context.Context, now time.Time, b Batch, de *DeliveryError) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	s.mu.Lock()
	for _, n := range b.Notes {
		delete(s.retrying, n.ID)
		delete(s.logged, n.ID)
	}
	s.mu.Unlock()
	s.result(ResultPermanent, len(b.Notes))
	for _, n := range b.Notes {
		if err := s.cfg.Outbox.Park(ctx, n.ID, now, de.Error()); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not park an undeliverable notification",
				slog.Int64(attrNotification, n.ID), slog.String(attrErr, err.Error()))
		}
	}
	s.log.LogAttrs(ctx, slog.LevelError,
		"slack refused the notification for good; it is kept as undeliverable (pinwatchd alerts counts it) and tried again when pinwatchd starts or reloads",
		s.failureAttrs(b, de, 0)...)
}

// failed schedules the next attempt of every notification of b and logs
// why. The channel is held back until then, so that its notifications stay
// in order; other channels go on.
func (s *Sender) failed(ctx context.Context, now time.Time, b Batch, de *DeliveryError) {
	attempts := 0
	for _, n := range b.Notes {
		attempts = max(attempts, n.Attempts)
	}
	wait := Backoff(attempts)
	msg, result := "slack delivery failed; will retry", ResultRetry
	if de.Class == RateLimited {
		wait = min(max(de.RetryAfter, MinBackoff), MaxRetryAfter)
		msg, result = "slack rate limit; pausing the channel", ResultRateLimited
	}
	next := now.Add(wait)
	s.mu.Lock()
	s.channel(b.Channel).until = next
	for _, n := range b.Notes {
		s.retrying[n.ID] = next
	}
	s.mu.Unlock()
	s.result(result, len(b.Notes))
	if de.Class == RateLimited {
		// Every node pauses the destination, not only this one.
		if err := s.cfg.Outbox.Pause(ctx, b.Channel, next); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not share the rate limit pause with the other nodes",
				slog.String(attrErr, err.Error()))
		}
	}
	for _, n := range b.Notes {
		if err := s.cfg.Outbox.Retry(ctx, n.ID, next, de.Error()); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "could not record a failed notification attempt",
				slog.Int64(attrNotification, n.ID), slog.String(attrErr, err.Error()))
		}
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, msg, s.failureAttrs(b, de, wait)...)
}

// failureAttrs describe a failed delivery of b in the log; retryIn is left
// out when zero.
func (s *Sender) failureAttrs(b Batch, de *DeliveryError, retryIn time.Duration) []slog.Attr {
	attempts := 0
	for _, n := range b.Notes {
		attempts = max(attempts, n.Attempts)
	}
	first := b.Notes[0]
	attrs := []slog.Attr{
		slog.String(attrTarget, first.Target()), slog.String(attrChange, string(first.Type)),
		slog.Int64(attrNotification, first.ID), slog.Int(attrCount, len(b.Notes)),
		slog.Int(attrAttempts, attempts+1), slog.String(attrClassOfErr, de.Class.String()),
	}
	if retryIn > 0 {
		attrs = append(attrs, slog.Duration(attrRetryIn, retryIn))
	}
	attrs = append(attrs, slog.String(attrErr, de.Error()))
	if b.Channel != "" {
		attrs = append(attrs, slog.String(attrChannel, b.Channel))
	}
	return attrs
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
