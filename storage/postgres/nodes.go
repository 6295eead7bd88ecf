package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// Heartbeat records that node n is alive; see storage.DB.Heartbeat.
func (db *DB) Heartbeat(ctx context.Context, n pinwatchd.Node) error {
	return db.writeTx(ctx, "record the heartbeat of "+n.Vantage, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
INSERT INTO nodes (vantage, host, version, started_at, last_seen) VALUES ($1, $2, $3, $4, $5)
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
	err := db.writeTx(ctx, "forget node "+vantage, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM nodes WHERE vantage = $1`, vantage)
		n = tag.RowsAffected()
		return err
	})
	return n > 0, err
}

// Nodes returns every node that ever heartbeat, ordered by vantage (byte
// order, as SQLite sorts); none is not an error.
func (db *DB) Nodes(ctx context.Context) ([]pinwatchd.Node, error) {
	rows, err := db.pool.Query(ctx, `SELECT vantage, host, version, started_at, last_seen FROM nodes ORDER BY vantage COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("read nodes from %s: %w", db.path, err)
	}
	defer rows.Close()
	out, err := storage.ScanNodes(rows)
	if err != nil {
		return nil, fmt.Errorf("read nodes from %s: %w", db.path, err)
	}
	return out, nil
}
