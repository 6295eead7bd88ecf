package postgres

import (
	"net/url"
	"strings"
)

// IsURL reports whether database names a PostgreSQL database: a
// postgres:// or postgresql:// URL (SPEC §14). Anything else is a SQLite
// file's path.
func IsURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Redact returns a PostgreSQL URL as it may be shown: without the password
// of its user part or of a password parameter. A URL that does not parse
// is shown as its scheme alone, since where its password ends is unknown.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		scheme, _, _ := strings.Cut(raw, "://")
		return scheme + "://(a URL that cannot be parsed)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.User(u.User.Username())
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
