package main

import (
	"context"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

const certsUsage = "certs [--expiring-within D] [--all] [--json] [--config F] [--database F]"

// certJSON is one entry of `certs --json` (SPEC §5).
type certJSON struct {
	Target        string     `json:"target"`
	Address       string     `json:"address"`
	LeafSubject   string     `json:"leaf_subject"`
	Issuer        string     `json:"issuer"`
	LeafPin       string     `json:"leaf_pin"`
	LeafSHA256    string     `json:"leaf_sha256"`
	NotAfter      time.Time  `json:"not_after"`
	DaysLeft      int        `json:"days_left"`
	ChainNotAfter time.Time  `json:"chain_not_after"`
	LastSeen      *time.Time `json:"last_seen"`
	ErrorKind     *string    `json:"error_kind"`
	Stale         *string    `json:"stale"` // null, "not_configured" or "left_dns"
}

func runCerts(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "certs", certsUsage)
	q := addQueryFlags(fs)
	within := fs.String("expiring-within", "", "only certificates whose chain expires within this `duration` (30d)")
	all := fs.Bool("all", false, "also show targets no longer configured and addresses that left DNS, marked as such")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "certs takes no arguments, got %q; usage: pinwatchd %s", pos[0], certsUsage)
	}
	var limit time.Duration
	if *within != "" {
		if limit, err = config.ParseDuration(*within); err != nil || limit <= 0 {
			return fail(e.stderr, "--expiring-within %q is not a positive duration such as 30d or 72h", *within)
		}
	}
	// The config names the database unless --database does; then the
	// database is opened first, so that a missing one is the only error.
	var cfg *config.Config
	if *q.database == "" {
		if cfg, err = targetsConfig(e, q); err != nil {
			return fail(e.stderr, "%v", err)
		}
	}
	db, err := openDatabase(ctx, e, q, cfg)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	if *q.database != "" {
		if cfg, err = targetsConfig(e, q); err != nil {
			return fail(e.stderr, "%v", err)
		}
	}
	now := e.now().UTC()
	statuses, err := db.Certs(ctx, now, configured(cfg))
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	var rows []pinwatchd.CertStatus
	hidden := 0
	for _, c := range statuses {
		switch {
		case c.Stale != "" && !*all:
			hidden++
		case limit == 0 || earliest(c).Before(now.Add(limit)):
			rows = append(rows, c)
		}
	}
	if *q.json {
		out := make([]certJSON, 0, len(rows))
		for _, c := range rows {
			out = append(out, certJSON{
				Target: c.Target, Address: c.Address, LeafSubject: c.LeafSubject, Issuer: c.Issuer,
				LeafPin: c.LeafPin, LeafSHA256: c.LeafSHA256, NotAfter: c.NotAfter.UTC(), DaysLeft: c.DaysLeft,
				ChainNotAfter: c.ChainNotAfter.UTC(), LastSeen: pinwatchd.NullTime(c.LastSeen), ErrorKind: pinwatchd.NullString(string(c.ErrorKind)),
				Stale: pinwatchd.NullString(string(c.Stale)),
			})
		}
		if err := writeJSON(e.stdout, map[string]any{"certs": out}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	textreport.Certs(e.stdout, rows, hidden, limit)
	return exitOK
}

// earliest is the first NotAfter of the chain (the leaf's when unknown).
func earliest(c pinwatchd.CertStatus) time.Time {
	if !c.ChainNotAfter.IsZero() && c.ChainNotAfter.Before(c.NotAfter) {
		return c.ChainNotAfter
	}
	return c.NotAfter
}
