// Package terminal makes untrusted text safe to print on a terminal: the
// subjects and issuers of certificates, server errors and headers, and the
// alert messages built from them (SPEC §16).
package terminal

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with control characters (C0 such as ESC, BEL and CR,
// DEL, C1), Unicode bidirectional and line separator controls and bytes
// that are not UTF-8 shown escaped, as \x1b or \u202e, never raw, so the
// text cannot move the cursor, erase lines or reorder what is shown.
// Everything else, non-ASCII letters included, is kept.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r) || isFormatControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EscapeAll applies Escape to each string.
func EscapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}

// isFormatControl reports whether r reorders or breaks text on a terminal:
// the bidirectional marks, embeddings, overrides and isolates, and the
// line and paragraph separators.
func isFormatControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069 ||
		r == 0x2028 || r == 0x2029
}
