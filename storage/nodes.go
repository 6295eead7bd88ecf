package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// Heartbeat records that node n is alive (SPEC §14): it adds the row of
// n.Vantage, or replaces its host, version, start and last_seen. Times are
// stored to the second. Idempotent; safe for concurrent use.
func (db *DB) Heartbeat(ctx context.Context, n pinwatchd.Node) error {
	return db.writeTx(ctx, "record the heartbeat of "+n.Vantage, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO nodes (vantage, host, version, started_at, last_seen) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (vantage) DO UPDATE SET host = excluded.host, version = excluded.version,
       started_at = excluded.started_at, last_seen = excluded.last_seen`,
			n.Vantage, n.Host, n.Version, n.StartedAt.Unix(), n.LastSeen.Unix())
		return err
	})
}

// ForgetNode deletes the row of the node vantage and reports whether there
// was one (see monitor.ForgetNode).
func (db *DB) ForgetNode(ctx context.Context, vantage string) (bool, error) {
	var n int64
	err := db.writeTx(ctx, "forget node "+vantage, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE vantage = ?`, vantage)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// Nodes returns every node that ever heartbeat, ordered by vantage; none
// is not an error.
func (db *DB) Nodes(ctx context.Context) ([]pinwatchd.Node, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT vantage, host, version, started_at, last_seen FROM nodes ORDER BY vantage`)
	if err != nil {
		return nil, fmt.Errorf("read nodes from %s: %w", db.path, err)
	}
	defer rows.Close()
	out, err := ScanNodes(rows)
	if err != nil {
		return nil, fmt.Errorf("read nodes from %s: %w", db.path, err)
	}
	return out, nil
}
