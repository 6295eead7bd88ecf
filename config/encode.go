package config

import (
	"errors"
	"fmt"
	"io"

	"github.com/pelletier/go-toml/v2"
)

// Encode writes c as a config file that Load reads back to the same
// values: unset keys are left out, so their defaults apply again. A config
// holding an inline webhook_url is refused, since secrets are never written
// out; name the URL's file in webhook_url_file instead.
func Encode(w io.Writer, c *Config) error {
	if c.Slack.WebhookURL.IsSet() {
		return errors.New("encode config: an inline [slack] webhook_url is a secret and is never written; use webhook_url_file")
	}
	enc := toml.NewEncoder(w)
	enc.SetIndentTables(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return nil
}
