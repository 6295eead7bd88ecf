package daemon

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// Reload re-reads the configuration file and applies it: targets added,
// removed and changed take effect (the changed ones are probed at once),
// and the alerts of removed targets resolve. An invalid file, or a daemon
// that is not running, is an error and leaves the running configuration in
// place. systemd is told RELOADING and then READY, whatever the outcome.
func (d *Daemon) Reload(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	if !d.running {
		return errNotRunning
	}
	if d.opts.ConfigPath == "" {
		return fmt.Errorf("reload: the configuration was not read from a file")
	}
	d.log.Info("reloading configuration", logkey.Config, d.opts.ConfigPath)
	_ = d.sd.Reloading()
	defer func() { _ = d.sd.Ready() }()
	return d.reload(ctx)
}

func (d *Daemon) reload(ctx context.Context) error {
	cfg, err := config.Load(d.opts.ConfigPath, config.DaemonOptions(d.opts.Getenv))
	if err != nil {
		d.metrics.ConfigReloaded(false)
		return err
	}
	d.mu.Lock()
	old, oldTargets := d.cfg, d.targets
	d.mu.Unlock()
	if cfg.DatabasePath(d.opts.Getenv) != old.DatabasePath(d.opts.Getenv) {
		d.log.Warn("database path changed; it takes effect at the next restart", logkey.Database, old.DatabasePath(d.opts.Getenv))
	}
	stopCtx, cancel := context.WithTimeout(ctx, old.Timeout.Duration+time.Second)
	d.stop(stopCtx)
	cancel()
	newTargets := cfg.Targets()
	var probe []string
	seen := map[string]bool{}
	for _, t := range newTargets {
		seen[t.Name] = true
		if prev, ok := oldTargets[t.Name]; !ok || !reflect.DeepEqual(prev, t) {
			probe = append(probe, t.Name)
		}
	}
	for name := range oldTargets {
		if !seen[name] {
			if err := d.resolveRemoved(ctx, name, policy(cfg)); err != nil {
				d.log.Error("resolve alerts of a removed target", logkey.Target, name, logkey.Err, err)
			}
			d.metrics.ForgetTarget(name)
		}
	}
	if err := d.start(d.runCtx, cfg, false, probe); err != nil {
		// The new file validated, so this is unexpected: keep watching
		// with the old configuration.
		d.metrics.ConfigReloaded(false)
		if rerr := d.start(d.runCtx, old, false, nil); rerr != nil {
			return fmt.Errorf("restart with the previous configuration: %w", rerr)
		}
		return err
	}
	d.metrics.ConfigReloaded(true)
	d.log.Info("configuration reloaded", logkey.Config, d.opts.ConfigPath, "targets", len(newTargets), "changed", len(probe))
	return nil
}

// resolveRemoved resolves the open alerts of a target that is no longer
// configured, and of its exchanges if it was an mx target.
func (d *Daemon) resolveRemoved(ctx context.Context, target string, pol pinwatchd.AlertPolicy) error {
	open, err := d.db.OpenAlerts(ctx, target)
	if err != nil {
		return err
	}
	subs, err := d.db.OpenAlertsUnder(ctx, target+"/")
	if err != nil {
		return err
	}
	open = append(open, subs...)
	if len(open) == 0 {
		return nil
	}
	now := d.opts.Now()
	next, changes := monitor.ResolveAll(open, "the target was removed from the configuration", pol, now)
	notes := make([]pinwatchd.Notification, 0, len(changes))
	for _, c := range changes {
		a := c.Alert
		notes = append(notes, pinwatchd.Notification{Type: c.Type, Alert: &a, CreatedAt: now.UTC()})
	}
	return d.db.SaveAlerts(ctx, next, notes)
}
