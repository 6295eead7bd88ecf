package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// pendingEventsSQL reads the unannounced chain changes of a target: its
// addresses, each looked up in the partial index of unannounced events
// (empty in the steady state), so the query costs the same however long the
// history is. INDEXED BY keeps the planner from falling back to
// events_address_time, which would read every event of the address. Every
// daemon round runs it, so Open prepares it once.
const pendingEventsSQL = `
SELECT e.id, a.address, a.vantage, e.time, e.class, e.old_leaf_pin, e.new_leaf_pin,
       e.old_leaf_sha256, e.new_leaf_sha256, e.issuer, e.not_after
FROM events e INDEXED BY events_unnotified
JOIN addresses a ON a.id = e.address_id
WHERE e.notified = 0 AND e.event = 'chain_changed' AND a.target = ?
ORDER BY e.time, e.id`

// repeatSQL tells whether the chain_changed event ?1 repeats one already
// announced: another chain_changed event of the same target, into the same
// new leaf certificate, carries the notified mark and is no older than the
// previous change (or first sighting) at ?1's own address and vantage. So
// the second vantage to see a rotation, or the second address to take the
// new certificate, repeats the first; a later rotation back to a
// certificate served before is news again.
const repeatSQL = `
SELECT EXISTS (
  SELECT 1
  FROM events e
  JOIN addresses a ON a.id = e.address_id
  JOIN addresses oa ON oa.target = a.target
  JOIN events o ON o.address_id = oa.id
  WHERE e.id = ?1 AND e.event = 'chain_changed' AND e.new_leaf_sha256 <> ''
    AND o.id <> e.id AND o.event = 'chain_changed' AND o.notified = 1
    AND o.new_leaf_sha256 = e.new_leaf_sha256
    AND o.time >= coalesce((SELECT max(p.time) FROM events p
                            WHERE p.address_id = e.address_id AND p.id < e.id
                              AND p.event IN ('first_seen', 'chain_changed')), 0))`

// pendingTargetsSQL reads the targets with unannounced chain changes,
// from the partial index of unannounced events.
const pendingTargetsSQL = `
SELECT DISTINCT a.target
FROM events e INDEXED BY events_unnotified
JOIN addresses a ON a.id = e.address_id
WHERE e.notified = 0 AND e.event = 'chain_changed'`

// PendingEvents returns the chain_changed events of target that carry no
// notified mark yet, oldest first (ties in recording order), whoever
// recorded them: the daemon's own rounds, a round that stopped before
// announcing, or `pinwatchd check --record`. A target with none, or never
// recorded, yields none (no error). It reads a committed snapshot and is
// safe for concurrent use.
func (db *DB) PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error) {
	rows, err := db.reads.pendingEvents.queryContext(ctx, db.read, target)
	if err != nil {
		return nil, fmt.Errorf("read events to announce of %s from %s: %w", target, db.path, err)
	}
	defer rows.Close()
	var out []pinwatchd.Event
	for rows.Next() {
		var (
			e        = pinwatchd.Event{Target: target, Event: pinwatchd.EventChainChanged}
			at       int64
			class    string
			notAfter sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &e.Address, &e.Vantage, &at, &class, &e.OldLeafPin, &e.NewLeafPin,
			&e.OldLeafSHA256, &e.NewLeafSHA256, &e.Issuer, &notAfter); err != nil {
			return nil, fmt.Errorf("read events to announce of %s from %s: %w", target, db.path, err)
		}
		e.Time, e.Class = fromUnix(at), pinwatchd.ChangeClass(class)
		if notAfter.Valid {
			e.NotAfter = fromUnix(notAfter.Int64)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events to announce of %s from %s: %w", target, db.path, err)
	}
	return out, nil
}

// PendingTargets returns the targets that have chain_changed events
// without the notified mark (those PendingEvents returns), in no order:
// one query for a whole fleet, so that a caller recording many targets at
// once (the daemon's group commit) asks PendingEvents only of the targets
// that have any. Like PendingEvents it reads the partial index of
// unannounced events, empty in the steady state.
func (db *DB) PendingTargets(ctx context.Context) ([]string, error) {
	rows, err := db.reads.pendingTargets.queryContext(ctx, db.read)
	if err != nil {
		return nil, fmt.Errorf("read targets with events to announce from %s: %w", db.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var target string
		if err := rows.Scan(&target); err != nil {
			return nil, fmt.Errorf("read targets with events to announce from %s: %w", db.path, err)
		}
		out = append(out, target)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read targets with events to announce from %s: %w", db.path, err)
	}
	return out, nil
}

// AnnounceEvents sets the notified mark of the events ids and adds notes
// (the notifications about them: each note's Event.ID is one of ids) to the
// outbox, in one transaction: an event is never marked without its
// notification, nor the reverse. An event already marked (announced by
// another writer since it was read) or unknown (pruned) is skipped together
// with its notes, so each event is enqueued at most once and a repeated call
// is harmless. An event that repeats a change already announced (see
// repeatSQL: another vantage, or another address of the target, saw the
// same new leaf first) is marked but its notes are dropped: a chain change
// is notified once per (target, new leaf certificate), by whichever node
// announces it first (SPEC §14). Events are taken in the order of ids. With no notes the events are only marked (notify_changes =
// false). It returns the number of notifications enqueued. A note about no
// event of ids is an error, and then nothing is written. Safe for concurrent
// use; writes are serialised.
func (db *DB) AnnounceEvents(ctx context.Context, ids []int64, notes []pinwatchd.Notification) (int, error) {
	wanted := make(map[int64]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	for i, n := range notes {
		if n.Event == nil || !wanted[n.Event.ID] {
			return 0, fmt.Errorf("announce events in %s: notification %d is about none of the events %v", db.path, i, ids)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	enqueued := 0
	err := db.writeTx(ctx, "announce events", func(tx *sql.Tx) error {
		enqueued = 0
		marked := make(map[int64]bool, len(ids))
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE events SET notified = 1 WHERE id = ? AND notified = 0`, id)
			if err != nil {
				return fmt.Errorf("mark event %d announced: %w", id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("mark event %d announced: %w", id, err)
			}
			marked[id] = n == 1
			if marked[id] {
				var repeat bool
				if err := tx.QueryRowContext(ctx, repeatSQL, id).Scan(&repeat); err != nil {
					return fmt.Errorf("compare event %d with those announced: %w", id, err)
				}
				marked[id] = !repeat
			}
		}
		for _, n := range notes {
			if !marked[n.Event.ID] {
				continue
			}
			if err := enqueue(ctx, tx, n, nil); err != nil {
				return err
			}
			enqueued++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return enqueued, nil
}
