package storage

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pinwatchd/pinwatchd"
)

// A Record call of many observations (a `check --record` of a fleet, a
// group commit of the daemon) reads ahead, in a statement or two, what
// each observation would otherwise read with statements of its own: the
// ids of its addresses and the prints of their latest spans (whole spans
// only where a span has no print). It writes the spans that unchanged
// observations extend in one statement at the end. Each statement costs
// database/sql and SQLite more than the rows it reads, so a round of
// unchanged observations costs about half as much (BENCHMARKS.md).

// readAheadMin is the fewest observations in a call that reads ahead: a
// single observation reads its address and span as cheaply alone.
const readAheadMin = 2

// readAhead is what a recorder read ahead.
type readAhead struct {
	ids       map[addrKey]int64     // addresses stored already
	unprinted map[int64]bool        // addresses read here whose latest span has no print, or that have none
	latest    map[int64]*latestSpan // address id → its latest span; nil entry: none
	prints    map[int64]spanMemo    // address id → its latest span's id and print
	extend    map[int64]*extension  // span id → what this call adds to it
}

// extension is what the unchanged observations of one call add to a span.
type extension struct{ lastSeen, round, probes int64 }

// addressesSQL reads the stored addresses of the targets in the JSON array
// ?2 as seen from vantage ?1 (the unique index on target, address and
// vantage answers it).
const addressesSQL = `
SELECT a.id, a.target, a.address FROM json_each(?2) t
JOIN addresses a ON a.target = t.value AND a.vantage = ?1`

// addressPrintsSQL is addressesSQL with the id and print of each address's
// latest span (NULL when it has none): a DB that remembers no span yet (a
// new process) reads its fleet's addresses and prints in one statement.
const addressPrintsSQL = `
SELECT a.id, a.target, a.address, s.id, s.print FROM json_each(?2) t
JOIN addresses a ON a.target = t.value AND a.vantage = ?1
LEFT JOIN spans s ON s.id = (SELECT id FROM spans WHERE address_id = a.id ORDER BY id DESC LIMIT 1)`

// latestPrintsSQL reads the id and print of the latest span of each
// address id in the JSON array ?, one index seek each.
const latestPrintsSQL = `
SELECT j.value, s.id, s.print FROM json_each(?) j
JOIN spans s ON s.id = (SELECT id FROM spans WHERE address_id = j.value ORDER BY id DESC LIMIT 1)`

// latestSpansSQL reads the latest span of each address id in the JSON
// array ?, one index seek each.
const latestSpansSQL = `SELECT j.value, ` + latestSpanColumns + `
FROM json_each(?) j
JOIN spans s ON s.id = (SELECT id FROM spans WHERE address_id = j.value ORDER BY id DESC LIMIT 1)` + latestSpanJoins

// extendSpansSQL adds to each span of the JSON array ? of
// [id, last_seen, round, probes] what the call's observations saw. With
// jsonb_each each element arrives as binary JSON, which ->> reads without
// parsing the element's text again for every column.
const extendSpansSQL = `
UPDATE spans SET last_seen = max(last_seen, v.value ->> 1),
       last_round = max(last_round, v.value ->> 2),
       probe_count = probe_count + (v.value ->> 3)
FROM jsonb_each(?) v
WHERE spans.id = v.value ->> 0`

// readAhead reads the ids of the call's stored addresses (those not cached
// already) and the latest span of each.
func (r *recorder) readAhead(obs []pinwatchd.Observation) error {
	ra := &readAhead{ids: map[addrKey]int64{}, prints: map[int64]spanMemo{}, extend: map[int64]*extension{}}
	// The targets whose addresses are not all cached, per vantage.
	missing := map[string]map[string]bool{}
	for i := range obs {
		k := addrKey{obs[i].Target, obs[i].Address, obs[i].Vantage}
		if id, ok := r.db.addrs.get(k); ok {
			ra.ids[k] = id
			continue
		}
		if missing[k.vantage] == nil {
			missing[k.vantage] = map[string]bool{}
		}
		missing[k.vantage][k.target] = true
	}
	// With spans remembered (the daemon, whose address cache is smaller
	// than a large fleet), the prints of those addresses are not read again.
	withPrints := r.db.memo.len() == 0
	for vantage, targets := range missing {
		if err := ra.readAddresses(r, vantage, targets, withPrints); err != nil {
			return fmt.Errorf("read addresses: %w", err)
		}
	}
	r.ahead = ra
	var ids []int64
	for _, id := range ra.ids {
		if _, ok := r.db.memo.get(id); ok { // remembered: read only if the observation differs
			continue
		}
		if _, ok := ra.prints[id]; !ok && !ra.unprinted[id] { // else read with its address
			ids = append(ids, id)
		}
	}
	// The prints first: only a span without one (written before them) is
	// read whole, with its chains' and headers' hashes.
	whole := make([]int64, 0, len(ra.unprinted))
	for id := range ra.unprinted {
		whole = append(whole, id)
	}
	if len(ids) > 0 {
		w, err := ra.readPrints(r, ids)
		if err != nil {
			return fmt.Errorf("read latest spans: %w", err)
		}
		whole = append(whole, w...)
	}
	ra.latest = make(map[int64]*latestSpan, len(whole))
	if len(whole) == 0 {
		return nil
	}
	for _, id := range whole {
		ra.latest[id] = nil
	}
	rows, err := r.st.query(r.db.stmts.latestSpans, idList(whole))
	if err != nil {
		return fmt.Errorf("read latest spans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			addrID int64
			l      latestSpan
		)
		if err := scanLatest(rows, &l, &addrID); err != nil {
			return fmt.Errorf("read latest spans: %w", err)
		}
		ra.latest[addrID] = &l
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read latest spans: %w", err)
	}
	return nil
}

// readPrints reads the id and print of the latest span of each address of
// ids into ra.prints, and returns the addresses whose latest span has no
// print (or that have no span), to be read whole.
func (ra *readAhead) readPrints(r *recorder, ids []int64) ([]int64, error) {
	rows, err := r.st.query(r.db.stmts.latestPrints, idList(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			addrID, id int64
			print      []byte
		)
		if err := rows.Scan(&addrID, &id, &print); err != nil {
			return nil, err
		}
		if len(print) == len(spanPrint{}) {
			ra.prints[addrID] = spanMemo{id: id, fp: spanPrint(print)}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var whole []int64
	for _, id := range ids {
		if _, ok := ra.prints[id]; !ok {
			whole = append(whole, id)
		}
	}
	return whole, nil
}

// idList returns ids as a JSON array.
func idList(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// readAddresses adds the stored addresses of targets seen from vantage to
// ra.ids; withPrints, also the print of each one's latest span to
// ra.prints, or the address to ra.unprinted when that span has none.
func (ra *readAhead) readAddresses(r *recorder, vantage string, targets map[string]bool, withPrints bool) error {
	names := make([]string, 0, len(targets))
	for t := range targets {
		names = append(names, t)
	}
	list, err := json.Marshal(names)
	if err != nil {
		return err
	}
	stmt := r.db.stmts.addresses
	if withPrints {
		stmt = r.db.stmts.addressPrints
	}
	rows, err := r.st.query(stmt, vantage, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id     int64
			k      = addrKey{vantage: vantage}
			spanID sql.NullInt64
			print  []byte
		)
		dest := []any{&id, &k.target, &k.address}
		if withPrints {
			dest = append(dest, &spanID, &print)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		ra.ids[k] = id
		if !withPrints {
			continue
		}
		if spanID.Valid && len(print) == len(spanPrint{}) {
			ra.prints[id] = spanMemo{id: spanID.Int64, fp: spanPrint(print)}
		} else {
			if ra.unprinted == nil {
				ra.unprinted = map[int64]bool{}
			}
			ra.unprinted[id] = true
		}
	}
	return rows.Err()
}

// latestOf returns the latest span of an address (nil for none) and
// whether the recorder read it ahead (else the caller reads it itself).
func (r *recorder) latestOf(addrID int64) (*latestSpan, bool) {
	if r.ahead == nil || r.changed[addrID] {
		return nil, false
	}
	l, ok := r.ahead.latest[addrID]
	return l, ok
}

// printedOf returns the id and print of the latest span of addrID as read
// ahead, if it has one.
func (r *recorder) printedOf(addrID int64) (spanMemo, bool) {
	if r.ahead == nil || r.changed[addrID] {
		return spanMemo{}, false
	}
	m, ok := r.ahead.prints[addrID]
	return m, ok
}

// extendSpan extends span id by an unchanged observation at now: at the
// end of the call when the recorder reads ahead, else at once.
func (r *recorder) extendSpan(id, now, round int64) error {
	if r.ahead == nil {
		_, err := r.st.exec(r.db.stmts.extendSpan, now, round, id)
		return err
	}
	e := r.ahead.extend[id]
	if e == nil {
		e = &extension{lastSeen: now, round: round}
		r.ahead.extend[id] = e
	}
	e.lastSeen, e.round, e.probes = max(e.lastSeen, now), max(e.round, round), e.probes+1
	return nil
}

// spanAdded notes that address addrID got a new span in this call: a later
// observation of it reads its latest span again.
func (r *recorder) spanAdded(addrID int64) {
	if r.changed == nil {
		r.changed = map[int64]bool{}
	}
	r.changed[addrID] = true
}

// writeExtensions writes what the call's unchanged observations add to
// their spans, in one statement.
func (r *recorder) writeExtensions() error {
	if r.ahead == nil || len(r.ahead.extend) == 0 {
		return nil
	}
	list := make([]byte, 0, 40*len(r.ahead.extend)+2)
	list = append(list, '[')
	for id, e := range r.ahead.extend {
		if len(list) > 1 {
			list = append(list, ',')
		}
		list = append(list, '[')
		list = strconv.AppendInt(list, id, 10)
		for _, v := range [...]int64{e.lastSeen, e.round, e.probes} {
			list = append(list, ',')
			list = strconv.AppendInt(list, v, 10)
		}
		list = append(list, ']')
	}
	list = append(list, ']')
	res, err := r.st.exec(r.db.stmts.extendSpans, string(list))
	if err != nil {
		return fmt.Errorf("extend spans: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n != int64(len(r.ahead.extend)) {
		return fmt.Errorf("extend spans: %d of %d spans found", n, len(r.ahead.extend))
	}
	return nil
}

// readLatestSpan reads the latest span of addrID with a statement of its
// own; first reports that the address has none.
func (r *recorder) readLatestSpan(addrID int64) (l latestSpan, first bool, err error) {
	err = scanLatest(r.st.queryRow(r.db.stmts.latestSpan, addrID), &l)
	if errors.Is(err, sql.ErrNoRows) {
		return l, true, nil
	}
	return l, false, err
}
