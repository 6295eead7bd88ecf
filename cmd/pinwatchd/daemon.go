package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
)

// shutdownGrace is what shutdown may take beyond the probe timeout (SPEC §7).
const shutdownGrace = 5 * time.Second

// pruneEvery is how often retention pruning runs.
const pruneEvery = 6 * time.Hour

// daemon is `pinwatchd run`: the scheduler, the runner, the notification
// sender and the database, rebuilt in part on reload.
type daemon struct {
	log        *slog.Logger
	getenv     func(string) string
	now        func() time.Time
	configPath string
	db         *storage.DB
	metrics    *metrics
	sd         *notifier

	mu      sync.Mutex // guards the fields below, swapped on reload
	cfg     *Config
	runner  *monitor.Runner
	sched   *monitor.Scheduler
	targets map[string]pinwatchd.Target
	sender  *outboxSender
}

// newDaemon opens the database of cfg; Close releases it.
func newDaemon(ctx context.Context, cfg *Config, configPath string, log *slog.Logger, getenv func(string) string, now func() time.Time) (*daemon, error) {
	dbPath := cfg.DatabasePath(getenv)
	db, err := storage.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	d := &daemon{log: log, getenv: getenv, now: now, configPath: configPath, db: db, cfg: cfg, sd: newSDNotifier(getenv)}
	// Metrics are recorded only when they are served: the series of a large
	// fleet cost memory (SPEC §11), and nothing reads them otherwise. A nil
	// *metrics records nothing.
	if cfg.Metrics.Listen != "" {
		d.metrics = newMetrics(version, buildCommit())
	}
	return d, nil
}

// policy returns the alert policy of cfg.
func policy(cfg *Config) pinwatchd.AlertPolicy {
	return pinwatchd.AlertPolicy{
		FailureThreshold: cfg.Alerts.FailureThreshold,
		RenotifyAfter:    cfg.Alerts.RenotifyAfter.Duration,
		NotifyResolved:   cfg.Alerts.NotifyResolved,
		NotifyChanges:    cfg.Alerts.NotifyChanges,
	}
}

// start builds the runner, scheduler and sender of cfg and starts them;
// with probeAll every target is probed at once, else only those in probe.
func (d *daemon) start(ctx context.Context, cfg *Config, probeAll bool, probe []string) error {
	sender, err := newOutboxSender(cfg, d.db, d.log, d.metrics, d.getenv)
	if err != nil {
		return err
	}
	prober := &monitor.Prober{Timeout: cfg.Timeout.Duration, Concurrency: cfg.Concurrency, UserAgent: userAgent(), Now: d.now}
	runner := &monitor.Runner{
		Prober: prober, Store: d.db, Log: d.log, Policy: policy(cfg), Thresholds: cfg.Thresholds(), Now: d.now,
		Hooks: monitor.Hooks{Enqueued: func(int) { sender.Wake() }},
	}
	if d.metrics != nil {
		runner.Hooks.Probed = d.metrics.probed
	}
	sched := monitor.NewScheduler(d.log, cfg.Concurrency, func(ctx context.Context, t *pinwatchd.Target) {
		if err := runner.Run(ctx, t); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("probe round failed", "target", t.Name, "err", err)
		}
	})
	targets := cfg.Targets()
	if err := sched.Start(ctx, cfg.Schedule.String(), targets); err != nil {
		return err
	}
	sender.Start(ctx)
	byName := make(map[string]pinwatchd.Target, len(targets))
	for _, t := range targets {
		byName[t.Name] = t
	}
	d.mu.Lock()
	d.cfg, d.runner, d.sched, d.sender, d.targets = cfg, runner, sched, sender, byName
	d.mu.Unlock()
	if probeAll {
		sched.RunNow()
	} else if len(probe) > 0 {
		sched.RunNow(probe...)
	}
	return nil
}

// stop stops scheduling and the sender, giving running probes until ctx is
// done.
func (d *daemon) stop(ctx context.Context) {
	d.mu.Lock()
	sched, sender := d.sched, d.sender
	d.mu.Unlock()
	if sched != nil {
		sched.Stop(ctx)
	}
	if sender != nil {
		sender.Stop()
	}
}

// reload applies a new configuration: targets added, removed and changed
// take effect; the alerts of removed targets resolve. An invalid file leaves
// the running configuration in place.
func (d *daemon) reload(ctx context.Context) error {
	cfg, err := loadConfig(d.configPath, daemonLoadOptions(d.getenv))
	if err != nil {
		d.metrics.configReloaded(false)
		return err
	}
	d.mu.Lock()
	old, oldTargets := d.cfg, d.targets
	d.mu.Unlock()
	if cfg.DatabasePath(d.getenv) != old.DatabasePath(d.getenv) {
		d.log.Warn("database path changed; it takes effect at the next restart", "database", old.DatabasePath(d.getenv))
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
				d.log.Error("resolve alerts of a removed target", "target", name, "err", err)
			}
			d.metrics.forgetTarget(name)
		}
	}
	if err := d.start(ctx, cfg, false, probe); err != nil {
		// The new file validated, so this is unexpected: keep watching
		// with the old configuration.
		d.metrics.configReloaded(false)
		if rerr := d.start(ctx, old, false, nil); rerr != nil {
			return fmt.Errorf("restart with the previous configuration: %w", rerr)
		}
		return err
	}
	d.metrics.configReloaded(true)
	d.log.Info("configuration reloaded", "config", d.configPath, "targets", len(newTargets), "changed", len(probe))
	return nil
}

// resolveRemoved resolves the open alerts of a target that is no longer
// configured.
func (d *daemon) resolveRemoved(ctx context.Context, target string, pol pinwatchd.AlertPolicy) error {
	open, err := d.db.OpenAlerts(ctx, target)
	if err != nil || len(open) == 0 {
		return err
	}
	next, changes := monitor.ResolveAll(open, "the target was removed from the configuration", pol, d.now())
	notes := make([]pinwatchd.Notification, 0, len(changes))
	for _, c := range changes {
		a := c.Alert
		notes = append(notes, pinwatchd.Notification{Type: c.Type, Alert: &a, CreatedAt: d.now().UTC()})
	}
	return d.db.SaveAlerts(ctx, next, notes)
}

// healthy is the watchdog's and /healthz's view: the scheduler has ticked
// within two intervals and the database answers.
func (d *daemon) healthy(ctx context.Context) bool {
	d.mu.Lock()
	sched := d.sched
	d.mu.Unlock()
	if sched == nil || !sched.Healthy(time.Now()) {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return d.db.Ping(pctx) == nil
}

// prune applies retention now and then every pruneEvery until ctx is done.
func (d *daemon) pruneLoop(ctx context.Context) {
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		d.mu.Lock()
		retention := d.cfg.Retention.Duration
		d.mu.Unlock()
		stats, err := d.db.Prune(ctx, d.now().Add(-retention))
		if err != nil {
			d.log.Error("prune old history", "err", err)
		} else {
			d.log.Debug("pruned old history", "stats", fmt.Sprintf("%+v", stats))
		}
		timer.Reset(pruneEvery)
	}
}

// probed feeds one round of a target into the metrics.
func (m *metrics) probed(t *pinwatchd.Target, obs []pinwatchd.Observation, findings []pinwatchd.Finding) {
	var leafNA, chainNA time.Time
	for i := range obs {
		o := &obs[i]
		result := "ok"
		if o.Error != nil {
			result = string(o.Error.Kind)
		}
		m.observeProbe(t.Name, result, o.Duration)
		if leaf := o.Leaf(); leaf != nil && (leafNA.IsZero() || leaf.NotAfter.Before(leafNA)) {
			leafNA = leaf.NotAfter
		}
		for _, c := range o.Chain() {
			if chainNA.IsZero() || c.NotAfter.Before(chainNA) {
				chainNA = c.NotAfter
			}
		}
	}
	if !leafNA.IsZero() {
		m.setLeafNotAfter(t.Name, leafNA)
		m.setChainNotAfter(t.Name, chainNA)
	}
	mismatch, noBackup := map[string]bool{}, map[string]bool{}
	for _, f := range findings {
		switch f.Kind {
		case pinwatchd.KindPinMismatch:
			mismatch[f.PinSet] = true
		case pinwatchd.KindMissingBackupPin:
			noBackup[f.PinSet] = true
		}
	}
	sets := map[string]bool{}
	for i := range obs {
		if len(obs[i].Chain()) == 0 {
			continue
		}
		for _, ps := range monitor.PinSetsFor(t, &obs[i]) {
			sets[ps.Name] = true
		}
	}
	for name := range sets {
		m.setPinMatch(t.Name, name, !mismatch[name])
		m.setBackupPresent(t.Name, name, !noBackup[name])
	}
}

// refreshGauges updates the gauges read from the database (open alerts,
// pending notifications) every interval until ctx is done.
func (d *daemon) refreshGauges(ctx context.Context, interval time.Duration) {
	if d.metrics == nil {
		return
	}
	for {
		if as, err := d.db.Alerts(ctx, false); err == nil {
			counts := map[[2]string]int{}
			for _, a := range as {
				counts[[2]string{string(a.Kind), a.Severity.String()}]++
			}
			d.metrics.setAlertsOpen(counts)
		}
		if n, _, err := d.db.PendingCount(ctx); err == nil {
			d.metrics.setNotificationsPending(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
