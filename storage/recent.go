package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// RecentObservations returns what the dashboard shows of every address of
// target, or of every target when target is "": per address and vantage,
// ordered by target, address then vantage, its latest observation and, when that one carries no
// chain (its probe failed), also the latest observation that did, so one or
// two observations per address, newest first. Time is each span's
// last_seen. TLSA is the recorded RRset (SPEC §12) as looked up, without
// what matching it against a chain adds. Certificates come without their
// DER, except in the chains of a span whose RRset has a record that only
// the DER can match (any but selector 1, matching type 1: the key pin). A
// target never recorded yields none (no error). The whole answer is read in
// one snapshot, in a fixed number of queries whatever the size of the
// fleet. Observations may share their header values, RRsets and chains:
// treat them as read-only.
func (db *DB) RecentObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	obs, err := db.recentObservations(ctx, target)
	if err != nil {
		if target == "" {
			return nil, fmt.Errorf("read recent observations from %s: %w", db.path, err)
		}
		return nil, fmt.Errorf("read recent observations of %s from %s: %w", target, db.path, err)
	}
	return obs, nil
}

// recentColumns are the span columns of RecentObservations; two subqueries
// pick the latest span of each address and the latest that served a chain,
// which are the same span when the latest probe succeeded.
const recentColumns = `
SELECT a.target, a.address, a.vantage, s.last_seen, s.sni, s.tls_version, s.served_chain_id, s.verified_chain_id,
       s.pkp_id, s.pkp_ro_id, s.hsts_id, s.trusted, s.untrusted_reason, s.hostname_valid, s.hostname_error,
       s.http_method, s.http_status, s.http_error, s.error_kind, s.error_message, s.tlsa_id
FROM addresses a
JOIN spans s ON s.id IN ((SELECT max(id) FROM spans WHERE address_id = a.id),
                         (SELECT max(id) FROM spans WHERE address_id = a.id AND served_chain_id IS NOT NULL))`

// recentSpan is one row of recentColumns.
type recentSpan struct {
	target, address, vantage   string
	lastSeen                   int64
	sni, tlsVersion            string
	servedID, verifiedID       sql.NullInt64
	pkp, pkpRO, hsts           sql.NullInt64 // header_values ids
	trusted, hostnameValid     bool
	untrustedReason, hostError string
	httpMethod, httpError      sql.NullString
	httpStatus                 sql.NullInt64
	errorKind, errorMessage    string
	tlsa                       sql.NullInt64 // tlsa_values id
}

func (db *DB) recentObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var rows *sql.Rows
	if target == "" {
		rows, err = tx.QueryContext(ctx, recentColumns+` ORDER BY a.target, a.address, a.vantage, s.id DESC`)
	} else {
		rows, err = tx.QueryContext(ctx, recentColumns+` WHERE a.target = ? ORDER BY a.address, a.vantage, s.id DESC`, target)
	}
	if err != nil {
		return nil, err
	}
	var spans []recentSpan
	for rows.Next() {
		var s recentSpan
		if err := rows.Scan(&s.target, &s.address, &s.vantage, &s.lastSeen, &s.sni, &s.tlsVersion, &s.servedID, &s.verifiedID,
			&s.pkp, &s.pkpRO, &s.hsts, &s.trusted, &s.untrustedReason, &s.hostnameValid, &s.hostError,
			&s.httpMethod, &s.httpStatus, &s.httpError, &s.errorKind, &s.errorMessage, &s.tlsa); err != nil {
			rows.Close()
			return nil, err
		}
		spans = append(spans, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, nil
	}
	chains, err := loadChains(ctx, tx, spans)
	if err != nil {
		return nil, err
	}
	headers, err := loadHeaders(ctx, tx, spans)
	if err != nil {
		return nil, err
	}
	tlsa, err := loadRecentTLSA(ctx, tx, spans)
	if err != nil {
		return nil, err
	}
	if err := loadMatchDER(ctx, tx, spans, tlsa, chains); err != nil {
		return nil, err
	}
	out := make([]pinwatchd.Observation, 0, len(spans))
	for _, s := range spans {
		o := pinwatchd.Observation{
			Target: s.target, Address: s.address, Vantage: s.vantage, SNI: s.sni, Time: fromUnix(s.lastSeen), TLSVersion: s.tlsVersion,
			Verification: pinwatchd.Verification{Trusted: s.trusted, UntrustedReason: s.untrustedReason,
				HostnameValid: s.hostnameValid, HostnameError: s.hostError},
			ServedChain: chains[s.servedID.Int64], VerifiedChain: chains[s.verifiedID.Int64],
		}
		if s.errorKind != "" {
			o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.Kind(s.errorKind), Message: s.errorMessage}
		}
		if s.httpMethod.Valid {
			o.HTTP = &pinwatchd.HTTPResult{Method: s.httpMethod.String, Status: int(s.httpStatus.Int64), Error: s.httpError.String}
		}
		if s.pkp.Valid {
			o.PublicKeyPins = headers[s.pkp.Int64].pkp
		}
		if s.pkpRO.Valid {
			o.PublicKeyPinsReportOnly = headers[s.pkpRO.Int64].pkp
		}
		if s.hsts.Valid {
			o.StrictTransportSecurity = headers[s.hsts.Int64].hsts
		}
		if s.tlsa.Valid {
			o.TLSA = tlsa[s.tlsa.Int64]
		}
		out = append(out, o)
	}
	return out, nil
}

// loadChains returns the chains the spans name, by chain id, certificates
// in order and without DER: one query for the chains' members, one for the
// certificates, each certificate read once however many chains hold it
// (an intermediate is in every chain it issued).
func loadChains(ctx context.Context, tx *sql.Tx, spans []recentSpan) (map[int64][]pinwatchd.Cert, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range spans {
		for _, id := range []sql.NullInt64{s.servedID, s.verifiedID} {
			if id.Valid && !seen[id.Int64] {
				seen[id.Int64] = true
				ids = append(ids, id.Int64)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT chain_id, cert_sha256 FROM chain_certs
WHERE chain_id IN (SELECT value FROM json_each(?)) ORDER BY chain_id, position`, string(list))
	if err != nil {
		return nil, err
	}
	type member struct {
		chain int64
		cert  string
	}
	var members []member
	certIdx := map[string]int{} // certificate → index in shas
	var shas []string
	for rows.Next() {
		var m member
		if err := rows.Scan(&m.chain, &m.cert); err != nil {
			rows.Close()
			return nil, err
		}
		if _, ok := certIdx[m.cert]; !ok {
			certIdx[m.cert] = len(shas)
			shas = append(shas, m.cert)
		}
		members = append(members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	certs, err := loadCerts(ctx, tx, shas)
	if err != nil {
		return nil, err
	}
	chains := make(map[int64][]pinwatchd.Cert, len(ids))
	for _, m := range members {
		c, ok := certs[m.cert]
		if !ok {
			return nil, fmt.Errorf("chain %d names certificate %s, which is not stored", m.chain, m.cert)
		}
		chains[m.chain] = append(chains[m.chain], c)
	}
	return chains, nil
}

// loadCerts reads the certificates of shas, without DER, by SHA-256.
func loadCerts(ctx context.Context, tx *sql.Tx, shas []string) (map[string]pinwatchd.Cert, error) {
	list, err := json.Marshal(shas)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
SELECT sha256, subject, issuer, serial, not_before, not_after, pin, is_ca, key_type
FROM certs WHERE sha256 IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	certs := make(map[string]pinwatchd.Cert, len(shas))
	for rows.Next() {
		var (
			c                   pinwatchd.Cert
			notBefore, notAfter int64
			pin                 string
		)
		if err := rows.Scan(&c.SHA256, &c.Subject, &c.Issuer, &c.Serial, &notBefore, &notAfter, &pin, &c.IsCA, &c.KeyType); err != nil {
			return nil, err
		}
		if c.Pin, err = pinwatchd.ParsePin(pin); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		c.NotBefore, c.NotAfter = fromUnix(notBefore), fromUnix(notAfter)
		certs[c.SHA256] = c
	}
	return certs, rows.Err()
}

// storedHeader is a decoded header value: pkp for Public-Key-Pins (either
// name), hsts for Strict-Transport-Security.
type storedHeader struct {
	pkp  *pinwatchd.PinHeader
	hsts *pinwatchd.HSTSHeader
}

// loadHeaders decodes the header values the spans name, by id, each once,
// in one query.
func loadHeaders(ctx context.Context, tx *sql.Tx, spans []recentSpan) (map[int64]storedHeader, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range spans {
		for _, id := range []sql.NullInt64{s.pkp, s.pkpRO, s.hsts} {
			if id.Valid && !seen[id.Int64] {
				seen[id.Int64] = true
				ids = append(ids, id.Int64)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, parsed FROM header_values WHERE id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]storedHeader, len(ids))
	for rows.Next() {
		var (
			id           int64
			kind, parsed string
			h            storedHeader
		)
		if err := rows.Scan(&id, &kind, &parsed); err != nil {
			return nil, err
		}
		switch kind {
		case "pkp":
			h.pkp, err = decodeHeader[pinwatchd.PinHeader](sql.NullString{String: parsed, Valid: true})
		case "hsts":
			h.hsts, err = decodeHeader[pinwatchd.HSTSHeader](sql.NullString{String: parsed, Valid: true})
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		if err != nil {
			return nil, fmt.Errorf("header value %d: %w", id, err)
		}
		out[id] = h
	}
	return out, rows.Err()
}
