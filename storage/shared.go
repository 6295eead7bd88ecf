package storage

import (
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// What another backend needs to store content exactly as this one does
// (SPEC §9): the same identities for chains and header values, the same
// cut of a long header value. storage/postgres uses them, so the two
// backends can never disagree on what "the same chain" or "the same
// header" is.

// ChainHash returns the content identity of a chain: the SHA-256 of the
// concatenated SHA-256 digests of its certificates, in order. ok is false
// for an empty chain. A certificate whose SHA256 is not 64 hex digits is
// an error naming its position.
func ChainHash(certs []pinwatchd.Cert) (hash [32]byte, ok bool, err error) {
	k, err := hashChain(certs)
	return k.hash, k.ok, err
}

// HeaderValue is a parsed header (kind "pkp" for Public-Key-Pins and its
// Report-Only twin, "hsts" for Strict-Transport-Security) in its stored
// form.
type HeaderValue struct {
	Kind string
	// Parsed is the JSON as stored: at most MaxHeaderValue bytes, cut and
	// marked cut when the whole value's JSON is longer.
	Parsed []byte
	// Hash identifies the stored row: the SHA-256 of Kind, a NUL and
	// Parsed.
	Hash [32]byte
	// Whole is the hash of Kind and the whole value's JSON: what spans
	// compare. It equals Hash unless Cut.
	Whole [32]byte
	Cut   bool
	// Present is false for an absent header (the other fields are zero).
	Present bool
}

// EncodeHeader returns the stored form of a parsed header, v being a
// *pinwatchd.PinHeader or *pinwatchd.HSTSHeader; present is false for an
// absent one.
func EncodeHeader(kind string, v any, present bool) (HeaderValue, error) {
	h, err := encodeHeader(kind, v, present)
	if err != nil {
		return HeaderValue{}, err
	}
	return HeaderValue{Kind: h.kind, Parsed: h.parsed, Hash: h.hash, Whole: h.whole, Cut: h.cut, Present: h.ok}, nil
}

// WholeHash is what a span keeps of the whole value besides the stored
// row: nil unless the stored value is cut.
func (v HeaderValue) WholeHash() []byte {
	if !v.Cut {
		return nil
	}
	return v.Whole[:]
}

// RoundStarts returns, per target, the start of its round in a batch of
// observations given to Record: the earliest probe time among its
// observations, in unix milliseconds.
func RoundStarts(obs []pinwatchd.Observation) map[string]int64 { return roundStarts(obs) }

// TLSAValue is a TLSA RRset (SPEC §12) in its stored form: what was looked
// up, without what matching it against one address's chain adds, hashed
// and cut as a header value is, under the kind "tlsa".
type TLSAValue struct {
	// Parsed is the JSON as stored: at most MaxTLSAValue bytes, its last
	// records dropped and marked cut when the whole RRset's JSON is longer.
	Parsed []byte
	// Hash identifies the stored row: the SHA-256 of "tlsa", a NUL and
	// Parsed.
	Hash [32]byte
	// Whole is the hash of the whole RRset's JSON: what spans compare. It
	// equals Hash unless Cut.
	Whole [32]byte
	Cut   bool
	// Present is false for a target that is not a DANE target (the other
	// fields are zero); OK is true when the lookup answered without error.
	Present, OK bool
}

// EncodeTLSA returns the stored form of an observation's TLSA result;
// absent (Present false) for nil.
func EncodeTLSA(res *pinwatchd.TLSAResult) (TLSAValue, error) {
	v, err := encodeTLSA(res)
	if err != nil {
		return TLSAValue{}, err
	}
	return TLSAValue{Parsed: v.parsed, Hash: v.hash, Whole: v.whole, Cut: v.cut, Present: v.present, OK: v.ok}, nil
}

// WholeHash is what a span keeps of the whole RRset besides the stored
// row: nil unless the stored RRset is cut.
func (v TLSAValue) WholeHash() []byte {
	if !v.Cut {
		return nil
	}
	return v.Whole[:]
}

// NeedsDER reports whether matching res against a chain needs the
// certificates' DER: a record other than selector 1, matching type 1,
// which the key pin alone answers.
func NeedsDER(res *pinwatchd.TLSAResult) bool { return needsDER(res) }

// Rows is what both backends' query results offer (database/sql's
// *sql.Rows, pgx's pgx.Rows), so that scanning a row into a domain value
// is written once.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanNodes reads the rows of `SELECT vantage, host, version, started_at,
// last_seen FROM nodes` (times in unix seconds).
func ScanNodes(rows Rows) ([]pinwatchd.Node, error) {
	var out []pinwatchd.Node
	for rows.Next() {
		var (
			n             pinwatchd.Node
			started, seen int64
		)
		if err := rows.Scan(&n.Vantage, &n.Host, &n.Version, &started, &seen); err != nil {
			return nil, err
		}
		n.StartedAt, n.LastSeen = fromUnix(started), fromUnix(seen)
		out = append(out, n)
	}
	return out, rows.Err()
}

// SaveAlertsWith stores alerts with save, which returns each one's ID, and
// then enqueues notes with enqueue, which points a notification about an
// alert without an ID at the one of its identity saved here (ids): the
// order of SaveAlerts and UpdateAlerts on either backend, inside the
// caller's transaction.
func SaveAlertsWith(alerts []pinwatchd.Alert, notes []pinwatchd.Notification,
	save func(a *pinwatchd.Alert) (int64, error),
	enqueue func(n pinwatchd.Notification, ids map[pinwatchd.AlertKey]int64) error) error {
	ids := make(map[pinwatchd.AlertKey]int64, len(alerts))
	for i := range alerts {
		id, err := save(&alerts[i])
		if err != nil {
			return fmt.Errorf("alert %s/%s %q: %w", alerts[i].Target, alerts[i].Kind, alerts[i].Subject, err)
		}
		ids[alerts[i].Key()] = id
	}
	for i := range notes {
		if err := enqueue(notes[i], ids); err != nil {
			return err
		}
	}
	return nil
}
