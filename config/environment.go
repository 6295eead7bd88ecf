package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The checks of what the daemon needs from the machine before it starts,
// besides the secret files: a database it can open read-write and a
// notifier it can build. They run only with the options that ask for them
// (DaemonOptions, Options.Notifier), so `config check` refuses exactly the
// configs `run` would (SPEC §16).

// database checks that the daemon can open its database read-write.
func (v *validator) database() {
	if !v.o.CheckDatabase {
		return
	}
	if IsPostgresURL(v.c.Database) {
		v.postgresDatabase()
		return
	}
	if isURL(v.c.Database) {
		return // not a database this version opens: databaseSyntax said so
	}
	getenv := v.o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	path := v.c.DatabasePath(getenv)
	name := path
	if _, systemd := stateDirectory(getenv); v.c.Database == "" && systemd {
		name += " (the default)"
	} else if v.c.Database == "" {
		name += " (the default outside systemd, which uses $STATE_DIRECTORY/pinwatchd.db)"
	}
	if msg := databaseProblem(path, name); msg != "" {
		v.add("database", "%s", msg)
	}
}

// databaseProblem says why a database at path cannot be opened read-write,
// or "". name is how messages call it.
func databaseProblem(path, name string) string {
	dir := filepath.Dir(path)
	switch st, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("database %s: directory %s does not exist; create it, or set database to a file in an existing directory", name, dir)
	case err != nil:
		return fmt.Sprintf("database %s: directory %s cannot be read: %v", name, dir, pathErr(err))
	case !st.IsDir():
		return fmt.Sprintf("database %s: %s is not a directory", name, dir)
	}
	switch st, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Sprintf("database %s cannot be read: %v", name, pathErr(err))
	case !st.Mode().IsRegular():
		return fmt.Sprintf("database %s is not a regular file", name)
	default:
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Sprintf("database %s cannot be opened for writing: %v", name, pathErr(err))
		}
		f.Close()
	}
	// SQLite creates the file, and its -wal and -shm files, in the
	// directory.
	f, err := os.CreateTemp(dir, ".pinwatchd-check-*")
	if err != nil {
		return fmt.Sprintf("database %s: cannot create files in directory %s (%v); the database and its -wal and -shm files are kept there", name, dir, pathErr(err))
	}
	f.Close()
	os.Remove(f.Name())
	return ""
}

// notifier builds the daemon's notifier with Options.Notifier, once the
// [slack] table has passed every other check.
func (v *validator) notifier() {
	if v.o.Notifier == nil || v.o.SkipSecretFiles || v.c.Notifier() == notifierLog {
		return
	}
	for _, p := range v.probs {
		if p.key == "slack" || strings.HasPrefix(p.key, "slack.") {
			return
		}
	}
	if err := v.o.Notifier(v.c); err != nil {
		v.add("slack", "the Slack notifier cannot be built: %v", err)
	}
}

// isURL reports whether s is written SCHEME://…, as a PostgreSQL database
// is (SPEC §14), rather than a file path.
func isURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, `/\.`)
}
