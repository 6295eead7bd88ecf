package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

const alertColumns = `SELECT id, target, kind, subject, severity, addresses, sites, state, message, resolve_reason,
       opened_at, resolved_at, last_notified_at, channel, thread_ts FROM alerts`

// OpenAlerts returns the open alerts of target, oldest first; none is not an
// error.
func (db *DB) OpenAlerts(ctx context.Context, target string) ([]pinwatchd.Alert, error) {
	rows, err := db.pool.Query(ctx, alertColumns+` WHERE state = 'open' AND target = $1 ORDER BY id`, target)
	if err != nil {
		return nil, fmt.Errorf("read alerts of %s from %s: %w", target, db.path, err)
	}
	return db.scanAlerts(rows)
}

// Alerts returns the open alerts, or with all every alert still retained
// (open ones first), newest first.
func (db *DB) Alerts(ctx context.Context, all bool) ([]pinwatchd.Alert, error) {
	q := alertColumns + ` WHERE state = 'open' ORDER BY opened_at DESC, id DESC`
	if all {
		q = alertColumns + ` ORDER BY state = 'resolved', opened_at DESC, id DESC`
	}
	rows, err := db.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read alerts from %s: %w", db.path, err)
	}
	return db.scanAlerts(rows)
}

func (db *DB) scanAlerts(rows pgx.Rows) ([]pinwatchd.Alert, error) {
	defer rows.Close()
	var out []pinwatchd.Alert
	for rows.Next() {
		var (
			a                       pinwatchd.Alert
			kind, sev, state, addrs string
			sites                   string
			opened                  int64
			resolved, notified      *int64
		)
		if err := rows.Scan(&a.ID, &a.Target, &kind, &a.Subject, &sev, &addrs, &sites, &state, &a.Message, &a.ResolveReason,
			&opened, &resolved, &notified, &a.Channel, &a.ThreadTS); err != nil {
			return nil, fmt.Errorf("read alerts from %s: %w", db.path, err)
		}
		a.Kind, a.State = pinwatchd.Kind(kind), pinwatchd.AlertState(state)
		if err := a.Severity.UnmarshalText([]byte(sev)); err != nil {
			return nil, fmt.Errorf("read alert %d from %s: %w", a.ID, db.path, err)
		}
		if err := json.Unmarshal([]byte(addrs), &a.Addresses); err != nil {
			return nil, fmt.Errorf("read alert %d from %s: addresses: %w", a.ID, db.path, err)
		}
		if err := json.Unmarshal([]byte(sites), &a.Sites); err != nil {
			return nil, fmt.Errorf("read alert %d from %s: sites: %w", a.ID, db.path, err)
		}
		a.OpenedAt = fromUnix(opened)
		if resolved != nil {
			a.ResolvedAt = fromUnix(*resolved)
		}
		if notified != nil {
			a.LastNotifiedAt = fromUnix(*notified)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alerts from %s: %w", db.path, err)
	}
	return out, nil
}

// SaveAlerts inserts alerts whose ID is 0 and updates the others, and adds
// the notifications to the outbox, all in one transaction: an alert change
// is never stored without its notification, nor the reverse. A notification
// whose Alert has ID 0 refers to the alert of the same identity saved here
// and gets its new ID. A second open alert of one (target, kind, subject)
// is refused by a unique index, and nothing is stored.
func (db *DB) SaveAlerts(ctx context.Context, alerts []pinwatchd.Alert, notes []pinwatchd.Notification) error {
	return db.writeTx(ctx, "save alerts", func(tx pgx.Tx) error {
		targets := make([]string, 0, len(alerts))
		for i := range alerts {
			targets = append(targets, alerts[i].Target)
		}
		slices.Sort(targets) // always locked in the same order: no deadlock
		for _, t := range slices.Compact(targets) {
			if err := lockAlerts(ctx, tx, t); err != nil {
				return err
			}
		}
		return saveAll(ctx, tx, alerts, notes)
	})
}

// UpdateAlerts moves the open alerts of target in one transaction: it
// takes the target's advisory lock, reads them, runs fn on them and stores
// what fn returns (the alerts to insert, ID 0, or update, and the
// notifications of their changes) as SaveAlerts does. fn must not call the
// store. Nodes sharing the database serialise
// on the target, so fn always sees the alerts as the last node left them,
// and a node's read-modify-write never overwrites another's. An error of
// fn stores nothing and is returned.
func (db *DB) UpdateAlerts(ctx context.Context, target string, fn func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error)) error {
	return db.writeTx(ctx, "update alerts of "+target, func(tx pgx.Tx) error {
		if err := lockAlerts(ctx, tx, target); err != nil {
			return err
		}
		// Read after the lock: READ COMMITTED gives this statement a
		// snapshot that holds the last holder's changes.
		rows, err := tx.Query(ctx, alertColumns+` WHERE state = 'open' AND target = $1 ORDER BY id`, target)
		if err != nil {
			return err
		}
		open, err := db.scanAlerts(rows)
		if err != nil {
			return err
		}
		next, notes, err := fn(open)
		if err != nil {
			return err
		}
		return saveAll(ctx, tx, next, notes)
	})
}

// lockAlerts takes the advisory lock of target's alerts until the end of
// tx.
func lockAlerts(ctx context.Context, tx pgx.Tx, target string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockAlertState, target); err != nil {
		return fmt.Errorf("lock the alerts of %s: %w", target, err)
	}
	return nil
}

// saveAll stores alerts and enqueues notes in tx (see SaveAlerts).
func saveAll(ctx context.Context, tx pgx.Tx, alerts []pinwatchd.Alert, notes []pinwatchd.Notification) error {
	return storage.SaveAlertsWith(alerts, notes,
		func(a *pinwatchd.Alert) (int64, error) { return saveAlert(ctx, tx, a) },
		func(n pinwatchd.Notification, ids map[pinwatchd.AlertKey]int64) error {
			return enqueue(ctx, tx, n, ids)
		})
}

// enqueue adds one notification to the outbox, pointing it at the alert of
// its identity saved in the same transaction when it has no ID yet.
func enqueue(ctx context.Context, tx pgx.Tx, n pinwatchd.Notification, ids map[pinwatchd.AlertKey]int64) error {
	var alertID *int64
	if n.Alert != nil {
		a := *n.Alert
		if a.ID == 0 {
			a.ID = ids[a.Key()]
		}
		n.Alert = &a
		if a.ID != 0 {
			alertID = &a.ID
		}
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	created := n.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (created_at, channel, alert_id, payload, attempts, next_attempt, last_error)
VALUES ($1, $2, $3, $4, 0, $1, '')`, created.Unix(), n.Channel, alertID, string(payload))
	if err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	return nil
}

func saveAlert(ctx context.Context, tx pgx.Tx, a *pinwatchd.Alert) (int64, error) {
	ab, sb, err := storage.EncodeSites(a)
	if err != nil {
		return 0, err
	}
	resolved, notified := unixOrNil(a.ResolvedAt), unixOrNil(a.LastNotifiedAt)
	if a.ID == 0 {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO alerts (target, kind, subject, severity, addresses, sites, state, message,
    resolve_reason, opened_at, resolved_at, last_notified_at, channel, thread_ts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			a.Target, string(a.Kind), a.Subject, a.Severity.String(), string(ab), string(sb), string(a.State), a.Message,
			a.ResolveReason, a.OpenedAt.Unix(), resolved, notified, a.Channel, a.ThreadTS).Scan(&id)
		return id, err
	}
	// channel and thread_ts belong to the sender (SetThread): not overwritten here.
	_, err = tx.Exec(ctx, `UPDATE alerts SET severity = $1, addresses = $2, sites = $3, state = $4, message = $5,
    resolve_reason = $6, resolved_at = $7, last_notified_at = $8 WHERE id = $9`,
		a.Severity.String(), string(ab), string(sb), string(a.State), a.Message, a.ResolveReason, resolved, notified, a.ID)
	return a.ID, err
}

// unixOrNil is t in unix seconds, nil (NULL) for the zero time.
func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	s := t.Unix()
	return &s
}

// FailureCounts returns, per address of target, how many probes in a row
// from vantage have failed up to the latest one; addresses whose latest
// probe from vantage succeeded are absent, and so are the probes of other
// vantages.
func (db *DB) FailureCounts(ctx context.Context, target, vantage string) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT a.address, s.error_kind, s.probe_count
FROM addresses a JOIN spans s ON s.address_id = a.id
WHERE a.target = $1 AND a.vantage = $2 ORDER BY a.id, s.id DESC`, target, vantage)
	if err != nil {
		return nil, fmt.Errorf("read failure counts of %s from %s: %w", target, db.path, err)
	}
	defer rows.Close()
	counts := map[string]int{}
	done := map[string]bool{}
	for rows.Next() {
		var (
			addr, kind string
			n          int64
		)
		if err := rows.Scan(&addr, &kind, &n); err != nil {
			return nil, fmt.Errorf("read failure counts of %s from %s: %w", target, db.path, err)
		}
		if done[addr] {
			continue
		}
		if kind == "" {
			done[addr] = true
			continue
		}
		counts[addr] += int(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read failure counts of %s from %s: %w", target, db.path, err)
	}
	return counts, nil
}
