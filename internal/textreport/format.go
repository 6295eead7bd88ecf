package textreport

import (
	"strings"
	"time"
)

// shortTime renders a time for tables.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// shortDN returns the CN of a distinguished name, else the whole name.
func shortDN(dn string) string {
	for _, part := range strings.Split(dn, ",") {
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return v
		}
	}
	if dn == "" {
		return "-"
	}
	return dn
}
