package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/pinwatchd/pinwatchd"
)

// defaultConfigPath is used when neither --config nor $PINWATCHD_CONFIG is set.
const defaultConfigPath = "/etc/pinwatchd/config.toml"

// Config is the parsed configuration file (SPEC §10). ParseConfig and
// LoadConfig return it with defaults applied and validated; use Targets and
// Thresholds for the resolved domain values.
type Config struct {
	// Database is the SQLite file; "" means the default (see DatabasePath).
	Database string `toml:"database"`
	// Schedule is the default cron spec of every target.
	Schedule Schedule `toml:"schedule"`
	// Concurrency bounds the probes in flight.
	Concurrency int `toml:"concurrency"`
	// Timeout bounds the whole probe of one address.
	Timeout Duration `toml:"timeout"`
	// Retention is how long history spans and resolved alerts are kept.
	Retention Duration `toml:"retention"`

	Alerts  AlertsConfig  `toml:"alerts"`
	Slack   SlackConfig   `toml:"slack"`
	Metrics MetricsConfig `toml:"metrics"`

	// PinSets are the `[[pinset]]` tables, in file order.
	PinSets []PinSetConfig `toml:"pinset"`
	// TargetConfigs are the `[[target]]` tables as written, in file order.
	TargetConfigs []TargetConfig `toml:"target"`

	source string // names the file in errors
}

// AlertsConfig is the `[alerts]` table.
type AlertsConfig struct {
	ExpiryWarning    Duration `toml:"expiry_warning"`    // cert_expiring/pinset_expiring warn inside this
	ExpiryCritical   Duration `toml:"expiry_critical"`   // cert_expiring is critical inside this
	FailureThreshold int      `toml:"failure_threshold"` // consecutive failures before a connectivity alert
	RenotifyAfter    Duration `toml:"renotify_after"`    // reminder interval of a still-firing alert
	NotifyResolved   bool     `toml:"notify_resolved"`   // send a message when an alert resolves
	NotifyChanges    bool     `toml:"notify_changes"`    // send a message on chain_changed
}

// SlackConfig is the `[slack]` table. Either a webhook (WebhookURLFile or
// WebhookURL) or a bot token (TokenFile) is set, or neither (log only).
type SlackConfig struct {
	WebhookURLFile string `toml:"webhook_url_file"` // file holding the incoming-webhook URL
	WebhookURL     Secret `toml:"webhook_url"`      // the URL inline (the file form is preferred)
	TokenFile      string `toml:"token_file"`       // file holding a bot token (xoxb-…)
	Channel        string `toml:"channel"`          // default channel for the bot token
	APIURL         string `toml:"api_url"`          // Web API base URL override for the bot token
}

// MetricsConfig is the `[metrics]` table.
type MetricsConfig struct {
	// Listen is the host:port of the metrics and /healthz server; "" is off.
	Listen string `toml:"listen"`
}

// PinSetConfig is one `[[pinset]]`.
type PinSetConfig struct {
	Name    string          `toml:"name"`
	Pins    []pinwatchd.Pin `toml:"pins"`
	Expires Date            `toml:"expires"` // zero when not set
}

// TargetConfig is one `[[target]]` as written. After ParseConfig, Port and
// HTTP are never nil and Path is never empty.
type TargetConfig struct {
	Name          string          `toml:"name"`
	Host          string          `toml:"host"`
	Port          *int            `toml:"port"`
	SNI           string          `toml:"sni"`
	Addresses     []HostPort      `toml:"addresses"`
	CAFile        string          `toml:"ca_file"`
	PinSets       []string        `toml:"pinsets"`
	Pins          []pinwatchd.Pin `toml:"pins"`
	HTTP          *bool           `toml:"http"`
	Path          string          `toml:"path"`
	RequireHeader bool            `toml:"require_header"`
	RequireHSTS   bool            `toml:"require_hsts"`
	Schedule      Schedule        `toml:"schedule"` // zero: the global schedule
	SlackChannel  string          `toml:"slack_channel"`
}

// defaultConfig returns a Config holding every default of SPEC §10; the
// decoder then overwrites what the file sets.
func defaultConfig() *Config {
	return &Config{
		Schedule:    MustSchedule("*/15 * * * *"),
		Concurrency: 16,
		Timeout:     Duration{10 * time.Second},
		Retention:   Duration{400 * 24 * time.Hour},
		Alerts: AlertsConfig{
			ExpiryWarning:    Duration{pinwatchd.DefaultThresholds.ExpiryWarning},
			ExpiryCritical:   Duration{pinwatchd.DefaultThresholds.ExpiryCritical},
			FailureThreshold: 2,
			RenotifyAfter:    Duration{24 * time.Hour},
			NotifyResolved:   true,
			NotifyChanges:    true,
		},
	}
}

// applyTargetDefaults fills the per-target defaults the decoder cannot
// prefill (array elements are created by the decoder).
func (c *Config) applyTargetDefaults() {
	for i := range c.TargetConfigs {
		t := &c.TargetConfigs[i]
		if t.Port == nil {
			p := 443
			t.Port = &p
		}
		if t.HTTP == nil {
			h := true
			t.HTTP = &h
		}
		if t.Path == "" {
			t.Path = "/"
		}
	}
}

// loadOptions tune how a config is parsed.
type loadOptions struct {
	// baseDir resolves relative file paths; "" keeps them relative to the
	// working directory.
	baseDir string
	// skipSecretFiles leaves webhook_url_file and token_file unread.
	skipSecretFiles bool
	// credential, when set, finds a systemd credential by name: a
	// webhook_url_file or token_file that is a bare file name is looked up
	// there first (see credentialPath).
	credential func(name string) (string, bool)
}

// ParseConfig decodes a config strictly (an unknown key is an error), applies
// the defaults and validates it. source names the input in errors. Every
// problem found is returned at once as a *ConfigError. Relative file paths
// are taken relative to the working directory.
func ParseConfig(r io.Reader, source string) (*Config, error) {
	return parseConfig(r, source, loadOptions{})
}

// LoadConfig reads and parses the config file at path (see ParseConfig).
// Relative file paths in it are taken relative to the file's directory.
func LoadConfig(path string) (*Config, error) {
	return loadConfig(path, loadOptions{})
}

func loadConfig(path string, o loadOptions) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config file %s does not exist (set --config or $PINWATCHD_CONFIG)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	defer f.Close()
	o.baseDir = filepath.Dir(path)
	return parseConfig(f, path, o)
}

func parseConfig(r io.Reader, source string, o loadOptions) (*Config, error) {
	doc, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", source, err)
	}
	c := defaultConfig()
	c.source = source
	dec := toml.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, decodeProblems(doc, source, err)
	}
	c.applyTargetDefaults()
	c.resolveCredentials(o.credential)
	c.resolvePaths(o.baseDir)
	probs := c.problems(o)
	if len(probs) == 0 {
		return c, nil
	}
	ix := indexDocument(doc)
	for i := range probs {
		probs[i].Line = ix.line(probs[i].key)
	}
	return nil, newConfigError(source, probs)
}

// resolveCredentials points a webhook_url_file or token_file given as a
// bare file name ("slack-webhook") at the systemd credential of that name,
// when systemd passed the process a credentials directory. Elsewhere the
// name stays relative to the config file, so `config check` run by hand
// reads the file the unit loads the credential from.
func (c *Config) resolveCredentials(credential func(string) (string, bool)) {
	if credential == nil {
		return
	}
	for _, p := range []*string{&c.Slack.WebhookURLFile, &c.Slack.TokenFile} {
		if *p == "" || strings.ContainsRune(*p, '/') {
			continue
		}
		if path, ok := credential(*p); ok {
			*p = path
		}
	}
}

// daemonLoadOptions are the load options of the daemon: secret files given
// as bare names come from systemd's credentials directory when systemd
// started it.
func daemonLoadOptions(getenv func(string) string) loadOptions {
	return loadOptions{credential: func(name string) (string, bool) { return credentialPath(getenv, name) }}
}

// resolvePaths makes relative file paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	if dir == "" || dir == "." {
		return
	}
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.Database)
	abs(&c.Slack.WebhookURLFile)
	abs(&c.Slack.TokenFile)
	for i := range c.TargetConfigs {
		abs(&c.TargetConfigs[i].CAFile)
	}
}

// Source names the file the config came from.
func (c *Config) Source() string { return c.source }

// Targets returns the resolved domain targets in file order: named pin-sets
// in the order the target lists them, then its inline pins as the pin-set
// "inline"; explicit addresses as "ip:port" with the target's port filled in.
func (c *Config) Targets() []pinwatchd.Target {
	sets := make(map[string]pinwatchd.PinSet, len(c.PinSets))
	for _, ps := range c.PinSets {
		sets[ps.Name] = pinwatchd.PinSet{Name: ps.Name, Pins: ps.Pins, Expires: ps.Expires.Time}
	}
	out := make([]pinwatchd.Target, 0, len(c.TargetConfigs))
	for _, tc := range c.TargetConfigs {
		t := pinwatchd.Target{
			Name:          tc.Name,
			Host:          tc.Host,
			Port:          443,
			SNI:           tc.SNI,
			CAFile:        tc.CAFile,
			HTTP:          true,
			Path:          tc.Path,
			RequireHeader: tc.RequireHeader,
			RequireHSTS:   tc.RequireHSTS,
			Schedule:      tc.Schedule.String(),
			SlackChannel:  tc.SlackChannel,
		}
		if tc.Port != nil {
			t.Port = *tc.Port
		}
		if tc.HTTP != nil {
			t.HTTP = *tc.HTTP
		}
		if t.Path == "" {
			t.Path = "/"
		}
		for _, a := range tc.Addresses {
			t.Addresses = append(t.Addresses, a.Resolve(t.Port))
		}
		for _, name := range tc.PinSets {
			if ps, ok := sets[name]; ok {
				ps.Pins = append([]pinwatchd.Pin(nil), ps.Pins...)
				t.PinSets = append(t.PinSets, ps)
			}
		}
		if len(tc.Pins) > 0 {
			t.PinSets = append(t.PinSets, pinwatchd.PinSet{
				Name: pinwatchd.PinSetInline,
				Pins: append([]pinwatchd.Pin(nil), tc.Pins...),
			})
		}
		out = append(out, t)
	}
	return out
}

// Thresholds returns the evaluation windows of `[alerts]`.
func (c *Config) Thresholds() pinwatchd.Thresholds {
	return pinwatchd.Thresholds{
		ExpiryWarning:  c.Alerts.ExpiryWarning.Duration,
		ExpiryCritical: c.Alerts.ExpiryCritical.Duration,
	}
}

// DatabasePath returns `database` if set, else $STATE_DIRECTORY/pinwatchd.db
// when systemd started the process and set STATE_DIRECTORY (the first entry
// if it lists several), else ./pinwatchd.db.
func (c *Config) DatabasePath(getenv func(string) string) string {
	if c.Database != "" {
		return c.Database
	}
	if dir, ok := stateDirectory(getenv); ok {
		return filepath.Join(dir, "pinwatchd.db")
	}
	return "pinwatchd.db"
}

// Notifier kinds, as Notifier returns them.
const (
	notifierWebhook = "slack webhook"
	notifierToken   = "slack bot token"
	notifierLog     = "log only"
)

// Notifier names how alerts are delivered: "slack webhook", "slack bot
// token" or "log only".
func (c *Config) Notifier() string {
	switch {
	case c.Slack.WebhookURLFile != "" || c.Slack.WebhookURL.IsSet():
		return notifierWebhook
	case c.Slack.TokenFile != "":
		return notifierToken
	}
	return notifierLog
}

// Webhook returns the incoming-webhook URL, from webhook_url_file (trimmed)
// or webhook_url, or "" when neither is set. Errors name the file, never the
// content.
func (s *SlackConfig) Webhook() (string, error) {
	if s.WebhookURLFile != "" {
		v, err := readSecretFile(s.WebhookURLFile)
		if err != nil {
			return "", fmt.Errorf("slack webhook_url_file: %w", err)
		}
		return v, nil
	}
	return s.WebhookURL.Value(), nil
}

// Token returns the bot token from token_file (trimmed), or "" when not set.
// Errors name the file, never the content.
func (s *SlackConfig) Token() (string, error) {
	if s.TokenFile == "" {
		return "", nil
	}
	v, err := readSecretFile(s.TokenFile)
	if err != nil {
		return "", fmt.Errorf("slack token_file: %w", err)
	}
	return v, nil
}

// readSecretFile reads a one-line secret; an empty file is an error. The
// error names the file, never its content.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("file %s cannot be read: %w", path, pathErr(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("file %s is empty", path)
	}
	return v, nil
}

// pathErr strips the "open PATH: " of an *fs.PathError, for messages that
// already name the path.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// configPath returns the config file to use: the --config flag, else
// $PINWATCHD_CONFIG, else /etc/pinwatchd/config.toml.
func configPath(e *env, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := e.getenv("PINWATCHD_CONFIG"); v != "" {
		return v
	}
	return defaultConfigPath
}

// addConfigFlag registers --config on fs; pass its value to configPath.
func addConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "config `file` (default $PINWATCHD_CONFIG, else "+defaultConfigPath+")")
}
