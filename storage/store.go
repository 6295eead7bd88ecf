package storage

import (
	"context"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Store is the store contract: every method a pinwatchd database offers,
// whichever backend keeps it. *DB (SQLite) and storage/postgres's *DB
// implement it, and storage/storagetest checks that both keep it with one
// suite. The doc comments of *DB's methods are the contract; in short:
//
//   - Record stores a round of observations in one transaction and returns
//     the events it derived; an observation equal to the latest of its
//     address only moves a span.
//   - PendingEvents, AnnounceEvents: chain changes announced exactly once;
//     PendingTargets: which targets have any to announce.
//   - OpenAlerts, OpenAlertsUnder (the sub-targets of an mx target),
//     Alerts, SaveAlerts (with their notifications, in one
//     transaction), UpdateAlerts (read-modify-write of a target's open
//     alerts, serialised across nodes), FailureCounts, NameState,
//     SaveNameState (per vantage): alert state.
//   - Pending, PendingCount, Undeliverable, Delivered, Retry, Park,
//     Requeue, SetThread: the outbox, whose IDs are never reused; Claim,
//     Release and Pause let the nodes sharing it deliver each
//     notification once.
//   - History, Certs, LatestObservations, RecentObservations,
//     PinHeadersSeen (the rotation preflight's): the queries.
//   - Heartbeat, Nodes, ForgetNode: the nodes sharing the database (SPEC
//     §14).
//   - VerifiedLinks: the leaf-to-issuer links of recorded verified chains,
//     signatures a probe need not check again.
//   - Prune applies the retention; Ping checks the database answers.
//
// Every method is safe for concurrent use, also by several processes on
// one database. A store opened read-only returns errors wrapping
// ErrReadOnly from the methods that write. Consumers declare the smaller
// interfaces they need; this one is what storage/backend opens.
type Store interface {
	Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error)
	PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error)
	PendingTargets(ctx context.Context) ([]string, error)
	AnnounceEvents(ctx context.Context, ids []int64, notes []pinwatchd.Notification) (int, error)

	OpenAlerts(ctx context.Context, target string) ([]pinwatchd.Alert, error)
	OpenAlertsUnder(ctx context.Context, prefix string) ([]pinwatchd.Alert, error)
	Alerts(ctx context.Context, all bool) ([]pinwatchd.Alert, error)
	SaveAlerts(ctx context.Context, alerts []pinwatchd.Alert, notes []pinwatchd.Notification) error
	UpdateAlerts(ctx context.Context, target string, fn func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error)) error
	FailureCounts(ctx context.Context, target, vantage string) (map[string]int, error)
	NameState(ctx context.Context, target, vantage string) (pinwatchd.NameState, error)
	SaveNameState(ctx context.Context, target, vantage string, s pinwatchd.NameState) error

	Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error)
	PendingCount(ctx context.Context) (n, maxAttempts int, err error)
	Undeliverable(ctx context.Context) (Undeliverable, error)
	Delivered(ctx context.Context, ids ...int64) error
	Retry(ctx context.Context, id int64, next time.Time, lastError string) error
	Park(ctx context.Context, id int64, at time.Time, lastError string) error
	Requeue(ctx context.Context, now time.Time) (int, error)
	SetThread(ctx context.Context, alertID int64, channel, ts string) error
	Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]pinwatchd.Notification, error)
	Release(ctx context.Context, owner string) error
	ReleaseOwnersUnder(ctx context.Context, prefix string) error
	Pause(ctx context.Context, channel string, until time.Time) error

	History(ctx context.Context, target string, since time.Time) ([]pinwatchd.Event, error)
	Certs(ctx context.Context, now time.Time, configured func(target string) bool) ([]pinwatchd.CertStatus, error)
	LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error)
	RecentObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error)
	PinHeadersSeen(ctx context.Context, target string) ([]pinwatchd.SeenPinHeader, error)
	VerifiedLinks(ctx context.Context) ([]VerifiedLink, error)

	Heartbeat(ctx context.Context, n pinwatchd.Node) error
	Nodes(ctx context.Context) ([]pinwatchd.Node, error)
	ForgetNode(ctx context.Context, vantage string) (bool, error)

	Prune(ctx context.Context, before time.Time) (PruneStats, error)
	Ping(ctx context.Context) error
	// Path names the database in messages: the SQLite file, or the
	// PostgreSQL URL without its password.
	Path() string
	Close() error
}
