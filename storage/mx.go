package storage

import (
	"context"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// OpenAlertsUnder returns the open alerts of every target whose name starts
// with prefix (the sub-targets "NAME/EXCHANGE" of an mx target, with the
// prefix "NAME/"), by target then oldest first; none is not an error.
func (db *DB) OpenAlertsUnder(ctx context.Context, prefix string) ([]pinwatchd.Alert, error) {
	rows, err := db.read.QueryContext(ctx, alertColumns+` WHERE state = 'open' AND substr(target, 1, length(?1)) = ?1
		ORDER BY target, id`, prefix)
	if err != nil {
		return nil, fmt.Errorf("read alerts of targets %s… from %s: %w", prefix, db.path, err)
	}
	return db.scanAlerts(rows)
}
