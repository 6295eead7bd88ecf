package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// DefaultFile is the config file used when neither --config nor
// $PINWATCHD_CONFIG names one.
const DefaultFile = "/etc/pinwatchd/config.toml"

// Config is the parsed configuration file (SPEC §10). ParseConfig and
// LoadConfig return it with defaults applied and validated; use Targets and
// Thresholds for the resolved domain values.
type Config struct {
	// Database is the SQLite file, or a postgres:// (postgresql://) URL
	// naming a PostgreSQL database (SPEC §14); "" means the default SQLite
	// file (see DatabasePath).
	Database string `toml:"database,omitempty"`
	// DatabasePasswordFile names the file holding the PostgreSQL password
	// (a bare name is a systemd credential, as for the Slack secrets);
	// PostgreSQL only. Not read here: the database's opener reads it.
	DatabasePasswordFile string `toml:"database_password_file,omitempty"`
	// Schedule is the default cron spec of every target.
	Schedule Schedule `toml:"schedule"`
	// Concurrency bounds the probes in flight.
	Concurrency int `toml:"concurrency"`
	// Timeout bounds the whole probe of one address.
	Timeout Duration `toml:"timeout"`
	// Retention is how long history spans and resolved alerts are kept.
	Retention Duration `toml:"retention"`
	// Resolver is the DNS server of every lookup; not set means the
	// system resolver.
	Resolver Resolver `toml:"resolver,omitempty"`
	// Vantage names this node's vantage point (SPEC §14): observations,
	// spans and events carry it. "" means the host name; use
	// VantageName for the name in force.
	Vantage string `toml:"vantage,omitempty"`

	Alerts AlertsConfig `toml:"alerts"`
	Slack  SlackConfig  `toml:"slack"`
	HTTP   HTTPConfig   `toml:"http"`
	// Metrics holds the old name of [http] listen.
	Metrics MetricsConfig `toml:"metrics"`

	// PinSets are the `[[pinset]]` tables, in file order.
	PinSets []PinSetConfig `toml:"pinset,omitempty"`
	// TargetConfigs are the `[[target]]` tables as written, in file order.
	TargetConfigs []TargetConfig `toml:"target,omitempty"`
}

// AlertsConfig is the `[alerts]` table.
type AlertsConfig struct {
	ExpiryWarning    Duration `toml:"expiry_warning"`    // cert_expiring/pinset_expiring warn inside this
	ExpiryCritical   Duration `toml:"expiry_critical"`   // cert_expiring is critical inside this
	FailureThreshold int      `toml:"failure_threshold"` // consecutive failures before a connectivity alert
	RenotifyAfter    Duration `toml:"renotify_after"`    // reminder interval of a still-firing alert
	NotifyResolved   bool     `toml:"notify_resolved"`   // send a message when an alert resolves
	NotifyChanges    bool     `toml:"notify_changes"`    // send a message on chain_changed
	DigestWindow     Duration `toml:"digest_window"`     // coalesce a channel's notifications this long; 0 off
	// NodeSilentAfter is how long another node sharing the database may
	// go without a heartbeat before vantage_silent opens (SPEC §14); nil
	// means the default, see Config.NodeSilentAfter.
	NodeSilentAfter *Duration `toml:"node_silent_after,omitempty"`
}

// SlackConfig is the `[slack]` table. Either a webhook (WebhookURLFile or
// WebhookURL) or a bot token (TokenFile) is set, or neither (log only).
type SlackConfig struct {
	WebhookURLFile string `toml:"webhook_url_file,omitempty"` // file holding the incoming-webhook URL
	WebhookURL     Secret `toml:"webhook_url,omitempty"`      // the URL inline (the file form is preferred)
	TokenFile      string `toml:"token_file,omitempty"`       // file holding a bot token (xoxb-…)
	Channel        string `toml:"channel,omitempty"`          // default channel for the bot token
	APIURL         string `toml:"api_url,omitempty"`          // Web API base URL override for the bot token
}

// HTTPConfig is the `[http]` table: the daemon's HTTP listener, serving
// /metrics and /healthz (SPEC §7).
type HTTPConfig struct {
	// Listen is the host:port of the listener; "" is off (unless the old
	// [metrics] listen is set). Use HTTPListen for the address in force.
	Listen string `toml:"listen,omitempty"`
	// AllowRemote permits a Listen address that is not loopback.
	AllowRemote bool `toml:"allow_remote,omitempty"`
}

// MetricsConfig is the `[metrics]` table, kept for its listen key: the old
// name of [http] listen. Setting both is an error.
type MetricsConfig struct {
	// Listen is the old name of [http] listen.
	Listen string `toml:"listen,omitempty"`
}

// HTTPListen returns the address of the daemon's HTTP listener: [http]
// listen, else the old [metrics] listen; "" when it is off.
func (c *Config) HTTPListen() string {
	if c.HTTP.Listen != "" {
		return c.HTTP.Listen
	}
	return c.Metrics.Listen
}

// PinSetConfig is one `[[pinset]]`.
type PinSetConfig struct {
	Name    string          `toml:"name"`
	Pins    []pinwatchd.Pin `toml:"pins,omitempty"`
	Expires Date            `toml:"expires,omitempty"` // zero when not set
}

// TargetConfig is one `[[target]]` as written: nil and empty fields are
// unset, and Targets applies their defaults (port 443, http = true, path
// "/").
type TargetConfig struct {
	Name          string          `toml:"name"`
	Host          string          `toml:"host"`
	Port          *int            `toml:"port,omitempty"`
	SNI           string          `toml:"sni,omitempty"`
	Addresses     []HostPort      `toml:"addresses,omitempty"`
	CAFile        string          `toml:"ca_file,omitempty"`
	PinSets       []string        `toml:"pinsets,omitempty"`
	Pins          []pinwatchd.Pin `toml:"pins,omitempty"`
	HTTP          *bool           `toml:"http,omitempty"`
	Path          string          `toml:"path,omitempty"`
	RequireHeader bool            `toml:"require_header,omitempty"`
	RequireHSTS   bool            `toml:"require_hsts,omitempty"`
	Schedule      Schedule        `toml:"schedule,omitempty"` // zero: the global schedule
	SlackChannel  string          `toml:"slack_channel,omitempty"`

	// DANE and mail servers (SPEC §12; see dane.go).
	MX          string `toml:"mx,omitempty"`       // a mail domain: one sub-target per MX host
	STARTTLS    string `toml:"starttls,omitempty"` // smtp, imap or pop3
	DANE        *bool  `toml:"dane,omitempty"`     // look up TLSA; default on for mx and smtp
	RequireTLSA bool   `toml:"require_tlsa,omitempty"`
	EHLO        string `toml:"ehlo,omitempty"` // the name SMTP's EHLO sends
}

// DefaultDigestWindow is the default of `[alerts] digest_window`;
// MaxDigestWindow is the longest accepted, since every notification may
// wait that long.
const (
	DefaultDigestWindow = 10 * time.Second
	MaxDigestWindow     = time.Hour
)

// MinNodeSilentAfter is the shortest `[alerts] node_silent_after`
// accepted: nodes heartbeat every 10 s, so less would call a node silent
// between two of its heartbeats. MinDefaultNodeSilentAfter is the least
// its default is.
const (
	MinNodeSilentAfter        = 30 * time.Second
	MinDefaultNodeSilentAfter = 5 * time.Minute
)

// Defaults of a target's keys.
const (
	DefaultPort = 443
	DefaultPath = "/"
)

// defaultConfig returns a Config holding every default of SPEC §10; the
// decoder then overwrites what the file sets.
func Default() *Config {
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
			DigestWindow:     Duration{DefaultDigestWindow},
		},
	}
}

// Options tune how a config is parsed.
type Options struct {
	// SkipSecretFiles leaves webhook_url_file and token_file unread, for
	// commands that never notify (check, the queries).
	SkipSecretFiles bool
	// Credential, when set, finds a systemd credential by name: a
	// webhook_url_file or token_file that is a bare file name is looked up
	// there first (see CredentialPath).
	Credential func(name string) (string, bool)
	// CheckDatabase checks what opening the database read-write needs:
	// the directory of DatabasePath(Getenv) exists and is writable, and
	// an existing file can be opened for writing (SPEC §16: `config
	// check` runs the checks `run` runs). A scratch file is created in
	// the directory and removed.
	CheckDatabase bool
	// Getenv reads the environment for DatabasePath; nil means none.
	Getenv func(string) string
	// Database, when set with CheckDatabase, checks that a PostgreSQL
	// database can be used (connecting to it, `config check` only) and
	// reports why not as a problem of database. It is called only for a
	// postgres:// URL without another problem. Its error must not hold
	// the password.
	Database func(*Config) error
	// Notifier, when set, builds the notifier a daemon of this config
	// would deliver with and reports why it cannot, as a problem of
	// [slack]. It is called only for a config with a Slack notifier whose
	// [slack] table has no other problem, and never with SkipSecretFiles.
	// Its error must not hold a secret.
	Notifier func(*Config) error

	// baseDir resolves relative file paths; "" keeps them relative to the
	// working directory. Load sets it to the file's directory.
	baseDir string
}

// DaemonOptions are the load options of the daemon and of `config check`:
// secret files given as bare names come from systemd's credentials
// directory when systemd started it, and the database must be one the
// daemon can open (CheckDatabase). Add Notifier to check the notifier too.
func DaemonOptions(getenv func(string) string) Options {
	return Options{
		Credential:    func(name string) (string, bool) { return CredentialPath(getenv, name) },
		CheckDatabase: true,
		Getenv:        getenv,
	}
}

// Load reads and parses the config file at path (see Parse). Relative file
// paths in it are taken relative to the file's directory. A missing file is
// an error that says how to name another.
func Load(path string, o Options) (*Config, error) {
	doc, err := os.ReadFile(path) // sized from the file, unlike io.ReadAll
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config file %s does not exist (set --config or $PINWATCHD_CONFIG)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	o.baseDir = filepath.Dir(path)
	return parse(doc, path, o)
}

// Parse decodes a config strictly (an unknown key is an error), applies the
// defaults and validates it. source names the input in errors. Every problem
// found is returned at once as an *Error, each with its line. Relative file
// paths are taken relative to the working directory.
func Parse(r io.Reader, source string, o Options) (*Config, error) {
	doc, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", source, err)
	}
	return parse(doc, source, o)
}

func parse(doc []byte, source string, o Options) (*Config, error) {
	c, probs, err := decodeAll(doc, source)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, newError(source, probs)
	}
	c.resolveCredentials(o.Credential)
	c.resolvePaths(o.baseDir)
	probs = c.problems(o)
	if len(probs) == 0 {
		return c, nil
	}
	ix := indexDocument(doc)
	for i := range probs {
		probs[i].Line = ix.line(probs[i].key)
	}
	return nil, newError(source, probs)
}

// resolveCredentials points a webhook_url_file, token_file or
// database_password_file given as a bare file name ("slack-webhook") at
// the systemd credential of that name, when systemd passed the process a credentials directory. Elsewhere the
// name stays relative to the config file, so `config check` run by hand
// reads the file the unit loads the credential from.
func (c *Config) resolveCredentials(credential func(string) (string, bool)) {
	if credential == nil {
		return
	}
	for _, p := range []*string{&c.Slack.WebhookURLFile, &c.Slack.TokenFile, &c.DatabasePasswordFile} {
		if *p == "" || strings.ContainsRune(*p, '/') {
			continue
		}
		if path, ok := credential(*p); ok {
			*p = path
		}
	}
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
	if !isURL(c.Database) {
		abs(&c.Database)
	}
	abs(&c.Slack.WebhookURLFile)
	abs(&c.Slack.TokenFile)
	abs(&c.DatabasePasswordFile)
	for i := range c.TargetConfigs {
		abs(&c.TargetConfigs[i].CAFile)
	}
}

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
			Port:          DefaultPort,
			SNI:           tc.SNI,
			CAFile:        tc.CAFile,
			HTTP:          true,
			Path:          DefaultPath,
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
		tc.applyDANE(&t)
		if tc.Path != "" {
			t.Path = tc.Path
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

// ServiceDatabase is the database of the shipped systemd unit
// (StateDirectory=pinwatchd). A variable so tests can point it elsewhere.
var ServiceDatabase = "/var/lib/pinwatchd/pinwatchd.db"

// DatabasePath returns `database` if set, else $STATE_DIRECTORY/pinwatchd.db
// when systemd started the process and set STATE_DIRECTORY (the first entry
// if it lists several), else ServiceDatabase when that file exists (so
// `sudo pinwatchd history` run by hand finds the service's database), else
// ./pinwatchd.db.
func (c *Config) DatabasePath(getenv func(string) string) string {
	if c.Database != "" {
		return c.Database
	}
	if dir, ok := stateDirectory(getenv); ok {
		return filepath.Join(dir, "pinwatchd.db")
	}
	if fi, err := os.Stat(ServiceDatabase); err == nil && fi.Mode().IsRegular() {
		return ServiceDatabase
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
