package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// DANE (SPEC §12): TLSA RRsets stored as storage.DB stores them, by
// content in tlsa_values, and the tlsa_changed events derived from them.

// ensureTLSA returns the id of a stored TLSA RRset, storing it first if
// needed; nil (NULL) for an absent one. Rounds serialise on the advisory
// lock, so the look-up and the insert do not race another recorder.
func (r *recorder) ensureTLSA(v storage.TLSAValue) (*int64, error) {
	if !v.Present {
		return nil, nil
	}
	var id int64
	err := r.tx.QueryRow(r.ctx, `SELECT id FROM tlsa_values WHERE hash = $1`, v.Hash[:]).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = r.tx.QueryRow(r.ctx, `INSERT INTO tlsa_values (hash, parsed) VALUES ($1, $2) RETURNING id`,
			v.Hash[:], string(v.Parsed)).Scan(&id)
	}
	if err != nil {
		return nil, fmt.Errorf("store TLSA records: %w", err)
	}
	return &id, nil
}

// lastTLSASQL reads the latest RRset that was looked up without error at
// an address, before the span just added: the hash spans compare and the
// stored JSON.
const lastTLSASQL = `
SELECT coalesce(s.tlsa_whole, v.hash), v.parsed
FROM spans s JOIN tlsa_values v ON v.id = s.tlsa_id
WHERE s.address_id = $1 AND s.id < $2 AND (v.parsed::jsonb ->> 'error') IS NULL
ORDER BY s.id DESC LIMIT 1`

// tlsaChanged adds a tlsa_changed event when the RRset of o, looked up
// without error, differs from the previous one looked up at its address
// (spanID being the span just added). The first RRset of an address is no
// change.
func (r *recorder) tlsaChanged(addrID, spanID int64, o *pinwatchd.Observation, v storage.TLSAValue) error {
	if !v.Present || !v.OK {
		return nil
	}
	var (
		prevHash []byte
		prevJSON string
	)
	err := r.tx.QueryRow(r.ctx, lastTLSASQL, addrID, spanID).Scan(&prevHash, &prevJSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read previous TLSA records: %w", err)
	}
	if equalHash(prevHash, v.Whole, true) {
		return nil
	}
	var prev pinwatchd.TLSAResult
	if err := json.Unmarshal([]byte(prevJSON), &prev); err != nil {
		return fmt.Errorf("read previous TLSA records: %w", err)
	}
	e := newEvent(fromUnix(o.Time.Unix()), o, pinwatchd.EventTLSAChanged)
	e.OldTLSA, e.NewTLSA = strings.Join(storage.TLSALines(&prev), "\n"), strings.Join(storage.TLSALines(o.TLSA), "\n")
	return r.event(addrID, e)
}

// loadTLSA decodes the TLSA RRsets the spans name, by id, each once, in one
// query (none when no span has one).
func loadTLSA(ctx context.Context, tx pgx.Tx, spans []storedSpan) (map[int64]*pinwatchd.TLSAResult, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range spans {
		if s.tlsa != nil && !seen[*s.tlsa] {
			seen[*s.tlsa] = true
			ids = append(ids, *s.tlsa)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, parsed FROM tlsa_values WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]*pinwatchd.TLSAResult, len(ids))
	for rows.Next() {
		var (
			id     int64
			parsed string
			res    pinwatchd.TLSAResult
		)
		if err := rows.Scan(&id, &parsed); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(parsed), &res); err != nil {
			return nil, fmt.Errorf("TLSA records %d: %w", id, err)
		}
		out[id] = &res
	}
	return out, rows.Err()
}

// loadMatchDER fills in the DER of the certificates of the chains of every
// span whose RRset needs it to be matched (storage.NeedsDER), in one query
// (none when no span's does).
func loadMatchDER(ctx context.Context, tx pgx.Tx, spans []storedSpan, tlsa map[int64]*pinwatchd.TLSAResult,
	chains map[int64][]pinwatchd.Cert) error {
	var ids []int64
	seen := map[int64]bool{}
	for _, s := range spans {
		if s.tlsa == nil || !storage.NeedsDER(tlsa[*s.tlsa]) {
			continue
		}
		for _, id := range []*int64{s.servedID, s.verifiedID} {
			if id != nil && !seen[*id] {
				seen[*id] = true
				ids = append(ids, *id)
			}
		}
	}
	var shas []string
	want := map[string]bool{}
	for _, id := range ids {
		for _, c := range chains[id] {
			if !want[c.SHA256] {
				want[c.SHA256] = true
				shas = append(shas, c.SHA256)
			}
		}
	}
	if len(shas) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT sha256, der FROM certs WHERE sha256 = ANY($1)`, shas)
	if err != nil {
		return err
	}
	defer rows.Close()
	der := make(map[string][]byte, len(shas))
	for rows.Next() {
		var (
			sha string
			b   []byte
		)
		if err := rows.Scan(&sha, &b); err != nil {
			return err
		}
		der[sha] = b
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		for i := range chains[id] {
			chains[id][i].DER = der[chains[id][i].SHA256]
		}
	}
	return nil
}
