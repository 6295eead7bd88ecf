package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// VerifiedLink is a certificate and its issuer, each by the SHA-256 of its
// DER, that were the first two certificates of a recorded verified chain:
// the issuer's key signed the certificate, which holds for ever.
type VerifiedLink struct {
	Cert, Issuer [sha256.Size]byte
}

// VerifiedLinksSQL selects the leaf and its issuer of every verified chain
// a span refers to, hex encoded; both backends run it. It reads the spans'
// verified-chain index and one or two chain_certs rows per chain, so it
// grows with the distinct chains, not with the probes.
const VerifiedLinksSQL = `
SELECT l.cert_sha256, i.cert_sha256
FROM chain_certs l JOIN chain_certs i ON i.chain_id = l.chain_id AND i.position = 1
WHERE l.position = 0
  AND l.chain_id IN (SELECT verified_chain_id FROM spans WHERE verified_chain_id IS NOT NULL)`

// VerifiedLinks returns the leaf-to-issuer link of every verified chain
// recorded (Observation.VerifiedChain, which is only set when the chain
// verified). A prober given them does not check those signatures again
// (monitor.Prober.KnownSignatures): `check --record` re-verifies an
// unchanged fleet at the cost of its handshakes.
//
// On a writable database it reads through the write connection (waiting
// for a write in progress): `check --record` reads the links, probes and
// records, and so opens no read connection at all.
func (db *DB) VerifiedLinks(ctx context.Context) ([]VerifiedLink, error) {
	pool := db.read
	if db.write != nil {
		db.wmu.Lock()
		defer db.wmu.Unlock()
		pool = db.write
	}
	rows, err := pool.QueryContext(ctx, VerifiedLinksSQL)
	if err != nil {
		return nil, fmt.Errorf("read verified chains from %s: %w", db.path, err)
	}
	defer rows.Close()
	var links []VerifiedLink
	for rows.Next() {
		var leaf, issuer string
		if err := rows.Scan(&leaf, &issuer); err != nil {
			return nil, fmt.Errorf("read verified chains from %s: %w", db.path, err)
		}
		if l, ok := ParseVerifiedLink(leaf, issuer); ok {
			links = append(links, l)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read verified chains from %s: %w", db.path, err)
	}
	return links, nil
}

// ParseVerifiedLink returns the link of two hex SHA-256 digests as stored;
// false when either is not one (such a row is skipped: it only costs a
// signature check).
func ParseVerifiedLink(leaf, issuer string) (VerifiedLink, bool) {
	var l VerifiedLink
	if len(leaf) != 2*sha256.Size || len(issuer) != 2*sha256.Size {
		return l, false
	}
	if _, err := hex.Decode(l.Cert[:], []byte(leaf)); err != nil {
		return l, false
	}
	if _, err := hex.Decode(l.Issuer[:], []byte(issuer)); err != nil {
		return l, false
	}
	return l, true
}
