package monitor

import (
	"fmt"
	"strings"
)

// The directive grammar shared by Public-Key-Pins and
// Strict-Transport-Security (RFC 7469 §2.1, RFC 6797 §6.1).

// directive is one `name[=value]` of a header, value unquoted.
type directive struct {
	name     string
	value    string
	hasValue bool
}

// splitDirectives tokenizes a header value by the grammar shared by RFC 7469
// §2.1 and RFC 6797 §6.1:
//
//	header    = [ directive ] *( ";" [ directive ] )
//	directive = OWS name OWS [ "=" OWS ( token / quoted-string ) ] OWS
//
// Empty directives (";;") are tolerated. A directive that does not fit the
// grammar is reported to errs and skipped; an unterminated quoted-string
// ends the header. One pass, linear in len(s).
func splitDirectives(s string, errs *problems) []directive {
	// One allocation: a directive ends at a ';' or at the end.
	dirs := make([]directive, 0, min(strings.Count(s, ";")+1, 64))
	i := 0
	for i < len(s) {
		i = skipOWS(s, i)
		if i == len(s) {
			break
		}
		if s[i] == ';' {
			i++
			continue
		}
		start := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		d := directive{name: s[start:i]}
		bad := d.name == ""
		if !bad {
			i = skipOWS(s, i)
			if i < len(s) && s[i] == '=' {
				d.hasValue = true
				i = skipOWS(s, i+1)
				if i < len(s) && s[i] == '"' {
					v, next, ok := readQuoted(s, i)
					if !ok {
						errs.add(fmt.Sprintf("directive %s has an unterminated quoted-string", quote(s[start:])))
						return dirs
					}
					d.value, i = v, next
				} else {
					vs := i
					for i < len(s) && isValueChar(s[i]) {
						i++
					}
					d.value = s[vs:i]
				}
				i = skipOWS(s, i)
			}
			bad = i < len(s) && s[i] != ';'
		}
		if bad {
			end := skipToSemicolon(s, i)
			errs.add(fmt.Sprintf("directive %s is not of the form name[=value]", quote(strings.TrimRight(s[start:end], " \t"))))
			i = end
			continue
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// readQuoted reads the quoted-string starting at s[i] == '"' and returns
// its unescaped content and the index after the closing quote.
func readQuoted(s string, i int) (string, int, bool) {
	i++ // opening quote
	start := i
	var b *strings.Builder // only allocated when there is a quoted-pair
	for i < len(s) {
		switch s[i] {
		case '"':
			if b == nil {
				return s[start:i], i + 1, true
			}
			return b.String(), i + 1, true
		case '\\':
			if i+1 == len(s) {
				return "", len(s), false
			}
			if b == nil {
				b = &strings.Builder{}
				b.WriteString(s[start:i])
			}
			b.WriteByte(s[i+1])
			i += 2
		default:
			if b != nil {
				b.WriteByte(s[i])
			}
			i++
		}
	}
	return "", len(s), false
}

// skipToSemicolon returns the index of the next ';' at or after i that is not
// inside a quoted-string, or len(s).
func skipToSemicolon(s string, i int) int {
	inQuote := false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ';':
			return i
		}
	}
	return len(s)
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether c may appear in an RFC 7230 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isValueChar reports whether c may appear in an unquoted directive value.
// This is wider than a token so that unquoted base64 (with '/' and '=') and
// URIs are read whole, as browsers did.
func isValueChar(c byte) bool {
	return c > ' ' && c != 0x7f && c != ';' && c != '"'
}
