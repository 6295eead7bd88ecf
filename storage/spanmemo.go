package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// A long-lived DB (the daemon's) remembers, for each address it recorded,
// its latest span and a fingerprint of what the span holds. A round whose
// observation has the same fingerprint extends the span without reading it:
// in the steady state a group commit reads no span at all. The memory is
// trusted only while no other connection has written the database since
// the last call (SQLite's data_version, read once per call inside the
// write transaction); a call after another process wrote (`check
// --record`, a second daemon) forgets it and reads again. Calls of this
// DB itself keep it exact: a span is only ever added or extended by
// Record, and Prune never deletes the latest span of an address.

// spanMemoSize bounds the memory: about 60 bytes per address.
const spanMemoSize = 1 << 18

// spanMemo is what the DB remembers of an address's latest span.
type spanMemo struct {
	id int64
	fp spanPrint
}

// spanPrint is the fingerprint of what a span holds: the SHA-256, cut to
// 16 bytes, of every value latestSpan.extends compares.
type spanPrint [16]byte

// printOf returns the fingerprint of the span o would extend: two
// observations have the same fingerprint exactly when extends would take
// one for the span of the other. It reads o's values themselves (the
// chains' digests, the parsed headers' fields, the TLSA records' identity)
// rather than the stored forms keysOf encodes, so that an unchanged
// observation is recognised without encoding anything.
func printOf(o *pinwatchd.Observation) spanPrint {
	var kind string
	if o.Error != nil {
		kind = string(o.Error.Kind)
	}
	v := &o.Verification
	b := make([]byte, 0, 1024)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	flag := func(f bool) {
		if f {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	num := func(n int64) { b = binary.AppendVarint(b, n) }
	strs := func(ss []string) { // nil and empty differ in the stored JSON
		flag(ss != nil)
		num(int64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	chain := func(certs []pinwatchd.Cert) {
		num(int64(len(certs)))
		for i := range certs {
			str(certs[i].SHA256)
		}
	}
	str(kind)
	chain(o.ServedChain)
	chain(o.VerifiedChain)
	for _, h := range []*pinwatchd.PinHeader{o.PublicKeyPins, o.PublicKeyPinsReportOnly} {
		flag(h != nil)
		if h != nil {
			str(h.Raw)
			flag(h.Pins != nil)
			num(int64(len(h.Pins)))
			for _, p := range h.Pins {
				b = append(b, p[:]...)
			}
			num(h.MaxAge)
			flag(h.IncludeSubDomains)
			str(h.ReportURI)
			flag(h.Valid)
			strs(h.Errors)
			strs(h.Notes)
			flag(h.Cut)
		}
	}
	if h := o.StrictTransportSecurity; h != nil {
		flag(true)
		str(h.Raw)
		num(h.MaxAge)
		flag(h.IncludeSubDomains)
		flag(h.Preload)
		flag(h.Valid)
		strs(h.Errors)
		flag(h.Cut)
	} else {
		flag(false)
	}
	if t := o.TLSA; t != nil { // what encodeTLSA stores: not the verdicts
		flag(true)
		str(t.Name)
		flag(t.Authenticated)
		str(t.Error)
		num(int64(len(t.Records)))
		for _, r := range t.Records {
			b = append(b, r.Usage, r.Selector, r.MatchingType)
			str(r.Data)
		}
	} else {
		flag(false)
	}
	str(o.SNI)
	str(o.TLSVersion)
	flag(v.Trusted)
	str(v.UntrustedReason)
	flag(v.HostnameValid)
	str(v.HostnameError)
	if h := o.HTTP; h != nil {
		flag(true)
		str(h.Method)
		num(int64(h.Status))
		flag(h.Error == "")
	} else {
		flag(false)
	}
	sum := sha256.Sum256(b)
	var p spanPrint
	copy(p[:], sum[:])
	return p
}

// checkMemo forgets the span memory if another connection wrote the
// database since the last call; st runs the call's write transaction.
func (db *DB) checkMemo(st *txStmts) error {
	var v int64
	if err := st.queryRow(db.stmts.dataVersion).Scan(&v); err != nil {
		return fmt.Errorf("read data_version: %w", err)
	}
	if v != db.memoVersion {
		db.memo.clear()
		db.memoVersion = v
	}
	return nil
}

// memoOf returns what the DB remembers of the latest span of addrID.
func (r *recorder) memoOf(addrID int64) (spanMemo, bool) {
	if r.changed[addrID] {
		return spanMemo{}, false
	}
	return r.db.memo.get(addrID)
}

// remember notes, for after the commit, that the latest span of addrID is
// id holding what o holds.
func (r *recorder) remember(addrID, id int64, fp spanPrint) {
	if r.learned == nil {
		r.learned = map[int64]spanMemo{}
	}
	r.learned[addrID] = spanMemo{id, fp}
}

// committed adds what the call learned to the DB's span memory; the caller
// holds wmu and the call's transaction is committed.
func (r *recorder) committed() {
	for addrID, m := range r.learned {
		r.db.memo.put(addrID, m)
	}
}
