package storage

import (
	"context"
	"fmt"
	"time"
)

// PruneStats counts the rows Prune deleted.
type PruneStats struct {
	Spans   int64 // observation spans
	Events  int64 // timeline events
	Chains  int64 // chains no span references any more
	Certs   int64 // certificates no chain references any more
	Headers int64 // header values no span references any more
	TLSA    int64 // TLSA RRsets no span references any more
	Alerts  int64 // resolved alerts no pending notification refers to
}

// Prune applies the retention in one transaction: it deletes the spans whose
// last_seen is before before, except the latest span of every address and
// the latest span that served a chain (so Certs and change detection still
// know the last chain of an address that has been failing for long), the
// events older than before, the alerts resolved before before (unless a
// notification about them still waits), and then the chains, certificates, header
// values and TLSA RRsets no longer referenced. Certificates still referenced are kept.
// Calling it again with the same time deletes nothing more.
func (db *DB) Prune(ctx context.Context, before time.Time) (PruneStats, error) {
	var st PruneStats
	if db.write == nil {
		return st, fmt.Errorf("prune %s: %w", db.path, ErrReadOnly)
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	// Ids cached before the prune may name rows it deletes.
	db.resetCaches()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("prune %s: %w", db.path, err)
	}
	defer tx.Rollback()
	cutoff := before.Unix()
	for _, step := range []struct {
		n      *int64
		cutoff bool // takes the cutoff as ?1
		sql    string
	}{
		{&st.Spans, true, `
DELETE FROM spans WHERE last_seen < ?1
  AND id NOT IN (SELECT max(id) FROM spans GROUP BY address_id)
  AND id NOT IN (SELECT max(id) FROM spans WHERE served_chain_id IS NOT NULL GROUP BY address_id)`},
		{&st.Events, true, `DELETE FROM events WHERE time < ?1`},
		{&st.Alerts, true, `
DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?1
  AND id NOT IN (SELECT alert_id FROM outbox WHERE alert_id IS NOT NULL)`},
		{&st.Chains, false, `
DELETE FROM chains
WHERE id NOT IN (SELECT served_chain_id FROM spans WHERE served_chain_id IS NOT NULL)
  AND id NOT IN (SELECT verified_chain_id FROM spans WHERE verified_chain_id IS NOT NULL)`},
		{&st.Certs, false, `DELETE FROM certs WHERE sha256 NOT IN (SELECT cert_sha256 FROM chain_certs)`},
		{&st.Headers, false, `
DELETE FROM header_values
WHERE id NOT IN (SELECT pkp_id FROM spans WHERE pkp_id IS NOT NULL)
  AND id NOT IN (SELECT pkp_ro_id FROM spans WHERE pkp_ro_id IS NOT NULL)
  AND id NOT IN (SELECT hsts_id FROM spans WHERE hsts_id IS NOT NULL)`},
		{&st.TLSA, false, `DELETE FROM tlsa_values WHERE id NOT IN (SELECT tlsa_id FROM spans WHERE tlsa_id IS NOT NULL)`},
	} {
		var args []any
		if step.cutoff {
			args = append(args, cutoff)
		}
		res, err := tx.ExecContext(ctx, step.sql, args...)
		if err != nil {
			return PruneStats{}, fmt.Errorf("prune %s: %w", db.path, err)
		}
		if *step.n, err = res.RowsAffected(); err != nil {
			return PruneStats{}, fmt.Errorf("prune %s: %w", db.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return PruneStats{}, fmt.Errorf("prune %s: %w", db.path, err)
	}
	return st, nil
}
