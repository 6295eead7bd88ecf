package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/storage/backend"
)

// LoadOptions are the options with which the daemon reads its
// configuration, at start-up and on reload, and with which `config check`
// reads it: secret files from systemd's credentials, the database must be
// one the daemon can open, and the Slack notifier is built exactly as the
// daemon builds it (SPEC §16: `config check` runs every check `run` runs
// before starting, so it passes only configs `run` accepts).
func LoadOptions(getenv func(string) string) config.Options {
	o := config.DaemonOptions(getenv)
	o.Notifier = func(c *config.Config) error {
		_, err := buildSlack(c, slog.New(slog.DiscardHandler))
		return err
	}
	return o
}

// LoadConfig reads the configuration file at path with LoadOptions.
func LoadConfig(path string, getenv func(string) string) (*config.Config, error) {
	return config.Load(path, LoadOptions(getenv))
}

// checkTimeout bounds the connection `config check` makes to a PostgreSQL
// database.
const checkTimeout = 5 * time.Second

// CheckConfig reads the configuration file at path as `config check` does:
// with LoadOptions, and for a PostgreSQL database a connection (within
// checkTimeout) that logs in and reads the schema version, so that a
// wrong host, password or a database written by a newer pinwatchd is a
// problem of the config's database key rather than a failed start. A SQLite
// file is checked as LoadConfig checks it. A reload does not connect: the
// running daemon keeps the database it opened.
func CheckConfig(path string, getenv func(string) string) (*config.Config, error) {
	o := LoadOptions(getenv)
	o.Database = func(c *config.Config) error {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		defer cancel()
		return backend.Check(ctx, c.DatabasePath(getenv), backend.Options{PasswordFile: c.DatabasePasswordFile})
	}
	return config.Load(path, o)
}
