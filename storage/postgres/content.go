package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// staged are the ids a Record transaction learnt, cached once it commits:
// an identity is not rolled back, so an id learnt in a transaction that
// failed names no row.
type staged struct {
	addrs   map[addrKey]int64
	chains  map[[32]byte]int64
	headers map[[32]byte]int64
	certs   map[string]bool
}

func newStaged() staged {
	return staged{addrs: map[addrKey]int64{}, chains: map[[32]byte]int64{}, headers: map[[32]byte]int64{}, certs: map[string]bool{}}
}

// cache adds what the committed transaction learnt to the DB's caches.
func (s *staged) cache(db *DB) {
	for k, id := range s.addrs {
		db.addrs.put(k, id)
	}
	for h, id := range s.chains {
		db.chains.put(h, id)
	}
	for h, id := range s.headers {
		db.headers.put(h, id)
	}
	for c := range s.certs {
		db.certs.put(c, struct{}{})
	}
}

// resolveAddresses sets the address id of every observation, adding the
// addresses not stored yet (in the order the observations name them) in
// one statement. A vantage recording an address for the first time takes
// over the row the address had before vantage points existed (vantage
// empty), if any, with its spans and events, as storage.DB.Record does.
func (r *recorder) resolveAddresses(obs []pinwatchd.Observation) error {
	r.addrIDs = make([]int64, len(obs))
	var (
		missing []addrKey
		where   = map[addrKey][]int{}
	)
	for i := range obs {
		k := addrKey{obs[i].Target, obs[i].Address, obs[i].Vantage}
		if id, ok := r.db.addrs.get(k); ok {
			r.addrIDs[i] = id
			continue
		}
		if _, ok := where[k]; !ok {
			missing = append(missing, k)
		}
		where[k] = append(where[k], i)
	}
	if len(missing) == 0 {
		return nil
	}
	targets := make([]string, len(missing))
	addresses := make([]string, len(missing))
	vantages := make([]string, len(missing))
	for i, k := range missing {
		targets[i], addresses[i], vantages[i] = k.target, k.address, k.vantage
		if k.vantage != "" {
			r.db.addrs.delete(addrKey{k.target, k.address, ""}) // it may be taken over below
		}
	}
	// Take over the rows from before vantage points, insert the new ones,
	// then read every id: an address stored already (or by another writer
	// meanwhile) is not inserted again.
	_, err := r.tx.Exec(r.ctx, `
UPDATE addresses a SET vantage = n.v
FROM unnest($1::text[], $2::text[], $3::text[]) AS n(t, ad, v)
WHERE n.v <> '' AND a.target = n.t AND a.address = n.ad AND a.vantage = ''
  AND NOT EXISTS (SELECT 1 FROM addresses b WHERE b.target = n.t AND b.address = n.ad AND b.vantage = n.v)`,
		targets, addresses, vantages)
	if err != nil {
		return fmt.Errorf("store addresses: %w", err)
	}
	_, err = r.tx.Exec(r.ctx, `
INSERT INTO addresses (target, address, vantage)
SELECT t, a, v FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS n(t, a, v, i) ORDER BY i
ON CONFLICT (target, address, vantage) DO NOTHING`, targets, addresses, vantages)
	if err != nil {
		return fmt.Errorf("store addresses: %w", err)
	}
	rows, err := r.tx.Query(r.ctx, `
SELECT a.id, a.target, a.address, a.vantage FROM addresses a
JOIN unnest($1::text[], $2::text[], $3::text[]) AS n(tg, ad, va)
  ON a.target = n.tg AND a.address = n.ad AND a.vantage = n.va`, targets, addresses, vantages)
	if err != nil {
		return fmt.Errorf("read addresses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			k  addrKey
		)
		if err := rows.Scan(&id, &k.target, &k.address, &k.vantage); err != nil {
			return fmt.Errorf("read addresses: %w", err)
		}
		for _, i := range where[k] {
			r.addrIDs[i] = id
		}
		delete(where, k)
		r.staged.addrs[k] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read addresses: %w", err)
	}
	for k := range where {
		return fmt.Errorf("address %s of target %s was not stored", k.address, k.target)
	}
	return nil
}

// ensureChain returns the id of the chain with hash h, storing it and its
// certificates first if needed; nil (NULL) for an empty chain. A chain not
// stored yet costs one statement, certificates included.
func (r *recorder) ensureChain(certs []pinwatchd.Cert, h [32]byte, ok bool) (*int64, error) {
	if !ok {
		return nil, nil
	}
	if id, ok := r.db.chains.get(h); ok {
		r.usedCache = true
		return &id, nil
	}
	if id, ok := r.staged.chains[h]; ok {
		return &id, nil
	}
	var n newCerts
	for i := range certs {
		c := &certs[i]
		if _, ok := r.db.certs.get(c.SHA256); ok {
			r.usedCache = true
			continue
		}
		if r.staged.certs[c.SHA256] {
			continue
		}
		if len(c.DER) == 0 {
			// It must be stored already: say which one is not.
			if err := r.ensureCert(c); err != nil {
				return nil, err
			}
			continue
		}
		if err := n.add(c); err != nil {
			return nil, err
		}
	}
	shas := make([]string, len(certs))
	for i := range certs {
		shas[i] = certs[i].SHA256
	}
	var id int64
	if err := r.tx.QueryRow(r.ctx, ensureChainSQL, h[:], shas, n.sha, n.der, n.subject, n.issuer, n.serial,
		n.notBefore, n.notAfter, n.pin, n.isCA, n.keyType).Scan(&id); err != nil {
		return nil, fmt.Errorf("store chain: %w", err)
	}
	for _, sha := range n.sha {
		r.staged.certs[sha] = true
	}
	r.staged.chains[h] = id
	return &id, nil
}

// ensureChainSQL stores the chain of hash $1 made of the certificates $2,
// unless it is stored, with the certificates of $3… not stored yet, and
// returns its id. Foreign keys are checked at the end of the statement, when
// the certificates are in.
const ensureChainSQL = `
WITH new_certs AS (
    INSERT INTO certs (sha256, der, subject, issuer, serial, not_before, not_after, pin, is_ca, key_type)
    SELECT * FROM unnest($3::text[], $4::bytea[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                         $10::text[], $11::boolean[], $12::text[])
    ON CONFLICT (sha256) DO NOTHING
), new_chain AS (
    INSERT INTO chains (hash) VALUES ($1) ON CONFLICT (hash) DO NOTHING RETURNING id
), members AS (
    INSERT INTO chain_certs (chain_id, position, cert_sha256)
    SELECT new_chain.id, m.n - 1, m.sha FROM new_chain, unnest($2::text[]) WITH ORDINALITY AS m(sha, n)
)
SELECT id FROM new_chain UNION ALL SELECT id FROM chains WHERE hash = $1`

// newCerts are certificates to store, as the columns of ensureChainSQL.
type newCerts struct {
	sha, subject, issuer, serial, pin, keyType []string
	der                                        [][]byte
	notBefore, notAfter                        []int64
	isCA                                       []bool
}

// add appends c, whose DER must hash to its SHA-256.
func (n *newCerts) add(c *pinwatchd.Cert) error {
	sum := sha256.Sum256(c.DER)
	if hex.EncodeToString(sum[:]) != c.SHA256 {
		return fmt.Errorf("certificate %s (%s): its DER hashes to %x", c.SHA256, c.Label(), sum)
	}
	n.sha, n.der = append(n.sha, c.SHA256), append(n.der, c.DER)
	n.subject, n.issuer, n.serial = append(n.subject, c.Subject), append(n.issuer, c.Issuer), append(n.serial, c.Serial)
	n.notBefore, n.notAfter = append(n.notBefore, c.NotBefore.Unix()), append(n.notAfter, c.NotAfter.Unix())
	n.pin, n.isCA, n.keyType = append(n.pin, c.Pin.String()), append(n.isCA, c.IsCA), append(n.keyType, c.KeyType)
	return nil
}

// ensureCert checks that c, which comes without DER, is stored already.
func (r *recorder) ensureCert(c *pinwatchd.Cert) error {
	var one int
	err := r.tx.QueryRow(r.ctx, `SELECT 1 FROM certs WHERE sha256 = $1`, c.SHA256).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("certificate %s (%s) has no DER and is not stored yet", c.SHA256, c.Label())
	}
	if err != nil {
		return fmt.Errorf("look up certificate %s: %w", c.SHA256, err)
	}
	r.staged.certs[c.SHA256] = true
	return nil
}

// ensureHeader returns the id of a header value, storing it first if
// needed; nil (NULL) for an absent header.
func (r *recorder) ensureHeader(v storage.HeaderValue) (*int64, error) {
	if !v.Present {
		return nil, nil
	}
	if id, ok := r.db.headers.get(v.Hash); ok {
		r.usedCache = true
		return &id, nil
	}
	if id, ok := r.staged.headers[v.Hash]; ok {
		return &id, nil
	}
	var id int64
	err := r.tx.QueryRow(r.ctx, `SELECT id FROM header_values WHERE hash = $1`, v.Hash[:]).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = r.tx.QueryRow(r.ctx, `INSERT INTO header_values (hash, kind, parsed) VALUES ($1, $2, $3) RETURNING id`,
			v.Hash[:], v.Kind, string(v.Parsed)).Scan(&id)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s header: %w", v.Kind, err)
	}
	r.staged.headers[v.Hash] = id
	return &id, nil
}

// classifyAgainst compares cur with the stored chains of a previous
// successful span, as pinwatchd.ClassifyChange does.
func (r *recorder) classifyAgainst(servedID int64, verifiedID *int64, cur *pinwatchd.Observation) (pinwatchd.ChangeClass, *pinwatchd.Cert, bool, error) {
	// The served chain's certificates in order (position >= 0) and the
	// verified chain's anchor (position -1).
	rows, err := r.tx.Query(r.ctx, `
SELECT cc.position, c.sha256, c.pin, c.subject, c.issuer, c.not_after
FROM chain_certs cc JOIN certs c ON c.sha256 = cc.cert_sha256
WHERE cc.chain_id = $1
UNION ALL
SELECT -1, c.sha256, c.pin, c.subject, c.issuer, c.not_after
FROM chain_certs cc JOIN certs c ON c.sha256 = cc.cert_sha256
WHERE cc.chain_id = $2
  AND cc.position = (SELECT max(position) FROM chain_certs WHERE chain_id = $2)
ORDER BY 1`, servedID, verifiedID)
	if err != nil {
		return "", nil, false, fmt.Errorf("load previous chain: %w", err)
	}
	defer rows.Close()
	var prev pinwatchd.Observation
	for rows.Next() {
		var (
			pos      int32
			c        pinwatchd.Cert
			pin      string
			notAfter int64
		)
		if err := rows.Scan(&pos, &c.SHA256, &pin, &c.Subject, &c.Issuer, &notAfter); err != nil {
			return "", nil, false, fmt.Errorf("load previous chain: %w", err)
		}
		if c.Pin, err = pinwatchd.ParsePin(pin); err != nil {
			return "", nil, false, fmt.Errorf("load previous chain: certificate %s: %w", c.SHA256, err)
		}
		c.NotAfter = fromUnix(notAfter)
		if pos < 0 {
			prev.VerifiedChain = append(prev.VerifiedChain, c)
		} else {
			prev.ServedChain = append(prev.ServedChain, c)
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, false, fmt.Errorf("load previous chain: %w", err)
	}
	class, changed := pinwatchd.ClassifyChange(&prev, cur)
	return class, prev.Leaf(), changed, nil
}
