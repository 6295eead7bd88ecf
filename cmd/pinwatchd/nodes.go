package main

import (
	"context"

	"github.com/pinwatchd/pinwatchd/internal/querydoc"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

const nodesUsage = "nodes [--json] [--config F] [--database F]"

func runNodes(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "nodes", nodesUsage)
	q := addQueryFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "nodes takes no arguments, got %q; usage: pinwatchd %s", pos[0], nodesUsage)
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
	textreport.Nodes(e.stdout, nodes, e.now())
	return exitOK
}
