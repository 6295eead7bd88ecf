package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pinwatchd/pinwatchd/internal/daemon"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

const runUsage = "run [--config F] [--log-level debug|info|warn|error] [--log-format text|json]"

// newLogger returns the daemon's logger: one line per event on stderr.
func newLogger(e *env, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func runRun(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "run", runUsage)
	configFlag := addConfigFlag(fs)
	level := fs.String("log-level", "info", "least severe log level: debug, info, warn or error")
	format := fs.String("log-format", "text", "log format: text or json")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return fail(e.stderr, "run takes no arguments, got %q; usage: pinwatchd %s", pos[0], runUsage)
	}
	log, err := newLogger(e, strings.ToLower(*level), *format)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	path := configPath(e, *configFlag)
	cfg, err := daemon.LoadConfig(path, e.getenv)
	if err != nil {
		log.Error("invalid configuration", logkey.Config, path, logkey.Err, err)
		fmt.Fprintln(e.stderr, err)
		return exitError
	}
	d, err := daemon.New(ctx, cfg, daemon.Options{
		ConfigPath: path, Log: log, Getenv: e.getenv, Now: e.now, Version: version, Commit: buildCommit(),
	})
	if err != nil {
		log.Error("open database", logkey.Err, err)
		return exitError
	}
	defer d.Close()
	// Signals are handled by the daemon rather than through ctx: SIGHUP
	// reloads, the first SIGTERM/SIGINT shuts down cleanly and a second
	// exits at once.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	if err := d.RunWithSignals(context.WithoutCancel(ctx), sigs, os.Exit); err != nil {
		log.Error("start", logkey.Err, err)
		return exitError
	}
	return exitOK
}
