package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

const historyColumns = `
SELECT e.id, e.time, e.address_id, e.event, e.class, e.old_leaf_pin, e.new_leaf_pin,
       e.old_leaf_sha256, e.new_leaf_sha256, e.issuer, e.not_after, e.error_kind, e.error_message,
       e.old_tlsa, e.new_tlsa`

// History returns the timeline events at or after since, oldest first
// (ties in recording order), with their IDs and vantages, of one target,
// or of every target when target is "". A target never recorded has no events (no
// error).
func (db *DB) History(ctx context.Context, target string, since time.Time) ([]pinwatchd.Event, error) {
	events, err := db.history(ctx, target, since)
	if err != nil {
		return nil, fmt.Errorf("read history from %s: %w", db.path, err)
	}
	return events, nil
}

func (db *DB) history(ctx context.Context, target string, since time.Time) ([]pinwatchd.Event, error) {
	from := since.Unix()
	if since.IsZero() {
		from = 0
	}
	// One snapshot for the addresses and the events. The addresses are
	// read first, a few thousand rows at most, rather than joined to every
	// event: that halves the cost of a long history.
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var rows *sql.Rows
	if target == "" {
		rows, err = tx.QueryContext(ctx, `SELECT id, target, address, vantage FROM addresses`)
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT id, target, address, vantage FROM addresses WHERE target = ?`, target)
	}
	if err != nil {
		return nil, err
	}
	addrs := map[int64]addrKey{}
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
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, nil
	}
	where, args := `FROM events e WHERE e.time >= ?`, []any{from}
	if target != "" {
		where = `FROM addresses a JOIN events e ON e.address_id = a.id WHERE a.target = ? AND e.time >= ?`
		args = []any{target, from}
	}
	// Counting first (from the indices alone) sizes the result once instead
	// of growing a slice of a few megabytes step by step.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) `+where, args...).Scan(&n); err != nil {
		return nil, err
	}
	// The events are read through the driver's rows, inside tx on its
	// connection: database/sql's Scan converted each of the 15 columns of
	// every event through reflection, a tenth of what a year of history
	// cost to read.
	var events []pinwatchd.Event
	err = conn.Raw(func(dc any) error {
		var err error
		events, err = readEvents(ctx, dc, historyColumns+" "+where+` ORDER BY e.time, e.id`, args, n, addrs)
		return err
	})
	return events, err
}

// readEvents runs query, whose columns are historyColumns, on the driver
// connection dc and returns its events, named by addrs.
func readEvents(ctx context.Context, dc any, query string, args []any, n int, addrs map[int64]addrKey) ([]pinwatchd.Event, error) {
	q, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, fmt.Errorf("the SQLite driver's %T cannot run a query", dc)
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := q.QueryContext(ctx, query, named)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := make([]pinwatchd.Event, 0, n)
	if c := rows.Columns(); len(c) != 15 {
		return nil, fmt.Errorf("history query has %d columns, want 15", len(c))
	}
	v := make([]driver.Value, 15)
	for {
		if err := rows.Next(v); err != nil {
			if errors.Is(err, io.EOF) {
				return events, nil
			}
			return nil, err
		}
		id, okID := v[0].(int64)
		t, okT := v[1].(int64)
		addrID, okA := v[2].(int64)
		if !okID || !okT || !okA {
			return nil, fmt.Errorf("event row %v: id, time and address are not integers", v[:3])
		}
		k, ok := addrs[addrID]
		if !ok {
			return nil, fmt.Errorf("event at %d names address %d, which does not exist", t, addrID)
		}
		text := func(i int) string { s, _ := v[i].(string); return s } // STRICT: TEXT NOT NULL
		e := pinwatchd.Event{ID: id, Time: fromUnix(t), Target: k.target, Address: k.address, Vantage: k.vantage,
			Event: pinwatchd.EventType(text(3)), Class: pinwatchd.ChangeClass(text(4)),
			OldLeafPin: text(5), NewLeafPin: text(6), OldLeafSHA256: text(7), NewLeafSHA256: text(8), Issuer: text(9),
			ErrorKind: pinwatchd.Kind(text(11)), ErrorMessage: text(12), OldTLSA: text(13), NewTLSA: text(14)}
		if na, ok := v[10].(int64); ok {
			e.NotAfter = fromUnix(na)
		}
		events = append(events, e)
	}
}

// Certs returns, per (target, address, vantage) ordered by target, address
// then vantage, the chain of the latest probe that served one. When the latest probe failed,
// ErrorKind names the failure and LastSeen tells when the chain was last
// seen. DaysLeft counts from now. Every target ever recorded is listed,
// each row marked Stale when it is history: StaleNotConfigured for a target
// configured does not accept (nil accepts every target), else StaleLeftDNS
// for an address that was not part of its target's latest round that
// resolved the name at the same vantage (a round whose only observation is
// dns_failed does not count). Addresses that never served a chain are left out: there is
// nothing to show for them.
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
	rows, err := db.read.QueryContext(ctx, `
SELECT a.target, a.address, a.vantage, l.error_kind, l.last_round, c.last_seen,
       leaf.subject, leaf.issuer, leaf.pin, leaf.sha256, leaf.not_after,
       (SELECT min(x.not_after) FROM chain_certs xc JOIN certs x ON x.sha256 = xc.cert_sha256
        WHERE xc.chain_id = coalesce(c.verified_chain_id, c.served_chain_id))
FROM addresses a
JOIN spans l ON l.id = (SELECT max(id) FROM spans WHERE address_id = a.id)
LEFT JOIN spans c ON c.id = (SELECT max(id) FROM spans WHERE address_id = a.id AND served_chain_id IS NOT NULL)
LEFT JOIN chain_certs lc ON lc.chain_id = c.served_chain_id AND lc.position = 0
LEFT JOIN certs leaf ON leaf.sha256 = lc.cert_sha256
ORDER BY a.target, a.address, a.vantage`)
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
			lastSeen, notAfter, chainAfter sql.NullInt64
			subject, issuer, pin, sha      sql.NullString
		)
		if err := rows.Scan(&s.Target, &s.Address, &s.Vantage, &kind, &round, &lastSeen, &subject, &issuer,
			&pin, &sha, &notAfter, &chainAfter); err != nil {
			return nil, err
		}
		if k := (targetAt{s.Target, s.Vantage}); pinwatchd.Kind(kind) != pinwatchd.KindDNSFailed && round > latest[k] {
			latest[k] = round
		}
		if !sha.Valid {
			continue // never served a chain
		}
		s.ErrorKind = pinwatchd.Kind(kind)
		s.LeafSubject, s.Issuer, s.LeafPin, s.LeafSHA256 = subject.String, issuer.String, pin.String, sha.String
		s.LastSeen, s.NotAfter, s.ChainNotAfter = fromUnix(lastSeen.Int64), fromUnix(notAfter.Int64), fromUnix(chainAfter.Int64)
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

// storedSpan is a span row as LatestObservations rebuilds it.
type storedSpan struct {
	address, vantage           string
	lastSeen                   int64
	sni, tlsVersion            string
	servedID, verifiedID       sql.NullInt64
	pkp, pkpRO, hsts           sql.NullString // parsed JSON
	tlsa                       sql.NullString // parsed JSON
	trusted, hostnameValid     bool
	untrustedReason, hostError string
	httpMethod, httpError      sql.NullString
	httpStatus                 sql.NullInt64
	errorKind, errorMessage    string
}

// LatestObservations returns the latest span of every address ever recorded
// for target at every vantage, ordered by address then vantage, rebuilt
// into Observations with their vantage, chains (DER included), headers,
// verification and error. Time is the
// span's last_seen. A target never recorded yields no observations (no
// error).
func (db *DB) LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read observations of %s from %s: %w", target, db.path, err)
	}
	defer tx.Rollback()
	obs, err := latestObservations(ctx, tx, target)
	if err != nil {
		return nil, fmt.Errorf("read observations of %s from %s: %w", target, db.path, err)
	}
	return obs, nil
}

func latestObservations(ctx context.Context, tx *sql.Tx, target string) ([]pinwatchd.Observation, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT a.address, a.vantage, s.last_seen, s.sni, s.tls_version, s.served_chain_id, s.verified_chain_id,
       pk.parsed, pr.parsed, hs.parsed, s.trusted, s.untrusted_reason, s.hostname_valid, s.hostname_error,
       s.http_method, s.http_status, s.http_error, s.error_kind, s.error_message, tv.parsed
FROM addresses a
JOIN spans s ON s.id = (SELECT max(id) FROM spans WHERE address_id = a.id)
LEFT JOIN header_values pk ON pk.id = s.pkp_id
LEFT JOIN header_values pr ON pr.id = s.pkp_ro_id
LEFT JOIN header_values hs ON hs.id = s.hsts_id
LEFT JOIN tlsa_values tv ON tv.id = s.tlsa_id
WHERE a.target = ?
ORDER BY a.address, a.vantage`, target)
	if err != nil {
		return nil, err
	}
	var spans []storedSpan
	for rows.Next() {
		var s storedSpan
		if err := rows.Scan(&s.address, &s.vantage, &s.lastSeen, &s.sni, &s.tlsVersion, &s.servedID, &s.verifiedID,
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
	out := make([]pinwatchd.Observation, 0, len(spans))
	for _, s := range spans {
		o := pinwatchd.Observation{
			Target: target, Address: s.address, Vantage: s.vantage, SNI: s.sni, Time: fromUnix(s.lastSeen), TLSVersion: s.tlsVersion,
			Verification: pinwatchd.Verification{Trusted: s.trusted, UntrustedReason: s.untrustedReason,
				HostnameValid: s.hostnameValid, HostnameError: s.hostError},
		}
		if s.errorKind != "" {
			o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.Kind(s.errorKind), Message: s.errorMessage}
		}
		if s.httpMethod.Valid {
			o.HTTP = &pinwatchd.HTTPResult{Method: s.httpMethod.String, Status: int(s.httpStatus.Int64), Error: s.httpError.String}
		}
		if o.ServedChain, err = loadChain(ctx, tx, s.servedID); err != nil {
			return nil, fmt.Errorf("address %s: served chain: %w", s.address, err)
		}
		if o.VerifiedChain, err = loadChain(ctx, tx, s.verifiedID); err != nil {
			return nil, fmt.Errorf("address %s: verified chain: %w", s.address, err)
		}
		if o.PublicKeyPins, err = decodeHeader[pinwatchd.PinHeader](s.pkp); err != nil {
			return nil, fmt.Errorf("address %s: Public-Key-Pins: %w", s.address, err)
		}
		if o.PublicKeyPinsReportOnly, err = decodeHeader[pinwatchd.PinHeader](s.pkpRO); err != nil {
			return nil, fmt.Errorf("address %s: Public-Key-Pins-Report-Only: %w", s.address, err)
		}
		if o.StrictTransportSecurity, err = decodeHeader[pinwatchd.HSTSHeader](s.hsts); err != nil {
			return nil, fmt.Errorf("address %s: Strict-Transport-Security: %w", s.address, err)
		}
		if o.TLSA, err = decodeHeader[pinwatchd.TLSAResult](s.tlsa); err != nil {
			return nil, fmt.Errorf("address %s: TLSA records: %w", s.address, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// loadChain returns the certificates of a stored chain in order, DER
// included; nil for NULL.
func loadChain(ctx context.Context, tx *sql.Tx, id sql.NullInt64) ([]pinwatchd.Cert, error) {
	if !id.Valid {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `
SELECT c.sha256, c.der, c.subject, c.issuer, c.serial, c.not_before, c.not_after, c.pin, c.is_ca, c.key_type
FROM chain_certs cc JOIN certs c ON c.sha256 = cc.cert_sha256
WHERE cc.chain_id = ?
ORDER BY cc.position`, id.Int64)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var certs []pinwatchd.Cert
	for rows.Next() {
		var (
			c                   pinwatchd.Cert
			notBefore, notAfter int64
			pin                 string
		)
		if err := rows.Scan(&c.SHA256, &c.DER, &c.Subject, &c.Issuer, &c.Serial, &notBefore, &notAfter,
			&pin, &c.IsCA, &c.KeyType); err != nil {
			return nil, err
		}
		if c.Pin, err = pinwatchd.ParsePin(pin); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		c.NotBefore, c.NotAfter = fromUnix(notBefore), fromUnix(notAfter)
		certs = append(certs, c)
	}
	return certs, rows.Err()
}

func decodeHeader[T any](parsed sql.NullString) (*T, error) {
	if !parsed.Valid {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(parsed.String), v); err != nil {
		return nil, err
	}
	return v, nil
}
