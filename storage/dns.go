package storage

import (
	"context"
	"database/sql"
	"fmt"
	"maps"

	"github.com/pinwatchd/pinwatchd"
)

const nameStateSQL = `SELECT vantage, address, rounds FROM name_rounds WHERE target = ? AND vantage IN (?, '')`

// NameState returns what the alert rules of vantage remember of target's
// name (see pinwatchd.NameState); the zero NameState when nothing is
// stored. Each vantage keeps its own, as each resolves names from where it
// is (SPEC §14). A vantage with no rows for target gets the rows of the
// empty vantage instead, written before vantages existed, so that an
// upgraded node keeps its counts until its first SaveNameState of target.
func (db *DB) NameState(ctx context.Context, target, vantage string) (pinwatchd.NameState, error) {
	rows, err := db.reads.nameState.queryContext(ctx, db.read, target, vantage)
	if err != nil {
		return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s at vantage %q from %s: %w", target, vantage, db.path, err)
	}
	defer rows.Close()
	var own, legacy pinwatchd.NameState
	found := false
	for rows.Next() {
		var (
			v, addr string
			n       int
		)
		if err := rows.Scan(&v, &addr, &n); err != nil {
			return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s at vantage %q from %s: %w", target, vantage, db.path, err)
		}
		s := &legacy
		if v == vantage {
			s, found = &own, true
		}
		addNameRow(s, addr, n)
	}
	if err := rows.Err(); err != nil {
		return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s at vantage %q from %s: %w", target, vantage, db.path, err)
	}
	if found {
		return own, nil
	}
	return legacy, nil
}

// addNameRow adds a name_rounds row to s: the empty address is the
// name's own count, any other an alerted address's.
func addNameRow(s *pinwatchd.NameState, addr string, n int) {
	if addr == "" {
		s.Unresolved = n
		return
	}
	if s.Absent == nil {
		s.Absent = map[string]int{}
	}
	s.Absent[addr] = n
}

// nameRows returns the rows that store s: the empty address for the name
// itself, and only counts above 0.
func nameRows(s pinwatchd.NameState) map[string]int {
	rows := maps.Clone(s.Absent)
	if rows == nil {
		rows = map[string]int{}
	}
	delete(rows, "") // '' is the name's own row
	rows[""] = s.Unresolved
	maps.DeleteFunc(rows, func(_ string, n int) bool { return n <= 0 })
	return rows
}

// SaveNameState replaces what vantage stores of target's name with s, in
// one transaction; counts of 0 or less are not stored, so the zero
// NameState deletes the rows. Other vantages' rows of target are left
// alone, except the empty vantage's from before vantages existed (see
// NameState), which this save takes over and removes. It is idempotent.
func (db *DB) SaveNameState(ctx context.Context, target, vantage string, s pinwatchd.NameState) error {
	return db.writeTx(ctx, fmt.Sprintf("save the name state of %s at vantage %q", target, vantage), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM name_rounds WHERE target = ? AND vantage IN (?, '')`, target, vantage); err != nil {
			return err
		}
		for addr, n := range nameRows(s) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO name_rounds (target, vantage, address, rounds) VALUES (?, ?, ?, ?)`, target, vantage, addr, n); err != nil {
				return err
			}
		}
		return nil
	})
}
