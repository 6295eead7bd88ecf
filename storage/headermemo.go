package storage

import (
	"slices"
	"sync"

	"github.com/pinwatchd/pinwatchd"
)

// An endpoint sends the same header values probe after probe, and each
// probe's values were JSON-encoded and hashed only to find them equal to
// the latest span's: about 5 µs of an unchanged probe. encodeHeader
// remembers the stored form of recent values instead. The memo is keyed by
// the raw value and checked against every parsed field, so it returns
// exactly what encoding would.

// maxMemoRaw bounds the raw values remembered (longer ones are rare and
// would make the memo large), maxMemo their number: every value of a round
// stays remembered when a fleet sends at most half as many distinct ones
// (the memo drops its older half when full), about 2.5 MB when full.
const (
	maxMemoRaw = 1024
	maxMemo    = 4096
)

type memoKey struct{ kind, raw string }

type memoEntry struct {
	pkp  pinwatchd.PinHeader // a copy of the value, for kind "pkp"
	hsts pinwatchd.HSTSHeader
	hv   headerValue
}

var headerMemo = struct {
	sync.Mutex
	m *lru[memoKey, memoEntry]
}{m: newLRU[memoKey, memoEntry](maxMemo)}

// memoRaw returns the raw value of v, and false when v is not memoised.
func memoRaw(v any) (string, bool) {
	switch h := v.(type) {
	case *pinwatchd.PinHeader:
		if h != nil && len(h.Raw) <= maxMemoRaw {
			return h.Raw, true
		}
	case *pinwatchd.HSTSHeader:
		if h != nil && len(h.Raw) <= maxMemoRaw {
			return h.Raw, true
		}
	}
	return "", false
}

// recallHeader returns the stored form of v remembered under kind, if v equals
// the remembered value in every field.
func recallHeader(kind string, v any) (headerValue, bool) {
	raw, ok := memoRaw(v)
	if !ok {
		return headerValue{}, false
	}
	headerMemo.Lock()
	e, ok := headerMemo.m.get(memoKey{kind, raw})
	headerMemo.Unlock()
	if !ok {
		return headerValue{}, false
	}
	switch h := v.(type) {
	case *pinwatchd.PinHeader:
		ok = samePinHeader(h, &e.pkp)
	case *pinwatchd.HSTSHeader:
		ok = sameHSTSHeader(h, &e.hsts)
	}
	return e.hv, ok
}

// rememberHeader keeps hv, the stored form of v under kind.
func rememberHeader(kind string, v any, hv headerValue) {
	raw, ok := memoRaw(v)
	if !ok {
		return
	}
	e := memoEntry{hv: hv}
	switch h := v.(type) {
	case *pinwatchd.PinHeader:
		e.pkp = *h
		e.pkp.Pins, e.pkp.Errors, e.pkp.Notes = slices.Clone(h.Pins), slices.Clone(h.Errors), slices.Clone(h.Notes)
	case *pinwatchd.HSTSHeader:
		e.hsts = *h
		e.hsts.Errors = slices.Clone(h.Errors)
	}
	headerMemo.Lock()
	headerMemo.m.put(memoKey{kind, raw}, e)
	headerMemo.Unlock()
}

func samePinHeader(a, b *pinwatchd.PinHeader) bool {
	return a.Raw == b.Raw && a.MaxAge == b.MaxAge && a.IncludeSubDomains == b.IncludeSubDomains &&
		a.ReportURI == b.ReportURI && a.Valid == b.Valid && a.Cut == b.Cut &&
		nilEqual(a.Pins, b.Pins) && nilEqual(a.Errors, b.Errors) && nilEqual(a.Notes, b.Notes)
}

func sameHSTSHeader(a, b *pinwatchd.HSTSHeader) bool {
	return a.Raw == b.Raw && a.MaxAge == b.MaxAge && a.IncludeSubDomains == b.IncludeSubDomains &&
		a.Preload == b.Preload && a.Valid == b.Valid && a.Cut == b.Cut && nilEqual(a.Errors, b.Errors)
}

// nilEqual is slices.Equal that also tells nil from empty, as JSON does
// (null and []).
func nilEqual[E comparable](a, b []E) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}
