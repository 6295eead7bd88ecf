package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

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
// target never recorded yields none (no error). The answer is read in one
// snapshot, in a fixed number of queries whatever the size of the fleet.
// Observations may share their header values, RRsets and chains: treat
// them as read-only.
func (db *DB) RecentObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	var obs []pinwatchd.Observation
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		spans, err := readSpans(ctx, tx, target, true)
		if err != nil {
			return err
		}
		obs, err = buildObservations(ctx, tx, spans, false)
		return err
	})
	if err != nil {
		if target == "" {
			return nil, fmt.Errorf("read recent observations from %s: %w", db.path, err)
		}
		return nil, fmt.Errorf("read recent observations of %s from %s: %w", target, db.path, err)
	}
	return obs, nil
}

// spanColumns are the columns of a span rebuilt into an observation.
const spanColumns = `
SELECT a.target, a.address, a.vantage, s.last_seen, s.sni, s.tls_version, s.served_chain_id, s.verified_chain_id,
       s.pkp_id, s.pkp_ro_id, s.hsts_id, s.trusted, s.untrusted_reason, s.hostname_valid, s.hostname_error,
       s.http_method, s.http_status, s.http_error, s.error_kind, s.error_message, s.tlsa_id
FROM addresses a`

// storedSpan is one row of spanColumns.
type storedSpan struct {
	target, address, vantage   string
	lastSeen                   int64
	sni, tlsVersion            string
	servedID, verifiedID       *int64
	pkp, pkpRO, hsts           *int64 // header_values ids
	trusted, hostnameValid     bool
	untrustedReason, hostError string
	httpMethod, httpError      *string
	httpStatus                 *int32
	errorKind, errorMessage    string
	tlsa                       *int64 // tlsa_values id
}

// readSpans reads the latest span of every address of target at every
// vantage, or with recent the latest and the latest that served a chain,
// of every target when target is "": ordered by target, address and
// vantage (byte order, as SQLite sorts), newest first.
func readSpans(ctx context.Context, tx pgx.Tx, target string, recent bool) ([]storedSpan, error) {
	q := spanColumns + ` JOIN spans s ON s.id = (SELECT max(id) FROM spans WHERE address_id = a.id)`
	if recent {
		q = spanColumns + ` JOIN spans s ON s.id IN ((SELECT max(id) FROM spans WHERE address_id = a.id),
    (SELECT max(id) FROM spans WHERE address_id = a.id AND served_chain_id IS NOT NULL))`
	}
	const order = ` ORDER BY a.target COLLATE "C", a.address COLLATE "C", a.vantage COLLATE "C", s.id DESC`
	var (
		rows pgx.Rows
		err  error
	)
	if target == "" {
		rows, err = tx.Query(ctx, q+order)
	} else {
		rows, err = tx.Query(ctx, q+` WHERE a.target = $1`+order, target)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var spans []storedSpan
	for rows.Next() {
		var s storedSpan
		if err := rows.Scan(&s.target, &s.address, &s.vantage, &s.lastSeen, &s.sni, &s.tlsVersion, &s.servedID, &s.verifiedID,
			&s.pkp, &s.pkpRO, &s.hsts, &s.trusted, &s.untrustedReason, &s.hostnameValid, &s.hostError,
			&s.httpMethod, &s.httpStatus, &s.httpError, &s.errorKind, &s.errorMessage, &s.tlsa); err != nil {
			return nil, err
		}
		spans = append(spans, s)
	}
	return spans, rows.Err()
}

// buildObservations rebuilds spans into observations, loading their chains
// (with DER when withDER) and headers in one query each.
func buildObservations(ctx context.Context, tx pgx.Tx, spans []storedSpan, withDER bool) ([]pinwatchd.Observation, error) {
	if len(spans) == 0 {
		return nil, nil
	}
	chains, err := loadChains(ctx, tx, spans, withDER)
	if err != nil {
		return nil, err
	}
	headers, err := loadHeaders(ctx, tx, spans)
	if err != nil {
		return nil, err
	}
	tlsa, err := loadTLSA(ctx, tx, spans)
	if err != nil {
		return nil, err
	}
	if !withDER {
		if err := loadMatchDER(ctx, tx, spans, tlsa, chains); err != nil {
			return nil, err
		}
	}
	out := make([]pinwatchd.Observation, 0, len(spans))
	for _, s := range spans {
		o := pinwatchd.Observation{
			Target: s.target, Address: s.address, Vantage: s.vantage, SNI: s.sni, Time: fromUnix(s.lastSeen), TLSVersion: s.tlsVersion,
			Verification: pinwatchd.Verification{Trusted: s.trusted, UntrustedReason: s.untrustedReason,
				HostnameValid: s.hostnameValid, HostnameError: s.hostError},
		}
		if s.servedID != nil {
			o.ServedChain = chains[*s.servedID]
		}
		if s.verifiedID != nil {
			o.VerifiedChain = chains[*s.verifiedID]
		}
		if s.errorKind != "" {
			o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.Kind(s.errorKind), Message: s.errorMessage}
		}
		if s.httpMethod != nil {
			o.HTTP = &pinwatchd.HTTPResult{Method: *s.httpMethod}
			if s.httpStatus != nil {
				o.HTTP.Status = int(*s.httpStatus)
			}
			if s.httpError != nil {
				o.HTTP.Error = *s.httpError
			}
		}
		if s.pkp != nil {
			o.PublicKeyPins = headers[*s.pkp].pkp
		}
		if s.pkpRO != nil {
			o.PublicKeyPinsReportOnly = headers[*s.pkpRO].pkp
		}
		if s.hsts != nil {
			o.StrictTransportSecurity = headers[*s.hsts].hsts
		}
		if s.tlsa != nil {
			o.TLSA = tlsa[*s.tlsa]
		}
		out = append(out, o)
	}
	return out, nil
}

// loadChains returns the chains the spans name, by chain id, certificates
// in order: one query for the chains' members, one for the certificates,
// each certificate read once however many chains hold it.
func loadChains(ctx context.Context, tx pgx.Tx, spans []storedSpan, withDER bool) (map[int64][]pinwatchd.Cert, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range spans {
		for _, id := range []*int64{s.servedID, s.verifiedID} {
			if id != nil && !seen[*id] {
				seen[*id] = true
				ids = append(ids, *id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT chain_id, cert_sha256 FROM chain_certs WHERE chain_id = ANY($1) ORDER BY chain_id, position`, ids)
	if err != nil {
		return nil, err
	}
	type member struct {
		chain int64
		cert  string
	}
	var (
		members []member
		shas    []string
		known   = map[string]bool{}
	)
	for rows.Next() {
		var m member
		if err := rows.Scan(&m.chain, &m.cert); err != nil {
			rows.Close()
			return nil, err
		}
		if !known[m.cert] {
			known[m.cert] = true
			shas = append(shas, m.cert)
		}
		members = append(members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	certs, err := loadCerts(ctx, tx, shas, withDER)
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

// loadCerts reads the certificates of shas by SHA-256, with their DER when
// withDER.
func loadCerts(ctx context.Context, tx pgx.Tx, shas []string, withDER bool) (map[string]pinwatchd.Cert, error) {
	rows, err := tx.Query(ctx, `
SELECT sha256, CASE WHEN $2 THEN der END, subject, issuer, serial, not_before, not_after, pin, is_ca, key_type
FROM certs WHERE sha256 = ANY($1)`, shas, withDER)
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
		if err := rows.Scan(&c.SHA256, &c.DER, &c.Subject, &c.Issuer, &c.Serial, &notBefore, &notAfter, &pin, &c.IsCA, &c.KeyType); err != nil {
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
// in one query. A value shared by several spans is decoded once and shared.
func loadHeaders(ctx context.Context, tx pgx.Tx, spans []storedSpan) (map[int64]storedHeader, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range spans {
		for _, id := range []*int64{s.pkp, s.pkpRO, s.hsts} {
			if id != nil && !seen[*id] {
				seen[*id] = true
				ids = append(ids, *id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, kind, parsed FROM header_values WHERE id = ANY($1)`, ids)
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
			h.pkp = new(pinwatchd.PinHeader)
			err = json.Unmarshal([]byte(parsed), h.pkp)
		case "hsts":
			h.hsts = new(pinwatchd.HSTSHeader)
			err = json.Unmarshal([]byte(parsed), h.hsts)
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
