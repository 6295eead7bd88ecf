package storage

import (
	"context"
	"database/sql"
	"fmt"
	"maps"

	"github.com/pinwatchd/pinwatchd"
)

const nameStateSQL = `SELECT address, rounds FROM name_rounds WHERE target = ?`

// NameState returns what the alert rules remember of target's name (see
// pinwatchd.NameState); the zero NameState when nothing is stored.
func (db *DB) NameState(ctx context.Context, target string) (pinwatchd.NameState, error) {
	var s pinwatchd.NameState
	rows, err := db.reads.nameState.queryContext(ctx, db.read, target)
	if err != nil {
		return s, fmt.Errorf("read the name state of %s from %s: %w", target, db.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			addr string
			n    int
		)
		if err := rows.Scan(&addr, &n); err != nil {
			return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s from %s: %w", target, db.path, err)
		}
		if addr == "" {
			s.Unresolved = n
			continue
		}
		if s.Absent == nil {
			s.Absent = map[string]int{}
		}
		s.Absent[addr] = n
	}
	if err := rows.Err(); err != nil {
		return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s from %s: %w", target, db.path, err)
	}
	return s, nil
}

// SaveNameState replaces what is stored of target's name with s, in one
// transaction; counts of 0 or less are not stored, so the zero NameState
// deletes the target's rows. It is idempotent.
func (db *DB) SaveNameState(ctx context.Context, target string, s pinwatchd.NameState) error {
	return db.writeTx(ctx, "save the name state of "+target, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM name_rounds WHERE target = ?`, target); err != nil {
			return err
		}
		rows := maps.Clone(s.Absent)
		if rows == nil {
			rows = map[string]int{}
		}
		delete(rows, "") // '' is the name's own row
		rows[""] = s.Unresolved
		for addr, n := range rows {
			if n <= 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO name_rounds (target, address, rounds) VALUES (?, ?, ?)`, target, addr, n); err != nil {
				return err
			}
		}
		return nil
	})
}
