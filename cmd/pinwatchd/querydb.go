package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/storage/backend"
	"github.com/pinwatchd/pinwatchd/web"
)

// queryStore is what the query commands read of a database, SQLite or
// PostgreSQL, opened read-only: the dashboard's pages (web.Store, for
// `report`), the preflight's (monitor.PreflightStore), Certs and the
// outbox's parked notifications. Every method
// only reads; a target never recorded has no rows (no error).
type queryStore interface {
	web.Store
	monitor.PreflightStore
	// Certs returns what every (target, address) served at its latest
	// probe that served a chain, ordered by target then address, marked
	// stale for targets configured does not accept (nil: all) and
	// addresses that left DNS.
	Certs(ctx context.Context, now time.Time, configured func(target string) bool) ([]pinwatchd.CertStatus, error)
	// Nodes lists the nodes sharing the database, ordered by vantage.
	Nodes(ctx context.Context) ([]pinwatchd.Node, error)

	// Undeliverable sums up the notifications Slack refused for good.
	Undeliverable(ctx context.Context) (storage.Undeliverable, error)
	// Close releases the database.
	Close() error
}

// queryFlags are the flags every database query command shares.
type queryFlags struct {
	config   *string
	database *string
	json     *bool
}

func addQueryFlags(fs *flag.FlagSet) queryFlags {
	return queryFlags{
		config:   addConfigFlag(fs),
		database: fs.String("database", "", "database `file or URL` to read (default: the config's database)"),
		json:     fs.Bool("json", false, "print JSON"),
	}
}

// addVantageFlag adds --vantage, which keeps the rows of one vantage point.
func addVantageFlag(fs *flag.FlagSet) *string {
	return fs.String("vantage", "", "only what the node of this vantage `name` probed")
}

// openQueryDB opens the database for reading: --database if given, else the
// one the config names.
func openQueryDB(ctx context.Context, e *env, q queryFlags) (queryStore, error) {
	var cfg *config.Config
	if *q.database == "" {
		var err error
		if cfg, err = loadConfig(e, q); err != nil {
			return nil, err
		}
	}
	return openDatabase(ctx, e, q, cfg)
}

func loadConfig(e *env, q queryFlags) (*config.Config, error) {
	return config.Load(configPath(e, *q.config), config.Options{SkipSecretFiles: true})
}

// targetsConfig loads the config of a query that shows only the configured
// targets (certs). Without --database the config is needed anyway, to find
// the database. With --database, a default config file that cannot be read
// is not an error: targetsConfig says on stderr that every target counts
// as configured and returns nil. A config named with --config or
// $PINWATCHD_CONFIG must be readable: the user asked for it.
func targetsConfig(e *env, q queryFlags) (*config.Config, error) {
	cfg, err := loadConfig(e, q)
	if err == nil || *q.database == "" || *q.config != "" || e.getenv("PINWATCHD_CONFIG") != "" {
		return cfg, err
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	fmt.Fprintf(e.stderr, "pinwatchd: no configured targets to compare with (%s); every target in %s counts as configured\n",
		msg, *q.database)
	return nil, nil
}

// configured reports whether a target is in cfg; nil, meaning every
// target, when cfg is nil.
func configured(cfg *config.Config) func(string) bool {
	if cfg == nil {
		return nil
	}
	names, mx := map[string]bool{}, map[string]bool{}
	for _, t := range cfg.Targets() {
		names[t.Name] = true
		if t.MX != "" {
			mx[t.Name] = true
		}
	}
	return func(name string) bool {
		parent, _, sub := strings.Cut(name, "/") // an exchange of an mx target
		return names[name] || (sub && mx[parent])
	}
}

// openDatabase opens --database, else the database cfg names, for reading.
// The config's database_password_file applies to the config's database
// (with --database naming another, the password comes from PGPASSFILE).
func openDatabase(ctx context.Context, e *env, q queryFlags, cfg *config.Config) (queryStore, error) {
	path, o := databaseOf(e, q, cfg)
	db, err := backend.OpenReadOnly(ctx, path, o)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("database %s does not exist yet: run the daemon or 'pinwatchd check --record' first, or name it with --database", path)
	}
	return db, err
}

// databaseOf returns the database the query names: --database, else the
// config's, with the config's password file for the config's database.
func databaseOf(e *env, q queryFlags, cfg *config.Config) (string, backend.Options) {
	path := *q.database
	var o backend.Options
	if cfg != nil && (path == "" || path == cfg.DatabasePath(e.getenv)) {
		path, o.PasswordFile = cfg.DatabasePath(e.getenv), cfg.DatabasePasswordFile
	}
	return path, o
}
