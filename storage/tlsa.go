package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// MaxTLSAValue is the most bytes a stored TLSA RRset takes (SPEC §9, §16):
// the JSON of the RRset, its last records dropped to fit and marked cut. A
// hostile zone can publish far more; a change beyond the cut is still seen,
// since the span keeps the hash of the whole RRset.
const MaxTLSAValue = 8 << 10

// tlsaValue is a TLSA RRset in its stored form: what was looked up, without
// what matching it against one address's chain adds (usable, matches,
// notes), so that every address of a target shares one stored value.
//
// It is hashed as a header value is, under the kind "tlsa", and cut the same
// way: the stored text within MaxTLSAValue, the whole value's hash in the
// span.
type tlsaValue struct {
	parsed  []byte   // the stored JSON
	hash    [32]byte // of "tlsa" and parsed: the stored row's identity
	whole   [32]byte // of "tlsa" and the whole RRset's JSON: what spans compare
	cut     bool     // parsed lost records (whole differs from hash)
	present bool     // false for a target that is not a DANE target
	ok      bool     // the lookup answered (no error)
}

// tlsaHash is the content hash of a stored TLSA value, as header values
// are hashed: the kind, a NUL, the JSON.
func tlsaHash(parsed []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("tlsa\x00"))
	h.Write(parsed)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// encodeTLSA returns the stored form of an observation's TLSA result;
// absent for a target that is not a DANE target.
func encodeTLSA(res *pinwatchd.TLSAResult) (tlsaValue, error) {
	if res == nil {
		return tlsaValue{}, nil
	}
	v := pinwatchd.TLSAResult{Name: res.Name, Authenticated: res.Authenticated, Error: res.Error,
		Records: make([]pinwatchd.TLSARecord, len(res.Records))}
	for i, r := range res.Records {
		v.Records[i] = pinwatchd.TLSARecord{Usage: r.Usage, Selector: r.Selector, MatchingType: r.MatchingType, Data: r.Data}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return tlsaValue{}, fmt.Errorf("encode TLSA records: %w", err)
	}
	tv := tlsaValue{parsed: b, hash: tlsaHash(b), present: true, ok: res.Error == ""}
	tv.whole = tv.hash
	if len(b) <= MaxTLSAValue {
		return tv, nil
	}
	// Too long: keep the records that fit, and the start of long fields.
	v.Cut = true
	v.Name, v.Error = cutText(v.Name, 512), cutText(v.Error, 512)
	for len(v.Records) > 0 {
		if b, err = json.Marshal(v); err != nil {
			return tlsaValue{}, fmt.Errorf("encode TLSA records: %w", err)
		}
		if len(b) <= MaxTLSAValue {
			break
		}
		// Drop about the excess, at the records' average size.
		per := max(1, len(b)/len(v.Records))
		drop := max(1, (len(b)-MaxTLSAValue+per-1)/per)
		v.Records = v.Records[:max(0, len(v.Records)-drop)]
	}
	if b, err = json.Marshal(v); err != nil {
		return tlsaValue{}, fmt.Errorf("encode TLSA records: %w", err)
	}
	tv.parsed, tv.hash, tv.cut = b, tlsaHash(b), true
	return tv, nil
}

// cutText returns at most n bytes of s, whole runes only.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// wholeHash is the span's tlsa_whole: NULL unless the stored RRset is cut.
func (v tlsaValue) wholeHash() []byte {
	if !v.cut {
		return nil
	}
	return v.whole[:]
}

// ensureTLSA returns the id of a stored TLSA RRset, storing it first if
// needed; NULL for an absent one.
func (r *recorder) ensureTLSA(v tlsaValue) (sql.NullInt64, error) {
	if !v.present {
		return sql.NullInt64{}, nil
	}
	if id, ok := r.db.tlsa.get(v.hash); ok {
		r.usedCache = true
		return sql.NullInt64{Int64: id, Valid: true}, nil
	}
	var id int64
	err := r.st.queryRow(r.db.stmts.tlsaSelect, v.hash[:]).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = r.st.queryRow(r.db.stmts.tlsaInsert, v.hash[:], string(v.parsed)).Scan(&id)
	}
	if err != nil {
		return sql.NullInt64{}, fmt.Errorf("store TLSA records: %w", err)
	}
	r.db.tlsa.put(v.hash, id)
	return sql.NullInt64{Int64: id, Valid: true}, nil
}

// Statements of the TLSA values.
const (
	tlsaSelectSQL = `SELECT id FROM tlsa_values WHERE hash = ?`
	tlsaInsertSQL = `INSERT INTO tlsa_values (hash, parsed) VALUES (?, ?) RETURNING id`
	// lastTLSASQL reads the latest RRset that was looked up without error
	// at an address, before the span just added: the hash spans compare
	// and the stored JSON.
	lastTLSASQL = `
SELECT coalesce(s.tlsa_whole, v.hash), v.parsed
FROM spans s JOIN tlsa_values v ON v.id = s.tlsa_id
WHERE s.address_id = ? AND s.id < ? AND json_extract(v.parsed, '$.error') IS NULL
ORDER BY s.id DESC LIMIT 1`
)

// tlsaChanged adds a tlsa_changed event when the RRset of o, looked up
// without error, differs from the previous one looked up at its address
// (spanID being the span just added). The first RRset of an address is no
// change.
func (r *recorder) tlsaChanged(addrID, spanID int64, o *pinwatchd.Observation, v tlsaValue) error {
	if !v.present || !v.ok {
		return nil
	}
	var (
		prevHash []byte
		prevJSON string
	)
	err := r.st.queryRow(r.db.stmts.lastTLSA, addrID, spanID).Scan(&prevHash, &prevJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read previous TLSA records: %w", err)
	}
	if equalHash(prevHash, v.whole, true) {
		return nil
	}
	var prev pinwatchd.TLSAResult
	if err := json.Unmarshal([]byte(prevJSON), &prev); err != nil {
		return fmt.Errorf("read previous TLSA records: %w", err)
	}
	e := newEvent(fromUnix(o.Time.Unix()), o, pinwatchd.EventTLSAChanged)
	e.OldTLSA, e.NewTLSA = strings.Join(TLSALines(&prev), "\n"), strings.Join(TLSALines(o.TLSA), "\n")
	return r.event(addrID, e)
}

// TLSALines is an RRset as the history shows it: one record a line in
// presentation form, then "not authenticated" for an answer without the AD
// bit and "… cut" for a stored RRset that lost records.
func TLSALines(res *pinwatchd.TLSAResult) []string {
	lines := make([]string, 0, len(res.Records)+1)
	for _, r := range res.Records {
		lines = append(lines, r.String())
	}
	if !res.Authenticated && len(res.Records) > 0 {
		lines = append(lines, "not authenticated")
	}
	if res.Cut {
		lines = append(lines, "… (cut: more records than are stored)")
	}
	return lines
}

// loadRecentTLSA decodes the TLSA RRsets the spans name, by id, each once,
// in one query (none when no span has one).
func loadRecentTLSA(ctx context.Context, tx *sql.Tx, spans []recentSpan) (map[int64]*pinwatchd.TLSAResult, error) {
	seen := map[int64]bool{}
	var ids []int64
	for _, s := range spans {
		if s.tlsa.Valid && !seen[s.tlsa.Int64] {
			seen[s.tlsa.Int64] = true
			ids = append(ids, s.tlsa.Int64)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, parsed FROM tlsa_values WHERE id IN (SELECT value FROM json_each(?))`, string(list))
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

// needsDER reports whether matching res against a chain needs the
// certificates' DER: a record other than 3 1 1 or 2 1 1 style (selector 1,
// matching type 1), which the key pin alone answers.
func needsDER(res *pinwatchd.TLSAResult) bool {
	if res == nil {
		return false
	}
	for _, r := range res.Records {
		if r.Selector != 1 || r.MatchingType != 1 {
			return true
		}
	}
	return false
}

// loadMatchDER fills in the DER of the certificates of the chains of every
// span whose RRset needs it to be matched (needsDER), in one query (none
// when no span's does).
func loadMatchDER(ctx context.Context, tx *sql.Tx, spans []recentSpan, tlsa map[int64]*pinwatchd.TLSAResult,
	chains map[int64][]pinwatchd.Cert) error {
	var ids []int64
	seen := map[int64]bool{}
	for _, s := range spans {
		if !s.tlsa.Valid || !needsDER(tlsa[s.tlsa.Int64]) {
			continue
		}
		for _, id := range []sql.NullInt64{s.servedID, s.verifiedID} {
			if id.Valid && !seen[id.Int64] {
				seen[id.Int64] = true
				ids = append(ids, id.Int64)
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
	list, err := json.Marshal(shas)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT sha256, der FROM certs WHERE sha256 IN (SELECT value FROM json_each(?))`, string(list))
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
