package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Store is what the pages read. storage.DB satisfies it. Every method is
// safe for concurrent use and only reads; times are UTC.
type Store interface {
	// RecentObservations returns, per address of target (of every target
	// when target is ""), ordered by target then address, the latest
	// observation and, when that one carries no chain, also the latest that
	// did: one or two per address, newest first. An unknown target has
	// none (no error).
	RecentObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error)
	// History returns the timeline events of target (of every target when
	// target is "") at or after since, oldest first. An unknown target has
	// none (no error).
	History(ctx context.Context, target string, since time.Time) ([]pinwatchd.Event, error)
	// Alerts returns the open alerts, or with all every retained alert
	// (resolved ones too), newest first.
	Alerts(ctx context.Context, all bool) ([]pinwatchd.Alert, error)
	// PendingCount returns how many notifications wait in the outbox and
	// the most failed delivery attempts among them.
	PendingCount(ctx context.Context) (n, maxAttempts int, err error)
	// Undeliverable sums up the notifications Slack refused for good.
	Undeliverable(ctx context.Context) (pinwatchd.Undeliverable, error)
}

// Fleet is the configuration the pages show: the configured targets, with
// their pin-sets resolved, and the expiry windows.
type Fleet struct {
	Targets    []pinwatchd.Target
	Thresholds pinwatchd.Thresholds
}

// Options are what the handler and the report read.
type Options struct {
	// Store is the database. Required.
	Store Store
	// Fleet returns the configuration in force; it is called once per
	// request, so a reloaded configuration shows at once. Required.
	Fleet func() Fleet
	// Now is the clock days-left and windows are measured from; nil means
	// time.Now.
	Now func() time.Time
	// Log receives the errors of requests (a database that cannot be
	// read); nil discards them.
	Log *slog.Logger
}

// recentlyResolved is how far back /alerts lists resolved alerts when no
// since is given.
const recentlyResolved = 7 * 24 * time.Hour

// expiryHorizon is the span of the /expiry timeline.
const expiryHorizon = 90 * 24 * time.Hour

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

func (o *Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}
