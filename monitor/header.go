package monitor

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// maxPinAge is the longest max-age browsers honoured for HPKP: 60 days.
const maxPinAge = 60 * 24 * 60 * 60

// maxProblems bounds the error sentences kept for one header, so a hostile
// header of thousands of bad directives yields a readable report.
const maxProblems = 20

// ParsePinHeader parses the value of a Public-Key-Pins or
// Public-Key-Pins-Report-Only header by the rules of SPEC §4 (RFC 7469 §2.1
// as browsers enforced it). It never fails: a header that breaks the rules
// comes back with Valid false and one sentence per problem in Errors. Pins
// keep header order without duplicates; unknown directives and pins of other
// algorithms are ignored. Pins, Errors and Notes are never nil. The time is
// linear in len(raw).
func ParsePinHeader(raw string) *pinwatchd.PinHeader {
	h := &pinwatchd.PinHeader{Raw: raw, Pins: []pinwatchd.Pin{}, Notes: []string{}}
	var errs problems
	dirs := splitDirectives(raw, &errs)

	var (
		seenMaxAge, seenSub, seenReport bool // directive present
		dupMaxAge, dupSub, dupReport    bool // "appears twice" already reported
		pinDirectives                   int
		maxAge                          int64
		maxAgeText                      string // as written, for the note
		maxAgeOK                        bool
		seenPins                        map[pinwatchd.Pin]bool // once there are many
	)
	for _, d := range dirs {
		switch strings.ToLower(d.name) {
		case "max-age":
			if seenMaxAge {
				if !dupMaxAge {
					errs.add("max-age appears more than once")
					dupMaxAge = true
				}
				maxAgeOK = false
				continue
			}
			seenMaxAge = true
			var msg string
			maxAge, msg = parseMaxAge(d)
			if msg != "" {
				errs.add(msg)
				continue
			}
			maxAgeOK, maxAgeText = true, d.value
		case "includesubdomains":
			if seenSub {
				if !dupSub {
					errs.add("includeSubDomains appears more than once")
					dupSub = true
				}
				continue
			}
			seenSub = true
			h.IncludeSubDomains = true
			if d.hasValue {
				errs.add(fmt.Sprintf("includeSubDomains has the value %s but takes none", quote(d.value)))
			}
		case "report-uri":
			if seenReport {
				if !dupReport {
					errs.add("report-uri appears more than once")
					dupReport = true
				}
				continue
			}
			seenReport = true
			if !d.hasValue || d.value == "" {
				errs.add("report-uri has no URI")
				continue
			}
			h.ReportURI = d.value
		case "pin-sha256":
			pinDirectives++
			p, msg := decodePin(d)
			if msg != "" {
				errs.add(msg)
				continue
			}
			if !seenPin(h.Pins, &seenPins, p) {
				h.Pins = append(h.Pins, p)
			}
		}
	}
	if !seenMaxAge {
		errs.add("max-age is missing")
	}
	if pinDirectives == 0 {
		errs.add("there are no pin-sha256 directives")
	}
	if maxAgeOK {
		h.MaxAge = maxAge
		if maxAge > maxPinAge {
			h.Notes = append(h.Notes, fmt.Sprintf("max-age %s exceeds 60 days; browsers capped it at 60 days (%d seconds)", shorten(maxAgeText), maxPinAge))
		}
	}
	h.Errors = errs.list()
	h.Valid = len(h.Errors) == 0
	return h
}

// ParseHSTS parses the value of a Strict-Transport-Security header
// (RFC 6797 §6.1): max-age is required and must be digits, and no directive
// may appear twice (names compared case-insensitively). includeSubDomains
// and preload are recorded; other directives are ignored. It never fails:
// problems come back as Valid false with one sentence each in Errors, which
// is never nil. The time is linear in len(raw).
func ParseHSTS(raw string) *pinwatchd.HSTSHeader {
	h := &pinwatchd.HSTSHeader{Raw: raw}
	var errs problems
	dirs := splitDirectives(raw, &errs)

	seen := map[string]int{} // lowercase name → occurrences
	var (
		maxAge   int64
		maxAgeOK bool
	)
	for _, d := range dirs {
		name := strings.ToLower(d.name)
		seen[name]++
		if seen[name] == 2 {
			errs.add(fmt.Sprintf("directive %s appears more than once", quote(d.name)))
		}
		if seen[name] > 1 {
			if name == "max-age" {
				maxAgeOK = false
			}
			continue
		}
		switch name {
		case "max-age":
			var msg string
			maxAge, msg = parseMaxAge(d)
			if msg != "" {
				errs.add(msg)
				continue
			}
			maxAgeOK = true
		case "includesubdomains":
			h.IncludeSubDomains = true
		case "preload":
			h.Preload = true
		}
	}
	if seen["max-age"] == 0 {
		errs.add("max-age is missing")
	}
	if maxAgeOK {
		h.MaxAge = maxAge
	}
	h.Errors = errs.list()
	h.Valid = len(h.Errors) == 0
	return h
}

// parseMaxAge reads a max-age directive's delta-seconds. Digits too many for
// an int64 clamp to math.MaxInt64. The message is empty on success.
func parseMaxAge(d directive) (int64, string) {
	if !d.hasValue {
		return 0, "max-age has no value"
	}
	if d.value == "" {
		return 0, "max-age has an empty value"
	}
	for i := 0; i < len(d.value); i++ {
		if c := d.value[i]; c < '0' || c > '9' {
			return 0, fmt.Sprintf("max-age %s is not a number of seconds (digits only)", quote(d.value))
		}
	}
	n, err := strconv.ParseInt(d.value, 10, 64)
	if err != nil { // only a range error is possible after the digit check
		return math.MaxInt64, ""
	}
	return n, ""
}

// decodePin decodes a pin-sha256 value. The message is empty on success.
func decodePin(d directive) (pinwatchd.Pin, string) {
	if !d.hasValue || d.value == "" {
		return pinwatchd.Pin{}, "pin-sha256 has no value"
	}
	if len(d.value) > base64.StdEncoding.EncodedLen(sha256.Size) {
		return pinwatchd.Pin{}, fmt.Sprintf("pin-sha256 %s is too long for a SHA-256 digest (%d characters, want 44)", quote(d.value), len(d.value))
	}
	// Decoded on the stack: a header is parsed on every probe.
	var src [44]byte
	var dst [33]byte
	n, err := base64.StdEncoding.Decode(dst[:], src[:copy(src[:], d.value)])
	if err != nil {
		return pinwatchd.Pin{}, fmt.Sprintf("pin-sha256 %s is not valid base64", quote(d.value))
	}
	if n != sha256.Size {
		return pinwatchd.Pin{}, fmt.Sprintf("pin-sha256 %s decodes to %d bytes, want 32", quote(d.value), n)
	}
	return pinwatchd.Pin(dst[:sha256.Size]), ""
}

// seenPin reports whether p is among pins, the pins kept so far: by
// looking through them while they are few (a header usually has two or
// three), else in *seen, which it builds and keeps up to date.
func seenPin(pins []pinwatchd.Pin, seen *map[pinwatchd.Pin]bool, p pinwatchd.Pin) bool {
	const few = 16
	if len(pins) < few {
		return slices.Contains(pins, p)
	}
	if *seen == nil {
		*seen = make(map[pinwatchd.Pin]bool, 2*len(pins))
		for _, q := range pins {
			(*seen)[q] = true
		}
	}
	if (*seen)[p] {
		return true
	}
	(*seen)[p] = true
	return false
}

// msgLimit is how much of a value a message shows.
const msgLimit = 60

// quote renders a value for an error message, shortened to keep messages
// one line.
func quote(v string) string {
	if len(v) > msgLimit {
		return strconv.Quote(v[:msgLimit]) + "…"
	}
	return strconv.Quote(v)
}

// shorten cuts v for a message without quoting it.
func shorten(v string) string {
	if len(v) > msgLimit {
		return v[:msgLimit] + "…"
	}
	return v
}

// problems collects error sentences, keeping the first maxProblems.
type problems struct {
	msgs    []string
	dropped int
}

func (p *problems) add(msg string) {
	if len(p.msgs) < maxProblems {
		p.msgs = append(p.msgs, msg)
		return
	}
	p.dropped++
}

// list returns the sentences, never nil, with a last one counting those left
// out.
func (p *problems) list() []string {
	out := append([]string{}, p.msgs...)
	if p.dropped > 0 {
		out = append(out, fmt.Sprintf("%d more problems not listed", p.dropped))
	}
	return out
}
