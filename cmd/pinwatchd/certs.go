package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
)

const certsUsage = "certs [--expiring-within D] [--json] [--config F] [--database F]"

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
}

func runCerts(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "certs", certsUsage)
	q := addQueryFlags(fs)
	within := fs.String("expiring-within", "", "only certificates whose chain expires within this `duration` (30d)")
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
	db, err := openQueryDB(ctx, e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	now := e.now().UTC()
	all, err := db.Certs(ctx, now)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	certs := all[:0:0]
	for _, c := range all {
		if limit == 0 || earliest(c).Before(now.Add(limit)) {
			certs = append(certs, c)
		}
	}
	if *q.json {
		out := make([]certJSON, 0, len(certs))
		for _, c := range certs {
			out = append(out, certJSON{
				Target: c.Target, Address: c.Address, LeafSubject: c.LeafSubject, Issuer: c.Issuer,
				LeafPin: c.LeafPin, LeafSHA256: c.LeafSHA256, NotAfter: c.NotAfter.UTC(), DaysLeft: c.DaysLeft,
				ChainNotAfter: c.ChainNotAfter.UTC(), LastSeen: pinwatchd.NullTime(c.LastSeen), ErrorKind: pinwatchd.NullString(string(c.ErrorKind)),
			})
		}
		if err := writeJSON(e.stdout, map[string]any{"certs": out}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	writeCertsText(e.stdout, certs, now, limit)
	return exitOK
}

// earliest is the first NotAfter of the chain (the leaf's when unknown).
func earliest(c pinwatchd.CertStatus) time.Time {
	if !c.ChainNotAfter.IsZero() && c.ChainNotAfter.Before(c.NotAfter) {
		return c.ChainNotAfter
	}
	return c.NotAfter
}

func writeCertsText(w io.Writer, certs []pinwatchd.CertStatus, now time.Time, limit time.Duration) {
	if len(certs) == 0 {
		if limit > 0 {
			fmt.Fprintf(w, "no certificate expires within %s\n", limit)
		} else {
			fmt.Fprintln(w, "no certificates recorded yet")
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tADDRESS\tLEAF\tISSUER\tNOT AFTER\tDAYS\tCHAIN NOT AFTER\tLEAF PIN\tSTATUS")
	for _, c := range certs {
		status := "ok"
		if c.ErrorKind != "" {
			status = fmt.Sprintf("%s (last seen %s)", term(string(c.ErrorKind)), shortTime(c.LastSeen))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", term(c.Target), term(c.Address), term(shortDN(c.LeafSubject)), term(shortDN(c.Issuer)),
			c.NotAfter.UTC().Format("2006-01-02"), c.DaysLeft, c.ChainNotAfter.UTC().Format("2006-01-02"), c.LeafPin, status)
	}
	tw.Flush()
}
