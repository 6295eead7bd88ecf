package storage

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// chainKey is the content identity of a chain: the SHA-256 of the
// concatenated SHA-256 digests of its certificates, in order. ok is false
// for an empty chain.
type chainKey struct {
	hash [32]byte
	ok   bool
}

func hashChain(certs []pinwatchd.Cert) (chainKey, error) {
	if len(certs) == 0 {
		return chainKey{}, nil
	}
	h := sha256.New()
	var d [32]byte
	for i := range certs {
		if len(certs[i].SHA256) != 64 {
			return chainKey{}, fmt.Errorf("certificate %d (%s): sha256 %q is not 64 hex digits", i, certs[i].Label(), certs[i].SHA256)
		}
		if _, err := hex.Decode(d[:], []byte(certs[i].SHA256)); err != nil {
			return chainKey{}, fmt.Errorf("certificate %d (%s): sha256 %q is not 64 hex digits", i, certs[i].Label(), certs[i].SHA256)
		}
		h.Write(d[:])
	}
	var k chainKey
	h.Sum(k.hash[:0])
	k.ok = true
	return k, nil
}

// headerValue is a parsed header in its stored form.
type headerValue struct {
	kind   string   // "pkp" or "hsts"
	parsed []byte   // JSON as stored: at most MaxHeaderValue bytes
	hash   [32]byte // of kind and parsed: the stored row's identity
	whole  [32]byte // of kind and the whole value's JSON: what spans compare
	cut    bool     // parsed is cut (whole differs from hash)
	ok     bool     // false when the header was absent
}

// encodeHeader returns the stored form of a parsed header: its JSON, cut to
// MaxHeaderValue bytes and marked cut when longer (cutHeader).
func encodeHeader(kind string, v any, present bool) (headerValue, error) {
	if !present {
		return headerValue{}, nil
	}
	if hv, ok := recallHeader(kind, v); ok {
		return hv, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return headerValue{}, fmt.Errorf("encode %s header: %w", kind, err)
	}
	hv := headerValue{kind: kind, parsed: b, ok: true}
	hv.whole = hashHeader(kind, b)
	hv.hash = hv.whole
	if len(b) > MaxHeaderValue {
		if hv.parsed, err = cutHeader(v); err != nil {
			return headerValue{}, fmt.Errorf("encode %s header: %w", kind, err)
		}
		hv.hash, hv.cut = hashHeader(kind, hv.parsed), true
	}
	rememberHeader(kind, v, hv)
	return hv, nil
}

func hashHeader(kind string, parsed []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(parsed)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// wholeHash is a span's column for the whole value's hash: NULL unless the
// stored value is cut, when the stored row's hash is not the whole value's.
func (v headerValue) wholeHash() []byte {
	if !v.cut {
		return nil
	}
	return v.whole[:]
}

// equalHash reports whether a stored hash (nil for NULL) is the one of an
// absent (ok false) or present value.
func equalHash(stored []byte, h [32]byte, ok bool) bool {
	if !ok {
		return stored == nil
	}
	return bytes.Equal(stored, h[:])
}

// ensureChain returns the id of the chain, storing it and its certificates
// first if needed; 0 (NULL) for an empty chain.
func (r *recorder) ensureChain(certs []pinwatchd.Cert, k chainKey) (sql.NullInt64, error) {
	if !k.ok {
		return sql.NullInt64{}, nil
	}
	if id, ok := r.db.chains.get(k.hash); ok {
		r.usedCache = true
		return sql.NullInt64{Int64: id, Valid: true}, nil
	}
	var id int64
	err := r.st.queryRow(r.db.stmts.chainSelect, k.hash[:]).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		for i := range certs {
			if err := r.ensureCert(&certs[i]); err != nil {
				return sql.NullInt64{}, err
			}
		}
		if err := r.st.queryRow(r.db.stmts.chainInsert, k.hash[:]).Scan(&id); err != nil {
			return sql.NullInt64{}, fmt.Errorf("store chain: %w", err)
		}
		for i := range certs {
			if _, err := r.st.exec(r.db.stmts.chainCertInsert, id, i, certs[i].SHA256); err != nil {
				return sql.NullInt64{}, fmt.Errorf("store chain: certificate %d: %w", i, err)
			}
		}
	case err != nil:
		return sql.NullInt64{}, fmt.Errorf("look up chain: %w", err)
	}
	r.db.chains.put(k.hash, id)
	return sql.NullInt64{Int64: id, Valid: true}, nil
}

// ensureCert stores c unless it is stored already. A certificate without DER
// must be stored already.
func (r *recorder) ensureCert(c *pinwatchd.Cert) error {
	if _, ok := r.db.certs.get(c.SHA256); ok {
		r.usedCache = true
		return nil
	}
	if len(c.DER) == 0 {
		var one int
		err := r.st.queryRow(r.db.stmts.certExists, c.SHA256).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("certificate %s (%s) has no DER and is not stored yet", c.SHA256, c.Label())
		}
		if err != nil {
			return fmt.Errorf("look up certificate %s: %w", c.SHA256, err)
		}
	} else {
		sum := sha256.Sum256(c.DER)
		if hex.EncodeToString(sum[:]) != c.SHA256 {
			return fmt.Errorf("certificate %s (%s): its DER hashes to %x", c.SHA256, c.Label(), sum)
		}
		_, err := r.st.exec(r.db.stmts.certInsert, c.SHA256, c.DER, c.Subject, c.Issuer,
			c.Serial, c.NotBefore.Unix(), c.NotAfter.Unix(), c.Pin.String(), c.IsCA, c.KeyType)
		if err != nil {
			return fmt.Errorf("store certificate %s: %w", c.SHA256, err)
		}
	}
	r.db.certs.put(c.SHA256, struct{}{})
	return nil
}

// ensureHeader returns the id of a header value, storing it first if
// needed; NULL for an absent header.
func (r *recorder) ensureHeader(v headerValue) (sql.NullInt64, error) {
	if !v.ok {
		return sql.NullInt64{}, nil
	}
	if id, ok := r.db.headers.get(v.hash); ok {
		r.usedCache = true
		return sql.NullInt64{Int64: id, Valid: true}, nil
	}
	var id int64
	err := r.st.queryRow(r.db.stmts.headerSelect, v.hash[:]).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = r.st.queryRow(r.db.stmts.headerInsert, v.hash[:], v.kind, string(v.parsed)).Scan(&id)
	}
	if err != nil {
		return sql.NullInt64{}, fmt.Errorf("store %s header: %w", v.kind, err)
	}
	r.db.headers.put(v.hash, id)
	return sql.NullInt64{Int64: id, Valid: true}, nil
}

// classifyAgainst compares cur with the stored chains of a previous
// successful span, as pinwatchd.ClassifyChange does.
func (r *recorder) classifyAgainst(servedID, verifiedID sql.NullInt64, cur *pinwatchd.Observation) (pinwatchd.ChangeClass, *pinwatchd.Cert, bool, error) {
	rows, err := r.st.query(r.db.stmts.chainLeafAndAnchors, servedID, verifiedID)
	if err != nil {
		return "", nil, false, fmt.Errorf("load previous chain: %w", err)
	}
	defer rows.Close()
	var prev pinwatchd.Observation
	for rows.Next() {
		var (
			pos      int
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
