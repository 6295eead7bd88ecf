package storage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// recorder is the state of one Record transaction.
type recorder struct {
	ctx       context.Context
	db        *DB
	st        *txStmts
	usedCache bool // a cached id or certificate was trusted
	events    []pinwatchd.Event
	rounds    map[string]int64 // target → start of its round, unix milliseconds
	ahead     *readAhead       // nil: each observation reads for itself
	changed   map[int64]bool   // addresses that got a new span in this call
	learned   map[int64]spanMemo
}

// Record stores one round of observations of targets in one transaction and
// returns the timeline events it derived, in order, with their IDs.
// Observation.Target is the target name and Observation.Time the probe
// time, stored to the second. The observations of one target in one call
// are one round of it: they share its start, the earliest of their times,
// which tells the addresses of a target's latest round (Certs).
//
// An observation equal to the latest span of its address (same SNI, chains,
// headers, TLS version, verification, HTTP method and status, and error
// kind) moves that span's last_seen and adds one to its probe_count; any
// other starts a span. Events: first_seen the first time an address is
// recorded; probe_failed when an address starts failing (Error set), once
// however many failures follow; recovered when it answers again;
// chain_changed, classified by pinwatchd.ClassifyChange, when the served
// chain differs from that of the previous observation that had one,
// failures in between notwithstanding. A chain_changed event is stored
// without the notified mark, for the daemon to announce (PendingEvents,
// AnnounceEvents); every other event is stored with it. Record itself never
// announces anything, so `check --record` leaves the announcing to the
// daemon.
//
// Certificates are stored once by SHA-256 and need DER unless they are
// stored already. On error nothing of the round is stored. Record is safe
// for concurrent use; calls are serialised.
func (db *DB) Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error) {
	if db.write == nil {
		return nil, fmt.Errorf("record observations in %s: %w", db.path, ErrReadOnly)
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
	db.stmts.prepareUsed(ctx, db.write)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	st := &txStmts{ctx: ctx, tx: tx}
	if err := db.checkMemo(st); err != nil {
		return nil, false, err
	}
	r := &recorder{ctx: ctx, db: db, st: st, rounds: roundStarts(obs)}
	if len(obs) >= readAheadMin {
		if err := r.readAhead(obs); err != nil {
			return nil, r.usedCache, err
		}
	}
	for i := range obs {
		if err := r.observe(&obs[i]); err != nil {
			return nil, r.usedCache, fmt.Errorf("target %s address %s: %w", obs[i].Target, obs[i].Address, err)
		}
	}
	if err := r.writeExtensions(); err != nil {
		return nil, r.usedCache, err
	}
	if err := tx.Commit(); err != nil {
		return nil, r.usedCache, err
	}
	r.committed()
	return r.events, r.usedCache, nil
}

// roundStarts returns, per target, the earliest probe time among its
// observations in unix milliseconds: the start of its round, shared by all
// its addresses. (Should the clock step back, the spans a round extends
// keep the later start, so an address whose chain changed in that round
// may look as if it left DNS until the clock catches up.)
func roundStarts(obs []pinwatchd.Observation) map[string]int64 {
	rounds := make(map[string]int64, 1)
	for i := range obs {
		t := obs[i].Time.UnixMilli()
		if r, ok := rounds[obs[i].Target]; !ok || t < r {
			rounds[obs[i].Target] = t
		}
	}
	return rounds
}

// observe records one observation: it extends the latest span of the
// address or adds a span and derives the events.
func (r *recorder) observe(o *pinwatchd.Observation) error {
	addrID, err := r.addressID(addrKey{o.Target, o.Address, o.Vantage})
	if err != nil {
		return err
	}
	now, round := o.Time.Unix(), r.rounds[o.Target]
	fp := printOf(o)
	if m, ok := r.memoOf(addrID); ok && m.fp == fp {
		r.usedCache = true
		if err := r.extendSpan(m.id, now, round); err != nil {
			return fmt.Errorf("extend span: %w", err)
		}
		return nil
	}
	if m, ok := r.printedOf(addrID); ok && m.fp == fp {
		if err := r.extendSpan(m.id, now, round); err != nil {
			return fmt.Errorf("extend span: %w", err)
		}
		r.remember(addrID, m.id, fp)
		return nil
	}
	// Not the span recognised by its print: encode what the observation
	// holds to compare it with the span and store it.
	keys, err := keysOf(o)
	if err != nil {
		return err
	}
	var (
		l     latestSpan
		first bool
	)
	if ahead, ok := r.latestOf(addrID); ok {
		if first = ahead == nil; !first {
			l = *ahead
		}
	} else if l, first, err = r.readLatestSpan(addrID); err != nil {
		return fmt.Errorf("read latest span: %w", err)
	}
	if !first && l.extends(o, &keys) {
		if err := r.extendSpan(l.id, now, round); err != nil {
			return fmt.Errorf("extend span: %w", err)
		}
		if !bytes.Equal(l.print, fp[:]) { // a span from before prints, or printed otherwise
			if _, err := r.st.exec(r.db.stmts.setPrint, fp[:], l.id); err != nil {
				return fmt.Errorf("store the span's print: %w", err)
			}
		}
		r.remember(addrID, l.id, fp)
		return nil
	}

	// The previous successful chain, for chain_changed: the latest span's if
	// it has one, else the last span that had one.
	prevServed, prevVerified, prevHash := l.servedID, l.verifiedID, l.served
	if !first && !prevServed.Valid {
		err := r.st.queryRow(r.db.stmts.lastServedSpan, addrID).Scan(&prevServed, &prevVerified)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read last successful span: %w", err)
		}
		prevHash = nil // compare by content below
	}

	spanID, err := r.insertSpan(addrID, now, round, o, &keys, fp)
	if err != nil {
		return err
	}
	r.spanAdded(addrID)
	r.remember(addrID, spanID, fp)

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
	if keys.served.ok && prevServed.Valid && (prevHash == nil || !equalHash(prevHash, keys.served.hash, true)) {
		class, oldLeaf, changed, err := r.classifyAgainst(prevServed, prevVerified, o)
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

func (r *recorder) insertSpan(addrID, now, round int64, o *pinwatchd.Observation, k *obsKeys, fp spanPrint) (int64, error) {
	served, err := r.ensureChain(o.ServedChain, k.served)
	if err != nil {
		return 0, fmt.Errorf("served chain: %w", err)
	}
	verified, err := r.ensureChain(o.VerifiedChain, k.verified)
	if err != nil {
		return 0, fmt.Errorf("verified chain: %w", err)
	}
	var ids [3]sql.NullInt64
	for i, h := range []headerValue{k.pkp, k.pkpRO, k.hsts} {
		if ids[i], err = r.ensureHeader(h); err != nil {
			return 0, err
		}
	}
	tlsaID, err := r.ensureTLSA(k.tlsa)
	if err != nil {
		return 0, err
	}
	var kind, msg string
	if o.Error != nil {
		kind, msg = string(o.Error.Kind), o.Error.Message
	}
	v := &o.Verification
	res, err := r.st.exec(r.db.stmts.insertSpan, addrID, now, now, round, o.SNI, o.TLSVersion,
		served, verified, ids[0], ids[1], ids[2],
		v.Trusted, v.UntrustedReason, v.HostnameValid, v.HostnameError,
		k.httpMethod, k.httpStatus, k.httpE, kind, msg, k.pkp.wholeHash(), k.pkpRO.wholeHash(), k.hsts.wholeHash(),
		tlsaID, k.tlsa.wholeHash(), fp[:])
	if err != nil {
		return 0, fmt.Errorf("store span: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store span: %w", err)
	}
	return id, nil
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
	var notAfter sql.NullInt64
	if !e.NotAfter.IsZero() {
		notAfter = sql.NullInt64{Int64: e.NotAfter.Unix(), Valid: true}
	}
	notified := e.Event != pinwatchd.EventChainChanged
	err := r.st.queryRow(r.db.stmts.insertEvent, e.Time.Unix(), addrID, string(e.Event),
		string(e.Class), e.OldLeafPin, e.NewLeafPin, e.OldLeafSHA256, e.NewLeafSHA256,
		e.Issuer, notAfter, string(e.ErrorKind), e.ErrorMessage, notified,
		e.OldTLSA, e.NewTLSA).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("store %s event: %w", e.Event, err)
	}
	r.events = append(r.events, e)
	return nil
}

// addressID returns the id of the addresses row of k, adding the row if
// needed. A vantage recording an address for the first time takes over
// the row the address had before vantage points existed (the empty
// vantage), if any, with its spans and events: upgrading a database
// continues its history rather than starting it again. (Only observations
// without a vantage use empty-vantage rows, and the daemon and `check`
// never record such, so another process still caching the row under the
// empty vantage does no harm.)
func (r *recorder) addressID(k addrKey) (int64, error) {
	if id, ok := r.db.addrs.get(k); ok {
		return id, nil
	}
	if r.ahead != nil {
		if id, ok := r.ahead.ids[k]; ok {
			r.db.addrs.put(k, id)
			return id, nil
		}
	}
	var id int64
	err := r.st.queryRow(r.db.stmts.addrSelect, k.target, k.address, k.vantage).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) && k.vantage != "" {
		err = r.st.queryRow(r.db.stmts.addrAdopt, k.vantage, k.target, k.address).Scan(&id)
		if err == nil {
			r.db.addrs.delete(addrKey{k.target, k.address, ""})
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = r.st.queryRow(r.db.stmts.addrInsert, k.target, k.address, k.vantage).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("store address: %w", err)
	}
	r.db.addrs.put(k, id)
	return id, nil
}

func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }
