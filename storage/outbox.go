package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Pending returns up to limit notifications due at now (NextAttempt not
// after now), oldest first (by CreatedAt, then ID). A notification about an
// alert whose opening Slack message is known carries it in Alert.Channel and
// Alert.ThreadTS, even when it was enqueued before the opener was delivered.
func (db *DB) Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT o.id, o.payload, o.attempts, o.next_attempt, o.last_error,
       coalesce(a.channel, ''), coalesce(a.thread_ts, '')
FROM outbox o LEFT JOIN alerts a ON a.id = o.alert_id
WHERE o.next_attempt <= ? ORDER BY o.created_at, o.id LIMIT ?`, now.Unix(), limit)
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
			attempts             int
			lastErr, channel, ts string
		)
		if err := rows.Scan(&id, &payload, &attempts, &next, &lastErr, &channel, &ts); err != nil {
			return nil, fmt.Errorf("read outbox of %s: %w", db.path, err)
		}
		if err := json.Unmarshal([]byte(payload), &n); err != nil {
			return nil, fmt.Errorf("read outbox entry %d of %s: %w", id, db.path, err)
		}
		n.ID, n.Attempts, n.NextAttempt, n.LastError = id, attempts, fromUnix(next), lastErr
		// The outbox orders by the second (created_at): so does what it
		// returns.
		n.CreatedAt = n.CreatedAt.UTC().Truncate(time.Second)
		if n.Alert != nil && ts != "" {
			n.Alert.Channel, n.Alert.ThreadTS = channel, ts
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// PendingCount returns how many notifications wait in the outbox and the
// most failed attempts among them.
func (db *DB) PendingCount(ctx context.Context) (n, maxAttempts int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT count(*), coalesce(max(attempts), 0) FROM outbox`).Scan(&n, &maxAttempts)
	if err != nil {
		return 0, 0, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return n, maxAttempts, nil
}

// Delivered removes notifications once Slack accepted them. Unknown ids are
// ignored, so it is idempotent.
func (db *DB) Delivered(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.writeTx(ctx, "mark notifications delivered", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// Retry records a failed attempt of notification id: one more attempt, the
// time of the next one and why it failed (which must hold no secret). An
// unknown id is ignored.
func (db *DB) Retry(ctx context.Context, id int64, next time.Time, lastError string) error {
	return db.writeTx(ctx, "record a failed delivery", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?`,
			next.Unix(), lastError, id)
		return err
	})
}

// SetThread remembers the Slack channel and message ts of an alert's opening
// message, so reminders and the resolve go in its thread. An unknown alert is
// ignored.
func (db *DB) SetThread(ctx context.Context, alertID int64, channel, ts string) error {
	return db.writeTx(ctx, "remember the Slack thread", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE alerts SET channel = ?, thread_ts = ? WHERE id = ?`, channel, ts, alertID)
		return err
	})
}

// writeTx runs fn in one write transaction; op names it in errors.
func (db *DB) writeTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if db.write == nil {
		return fmt.Errorf("%s in %s: %w", op, db.path, ErrReadOnly)
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s in %s: %w", op, db.path, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s in %s: %w", op, db.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s in %s: %w", op, db.path, err)
	}
	return nil
}
