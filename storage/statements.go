package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// statements are the write path's queries. Each is prepared the first
// time a transaction needs it, inside that transaction, and on the write
// connection itself before the next transaction begins (Record holds the
// only write connection while its transaction is open, so it cannot be
// prepared there then). A one-shot `check --record` thus prepares only
// what its one transaction runs, once; the daemon reuses each statement
// from its second commit on.
type statements struct {
	addrSelect, addrInsert, addrAdopt           *writeStmt
	latestSpan, lastServedSpan                  *writeStmt
	extendSpan, insertSpan, insertEvent         *writeStmt
	chainSelect, chainInsert, chainCertInsert   *writeStmt
	certExists, certInsert, chainLeafAndAnchors *writeStmt
	headerSelect, headerInsert                  *writeStmt
	tlsaSelect, tlsaInsert, lastTLSA            *writeStmt
	addresses, addressPrints                    *writeStmt // reading ahead (readahead.go)
	latestSpans, extendSpans                    *writeStmt
	dataVersion, latestPrints, setPrint         *writeStmt // spanmemo.go
	all                                         []*writeStmt
}

// writeStmt is one query of the write path. Its fields are guarded by
// the DB's write mutex.
type writeStmt struct {
	query string
	st    *sql.Stmt // prepared on the write pool; nil until then
	used  bool      // a transaction prepared it for itself: prepare it on the pool
}

// latestSpanColumns are the columns of a span compared to decide whether
// an observation extends it, with the content hashes of the chains and
// headers it references (for a header stored cut, the hash of the whole
// value), joined by latestSpanJoins; scanLatest reads them.
const latestSpanColumns = `s.id, s.served_chain_id, s.verified_chain_id, sc.hash, vc.hash,
       coalesce(s.pkp_whole, pk.hash), coalesce(s.pkp_ro_whole, pr.hash), coalesce(s.hsts_whole, hs.hash),
       s.sni, s.tls_version, s.trusted, s.untrusted_reason, s.hostname_valid, s.hostname_error,
       s.http_method, s.http_status, s.http_error, s.error_kind, coalesce(s.tlsa_whole, tv.hash), s.print`

const latestSpanJoins = `
LEFT JOIN chains sc ON sc.id = s.served_chain_id
LEFT JOIN chains vc ON vc.id = s.verified_chain_id
LEFT JOIN header_values pk ON pk.id = s.pkp_id
LEFT JOIN header_values pr ON pr.id = s.pkp_ro_id
LEFT JOIN header_values hs ON hs.id = s.hsts_id
LEFT JOIN tlsa_values tv ON tv.id = s.tlsa_id`

// latestSpanSQL reads the latest span of an address.
const latestSpanSQL = `SELECT ` + latestSpanColumns + `
FROM spans s` + latestSpanJoins + `
WHERE s.address_id = ?
ORDER BY s.id DESC
LIMIT 1`

// scanLatest reads the latestSpanColumns of row into l, after the columns
// that come before them (lead).
func scanLatest(row interface{ Scan(...any) error }, l *latestSpan, lead ...any) error {
	return row.Scan(append(lead, &l.id, &l.servedID, &l.verifiedID, &l.served, &l.verified, &l.pkp, &l.pkpRO, &l.hsts,
		&l.sni, &l.tlsVersion, &l.trusted, &l.untrustedReason, &l.hostnameValid, &l.hostError,
		&l.httpMethod, &l.httpStatus, &l.httpError, &l.errorKind, &l.tlsa, &l.print)...)
}

const insertSpanSQL = `
INSERT INTO spans (address_id, first_seen, last_seen, last_round, probe_count, sni, tls_version,
                   served_chain_id, verified_chain_id, pkp_id, pkp_ro_id, hsts_id,
                   trusted, untrusted_reason, hostname_valid, hostname_error,
                   http_method, http_status, http_error, error_kind, error_message,
                   pkp_whole, pkp_ro_whole, hsts_whole, tlsa_id, tlsa_whole, print)
VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const insertEventSQL = `
INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin,
                    old_leaf_sha256, new_leaf_sha256, issuer, not_after, error_kind, error_message, notified,
                    old_tlsa, new_tlsa)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`

const insertCertSQL = `
INSERT INTO certs (sha256, der, subject, issuer, serial, not_before, not_after, pin, is_ca, key_type)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (sha256) DO NOTHING`

// chainLeafAndAnchorsSQL returns, for a served and a verified chain id, the
// served chain's certificates in order (position >= 0) and the verified
// chain's anchor (position -1): what ClassifyChange compares.
const chainLeafAndAnchorsSQL = `
SELECT cc.position, c.sha256, c.pin, c.subject, c.issuer, c.not_after
FROM chain_certs cc JOIN certs c ON c.sha256 = cc.cert_sha256
WHERE cc.chain_id = ?1
UNION ALL
SELECT -1, c.sha256, c.pin, c.subject, c.issuer, c.not_after
FROM chain_certs cc JOIN certs c ON c.sha256 = cc.cert_sha256
WHERE cc.chain_id = ?2
  AND cc.position = (SELECT max(position) FROM chain_certs WHERE chain_id = ?2)
ORDER BY 1`

// newStatements returns the write path's queries, none prepared yet.
func newStatements() *statements {
	s := &statements{}
	for _, p := range []struct {
		dst **writeStmt
		sql string
	}{
		{&s.addrSelect, `SELECT id FROM addresses WHERE target = ? AND address = ? AND vantage = ?`},
		{&s.addrInsert, `INSERT INTO addresses (target, address, vantage) VALUES (?, ?, ?) RETURNING id`},
		{&s.addrAdopt, `UPDATE addresses SET vantage = ? WHERE target = ? AND address = ? AND vantage = '' RETURNING id`},
		{&s.latestSpan, latestSpanSQL},
		{&s.lastServedSpan, `SELECT served_chain_id, verified_chain_id FROM spans
			WHERE address_id = ? AND served_chain_id IS NOT NULL ORDER BY id DESC LIMIT 1`},
		{&s.extendSpan, `UPDATE spans SET last_seen = max(last_seen, ?), last_round = max(last_round, ?),
			probe_count = probe_count + 1 WHERE id = ?`},
		{&s.insertSpan, insertSpanSQL},
		{&s.insertEvent, insertEventSQL},
		{&s.chainSelect, `SELECT id FROM chains WHERE hash = ?`},
		{&s.chainInsert, `INSERT INTO chains (hash) VALUES (?) RETURNING id`},
		{&s.chainCertInsert, `INSERT INTO chain_certs (chain_id, position, cert_sha256) VALUES (?, ?, ?)`},
		{&s.certExists, `SELECT 1 FROM certs WHERE sha256 = ?`},
		{&s.certInsert, insertCertSQL},
		{&s.chainLeafAndAnchors, chainLeafAndAnchorsSQL},
		{&s.headerSelect, `SELECT id FROM header_values WHERE hash = ?`},
		{&s.headerInsert, `INSERT INTO header_values (hash, kind, parsed) VALUES (?, ?, ?) RETURNING id`},
		{&s.tlsaSelect, tlsaSelectSQL},
		{&s.tlsaInsert, tlsaInsertSQL},
		{&s.lastTLSA, lastTLSASQL},
		{&s.addresses, addressesSQL},
		{&s.addressPrints, addressPrintsSQL},
		{&s.latestSpans, latestSpansSQL},
		{&s.extendSpans, extendSpansSQL},
		{&s.dataVersion, `PRAGMA data_version`},
		{&s.latestPrints, latestPrintsSQL},
		{&s.setPrint, `UPDATE spans SET print = ? WHERE id = ?`},
	} {
		w := &writeStmt{query: p.sql}
		*p.dst = w
		s.all = append(s.all, w)
	}
	return s
}

// prepareUsed prepares on pool the statements that earlier transactions
// prepared for themselves. The caller holds the write mutex and no
// transaction. A failure leaves the statement to be prepared by the next
// transaction that needs it, as before.
func (s *statements) prepareUsed(ctx context.Context, pool *sql.DB) {
	for _, w := range s.all {
		if !w.used || w.st != nil {
			continue
		}
		if st, err := pool.PrepareContext(ctx, w.query); err == nil {
			w.st, w.used = st, false
		}
	}
}

func (s *statements) close() error {
	var errs []error
	for _, w := range s.all {
		if w.st != nil {
			errs = append(errs, w.st.Close())
			w.st = nil
		}
	}
	return errors.Join(errs...)
}

func firstLine(q string) string {
	for len(q) > 0 && (q[0] == '\n' || q[0] == ' ' || q[0] == '\t') {
		q = q[1:]
	}
	for i, r := range q {
		if r == '\n' {
			return q[:i]
		}
	}
	return q
}

// txStmts runs the write path's statements in one transaction, binding
// each to it at most once.
type txStmts struct {
	ctx   context.Context
	tx    *sql.Tx
	bound map[*writeStmt]*sql.Stmt
}

// stmt returns w bound to the transaction: the pool's prepared statement,
// or one prepared for this transaction alone when the pool has none yet.
func (t *txStmts) stmt(w *writeStmt) (*sql.Stmt, error) {
	if b, ok := t.bound[w]; ok {
		return b, nil
	}
	var b *sql.Stmt
	if w.st != nil {
		b = t.tx.StmtContext(t.ctx, w.st)
	} else {
		var err error
		if b, err = t.tx.PrepareContext(t.ctx, w.query); err != nil {
			return nil, fmt.Errorf("prepare %q: %w", firstLine(w.query), err)
		}
		w.used = true
	}
	if t.bound == nil {
		t.bound = map[*writeStmt]*sql.Stmt{}
	}
	t.bound[w] = b
	return b, nil
}

// row is the result of queryRow: a row, or why there is none to scan.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (t *txStmts) queryRow(w *writeStmt, args ...any) row {
	b, err := t.stmt(w)
	if err != nil {
		return row{err: err}
	}
	return row{r: b.QueryRowContext(t.ctx, args...)}
}

func (t *txStmts) query(w *writeStmt, args ...any) (*sql.Rows, error) {
	b, err := t.stmt(w)
	if err != nil {
		return nil, err
	}
	return b.QueryContext(t.ctx, args...)
}

func (t *txStmts) exec(w *writeStmt, args ...any) (sql.Result, error) {
	b, err := t.stmt(w)
	if err != nil {
		return nil, err
	}
	return b.ExecContext(t.ctx, args...)
}

// lazyStmt is a query of the read pool prepared on its first use, so that a
// command that never runs it does not pay for its preparation. The daemon
// runs each of them once per target and round: a prepared statement spares
// SQLite parsing and planning the query every time (about 40 µs each).
type lazyStmt struct {
	query string
	mu    sync.Mutex
	st    *sql.Stmt
}

// queryContext runs the statement with args on pool, preparing it first if
// needed. Should the preparation fail (the database busy at start-up), the
// query runs unprepared and the next call prepares it again.
func (l *lazyStmt) queryContext(ctx context.Context, pool *sql.DB, args ...any) (*sql.Rows, error) {
	l.mu.Lock()
	if l.st == nil {
		if st, err := pool.PrepareContext(ctx, l.query); err == nil {
			l.st = st
		}
	}
	st := l.st
	l.mu.Unlock()
	if st == nil {
		return pool.QueryContext(ctx, l.query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// close releases the statement if it was prepared.
func (l *lazyStmt) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st == nil {
		return nil
	}
	err := l.st.Close()
	l.st = nil
	return err
}

// readStatements are the lazily prepared queries of the read pool that the
// daemon runs for every target on every round.
type readStatements struct {
	openAlerts, failureCounts, nameState lazyStmt
	pendingTargets                       lazyStmt // once per group commit
	pendingEvents                        lazyStmt // every daemon round
}

func newReadStatements() *readStatements {
	return &readStatements{
		openAlerts:     lazyStmt{query: openAlertsSQL},
		failureCounts:  lazyStmt{query: failureCountsSQL},
		nameState:      lazyStmt{query: nameStateSQL},
		pendingTargets: lazyStmt{query: pendingTargetsSQL},
		pendingEvents:  lazyStmt{query: pendingEventsSQL},
	}
}

func (r *readStatements) close() error {
	return errors.Join(r.openAlerts.close(), r.failureCounts.close(), r.nameState.close(), r.pendingTargets.close(), r.pendingEvents.close())
}
