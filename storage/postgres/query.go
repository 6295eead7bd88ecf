package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
)

const historyColumns = `
SELECT e.id, e.time, e.address_id, e.event, e.class, e.old_leaf_pin, e.new_leaf_pin,
       e.old_leaf_sha256, e.new_leaf_sha256, e.issuer, e.not_after, e.error_kind, e.error_message,
       e.old_tlsa, e.new_tlsa`

// History returns the timeline events at or after since, oldest first
// (ties in recording order), with their IDs, of one target, or of every
// target when target is "". A target never recorded has no events (no
// error).
func (db *DB) History(ctx context.Context, target string, since time.Time) ([]pinwatchd.Event, error) {
	var events []pinwatchd.Event
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		events, err = history(ctx, tx, target, since)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read history from %s: %w", db.path, err)
	}
	return events, nil
}

func history(ctx context.Context, tx pgx.Tx, target string, since time.Time) ([]pinwatchd.Event, error) {
	from := since.Unix()
	if since.IsZero() {
		from = 0
	}
	// The addresses are read first, a few thousand rows at most, rather
	// than joined to every event.
	var (
		rows pgx.Rows
		err  error
	)
	if target == "" {
		rows, err = tx.Query(ctx, `SELECT id, target, address, vantage FROM addresses`)
	} else {
		rows, err = tx.Query(ctx, `SELECT id, target, address, vantage FROM addresses WHERE target = $1`, target)
	}
	if err != nil {
		return nil, err
	}
	addrs := map[int64]addrKey{}
	var ids []int64
	for rows.Next() {
		var (
			id int64
			k  addrKey
		)
		if err := rows.Scan(&id, &k.target, &k.address, &k.vantage); err != nil {
			rows.Close()
			return nil, err
		}
		addrs[id] = k
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, nil
	}
	if target == "" {
		rows, err = tx.Query(ctx, historyColumns+` FROM events e WHERE e.time >= $1 ORDER BY e.time, e.id`, from)
	} else {
		rows, err = tx.Query(ctx, historyColumns+` FROM events e WHERE e.address_id = ANY($1) AND e.time >= $2
ORDER BY e.time, e.id`, ids, from)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		events         []pinwatchd.Event
		e              pinwatchd.Event
		t, addrID      int64
		typ, class, ek string
		notAfter       *int64
	)
	dest := []any{&e.ID, &t, &addrID, &typ, &class, &e.OldLeafPin, &e.NewLeafPin,
		&e.OldLeafSHA256, &e.NewLeafSHA256, &e.Issuer, &notAfter, &ek, &e.ErrorMessage, &e.OldTLSA, &e.NewTLSA}
	for rows.Next() {
		e, notAfter = pinwatchd.Event{}, nil
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		k, ok := addrs[addrID]
		if !ok {
			return nil, fmt.Errorf("event at %d names address %d, which does not exist", t, addrID)
		}
		e.Target, e.Address, e.Vantage = k.target, k.address, k.vantage
		e.Time = fromUnix(t)
		e.Event, e.Class, e.ErrorKind = pinwatchd.EventType(typ), pinwatchd.ChangeClass(class), pinwatchd.Kind(ek)
		if notAfter != nil {
			e.NotAfter = fromUnix(*notAfter)
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// Certs returns, per (target, address, vantage) ordered by target, address
// then vantage, the chain of the latest probe that served one; see storage.DB.Certs, whose
// contract it keeps: ErrorKind and LastSeen when the latest probe failed,
// DaysLeft from now, Stale marking targets configured does not accept
// (StaleNotConfigured) and addresses absent from their target's latest
// round that resolved the name at the same vantage (StaleLeftDNS).
func (db *DB) Certs(ctx context.Context, now time.Time, configured func(target string) bool) ([]pinwatchd.CertStatus, error) {
	out, err := db.certStatuses(ctx, now, configured)
	if err != nil {
		return nil, fmt.Errorf("read certificates from %s: %w", db.path, err)
	}
	return out, nil
}

func (db *DB) certStatuses(ctx context.Context, now time.Time, configured func(string) bool) ([]pinwatchd.CertStatus, error) {
	// Every address with its latest span, and its latest chain if it ever
	// served one: the addresses without a chain still count for the
	// target's latest round.
	rows, err := db.pool.Query(ctx, `
SELECT a.target, a.address, a.vantage, l.error_kind, l.last_round, c.last_seen,
       leaf.subject, leaf.issuer, leaf.pin, leaf.sha256, leaf.not_after,
       (SELECT min(x.not_after) FROM chain_certs xc JOIN certs x ON x.sha256 = xc.cert_sha256
        WHERE xc.chain_id = coalesce(c.verified_chain_id, c.served_chain_id))
FROM addresses a
CROSS JOIN LATERAL (SELECT error_kind, last_round FROM spans WHERE address_id = a.id ORDER BY id DESC LIMIT 1) l
LEFT JOIN LATERAL (SELECT last_seen, served_chain_id, verified_chain_id FROM spans
                   WHERE address_id = a.id AND served_chain_id IS NOT NULL ORDER BY id DESC LIMIT 1) c ON true
LEFT JOIN chain_certs lc ON lc.chain_id = c.served_chain_id AND lc.position = 0
LEFT JOIN certs leaf ON leaf.sha256 = lc.cert_sha256
ORDER BY a.target COLLATE "C", a.address COLLATE "C", a.vantage COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type targetAt struct{ target, vantage string }
	var (
		out    []pinwatchd.CertStatus
		rounds []int64                // last_round of each row of out
		latest = map[targetAt]int64{} // its latest round that resolved the name
	)
	for rows.Next() {
		var (
			s                              pinwatchd.CertStatus
			kind                           string
			round                          int64
			lastSeen, notAfter, chainAfter *int64
			subject, issuer, pin, sha      *string
		)
		if err := rows.Scan(&s.Target, &s.Address, &s.Vantage, &kind, &round, &lastSeen, &subject, &issuer,
			&pin, &sha, &notAfter, &chainAfter); err != nil {
			return nil, err
		}
		if k := (targetAt{s.Target, s.Vantage}); pinwatchd.Kind(kind) != pinwatchd.KindDNSFailed && round > latest[k] {
			latest[k] = round
		}
		if sha == nil {
			continue // never served a chain
		}
		s.ErrorKind = pinwatchd.Kind(kind)
		s.LeafSubject, s.Issuer, s.LeafPin, s.LeafSHA256 = *subject, *issuer, *pin, *sha
		s.LastSeen, s.NotAfter = fromUnix(*lastSeen), fromUnix(*notAfter)
		if chainAfter != nil {
			s.ChainNotAfter = fromUnix(*chainAfter)
		}
		s.DaysLeft = pinwatchd.Cert{NotAfter: s.NotAfter}.DaysLeft(now)
		out = append(out, s)
		rounds = append(rounds, round)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		switch s := &out[i]; {
		case configured != nil && !configured(s.Target):
			s.Stale = pinwatchd.StaleNotConfigured
		case rounds[i] < latest[targetAt{s.Target, s.Vantage}]:
			s.Stale = pinwatchd.StaleLeftDNS
		}
	}
	return out, nil
}

// LatestObservations returns the latest span of every address ever recorded
// for target at every vantage, ordered by address then vantage, rebuilt
// into Observations with their vantage, chains (DER included), headers, verification and error. Time is the
// span's last_seen. A target never recorded yields no observations (no
// error).
func (db *DB) LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	var obs []pinwatchd.Observation
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		spans, err := readSpans(ctx, tx, target, false)
		if err != nil {
			return err
		}
		obs, err = buildObservations(ctx, tx, spans, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read observations of %s from %s: %w", target, db.path, err)
	}
	return obs, nil
}
