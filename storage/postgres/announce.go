package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
)

// repeatSQL tells whether the chain_changed event $1 repeats one already
// announced; see the SQLite backend's, which it mirrors.
const repeatSQL = `
SELECT EXISTS (
  SELECT 1
  FROM events e
  JOIN addresses a ON a.id = e.address_id
  JOIN addresses oa ON oa.target = a.target
  JOIN events o ON o.address_id = oa.id
  WHERE e.id = $1 AND e.event = 'chain_changed' AND e.new_leaf_sha256 <> ''
    AND o.id <> e.id AND o.event = 'chain_changed' AND o.notified
    AND o.new_leaf_sha256 = e.new_leaf_sha256
    AND o.time >= coalesce((SELECT max(p.time) FROM events p
                            WHERE p.address_id = e.address_id AND p.id < e.id
                              AND p.event IN ('first_seen', 'chain_changed')), 0))`

// PendingTargets returns the targets that have chain_changed events
// without the notified mark, in no order: storage.DB.PendingTargets' contract.
func (db *DB) PendingTargets(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `
SELECT DISTINCT a.target FROM events e JOIN addresses a ON a.id = e.address_id
WHERE NOT e.notified AND e.event = 'chain_changed'`)
	if err != nil {
		return nil, fmt.Errorf("read targets with events to announce from %s: %w", db.path, err)
	}
	targets, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read targets with events to announce from %s: %w", db.path, err)
	}
	return targets, nil
}

// PendingEvents returns the chain_changed events of target that carry no
// notified mark yet, oldest first (ties in recording order), whoever
// recorded them. A target with none, or never recorded, yields none (no
// error). The partial index of unannounced events keeps it as cheap with a
// year of history as with none.
func (db *DB) PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error) {
	rows, err := db.pool.Query(ctx, `
SELECT e.id, a.address, a.vantage, e.time, e.class, e.old_leaf_pin, e.new_leaf_pin,
       e.old_leaf_sha256, e.new_leaf_sha256, e.issuer, e.not_after
FROM addresses a JOIN events e ON e.address_id = a.id
WHERE NOT e.notified AND e.event = 'chain_changed' AND a.target = $1
ORDER BY e.time, e.id`, target)
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
			notAfter *int64
		)
		if err := rows.Scan(&e.ID, &e.Address, &e.Vantage, &at, &class, &e.OldLeafPin, &e.NewLeafPin,
			&e.OldLeafSHA256, &e.NewLeafSHA256, &e.Issuer, &notAfter); err != nil {
			return nil, fmt.Errorf("read events to announce of %s from %s: %w", target, db.path, err)
		}
		e.Time, e.Class = fromUnix(at), pinwatchd.ChangeClass(class)
		if notAfter != nil {
			e.NotAfter = fromUnix(*notAfter)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events to announce of %s from %s: %w", target, db.path, err)
	}
	return out, nil
}

// AnnounceEvents sets the notified mark of the events ids and adds notes
// (each about one of ids, by Event.ID) to the outbox, in one transaction.
// An event already marked (by another writer, whose transaction this one
// waits for) or unknown is skipped with its notes, so each event is
// enqueued at most once however many callers race. With no notes the
// events are only marked. A note about none of ids is an error, and then
// nothing is written. It returns the number of notifications enqueued. An
// event that repeats a change already announced is marked without its
// notes, as storage.DB.AnnounceEvents says: a chain change is notified once
// per (target, new leaf certificate), by whichever node announces it first
// (SPEC §14). Announcing serialises on an advisory lock, so that two nodes
// announcing the same change at once see each other's mark.
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
	err := db.writeTx(ctx, "announce events", func(tx pgx.Tx) error {
		enqueued = 0
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockAnnounce); err != nil {
			return err
		}
		marked := make(map[int64]bool, len(ids))
		for _, id := range ids {
			tag, err := tx.Exec(ctx, `UPDATE events SET notified = true WHERE id = $1 AND NOT notified`, id)
			if err != nil {
				return fmt.Errorf("mark event %d announced: %w", id, err)
			}
			marked[id] = tag.RowsAffected() == 1
			if marked[id] {
				var repeat bool
				if err := tx.QueryRow(ctx, repeatSQL, id).Scan(&repeat); err != nil {
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
