package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// PinHeadersSeen returns every distinct well-formed enforcing
// Public-Key-Pins value recorded for target at any of its addresses, with
// the last time one of them sent it, the most recently seen first (SPEC
// §13). A value stored cut to 8 KiB comes back with Cut set and only the
// pins that fitted. Report-Only and malformed values are left out; a
// target never recorded yields none (no error). It never writes.
func (db *DB) PinHeadersSeen(ctx context.Context, target string) ([]pinwatchd.SeenPinHeader, error) {
	out, err := db.pinHeadersSeen(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("read the Public-Key-Pins headers of %s from %s: %w", target, db.path, err)
	}
	return out, nil
}

func (db *DB) pinHeadersSeen(ctx context.Context, target string) ([]pinwatchd.SeenPinHeader, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `
SELECT h.parsed, max(s.last_seen) AS seen
FROM addresses a
JOIN spans s ON s.address_id = a.id
JOIN header_values h ON h.id = s.pkp_id
WHERE a.target = ?
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
