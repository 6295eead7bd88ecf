package main

import (
	"context"

	"github.com/pinwatchd/pinwatchd/internal/textreport"
	"github.com/pinwatchd/pinwatchd/monitor"
)

func runPreflight(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "preflight", "preflight [--target NAME]… [--no-dns] [--json] [--config F] [--database F] FILE…")
	q, names, noDNS := addQueryFlags(fs), stringList{}, fs.Bool("no-dns", false, "judge against the latest recorded TLSA records instead of looking them up")
	fs.Var(&names, "target", "check the candidate for this target `NAME` only (repeatable; needed for a key or CSR)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	cfg, err := loadConfig(e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	db, err := openDatabase(ctx, e, q, cfg)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	rep, err := (&monitor.PreflightRun{Files: files, Targets: cfg.Targets(), Names: names, Store: db, NoDNS: *noDNS, Thresholds: cfg.Thresholds(),
		DNSServer: cfg.Resolver.AddrPort, Timeout: cfg.Timeout.Duration, Now: e.now().UTC()}).Run(ctx)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	textreport.Preflight(e.stdout, rep, *q.json)
	return rep.Exit
}
