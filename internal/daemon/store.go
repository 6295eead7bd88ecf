package daemon

import (
	"context"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/notify"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/backend"
	"github.com/pinwatchd/pinwatchd/web"
)

// store is what a running daemon needs of its database, SQLite or
// PostgreSQL alike (storage/backend opens either; storage.Store has every
// method): the runner's (monitor.Store), the outbox sender's
// (notify.Outbox), the mx rounds' (monitor.AlertLister, also used to
// resolve the alerts of a removed mx target's exchanges) and the
// dashboard's (web.Store), and for the daemon itself the methods below. Every method is safe for concurrent use.
type store interface {
	monitor.Store
	monitor.AlertLister
	notify.Outbox
	web.Store
	// Prune deletes the history older than before (spans but the latest of
	// each address, events, resolved alerts no notification waits for) and
	// what is no longer referenced, in one transaction. Idempotent.
	Prune(ctx context.Context, before time.Time) (storage.PruneStats, error)
	// Undeliverable sums up the notifications Slack refused for good; the
	// zero value when none is parked.
	Undeliverable(ctx context.Context) (storage.Undeliverable, error)
	// ReleaseOwnersUnder ends the outbox claims of every owner whose name
	// starts with prefix: this node's earlier lives, at start-up.
	ReleaseOwnersUnder(ctx context.Context, prefix string) error
	// LatestObservations returns the latest observation of every
	// (address, vantage) of target (the vantage comparison's).
	LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error)
	// Heartbeat adds or replaces the row of node n in the nodes table;
	// idempotent.
	Heartbeat(ctx context.Context, n pinwatchd.Node) error
	// Nodes returns every node's row, ordered by vantage; none is not an
	// error.
	Nodes(ctx context.Context) ([]pinwatchd.Node, error)
	// PendingTargets returns the targets that have chain changes not
	// announced yet (the group commit asks once per batch).
	PendingTargets(ctx context.Context) ([]string, error)
	// Ping reports an error unless the database answers a query.
	Ping(ctx context.Context) error
	// Path names the database in logs: the SQLite file, or the
	// PostgreSQL URL without its password.
	Path() string
	// Close waits for the write in progress and releases the database.
	Close() error
}

// openStore opens the database the configuration names, read-write.
func openStore(ctx context.Context, database, passwordFile string) (store, error) {
	db, err := backend.Open(ctx, database, backend.Options{PasswordFile: passwordFile})
	if err != nil {
		return nil, err
	}
	return db, nil
}
