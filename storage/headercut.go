package storage

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/pinwatchd/pinwatchd"
)

// MaxHeaderValue is the most bytes a stored header value takes: the JSON of
// the parsed header, cut to fit and marked cut (SPEC §9, §16). A server can
// send up to 1 MiB of headers on every probe; what it sends beyond this is
// not stored, but a change there is still seen: a span compares the hash of
// the whole value.
const MaxHeaderValue = 8 << 10

// cutHeader returns the stored JSON of a parsed header whose JSON is longer
// than MaxHeaderValue: a copy with Cut set whose long fields keep only
// their start, so that the JSON fits. The same value always gives the same
// text, and so do two values that differ only beyond what is kept.
func cutHeader(v any) ([]byte, error) {
	switch h := v.(type) {
	case *pinwatchd.PinHeader:
		c := *h
		c.Cut = true
		c.Raw, c.ReportURI = cutString(c.Raw, MaxHeaderValue), cutString(c.ReportURI, MaxHeaderValue)
		c.Pins = slices.Clone(c.Pins[:min(len(c.Pins), MaxHeaderValue/pinJSON)])
		c.Errors, c.Notes = cutStrings(c.Errors), cutStrings(c.Notes)
		return fitJSON(&c, []part{stringPart{&c.Raw}, stringPart{&c.ReportURI}, pinsPart{&c.Pins},
			stringsPart{&c.Errors}, stringsPart{&c.Notes}})
	case *pinwatchd.HSTSHeader:
		c := *h
		c.Cut = true
		c.Raw, c.Errors = cutString(c.Raw, MaxHeaderValue), cutStrings(c.Errors)
		return fitJSON(&c, []part{stringPart{&c.Raw}, stringsPart{&c.Errors}})
	}
	return nil, fmt.Errorf("cut header value: unexpected type %T", v)
}

// pinJSON is the length of one pin in a JSON list: 44 characters, quotes
// and a comma.
const pinJSON = 47

// cutStrings returns a copy of list with no more elements, and none longer,
// than could fit in MaxHeaderValue bytes of JSON. (Every byte of a string
// takes at least one byte of JSON.)
func cutStrings(list []string) []string {
	out := slices.Clone(list[:min(len(list), MaxHeaderValue/3)])
	for i := range out {
		out[i] = cutString(out[i], MaxHeaderValue)
	}
	return out
}

// part is a field of a header that can be shortened.
type part interface {
	size() int     // the length of its JSON, in bytes
	shrink(by int) // shortens its JSON by at least by bytes, or to nothing
}

// fitJSON shortens the largest of parts by the excess until the JSON of v
// is at most MaxHeaderValue bytes. No part starts much longer than the
// limit, so this takes a few rounds.
func fitJSON(v any, parts []part) ([]byte, error) {
	for {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if len(b) <= MaxHeaderValue {
			return b, nil
		}
		largest, size := parts[0], parts[0].size()
		for _, p := range parts[1:] {
			if n := p.size(); n > size {
				largest, size = p, n
			}
		}
		if largest.shrink(len(b) - MaxHeaderValue); largest.size() >= size {
			return nil, fmt.Errorf("cut header value: %d bytes of JSON left with nothing to cut", len(b))
		}
	}
}

func jsonSize(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// stringPart is a string; every byte removed takes at least one byte of
// JSON with it.
type stringPart struct{ s *string }

func (p stringPart) size() int     { return jsonSize(*p.s) }
func (p stringPart) shrink(by int) { *p.s = cutString(*p.s, len(*p.s)-by) }

// pinsPart is a list of pins, each pinJSON bytes of JSON.
type pinsPart struct{ pins *[]pinwatchd.Pin }

func (p pinsPart) size() int { return jsonSize(*p.pins) }

func (p pinsPart) shrink(by int) {
	drop := (by + pinJSON - 1) / pinJSON
	*p.pins = (*p.pins)[:max(0, len(*p.pins)-drop)]
}

// stringsPart is a list of sentences (errors, notes): its longest one is
// shortened first, down to a line; then sentences are dropped from the end.
type stringsPart struct{ list *[]string }

// longSentence is where stringsPart stops shortening sentences.
const longSentence = 200

func (p stringsPart) size() int { return jsonSize(*p.list) }

func (p stringsPart) shrink(by int) {
	list := *p.list
	i := -1
	for j, s := range list {
		if len(s) > longSentence && (i < 0 || len(s) > len(list[i])) {
			i = j
		}
	}
	if i >= 0 {
		list[i] = cutString(list[i], max(len(list[i])-by, longSentence))
		return
	}
	for by > 0 && len(list) > 0 {
		by -= jsonSize(list[len(list)-1]) + 1
		list = list[:len(list)-1]
	}
	*p.list = list
}

// cutString returns the first n bytes of s, fewer if that would split a
// UTF-8 sequence.
func cutString(s string, n int) string {
	n = max(n, 0)
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
