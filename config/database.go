package config

import (
	"net/url"
	"strings"
)

// The database key's syntax (SPEC §7, §14): a SQLite file's path, or a
// postgres:// (postgresql://) URL naming a PostgreSQL database, whose
// password comes from database_password_file or libpq's PGPASSFILE, never
// from the URL, which logs and messages show. No message here shows the URL.

// IsPostgresURL reports whether database names a PostgreSQL database: a
// postgres:// or postgresql:// URL, as storage/backend decides too.
func IsPostgresURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// databaseSyntax checks database and database_password_file as written,
// whatever the options.
func (v *validator) databaseSyntax() {
	c := v.c
	pg := IsPostgresURL(c.Database)
	if c.DatabasePasswordFile != "" && !pg {
		v.add("database_password_file", "database_password_file is set, but database is not a postgres:// URL; the password is for a PostgreSQL database only")
	}
	if !isURL(c.Database) {
		return
	}
	u, err := url.Parse(c.Database)
	switch {
	case err != nil:
		// The parse error quotes the URL, which may hold a password.
		v.add("database", "database is neither a file path nor a valid URL; give a SQLite file's path or a postgres://USER@HOST:PORT/DB URL")
	case !pg:
		v.add("database", "database is a %s:// URL; give a SQLite file's path or a postgres:// (postgresql://) URL", u.Scheme)
	case hasPassword(u):
		v.add("database", "database holds a password, but the URL is shown in logs: put the password in the file database_password_file names (or in PGPASSFILE)")
	}
}

// hasPassword reports whether a URL carries a password, in its user part
// or as a parameter.
func hasPassword(u *url.URL) bool {
	if _, ok := u.User.Password(); ok {
		return true
	}
	return u.Query().Has("password")
}

// postgresDatabase runs the checks of a PostgreSQL database that the
// daemon's options ask for: the password file can be read, and
// Options.Database (connecting, for `config check`) passes.
func (v *validator) postgresDatabase() {
	for _, p := range v.probs {
		if p.key == "database" || p.key == "database_password_file" {
			return
		}
	}
	if f := v.c.DatabasePasswordFile; f != "" && !v.o.SkipSecretFiles {
		if _, err := readSecretFile(f); err != nil {
			v.add("database_password_file", "%v", err)
			return
		}
	}
	if v.o.Database != nil {
		if err := v.o.Database(v.c); err != nil {
			v.add("database", "%v", err)
		}
	}
}
