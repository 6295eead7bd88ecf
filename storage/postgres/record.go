package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// recorder is the state of one Record transaction.
type recorder struct {
	ctx       context.Context
	db        *DB
	tx        pgx.Tx
	usedCache bool // a cached id or certificate was trusted
	staged    staged
	events    []pinwatchd.Event
	rounds    map[string]int64 // target → start of its round, unix milliseconds

	addrIDs []int64               // address id of each observation
	latest  map[int64]*latestSpan // address id → its latest span, read ahead; nil entry: none
	changed map[int64]bool        // addresses that got a new span in this call: read again
	extend  map[int64]*extension  // span id → what this call adds to it
}

// extension is what the unchanged observations of one call add to a span,
// written in one statement at the end.
type extension struct{ lastSeen, round, probes int64 }

// Record stores one round of observations in one transaction and returns
// the timeline events it derived, in order, with their IDs: the contract
// and the events of storage.DB.Record, which it keeps exactly.
//
// Rounds from several processes serialise on an advisory lock. An
// unchanged observation costs no statement of its own: the latest spans of
// the round's addresses are read in one query and the extended spans
// written in one update.
func (db *DB) Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error) {
	if db.readOnly {
		return nil, fmt.Errorf("record observations in %s: %w", db.path, storage.ErrReadOnly)
	}
	if len(obs) == 0 {
		return nil, nil
	}
	for i := range obs {
		if obs[i].Target == "" || obs[i].Address == "" || obs[i].Time.IsZero() {
			return nil, fmt.Errorf("record observation %d (target %q, address %q): target, address and time are required",
				i, obs[i].Target, obs[i].Address)
		}
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	for attempt := 0; ; attempt++ {
		events, usedCache, err := db.record(ctx, obs)
		if err == nil {
			return events, nil
		}
		// A cached id may be stale if another process pruned the row it
		// names; forget the caches and try once more without them.
		if !db.resetCaches() || !usedCache || attempt > 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("record observations in %s: %w", db.path, err)
		}
	}
}

func (db *DB) record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, bool, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockRecord); err != nil {
		return nil, false, err
	}
	r := &recorder{ctx: ctx, db: db, tx: tx, rounds: storage.RoundStarts(obs), staged: newStaged(),
		changed: map[int64]bool{}, extend: map[int64]*extension{}}
	if err := r.resolveAddresses(obs); err != nil {
		return nil, r.usedCache, err
	}
	if err := r.readLatest(); err != nil {
		return nil, r.usedCache, fmt.Errorf("read latest spans: %w", err)
	}
	for i := range obs {
		if err := r.observe(&obs[i], r.addrIDs[i]); err != nil {
			return nil, r.usedCache, fmt.Errorf("target %s address %s: %w", obs[i].Target, obs[i].Address, err)
		}
	}
	if err := r.writeExtensions(); err != nil {
		return nil, r.usedCache, fmt.Errorf("extend spans: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, r.usedCache, err
	}
	r.staged.cache(db)
	return r.events, r.usedCache, nil
}

// latestSpanColumns are the columns of a span compared to decide whether an
// observation extends it, with the content hashes of the chains and headers
// it references (for a header stored cut, the hash of the whole value).
const latestSpanColumns = `
SELECT s.address_id, s.id, s.served_chain_id, s.verified_chain_id, sc.hash, vc.hash,
       coalesce(s.pkp_whole, pk.hash), coalesce(s.pkp_ro_whole, pr.hash), coalesce(s.hsts_whole, hs.hash),
       s.sni, s.tls_version, s.trusted, s.untrusted_reason, s.hostname_valid, s.hostname_error,
       s.http_method, s.http_status, s.http_error, s.error_kind, coalesce(s.tlsa_whole, tv.hash)`

const latestSpanJoins = `
LEFT JOIN chains sc ON sc.id = s.served_chain_id
LEFT JOIN chains vc ON vc.id = s.verified_chain_id
LEFT JOIN header_values pk ON pk.id = s.pkp_id
LEFT JOIN header_values pr ON pr.id = s.pkp_ro_id
LEFT JOIN header_values hs ON hs.id = s.hsts_id
LEFT JOIN tlsa_values tv ON tv.id = s.tlsa_id`

// latestSpansSQL reads the latest span of each address of $1.
const latestSpansSQL = latestSpanColumns + `
FROM unnest($1::bigint[]) AS a(id)
CROSS JOIN LATERAL (SELECT * FROM spans WHERE address_id = a.id ORDER BY id DESC LIMIT 1) s` + latestSpanJoins

// latestSpanSQL reads the latest span of the address $1.
const latestSpanSQL = latestSpanColumns + `
FROM (SELECT * FROM spans WHERE address_id = $1 ORDER BY id DESC LIMIT 1) s` + latestSpanJoins

func scanLatest(row pgx.Row) (int64, *latestSpan, error) {
	var (
		addrID int64
		l      latestSpan
	)
	err := row.Scan(&addrID, &l.id, &l.servedID, &l.verifiedID, &l.served, &l.verified, &l.pkp, &l.pkpRO, &l.hsts,
		&l.sni, &l.tlsVersion, &l.trusted, &l.untrustedReason, &l.hostnameValid, &l.hostError,
		&l.httpMethod, &l.httpStatus, &l.httpError, &l.errorKind, &l.tlsa)
	return addrID, &l, err
}

// readLatest reads ahead the latest span of every address of the call.
func (r *recorder) readLatest() error {
	r.latest = make(map[int64]*latestSpan, len(r.addrIDs))
	for _, id := range r.addrIDs {
		r.latest[id] = nil
	}
	rows, err := r.tx.Query(r.ctx, latestSpansSQL, r.addrIDs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		addrID, l, err := scanLatest(rows)
		if err != nil {
			return err
		}
		r.latest[addrID] = l
	}
	return rows.Err()
}

// latestOf returns the latest span of an address, nil for none: read ahead,
// unless this call added a span to the address since.
func (r *recorder) latestOf(addrID int64) (*latestSpan, error) {
	if !r.changed[addrID] {
		return r.latest[addrID], nil
	}
	_, l, err := scanLatest(r.tx.QueryRow(r.ctx, latestSpanSQL, addrID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return l, err
}

// observe records one observation: it extends the latest span of the
// address or adds a span and derives the events.
func (r *recorder) observe(o *pinwatchd.Observation, addrID int64) error {
	keys, err := keysOf(o)
	if err != nil {
		return err
	}
	now, round := o.Time.Unix(), r.rounds[o.Target]
	l, err := r.latestOf(addrID)
	if err != nil {
		return fmt.Errorf("read latest span: %w", err)
	}
	first := l == nil
	if !first && l.extends(o, &keys) {
		e := r.extend[l.id]
		if e == nil {
			e = &extension{}
			r.extend[l.id] = e
		}
		e.lastSeen, e.round, e.probes = max(e.lastSeen, now), max(e.round, round), e.probes+1
		return nil
	}

	// The previous successful chain, for chain_changed: the latest span's if
	// it has one, else the last span that had one.
	var prevServed, prevVerified *int64
	var prevHash []byte
	if !first {
		prevServed, prevVerified, prevHash = l.servedID, l.verifiedID, l.served
		if prevServed == nil {
			err := r.tx.QueryRow(r.ctx, `SELECT served_chain_id, verified_chain_id FROM spans
WHERE address_id = $1 AND served_chain_id IS NOT NULL ORDER BY id DESC LIMIT 1`, addrID).Scan(&prevServed, &prevVerified)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("read last successful span: %w", err)
			}
			prevHash = nil // compare by content below
		}
	}

	spanID, err := r.insertSpan(addrID, now, round, o, &keys)
	if err != nil {
		return err
	}
	r.changed[addrID] = true

	t := fromUnix(now)
	failing := o.Error != nil
	if first {
		if err := r.event(addrID, newEvent(t, o, pinwatchd.EventFirstSeen)); err != nil {
			return err
		}
	}
	if failing && (first || l.errorKind == "") {
		e := newEvent(t, o, pinwatchd.EventProbeFailed)
		e.ErrorKind, e.ErrorMessage = o.Error.Kind, o.Error.Message
		if err := r.event(addrID, e); err != nil {
			return err
		}
	}
	if !failing && !first && l.errorKind != "" {
		if err := r.event(addrID, newEvent(t, o, pinwatchd.EventRecovered)); err != nil {
			return err
		}
	}
	if err := r.tlsaChanged(addrID, spanID, o, keys.tlsa); err != nil {
		return err
	}
	// An unchanged served chain is no change (whatever its verification),
	// so the stored chain is only loaded when the hashes differ.
	if keys.hasServed && prevServed != nil && (prevHash == nil || !equalHash(prevHash, keys.served, true)) {
		class, oldLeaf, changed, err := r.classifyAgainst(*prevServed, prevVerified, o)
		if err != nil {
			return err
		}
		if changed {
			e := newEvent(t, o, pinwatchd.EventChainChanged)
			e.Class = class
			if oldLeaf != nil {
				e.OldLeafPin, e.OldLeafSHA256 = oldLeaf.Pin.String(), oldLeaf.SHA256
			}
			return r.event(addrID, e)
		}
	}
	return nil
}

const insertSpanSQL = `
INSERT INTO spans (address_id, first_seen, last_seen, last_round, probe_count, sni, tls_version,
                   served_chain_id, verified_chain_id, pkp_id, pkp_ro_id, hsts_id,
                   trusted, untrusted_reason, hostname_valid, hostname_error,
                   http_method, http_status, http_error, error_kind, error_message,
                   pkp_whole, pkp_ro_whole, hsts_whole, tlsa_id, tlsa_whole)
VALUES ($1, $2, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
RETURNING id`

func (r *recorder) insertSpan(addrID, now, round int64, o *pinwatchd.Observation, k *obsKeys) (int64, error) {
	served, err := r.ensureChain(k.servedCerts, k.served, k.hasServed)
	if err != nil {
		return 0, fmt.Errorf("served chain: %w", err)
	}
	verified, err := r.ensureChain(k.verifiedCerts, k.verified, k.hasVerified)
	if err != nil {
		return 0, fmt.Errorf("verified chain: %w", err)
	}
	var ids [3]*int64
	for i, h := range []storage.HeaderValue{k.pkp, k.pkpRO, k.hsts} {
		if ids[i], err = r.ensureHeader(h); err != nil {
			return 0, err
		}
	}
	tlsaID, err := r.ensureTLSA(k.tlsa)
	if err != nil {
		return 0, err
	}
	v := &o.Verification
	var id int64
	err = r.tx.QueryRow(r.ctx, insertSpanSQL, addrID, now, round, o.SNI, o.TLSVersion,
		served, verified, ids[0], ids[1], ids[2],
		v.Trusted, v.UntrustedReason, v.HostnameValid, v.HostnameError,
		k.httpMethod, k.httpStatus, k.httpE, k.kind, k.errorMessage,
		k.pkp.WholeHash(), k.pkpRO.WholeHash(), k.hsts.WholeHash(), tlsaID, k.tlsa.WholeHash()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store span: %w", err)
	}
	return id, nil
}

// writeExtensions moves the spans the call's unchanged observations
// extended, in one statement.
func (r *recorder) writeExtensions() error {
	if len(r.extend) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(r.extend))
	seen := make([]int64, 0, len(r.extend))
	rounds := make([]int64, 0, len(r.extend))
	probes := make([]int64, 0, len(r.extend))
	for id, e := range r.extend {
		ids, seen, rounds, probes = append(ids, id), append(seen, e.lastSeen), append(rounds, e.round), append(probes, e.probes)
	}
	_, err := r.tx.Exec(r.ctx, `
UPDATE spans s SET last_seen = greatest(s.last_seen, v.seen), last_round = greatest(s.last_round, v.round),
       probe_count = s.probe_count + v.probes
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS v(id, seen, round, probes)
WHERE s.id = v.id`, ids, seen, rounds, probes)
	return err
}

// newEvent returns an event of o's address at t naming o's leaf, if any.
func newEvent(t time.Time, o *pinwatchd.Observation, typ pinwatchd.EventType) pinwatchd.Event {
	e := pinwatchd.Event{Time: t, Target: o.Target, Address: o.Address, Vantage: o.Vantage, Event: typ}
	if leaf := o.Leaf(); leaf != nil {
		e.NewLeafPin, e.NewLeafSHA256 = leaf.Pin.String(), leaf.SHA256
		e.Issuer, e.NotAfter = leaf.Issuer, leaf.NotAfter.UTC().Truncate(time.Second)
	}
	return e
}

// event stores e, with the notified mark unless it is a chain_changed
// (which waits for the daemon to announce it), and adds it to the round's
// result with its ID.
func (r *recorder) event(addrID int64, e pinwatchd.Event) error {
	var notAfter *int64
	if !e.NotAfter.IsZero() {
		n := e.NotAfter.Unix()
		notAfter = &n
	}
	notified := e.Event != pinwatchd.EventChainChanged
	err := r.tx.QueryRow(r.ctx, `
INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin,
                    old_leaf_sha256, new_leaf_sha256, issuer, not_after, error_kind, error_message, notified,
                    old_tlsa, new_tlsa)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING id`, e.Time.Unix(), addrID, string(e.Event),
		string(e.Class), e.OldLeafPin, e.NewLeafPin, e.OldLeafSHA256, e.NewLeafSHA256,
		e.Issuer, notAfter, string(e.ErrorKind), e.ErrorMessage, notified, e.OldTLSA, e.NewTLSA).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("store %s event: %w", e.Event, err)
	}
	r.events = append(r.events, e)
	return nil
}
