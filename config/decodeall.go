package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// maxDecodeRetries bounds how many bad values decodeAll reports.
const maxDecodeRetries = 100

// decodeAll decodes doc strictly over the defaults. go-toml stops at the
// first value it cannot decode (a bad duration, pin or schedule, a type
// mismatch, a key set twice), so each such value is recorded as a problem,
// blanked out of the document (spaces, keeping every line and column) and
// decoding starts again: every bad value is listed at once (SPEC §16).
// Unknown keys, which go-toml lists together, and syntax errors end the
// search. It returns the config when there is no problem; an error it
// cannot place is returned as err.
func decodeAll(doc []byte, source string) (*Config, []Problem, error) {
	// The index only places problems: a config that decodes at once, the
	// usual case, is not indexed (it was 40 % of loading 600 targets).
	var ix *docIndex
	index := func() *docIndex {
		if ix == nil {
			ix = indexDocument(doc)
		}
		return ix
	}
	// work is doc until a bad value has to be blanked out of it.
	work := doc
	unmarshalers := mayHoldDate(doc)
	targets, pinsets := bytes.Count(doc, []byte("[[target]]")), bytes.Count(doc, []byte("[[pinset]]"))
	var probs []Problem
	for range maxDecodeRetries {
		c := Default()
		// Room for every table, so that decoding does not copy them as
		// the arrays grow.
		if targets > 0 {
			c.TargetConfigs = make([]TargetConfig, 0, targets)
		}
		if pinsets > 0 {
			c.PinSets = make([]PinSetConfig, 0, pinsets)
		}
		dec := toml.NewDecoder(bytes.NewReader(work))
		dec.DisallowUnknownFields()
		if unmarshalers {
			// Date takes a TOML local date too, through UnmarshalTOML;
			// go-toml then asks every value whether it has the method
			// (a sixth of decoding 10,000 targets), so only when a date
			// can be there.
			dec.EnableUnmarshalerInterface()
		}
		err := dec.Decode(c)
		if err == nil {
			if len(probs) > 0 {
				// Dates decode leniently (Date.UnmarshalTOML) and are
				// checked by Validate, which does not run here: list them
				// with the other bad values.
				return nil, append(probs, c.dateProblems(index())...), nil
			}
			return c, nil, nil
		}
		var (
			se *toml.StrictMissingError
			de *toml.DecodeError
		)
		switch {
		case errors.As(err, &se):
			for i := range se.Errors {
				probs = append(probs, index().problem(&se.Errors[i]))
			}
			return nil, probs, nil
		case errors.As(err, &de):
			probs = append(probs, index().problem(de))
			line, col := de.Position()
			work = own(work, doc)
			if !blankValueAt(work, index().offset(line, col)) {
				return nil, probs, nil
			}
		default:
			// go-toml hands integers, floats and booleans to UnmarshalText
			// without a position when the field wants a string: find them
			// all at once, in the document as it is now.
			wix := indexDocument(work)
			more := wix.nonStringValues()
			if len(more) == 0 {
				if len(probs) == 0 {
					return nil, nil, fmt.Errorf("parse config %s: %w", source, err)
				}
				return nil, probs, nil
			}
			for _, p := range more {
				// Blanked array elements renumber the ones after them:
				// name the value by its place in the original document.
				at := wix.pos[p.key]
				p.key = index().find(strings.Split(stripIndices(p.key), "."), at.line, at.col)
				p.Path = displayPath(p.key, index().nameOf)
				probs = append(probs, p)
				work = own(work, doc)
				if !blankValueAt(work, index().offset(at.line, at.col)) {
					return nil, probs, nil
				}
			}
		}
	}
	return nil, probs, nil
}

// mayHoldDate reports whether doc can set a Date (the key expires, which
// a quoted key could also spell with escapes). Only Date implements
// go-toml's Unmarshaler.
func mayHoldDate(doc []byte) bool {
	return bytes.Contains(doc, []byte("expires")) || bytes.Contains(doc, []byte(`\u`)) || bytes.Contains(doc, []byte(`\U`))
}

// own returns work as a copy of doc that blanking may change: doc itself
// is the caller's.
func own(work, doc []byte) []byte {
	if len(work) > 0 && len(doc) > 0 && &work[0] == &doc[0] {
		return bytes.Clone(doc)
	}
	return work
}

// offset converts a 1-based line and column to a byte offset of the
// document, -1 when out of range.
func (ix *docIndex) offset(line, col int) int {
	if line < 1 || line > len(ix.lineStarts) || col < 1 {
		return -1
	}
	return ix.lineStarts[line-1] + col - 1
}

// blankValueAt overwrites with spaces the element of an array that starts
// at off (and the comma that separates it), else the whole key = value
// expression holding off, and reports whether it found one. Newlines are
// kept, so lines and columns stay where they were.
func blankValueAt(doc []byte, off int) bool {
	if off < 0 || off >= len(doc) {
		return false
	}
	var p unstable.Parser
	p.Reset(doc)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.KeyValue {
			continue
		}
		if blankIn(doc, e, off) {
			return true
		}
	}
	return false
}

// blankIn blanks what holds off inside the key = value expression kv: an
// array element, a key = value of an inline table, or kv itself.
func blankIn(doc []byte, kv *unstable.Node, off int) bool {
	start, end := int(kv.Raw.Offset), int(kv.Raw.Offset+kv.Raw.Length)
	if kv.Raw.Length == 0 || off < start || off >= end {
		return false
	}
	v := kv.Value()
	switch v.Kind {
	case unstable.Array:
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Raw.Length > 0 && int(c.Raw.Offset) == off {
				blankElement(doc, int(c.Raw.Offset), int(c.Raw.Offset+c.Raw.Length))
				return true
			}
			if c.Kind == unstable.InlineTable && blankInTable(doc, c, off) {
				return true
			}
		}
	case unstable.InlineTable:
		if blankInTable(doc, v, off) {
			return true
		}
	}
	blank(doc, start, end)
	return true
}

// blankInTable blanks the key = value of an inline table that holds off.
func blankInTable(doc []byte, t *unstable.Node, off int) bool {
	for it := t.Children(); it.Next(); {
		if c := it.Node(); c.Kind == unstable.KeyValue && blankIn(doc, c, off) {
			return true
		}
	}
	return false
}

// blankElement blanks the array element doc[start:end] with the comma
// after it, or, for the last element, the comma before it.
func blankElement(doc []byte, start, end int) {
	i := end
	for i < len(doc) && isSpace(doc[i]) {
		i++
	}
	if i < len(doc) && doc[i] == ',' {
		blank(doc, start, i+1)
		return
	}
	j := start - 1
	for j >= 0 && isSpace(doc[j]) {
		j--
	}
	if j >= 0 && doc[j] == ',' {
		start = j
	}
	blank(doc, start, end)
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// blank overwrites doc[start:end] with spaces, keeping newlines.
func blank(doc []byte, start, end int) {
	for i := start; i < end && i < len(doc); i++ {
		if doc[i] != '\n' {
			doc[i] = ' '
		}
	}
}
