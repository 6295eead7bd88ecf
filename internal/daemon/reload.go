package daemon

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage/backend"
)

// Reload re-reads the configuration file and applies it: targets added,
// removed and changed take effect (the changed ones are probed at once),
// the alerts of removed targets resolve, and a changed [http] listen
// address moves the HTTP listener. An invalid file, an address that
// cannot be listened on, or a daemon that is not running, is an error and
// leaves the running configuration in place. systemd is told RELOADING
// and then READY, whatever the outcome. Cancelling ctx abandons the reload
// as soon as it can (a shutdown never waits for it, see Daemon).
func (d *Daemon) Reload(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	if !d.isRunning() {
		return errNotRunning
	}
	if d.opts.ConfigPath == "" {
		return fmt.Errorf("reload: the configuration was not read from a file")
	}
	d.log.Info("reloading configuration", logkey.Config, d.opts.ConfigPath)
	_ = d.sd.Reloading()
	defer func() {
		if d.isRunning() { // not after STOPPING=1
			_ = d.sd.Ready()
		}
	}()
	return d.reload(ctx)
}

// isRunning reports whether Run has started everything and shutdown has
// not begun.
func (d *Daemon) isRunning() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running && !d.stopping
}

func (d *Daemon) reload(ctx context.Context) error {
	cfg, err := LoadConfig(d.opts.ConfigPath, d.opts.Getenv)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		d.meter().ConfigReloaded(false)
		return err
	}
	d.mu.Lock()
	old, oldTargets, oldList := d.cfg, d.targets, d.targetList
	d.mu.Unlock()
	if cfg.DatabasePath(d.opts.Getenv) != old.DatabasePath(d.opts.Getenv) || cfg.DatabasePasswordFile != old.DatabasePasswordFile {
		d.log.Warn("database or database_password_file changed; it takes effect at the next restart",
			logkey.Database, backend.Display(old.DatabasePath(d.opts.Getenv)))
	}
	// The new listener first: an address that cannot be listened on
	// fails the reload before anything else has changed.
	swap, err := d.prepareHTTP(ctx, cfg.HTTPListen())
	if err != nil {
		d.meter().ConfigReloaded(false)
		return err
	}
	stopCtx, cancel := context.WithTimeout(ctx, old.Timeout.Duration+time.Second)
	d.stop(stopCtx)
	cancel()
	newTargets := cfg.Targets()
	var probe []string
	seen := map[string]bool{}
	for _, t := range newTargets {
		seen[t.Name] = true
		if prev, ok := oldTargets[t.Name]; !ok || !reflect.DeepEqual(*prev, t) {
			probe = append(probe, t.Name)
		}
	}
	for name, t := range oldTargets {
		if !seen[name] {
			if err := d.resolveRemoved(ctx, *t, cfg.VantageName(), policy(cfg)); err != nil {
				d.log.Error("resolve alerts of a removed target", logkey.Target, name, logkey.Err, err)
			}
			d.forgetSeries(*t, seen)
		}
	}
	if err := d.start(d.runCtx, cfg, newTargets, false, probe); err != nil {
		swap.rollback(context.WithoutCancel(ctx))
		if errors.Is(err, errStopping) {
			return err
		}
		// The new file validated, so this is unexpected: keep watching
		// with the old configuration.
		d.meter().ConfigReloaded(false)
		if rerr := d.start(d.runCtx, old, oldList, false, nil); rerr != nil {
			return fmt.Errorf("restart with the previous configuration: %w", rerr)
		}
		return err
	}
	swap.commit(context.WithoutCancel(ctx))
	d.meter().ConfigReloaded(true)
	d.log.Info("configuration reloaded", logkey.Config, d.opts.ConfigPath, "targets", len(newTargets), "changed", len(probe))
	return nil
}

// forgetSeries drops the metric series of a removed target and, for an mx
// target, of its exchanges (NAME/EXCHANGE) that the new configuration does
// not name as targets of their own.
func (d *Daemon) forgetSeries(removed pinwatchd.Target, kept map[string]bool) {
	m := d.meter()
	m.ForgetTarget(removed.Name)
	if removed.MX == "" {
		return
	}
	for _, sub := range m.TargetsUnder(removed.Name + "/") {
		if !kept[sub] {
			m.ForgetTarget(sub)
		}
	}
}

// resolveRemoved withdraws this node's vantage from the open alerts of a
// target that is no longer configured, and of its exchanges if it was an
// mx target, resolving those no other vantage lists (SPEC §14) and
// notifying the target's channel. Each target's alerts move in one
// transaction, serialised with the other nodes.
func (d *Daemon) resolveRemoved(ctx context.Context, target pinwatchd.Target, vantage string, pol pinwatchd.AlertPolicy) error {
	subs, err := d.db.OpenAlertsUnder(ctx, target.Name+"/")
	if err != nil {
		return err
	}
	names := []string{target.Name}
	for _, a := range subs {
		if !slices.Contains(names, a.Target) {
			names = append(names, a.Target)
		}
	}
	now := d.opts.Now()
	var errs []error
	for _, name := range names {
		errs = append(errs, d.db.UpdateAlerts(ctx, name, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
			next, changes := monitor.Withdraw(open, vantage, "the target was removed from the configuration", pol, now)
			notes := make([]pinwatchd.Notification, 0, len(changes))
			for _, c := range changes {
				a := c.Alert
				notes = append(notes, pinwatchd.Notification{Channel: target.SlackChannel, Type: c.Type, Alert: &a, CreatedAt: now.UTC()})
			}
			return next, notes, nil
		}))
	}
	return errors.Join(errs...)
}
