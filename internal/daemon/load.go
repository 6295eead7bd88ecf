package daemon

import (
	"log/slog"

	"github.com/pinwatchd/pinwatchd/config"
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
