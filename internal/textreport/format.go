package textreport

import (
	"strings"
	"time"
)

// shortTime renders a time for tables.
func shortTime(t time.Time) string {
	return string(appendShortTime(nil, t))
}

// appendShortTime appends shortTime(t) to b.
func appendShortTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, '-')
	}
	return t.UTC().AppendFormat(b, "2006-01-02 15:04:05")
}

// shortDN returns the CN of a distinguished name, else the whole name.
func shortDN(dn string) string {
	for rest := dn; ; {
		part, after, more := strings.Cut(rest, ",")
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return v
		}
		if !more {
			break
		}
		rest = after
	}
	if dn == "" {
		return "-"
	}
	return dn
}
