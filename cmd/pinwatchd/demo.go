package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pinwatchd/pinwatchd/internal/demo"
)

func runDemo(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "demo", "demo [--keep]")
	keep := fs.Bool("keep", false, "keep the temporary directory (config, database, CA) and print its path")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "demo takes no arguments, got %q", pos[0])
	}
	dir, err := os.MkdirTemp("", "pinwatchd-demo-")
	if err != nil {
		return fail(e.stderr, "create a temporary directory: %v", err)
	}
	defer func() {
		if *keep {
			fmt.Fprintf(e.stdout, "\nThe demo's config, database and CA are in %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	dbPath, err := demo.Run(ctx, e.stdout, e.stderr, dir, version)
	if err != nil {
		return fail(e.stderr, "demo: %v", err)
	}
	de := &env{stdin: e.stdin, stdout: e.stdout, stderr: e.stderr, now: e.now, getenv: func(string) string { return "" }}
	fmt.Fprintln(e.stdout, "\n==> pinwatchd history")
	if c := runHistory(ctx, de, []string{"--database", dbPath}); c != exitOK {
		return c
	}
	fmt.Fprintln(e.stdout, "\n==> pinwatchd alerts")
	if c := runAlerts(ctx, de, []string{"--database", dbPath}); c != exitOK {
		return c
	}
	fmt.Fprintln(e.stdout, "\nDone. Try 'pinwatchd probe', 'pinwatchd pin' and 'pinwatchd check' on your own endpoints.")
	return exitOK
}
