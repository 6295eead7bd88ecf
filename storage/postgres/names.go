package postgres

import (
	"context"
	"fmt"
	"maps"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
)

// NameState returns what the alert rules of vantage remember of target's
// name (see pinwatchd.NameState); the zero NameState when nothing is
// stored. Each vantage keeps its own, as each resolves names from where it
// is (SPEC §14). A vantage with no rows for target gets the rows of the
// empty vantage instead, written before vantages existed, so that an
// upgraded node keeps its counts until its first SaveNameState of target.
func (db *DB) NameState(ctx context.Context, target, vantage string) (pinwatchd.NameState, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT vantage, address, rounds FROM name_rounds WHERE target = $1 AND vantage IN ($2, '')`, target, vantage)
	if err != nil {
		return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s at vantage %q from %s: %w", target, vantage, db.path, err)
	}
	defer rows.Close()
	var own, legacy pinwatchd.NameState
	found := false
	for rows.Next() {
		var (
			v, addr string
			n       int32
		)
		if err := rows.Scan(&v, &addr, &n); err != nil {
			return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s at vantage %q from %s: %w", target, vantage, db.path, err)
		}
		s := &legacy
		if v == vantage {
			s, found = &own, true
		}
		if addr == "" {
			s.Unresolved = int(n)
			continue
		}
		if s.Absent == nil {
			s.Absent = map[string]int{}
		}
		s.Absent[addr] = int(n)
	}
	if err := rows.Err(); err != nil {
		return pinwatchd.NameState{}, fmt.Errorf("read the name state of %s at vantage %q from %s: %w", target, vantage, db.path, err)
	}
	if found {
		return own, nil
	}
	return legacy, nil
}

// SaveNameState replaces what vantage stores of target's name with s, in
// one transaction; counts of 0 or less are not stored, so the zero
// NameState deletes the rows. Other vantages' rows of target are left
// alone, except the empty vantage's from before vantages existed (see
// NameState), which this save takes over and removes. It is idempotent;
// writers of one target's state serialise on an advisory lock.
func (db *DB) SaveNameState(ctx context.Context, target, vantage string, s pinwatchd.NameState) error {
	return db.writeTx(ctx, fmt.Sprintf("save the name state of %s at vantage %q", target, vantage), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockNameState, target); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM name_rounds WHERE target = $1 AND vantage IN ($2, '')`, target, vantage); err != nil {
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
			if _, err := tx.Exec(ctx, `INSERT INTO name_rounds (target, vantage, address, rounds) VALUES ($1, $2, $3, $4)`, target, vantage, addr, n); err != nil {
				return err
			}
		}
		return nil
	})
}
