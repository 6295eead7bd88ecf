package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/querydoc"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage/backend"
)

const nodesUsage = "nodes [--forget NAME] [--json] [--config F] [--database F]"

// nodeAlive is how recent a heartbeat makes a node too alive to forget: a
// running node heartbeats every 10 s.
const nodeAlive = time.Minute

func runNodes(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "nodes", nodesUsage)
	q := addQueryFlags(fs)
	forget := fs.String("forget", "", "remove the node of vantage `NAME`, gone for good, from the database and from the open alerts it listed")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "nodes takes no arguments, got %q; usage: pinwatchd %s", pos[0], nodesUsage)
	}
	if *forget != "" {
		return forgetNode(ctx, e, q, *forget)
	}
	db, err := openQueryDB(ctx, e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	nodes, err := db.Nodes(ctx)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *q.json {
		if err := writeJSON(e.stdout, map[string]any{"nodes": querydoc.Nodes(nodes)}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	writeText(e.stdout, func(w io.Writer) { textreport.Nodes(w, nodes, e.now()) })
	return exitOK
}

// forgetNode runs `nodes --forget NAME` (monitor.ForgetNode) on the
// database opened for writing: it must exist already.
func forgetNode(ctx context.Context, e *env, q queryFlags, vantage string) int {
	ro, err := openQueryDB(ctx, e, q) // refuses a database that does not exist yet
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	ro.Close()
	var (
		cfg       *config.Config
		pol       = pinwatchd.AlertPolicy{NotifyResolved: true}
		channelOf func(string) string
	)
	if c, err := loadConfig(e, q); err == nil {
		cfg = c
		pol.NotifyResolved = cfg.Alerts.NotifyResolved
		channels := map[string]string{}
		for _, t := range cfg.Targets() {
			channels[t.Name] = t.SlackChannel
		}
		channelOf = func(target string) string { return channels[target] }
	}
	path, o := databaseOf(e, q, cfg)
	db, err := backend.Open(ctx, path, o)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	done, err := monitor.ForgetNode(ctx, db, vantage, nodeAlive, pol, channelOf, e.now().UTC())
	if err != nil {
		return fail(e.stderr, "nodes --forget: %v", err)
	}
	if *q.json {
		doc := map[string]any{"forgotten": vantage, "alerts_withdrawn": done.Withdrawn, "alerts_resolved": done.Resolved}
		if err := writeJSON(e.stdout, doc); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "forgot node %s: taken off %s, %d of them resolved\n", vantage,
		textreport.Count(done.Withdrawn, "open alert", "open alerts"), done.Resolved)
	if done.Resolved > 0 {
		fmt.Fprintln(e.stdout, "the resolve notifications wait in the outbox for a running daemon to deliver them")
	}
	return exitOK
}
