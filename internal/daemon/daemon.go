package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
	"github.com/pinwatchd/pinwatchd/internal/metrics"
	"github.com/pinwatchd/pinwatchd/internal/sdnotify"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/notify"
)

// Options are what a Daemon needs besides its configuration.
type Options struct {
	// ConfigPath is the file Reload reads; "" for a configuration built in
	// code, which cannot be reloaded.
	ConfigPath string
	// Log receives the daemon's log lines. Required.
	Log *slog.Logger
	// Getenv reads the environment (systemd's variables); nil means none.
	Getenv func(string) string
	// Now is the clock of probes and alerts; nil means time.Now.
	Now func() time.Time
	// Version and Commit identify the build, in the User-Agent of probes
	// and in pinwatchd_build_info.
	Version, Commit string
	// Notifier, when set, delivers the notifications instead of the
	// config's Slack or the log (the demo prints them).
	Notifier notify.Notifier
}

// Daemon is one running pinwatchd: the scheduler, the runner, the outbox
// sender, the HTTP listener and the database, rebuilt in part on Reload.
//
// A reload and the shutdown never wait on each other (SPEC §7): a reload
// holds life, which shutdown does not take; shutdown sets stopping, after
// which start installs nothing, and stops whatever is installed.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	db      store
	sd      *sdnotify.Client         // nil outside systemd
	started chan struct{}            // closed once Run has started everything
	beat    chan struct{}            // a round ended: heartbeat (nodeLoop)
	rec     *groupRecorder           // the runners' group commit, set by Run
	live    atomic.Pointer[[]string] // the other nodes heard from lately (setLive)

	startedAt time.Time // when Run started, for the nodes table

	life   sync.Mutex      // serialises start-up and reloads
	runCtx context.Context // the components' context, set by Run

	mu       sync.Mutex // guards the fields below, swapped on reload
	running  bool       // Run has started everything and not begun to stop
	stopping bool       // shutdown has begun: start installs nothing more
	cfg      *config.Config
	sched    *monitor.Scheduler
	// targets are the targets in force, targetList in config order; cfg
	// holds no TargetConfigs (see start).
	targets    map[string]*pinwatchd.Target
	targetList []pinwatchd.Target
	sender     *outboxSender
	http       *httpServer      // nil while [http] listen is off
	metrics    *metrics.Metrics // nil until the HTTP listener is first on
}

// New opens the database of cfg; Close releases it. Nothing runs until Run.
func New(ctx context.Context, cfg *config.Config, o Options) (*Daemon, error) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	db, err := openStore(ctx, cfg.DatabasePath(o.Getenv), cfg.DatabasePasswordFile)
	if err != nil {
		return nil, err
	}
	d := &Daemon{opts: o, log: o.Log, db: db, cfg: cfg, sd: sdnotify.New(o.Getenv), started: make(chan struct{}), beat: make(chan struct{}, 1)}
	// Metrics are recorded only when they are served: the series of a large
	// fleet cost memory (SPEC §11), and nothing reads them otherwise. A nil
	// *metrics.Metrics records nothing; a reload that turns the listener
	// on creates them (enableMetrics).
	if cfg.HTTPListen() != "" {
		d.metrics = metrics.New(o.Version, o.Commit)
	}
	return d, nil
}

// DatabasePath names the daemon's database: its file, or its URL without
// the password.
func (d *Daemon) DatabasePath() string { return d.db.Path() }

// Close releases the database. Call it after Run has returned.
func (d *Daemon) Close() error { return d.db.Close() }

// Run starts probing every target at once and then on its schedule,
// delivers notifications, serves the HTTP listener and applies retention,
// until ctx is done. Then it shuts down within the probe timeout plus
// ShutdownGrace: running probes finish or are cancelled, pending
// notifications are flushed (what cannot be sent stays in the outbox), and
// Run returns nil. A component that cannot start is an error, at once.
func (d *Daemon) Run(ctx context.Context) error {
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	d.startedAt = d.opts.Now().UTC()
	d.life.Lock()
	d.runCtx = runCtx
	// One group recorder for the daemon's life: rounds of the components
	// before and after a reload share it.
	d.rec = newGroupRecorder(d.db, d.log)
	d.rec.start(runCtx)
	cfg := d.config()
	// Claims on the outbox left by this node's previous life (a crash, a
	// kill -9) are its own to deliver now, not after their leases end.
	if err := d.db.ReleaseOwnersUnder(runCtx, ownerPrefix(cfg)); err != nil {
		d.log.Warn("release the claims of an earlier run", logkey.Err, err)
	}
	if err := d.startAll(runCtx, cfg); err != nil {
		d.life.Unlock()
		d.rec.Close(runCtx)
		return err
	}
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()
	d.life.Unlock()
	d.logHeartbeat(runCtx, d.heartbeat(runCtx)) // the nodes table lists this node once it is up
	close(d.started)

	d.meter().ConfigReloaded(true)
	go d.pruneLoop(runCtx)
	go d.nodeLoop(runCtx)
	go d.refreshGauges(runCtx, 5*time.Second)
	go tuneGC(runCtx, d.opts.Getenv)
	if iv, ok := sdnotify.WatchdogInterval(d.opts.Getenv); ok {
		go sdnotify.RunWatchdog(runCtx, d.sd, iv/2, func() bool { return d.healthy(runCtx) }, d.log)
	}
	if err := d.sd.Ready(); err != nil {
		d.log.Warn("sd_notify READY", logkey.Err, err)
	}
	d.log.Info("pinwatchd started", "version", d.opts.Version, logkey.Config, d.opts.ConfigPath, logkey.Database, d.db.Path(),
		"targets", len(cfg.TargetConfigs), "schedule", cfg.Schedule.String(), "notifier", d.notifierName(cfg))

	<-ctx.Done()
	d.shutdown(context.WithoutCancel(ctx))
	cancelRun()
	d.log.Info("stopped")
	return nil
}

// startAll starts the components of cfg and the HTTP listener, probing
// every target at once. If the listener cannot start, neither does the
// rest.
func (d *Daemon) startAll(ctx context.Context, cfg *config.Config) error {
	var srv *httpServer
	if addr := cfg.HTTPListen(); addr != "" {
		var err error
		if srv, err = d.openHTTP(ctx, addr); err != nil {
			return err
		}
	}
	if err := d.start(ctx, cfg, cfg.Targets(), true, nil); err != nil {
		if srv != nil {
			srv.Shutdown(ctx)
		}
		return err
	}
	d.mu.Lock()
	d.http = srv
	d.mu.Unlock()
	return nil
}

// shutdown stops scheduling and probing and the HTTP listener, then
// stops the group recorder (committing what it holds) and flushes the
// outbox, within the deadlines of shutdownDeadlines. It never
// waits for a reload in progress: it stops whatever that reload has
// installed, and the reload installs nothing once stopping is set.
func (d *Daemon) shutdown(ctx context.Context) {
	d.mu.Lock()
	d.running, d.stopping = false, true
	timeout := d.cfg.Timeout.Duration
	d.mu.Unlock()
	_ = d.sd.Stopping()
	stopBy, flushBy := shutdownDeadlines(time.Now(), timeout)
	stopCtx, cancel := context.WithDeadline(ctx, stopBy)
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		d.stopHTTP(stopCtx)
	}()
	d.stop(stopCtx)
	<-httpDone
	cancel()
	flushCtx, cancel := context.WithDeadline(ctx, flushBy)
	// Every job has returned, so no round waits for a commit any more;
	// Close only ends the recorder before the database closes.
	d.rec.Close(flushCtx)
	d.flush(flushCtx)
	cancel()
}

// config returns the configuration in force.
func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// notifierName says how notifications are delivered, for the start-up line.
func (d *Daemon) notifierName(cfg *config.Config) string {
	if d.opts.Notifier != nil {
		return "custom"
	}
	return cfg.Notifier()
}

// policy returns the alert policy of cfg.
func policy(cfg *config.Config) pinwatchd.AlertPolicy {
	return pinwatchd.AlertPolicy{
		FailureThreshold: cfg.Alerts.FailureThreshold,
		RenotifyAfter:    cfg.Alerts.RenotifyAfter.Duration,
		NotifyResolved:   cfg.Alerts.NotifyResolved,
		NotifyChanges:    cfg.Alerts.NotifyChanges,
	}
}

// errStopping is start's answer once shutdown has begun.
var errStopping = errors.New("the daemon is stopping")

// start builds the runner, scheduler and sender of cfg and starts them on
// targets (cfg's, built by cfg.Targets); with probeAll every target is
// probed at once, else only those in probe. Once shutdown has begun it
// starts nothing and returns errStopping. The daemon keeps targets and cfg
// without its decoded [[target]] tables: with 100,000 targets those were a
// third of its live heap.
func (d *Daemon) start(ctx context.Context, cfg *config.Config, targets []pinwatchd.Target, probeAll bool, probe []string) error {
	m := d.meter()
	sender, err := newOutboxSender(cfg, d.db, d.log, m, d.opts.Notifier)
	if err != nil {
		return err
	}
	prober := &monitor.Prober{Timeout: cfg.Timeout.Duration, Concurrency: cfg.Concurrency, UserAgent: "pinwatchd/" + d.opts.Version, Now: d.opts.Now,
		Resolver: monitor.NewResolver(cfg.Resolver.AddrPort), DNSServer: cfg.Resolver.AddrPort, Vantage: cfg.VantageName()}
	runner := &monitor.Runner{
		Prober: prober, Store: groupStore{store: d.db, rec: d.rec}, Log: d.log, Policy: policy(cfg), Thresholds: cfg.Thresholds(), Now: d.opts.Now,
		Hooks: monitor.Hooks{Enqueued: func(int) { sender.Wake() }}, Vantage: cfg.VantageName(),
		Vantages: liveVantages{d: d, schedule: cfg.Schedule.String()},
	}
	runner.Hooks.Probed = func(t *pinwatchd.Target, obs []pinwatchd.Observation, findings []pinwatchd.Finding) {
		m.Probed(t, obs, findings)
		d.roundDone()
	}
	// concurrency bounds the targets being probed (slots); the scheduler
	// runs more jobs at once, so that the jobs waiting for their group
	// commit, which gave back their slot, are not counted against it: up
	// to two batches of them, the one committing and the one filling.
	slots := make(probeSlots, cfg.Concurrency)
	sched := monitor.NewScheduler(d.log, cfg.Concurrency+2*groupMaxRounds, func(ctx context.Context, t *pinwatchd.Target) {
		ctx, release, err := slots.acquire(ctx)
		if err != nil {
			return // stopping
		}
		defer release()
		if err := runner.Run(ctx, t); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("probe round failed", logkey.Target, t.Name, logkey.Err, err)
		}
	})
	byName := make(map[string]*pinwatchd.Target, len(targets))
	for i := range targets {
		byName[targets[i].Name] = &targets[i]
	}
	// Checked and installed under one lock: shutdown either sees these
	// components and stops them, or start sees stopping.
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return errStopping
	}
	if err := sched.Start(ctx, cfg.Schedule.String(), targets); err != nil {
		d.mu.Unlock()
		return err
	}
	sender.Start(ctx)
	kept := *cfg
	kept.TargetConfigs = nil
	d.cfg, d.sched, d.sender, d.targets, d.targetList = &kept, sched, sender, byName, targets
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
func (d *Daemon) stop(ctx context.Context) {
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

// flush delivers pending notifications until ctx is done (shutdown).
func (d *Daemon) flush(ctx context.Context) {
	d.mu.Lock()
	sender := d.sender
	d.mu.Unlock()
	if sender == nil {
		return
	}
	if err := sender.Flush(ctx); err != nil {
		d.log.Warn("notifications still pending at shutdown; they are kept and sent after the next start", logkey.Err, err)
	}
}

// healthy is the watchdog's and /healthz's view: the scheduler has ticked
// within two intervals and the database answers.
func (d *Daemon) healthy(ctx context.Context) bool {
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

// errNotRunning is Reload's answer before Run started or after it stopped.
var errNotRunning = errors.New("the daemon is not running")

// Ready is closed once Run has started every component.
func (d *Daemon) Ready() <-chan struct{} { return d.started }
