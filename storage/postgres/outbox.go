package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// Pending returns the notifications due at now (NextAttempt not after
// now) and not parked: up to limit of each channel, the oldest of each, so
// that one channel's backlog never hides another channel's notifications.
// They come oldest first (by CreatedAt, then ID). A notification about an
// alert whose opening Slack message is known carries it in Alert.Channel
// and Alert.ThreadTS, even when it was enqueued before the opener was
// delivered.
func (db *DB) Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error) {
	rows, err := db.pool.Query(ctx, `SELECT o.id, o.payload, o.attempts, o.next_attempt, o.last_error,
       coalesce(a.channel, ''), coalesce(a.thread_ts, '')
FROM (SELECT id, payload, attempts, next_attempt, last_error, alert_id, created_at,
             row_number() OVER (PARTITION BY channel ORDER BY created_at, id) AS rank
      FROM outbox WHERE parked_at IS NULL AND next_attempt <= $1) o
LEFT JOIN alerts a ON a.id = o.alert_id
WHERE o.rank <= $2 ORDER BY o.created_at, o.id`, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	defer rows.Close()
	var out []pinwatchd.Notification
	for rows.Next() {
		var (
			id, next             int64
			payload              string
			n                    pinwatchd.Notification
			attempts             int32
			lastErr, channel, ts string
		)
		if err := rows.Scan(&id, &payload, &attempts, &next, &lastErr, &channel, &ts); err != nil {
			return nil, fmt.Errorf("read outbox of %s: %w", db.path, err)
		}
		if err := json.Unmarshal([]byte(payload), &n); err != nil {
			return nil, fmt.Errorf("read outbox entry %d of %s: %w", id, db.path, err)
		}
		n.ID, n.Attempts, n.NextAttempt, n.LastError = id, int(attempts), fromUnix(next), lastErr
		// The outbox orders by the second (created_at): so does what it
		// returns.
		n.CreatedAt = n.CreatedAt.UTC().Truncate(time.Second)
		if n.Alert != nil && ts != "" {
			n.Alert.Channel, n.Alert.ThreadTS = channel, ts
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return out, nil
}

// PendingCount returns how many notifications wait in the outbox for
// delivery (parked ones are not counted) and the most failed attempts among
// them.
func (db *DB) PendingCount(ctx context.Context) (n, maxAttempts int, err error) {
	var count int64
	var most int32
	err = db.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(attempts), 0) FROM outbox WHERE parked_at IS NULL`).Scan(&count, &most)
	if err != nil {
		return 0, 0, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return int(count), int(most), nil
}

// Undeliverable returns what the outbox holds of parked notifications.
func (db *DB) Undeliverable(ctx context.Context) (storage.Undeliverable, error) {
	var u storage.Undeliverable
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var count int64
		err := tx.QueryRow(ctx, `SELECT count(*), coalesce((SELECT last_error FROM outbox WHERE parked_at IS NOT NULL
    ORDER BY parked_at DESC, id DESC LIMIT 1), '') FROM outbox WHERE parked_at IS NOT NULL`).Scan(&count, &u.LastError)
		if err != nil || count == 0 {
			return err
		}
		u.Count = int(count)
		rows, err := tx.Query(ctx, `SELECT DISTINCT alert_id FROM outbox
WHERE parked_at IS NOT NULL AND alert_id IS NOT NULL ORDER BY alert_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			u.Alerts = append(u.Alerts, id)
		}
		return rows.Err()
	})
	if err != nil {
		return storage.Undeliverable{}, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return u, nil
}

// Delivered removes notifications once Slack accepted them. Unknown ids are
// ignored, so it is idempotent.
func (db *DB) Delivered(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.writeTx(ctx, "mark notifications delivered", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, ids)
		return err
	})
}

// Retry records a failed attempt of notification id: one more attempt, the
// time of the next one and why it failed (which must hold no secret). An
// unknown id is ignored.
func (db *DB) Retry(ctx context.Context, id int64, next time.Time, lastError string) error {
	return db.writeTx(ctx, "record a failed delivery", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = $1, last_error = $2 WHERE id = $3`,
			next.Unix(), lastError, id)
		return err
	})
}

// Park records the last failed attempt of notification id (one more
// attempt, why it failed, which must hold no secret) and keeps it out of
// Pending as undeliverable until Requeue. An unknown id is ignored.
func (db *DB) Park(ctx context.Context, id int64, at time.Time, lastError string) error {
	return db.writeTx(ctx, "park an undeliverable notification", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, parked_at = $2 WHERE id = $3`,
			lastError, at.Unix(), id)
		return err
	})
}

// Requeue returns every parked notification to the queue, due at now, and
// says how many there were.
func (db *DB) Requeue(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.writeTx(ctx, "requeue undeliverable notifications", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET parked_at = NULL, next_attempt = $1 WHERE parked_at IS NOT NULL`, now.Unix())
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// SetThread remembers the Slack channel and message ts of an alert's opening
// message, so reminders and the resolve go in its thread. An unknown alert is
// ignored.
func (db *DB) SetThread(ctx context.Context, alertID int64, channel, ts string) error {
	return db.writeTx(ctx, "remember the Slack thread", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE alerts SET channel = $1, thread_ts = $2 WHERE id = $3`, channel, ts, alertID)
		return err
	})
}
