package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/pinwatchd/pinwatchd/storage"
)

// pruneSteps are Prune's deletions, in order; cutoff ones take the cutoff
// as $1. The latest span of every address, and the latest that served a
// chain, are always kept.
var pruneSteps = []struct {
	stat   func(*storage.PruneStats) *int64
	cutoff bool
	sql    string
}{
	{func(s *storage.PruneStats) *int64 { return &s.Spans }, true, `
DELETE FROM spans WHERE last_seen < $1
  AND id NOT IN (SELECT max(id) FROM spans GROUP BY address_id)
  AND id NOT IN (SELECT max(id) FROM spans WHERE served_chain_id IS NOT NULL GROUP BY address_id)`},
	{func(s *storage.PruneStats) *int64 { return &s.Events }, true, `DELETE FROM events WHERE time < $1`},
	{func(s *storage.PruneStats) *int64 { return &s.Alerts }, true, `
DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < $1
  AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.alert_id = alerts.id)`},
	{func(s *storage.PruneStats) *int64 { return &s.Chains }, false, `
DELETE FROM chains c
WHERE NOT EXISTS (SELECT 1 FROM spans WHERE served_chain_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM spans WHERE verified_chain_id = c.id)`},
	{func(s *storage.PruneStats) *int64 { return &s.Certs }, false, `
DELETE FROM certs c WHERE NOT EXISTS (SELECT 1 FROM chain_certs WHERE cert_sha256 = c.sha256)`},
	{func(s *storage.PruneStats) *int64 { return &s.Headers }, false, `
DELETE FROM header_values h
WHERE NOT EXISTS (SELECT 1 FROM spans WHERE pkp_id = h.id)
  AND NOT EXISTS (SELECT 1 FROM spans WHERE pkp_ro_id = h.id)
  AND NOT EXISTS (SELECT 1 FROM spans WHERE hsts_id = h.id)`},
	{func(s *storage.PruneStats) *int64 { return &s.TLSA }, false, `
DELETE FROM tlsa_values v WHERE NOT EXISTS (SELECT 1 FROM spans WHERE tlsa_id = v.id)`},
}

// Prune applies the retention in one transaction, as storage.DB.Prune does:
// it deletes the spans whose last_seen is before before (except the latest
// span of every address and the latest that served a chain), the events
// older than before, the alerts resolved before before that no waiting
// notification refers to, and then the chains, certificates, header
// values and TLSA RRsets no longer referenced. Calling it again with the same time deletes
// nothing more. It serialises with Record on the same advisory lock.
func (db *DB) Prune(ctx context.Context, before time.Time) (storage.PruneStats, error) {
	var st storage.PruneStats
	if db.readOnly {
		return st, fmt.Errorf("prune %s: %w", db.path, storage.ErrReadOnly)
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	// Ids cached before the prune may name rows it deletes.
	db.resetCaches()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return st, fmt.Errorf("prune %s: %w", db.path, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockRecord); err != nil {
		return st, fmt.Errorf("prune %s: %w", db.path, err)
	}
	for _, step := range pruneSteps {
		var args []any
		if step.cutoff {
			args = append(args, before.Unix())
		}
		tag, err := tx.Exec(ctx, step.sql, args...)
		if err != nil {
			return storage.PruneStats{}, fmt.Errorf("prune %s: %w", db.path, err)
		}
		*step.stat(&st) = tag.RowsAffected()
	}
	if err := tx.Commit(ctx); err != nil {
		return storage.PruneStats{}, fmt.Errorf("prune %s: %w", db.path, err)
	}
	return st, nil
}
