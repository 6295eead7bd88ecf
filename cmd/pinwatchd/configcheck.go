package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/daemon"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

// runConfig dispatches the verbs of `pinwatchd config`; only `check` exists.
func runConfig(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return fail(e.stderr, "config needs a verb; usage: pinwatchd config check [--config F]")
	}
	switch args[0] {
	case "check":
		return runConfigCheck(ctx, e, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprintln(e.stderr, "Usage: pinwatchd config check [--config F]")
		return exitOK
	}
	return fail(e.stderr, "unknown config verb %q; usage: pinwatchd config check [--config F]", args[0])
}

// runConfigCheck loads the config as `run` does, with every check it makes
// before starting (secret files, the notifier, the listen address, the
// database), and prints a one-line summary (exit 0), or every problem, one
// per line, to stderr (exit 3).
func runConfigCheck(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "config check", "config check [--config F]")
	flagConfig := addConfigFlag(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "config check takes no arguments, got %q; name the file with --config", pos[0])
	}
	path := configPath(e, *flagConfig)
	c, err := daemon.CheckConfig(path, e.getenv)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintln(e.stderr, ce.Error())
		} else {
			fmt.Fprintf(e.stderr, "pinwatchd: %v\n", err)
		}
		return exitError
	}
	fmt.Fprintf(e.stdout, "ok: %s: %s, %s, notifier: %s\n", path,
		textreport.Count(len(c.TargetConfigs), "target", "targets"), textreport.Count(len(c.PinSets), "pin-set", "pin-sets"), c.Notifier())
	return exitOK
}
