package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const runUsage = "run [--config F] [--log-level debug|info|warn|error] [--log-format text|json]"

func init() {
	register(command{name: "run", usage: "run [flags]", summary: "run the daemon: probe on schedule, alert, record history", run: runRun})
}

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
		return usageError(e.stderr, "run takes no arguments, got %q; usage: pinwatchd %s", pos[0], runUsage)
	}
	log, err := newLogger(e, strings.ToLower(*level), *format)
	if err != nil {
		return usageError(e.stderr, "%v", err)
	}
	// Signals are handled here rather than through ctx: SIGHUP reloads, the
	// first SIGTERM/SIGINT shuts down cleanly and a second exits at once.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	base := context.WithoutCancel(ctx)
	return serveDaemon(base, e, log, configPath(e, *configFlag), sigs)
}

// serveDaemon runs the daemon until a stop signal arrives on sigs and returns
// the exit code.
func serveDaemon(ctx context.Context, e *env, log *slog.Logger, path string, sigs <-chan os.Signal) int {
	cfg, err := loadConfig(path, daemonLoadOptions(e.getenv))
	if err != nil {
		log.Error("invalid configuration", "config", path, "err", err)
		fmt.Fprintln(e.stderr, err)
		return exitError
	}
	d, err := newDaemon(ctx, cfg, path, log, e.getenv, e.now)
	if err != nil {
		log.Error("open database", "err", err)
		return exitError
	}
	defer d.db.Close()
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	if err := d.start(runCtx, cfg, true, nil); err != nil {
		log.Error("start", "err", err)
		return exitError
	}
	d.metrics.configReloaded(true)
	if cfg.Metrics.Listen != "" {
		go func() {
			if err := serveMetrics(runCtx, cfg.Metrics.Listen, d.metrics.handler(func() bool { return d.healthy(runCtx) }), log); err != nil {
				log.Error("metrics server", "listen", cfg.Metrics.Listen, "err", err)
			}
		}()
	}
	go d.pruneLoop(runCtx)
	go d.refreshGauges(runCtx, 5*time.Second)
	if iv, ok := watchdogInterval(e.getenv); ok {
		go runWatchdog(runCtx, d.sd, iv/2, func() bool { return d.healthy(runCtx) }, log)
	}
	if err := d.sd.Ready(); err != nil {
		log.Warn("sd_notify READY", "err", err)
	}
	log.Info("pinwatchd started", "version", version, "config", path, "database", d.db.Path(),
		"targets", len(cfg.Targets()), "schedule", cfg.Schedule.String(), "notifier", cfg.Notifier())

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			log.Info("reloading configuration", "config", path)
			_ = d.sd.Reloading()
			if err := d.reload(runCtx); err != nil {
				log.Error("reload failed; keeping the running configuration", "config", path, "err", err)
			}
			_ = d.sd.Ready()
			continue
		}
		log.Info("shutting down", "signal", sig.String())
		break
	}
	_ = d.sd.Stopping()
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				log.Error("second signal; exiting at once", "signal", sig.String())
				os.Exit(1)
			}
		}
	}()
	d.mu.Lock()
	timeout := d.cfg.Timeout.Duration
	d.mu.Unlock()
	deadline := time.Now().Add(timeout + shutdownGrace - 500*time.Millisecond)
	stopCtx, cancel := context.WithDeadline(ctx, deadline.Add(-2*time.Second))
	d.stop(stopCtx)
	cancel()
	flushCtx, cancel := context.WithDeadline(ctx, deadline)
	d.flush(flushCtx)
	cancel()
	cancelRun()
	log.Info("stopped")
	return exitOK
}
