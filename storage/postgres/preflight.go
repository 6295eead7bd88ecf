package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
)

// OpenAlertsUnder returns the open alerts of every target whose name starts
// with prefix (the sub-targets "NAME/EXCHANGE" of an mx target, with the
// prefix "NAME/"), by target then oldest first; none is not an error.
func (db *DB) OpenAlertsUnder(ctx context.Context, prefix string) ([]pinwatchd.Alert, error) {
	rows, err := db.pool.Query(ctx, alertColumns+` WHERE state = 'open' AND starts_with(target, $1)
		ORDER BY target COLLATE "C", id`, prefix)
	if err != nil {
		return nil, fmt.Errorf("read alerts of targets %s… from %s: %w", prefix, db.path, err)
	}
	return db.scanAlerts(rows)
}

// PinHeadersSeen returns every distinct well-formed enforcing
// Public-Key-Pins value recorded for target at any of its addresses, with
// the last time one of them sent it, the most recently seen first (SPEC
// §13), as storage.DB.PinHeadersSeen does. A value stored cut to 8 KiB
// comes back with Cut set and only the pins that fitted. Report-Only and
// malformed values are left out; a target never recorded yields none (no
// error). It never writes.
func (db *DB) PinHeadersSeen(ctx context.Context, target string) ([]pinwatchd.SeenPinHeader, error) {
	var out []pinwatchd.SeenPinHeader
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = pinHeadersSeen(ctx, tx, target)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the Public-Key-Pins headers of %s from %s: %w", target, db.path, err)
	}
	return out, nil
}

func pinHeadersSeen(ctx context.Context, tx pgx.Tx, target string) ([]pinwatchd.SeenPinHeader, error) {
	rows, err := tx.Query(ctx, `
SELECT h.parsed, max(s.last_seen) AS seen
FROM addresses a
JOIN spans s ON s.address_id = a.id
JOIN header_values h ON h.id = s.pkp_id
WHERE a.target = $1
GROUP BY h.id
ORDER BY seen DESC, h.id`, target)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pinwatchd.SeenPinHeader
	for rows.Next() {
		var (
			parsed string
			seen   int64
			h      pinwatchd.PinHeader
		)
		if err := rows.Scan(&parsed, &seen); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(parsed), &h); err != nil {
			return nil, fmt.Errorf("stored Public-Key-Pins value: %w", err)
		}
		if h.Valid {
			out = append(out, pinwatchd.SeenPinHeader{Header: h, LastSeen: fromUnix(seen)})
		}
	}
	return out, rows.Err()
}
