package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Pending returns the notifications due at now (NextAttempt not after
// now) and not parked: up to limit of each channel, the oldest of each, so
// that one channel's backlog never hides another channel's notifications.
// They come oldest first (by CreatedAt, then ID). A notification about an
// alert whose opening Slack message is known carries it in Alert.Channel
// and Alert.ThreadTS, even when it was enqueued before the opener was
// delivered.
func (db *DB) Pending(ctx context.Context, now time.Time, limit int) ([]pinwatchd.Notification, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT o.id, o.payload, o.attempts, o.next_attempt, o.last_error,
       coalesce(a.channel, ''), coalesce(a.thread_ts, '')
FROM (SELECT id, payload, attempts, next_attempt, last_error, alert_id, created_at,
             row_number() OVER (PARTITION BY channel ORDER BY created_at, id) AS rank
      FROM outbox WHERE parked_at IS NULL AND next_attempt <= ?) o
LEFT JOIN alerts a ON a.id = o.alert_id
WHERE o.rank <= ? ORDER BY o.created_at, o.id`, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return db.scanNotifications(rows)
}

// Claim leases to owner, until until, the notifications it is to deliver
// at now, and returns them as Pending does: those Pending(now, limit)
// returns, less every channel another owner holds a lease on that ends
// after now, or that a 429 paused (Pause) past now. Rows owner claimed
// before are claimed again, their lease extended. A channel's
// notifications are claimed by one owner at a time, and the claims of
// nodes sharing the database serialise (SQLite's one writer).
func (db *DB) Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]pinwatchd.Notification, error) {
	var out []pinwatchd.Notification
	err := db.writeTx(ctx, "claim notifications", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT o.id, o.payload, o.attempts, o.next_attempt, o.last_error,
       coalesce(a.channel, ''), coalesce(a.thread_ts, '')
FROM (SELECT id, payload, attempts, next_attempt, last_error, alert_id, created_at, channel,
             row_number() OVER (PARTITION BY channel ORDER BY created_at, id) AS rank
      FROM outbox WHERE parked_at IS NULL AND next_attempt <= ?1) o
LEFT JOIN alerts a ON a.id = o.alert_id
WHERE o.rank <= ?2
  AND o.channel NOT IN (SELECT channel FROM outbox WHERE claimed_by NOT IN ('', ?3) AND lease_until > ?1)
  AND o.channel NOT IN (SELECT destination FROM delivery_pauses WHERE paused_until > ?1)
ORDER BY o.created_at, o.id`, now.Unix(), limit, owner)
		if err != nil {
			return err
		}
		if out, err = db.scanNotifications(rows); err != nil {
			return err
		}
		for _, n := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_by = ?, lease_until = ? WHERE id = ?`, owner, until.Unix(), n.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Release ends every lease of owner, so that another node may deliver
// what owner claimed and did not deliver, without waiting for the leases
// to end. Idempotent.
func (db *DB) Release(ctx context.Context, owner string) error {
	return db.writeTx(ctx, "release claimed notifications", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_by = '', lease_until = NULL WHERE claimed_by = ?`, owner)
		return err
	})
}

// ReleaseOwnersUnder ends every lease of an owner whose name starts with
// prefix. A daemon starting calls it with its vantage and "/" (its
// senders are named VANTAGE/PID/RANDOM): the claims of its previous life,
// cut short by a crash, are its own to deliver, without waiting for their
// leases to end. Idempotent.
func (db *DB) ReleaseOwnersUnder(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("release claimed notifications in %s: an empty owner prefix would release every node's claims", db.path)
	}
	return db.writeTx(ctx, "release claimed notifications", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_by = '', lease_until = NULL
WHERE claimed_by <> '' AND substr(claimed_by, 1, length(?)) = ?`, prefix, prefix)
		return err
	})
}

// Pause holds every node's deliveries to channel (Claim leaves it out)
// until until, after a 429 of Slack. A pause that ends later is kept.
func (db *DB) Pause(ctx context.Context, channel string, until time.Time) error {
	return db.writeTx(ctx, "pause deliveries", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO delivery_pauses (destination, paused_until) VALUES (?, ?)
ON CONFLICT (destination) DO UPDATE SET paused_until = max(paused_until, excluded.paused_until)`, channel, until.Unix())
		return err
	})
}

// scanNotifications reads the rows of Pending and Claim.
func (db *DB) scanNotifications(rows *sql.Rows) ([]pinwatchd.Notification, error) {
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return out, nil
}

// PendingCount returns how many notifications wait in the outbox for
// delivery (parked ones are not counted) and the most failed attempts among
// them.
func (db *DB) PendingCount(ctx context.Context) (n, maxAttempts int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT count(*), coalesce(max(attempts), 0) FROM outbox WHERE parked_at IS NULL`).Scan(&n, &maxAttempts)
	if err != nil {
		return 0, 0, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return n, maxAttempts, nil
}

// Undeliverable sums up the notifications Slack refused for good (parked).
type Undeliverable = pinwatchd.Undeliverable

// Undeliverable returns what the outbox holds of parked notifications.
func (db *DB) Undeliverable(ctx context.Context) (Undeliverable, error) {
	var u Undeliverable
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return u, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce((SELECT last_error FROM outbox WHERE parked_at IS NOT NULL
    ORDER BY parked_at DESC, id DESC LIMIT 1), '') FROM outbox WHERE parked_at IS NOT NULL`).Scan(&u.Count, &u.LastError)
	if err != nil {
		return Undeliverable{}, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	if u.Count == 0 {
		return u, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT alert_id FROM outbox
WHERE parked_at IS NOT NULL AND alert_id IS NOT NULL ORDER BY alert_id`)
	if err != nil {
		return Undeliverable{}, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return Undeliverable{}, fmt.Errorf("read outbox of %s: %w", db.path, err)
		}
		u.Alerts = append(u.Alerts, id)
	}
	if err := rows.Err(); err != nil {
		return Undeliverable{}, fmt.Errorf("read outbox of %s: %w", db.path, err)
	}
	return u, nil
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
// time of the next one and why it failed (which must hold no secret), and
// ends its claim. An unknown id is ignored.
func (db *DB) Retry(ctx context.Context, id int64, next time.Time, lastError string) error {
	return db.writeTx(ctx, "record a failed delivery", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?,
    claimed_by = '', lease_until = NULL WHERE id = ?`,
			next.Unix(), lastError, id)
		return err
	})
}

// Park records the last failed attempt of notification id (one more
// attempt, why it failed, which must hold no secret), ends its claim and
// keeps it out of Pending as undeliverable until Requeue. An unknown id is
// ignored.
func (db *DB) Park(ctx context.Context, id int64, at time.Time, lastError string) error {
	return db.writeTx(ctx, "park an undeliverable notification", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, parked_at = ?,
    claimed_by = '', lease_until = NULL WHERE id = ?`,
			lastError, at.Unix(), id)
		return err
	})
}

// Requeue returns every parked notification to the queue, due at now, and
// says how many there were.
func (db *DB) Requeue(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.writeTx(ctx, "requeue undeliverable notifications", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET parked_at = NULL, next_attempt = ? WHERE parked_at IS NOT NULL`, now.Unix())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
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
