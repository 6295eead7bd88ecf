package monitor

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// maxJitter caps the per-target delay of a scheduled run.
const maxJitter = 30 * time.Second

var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// scheduleHint says how a schedule is written.
const scheduleHint = `write five fields (minute hour day-of-month month day-of-week) such as "*/15 * * * *", or "@hourly", "@daily", "@every 5m"`

// CheckSchedule reports whether spec is a schedule the Scheduler runs: five
// cron fields ("*/15 * * * *") or a descriptor ("@hourly", "@every 5m"),
// optionally led by "TZ=Zone " or "CRON_TZ=Zone ", that fires at least once
// (SPEC §16: "0 0 30 2 *" never does). The error names the spec and says how
// to write one; malformed input never panics.
func CheckSchedule(spec string) error {
	_, err := parseSchedule(spec)
	return err
}

// parseSchedule parses a spec (see CheckSchedule). Specs run in UTC unless
// a zone is given. A "TZ=" or "CRON_TZ=" prefix must name a zone and be
// followed by a space and the schedule: robfig's parser panics otherwise.
func parseSchedule(spec string) (s cron.Schedule, err error) {
	trimmed := strings.TrimSpace(spec)
	if trimmed == "" {
		return nil, fmt.Errorf("schedule is empty; %s", scheduleHint)
	}
	rest := trimmed
	if strings.HasPrefix(rest, "TZ=") || strings.HasPrefix(rest, "CRON_TZ=") {
		_, tz, _ := strings.Cut(rest, "=")
		zone, after, ok := strings.Cut(tz, " ")
		if !ok || zone == "" || strings.TrimSpace(after) == "" {
			return nil, fmt.Errorf("schedule %q: a TZ= or CRON_TZ= prefix needs a zone, a space and then the schedule, e.g. \"CRON_TZ=Europe/Berlin 0 9 * * *\"", spec)
		}
		if _, err := time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("schedule %q: unknown time zone %q", spec, zone)
		}
		rest = strings.TrimSpace(after)
	}
	if every, ok := strings.CutPrefix(rest, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(every))
		if err != nil {
			return nil, fmt.Errorf("schedule %q: @every takes a duration in s, m or h such as \"@every 5m\" or \"@every 24h\"", spec)
		}
		if d < time.Second {
			return nil, fmt.Errorf("schedule %q: @every needs a duration of at least 1s", spec)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schedule %q is not a valid cron spec; %s", trimmed, scheduleHint)
		}
	}()
	s, err = specParser.Parse(trimmed)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v; %s", trimmed, err, scheduleHint)
	}
	// cron's Next gives up after five years and returns the zero time. Every
	// five-field spec repeats at least every four years (February 29), so
	// one that finds no activation from any reference time never fires.
	if s.Next(scheduleReference).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires: no date matches its day-of-month and month (such as February 30 or April 31); %s", trimmed, scheduleHint)
	}
	return s, nil
}

// scheduleReference is the fixed time from which schedules are examined
// (CheckSchedule, Interval), so the answer never depends on the clock.
var scheduleReference = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Interval estimates the time between two runs of s: the shortest gap among
// its next few activations after a fixed reference time.
func Interval(s cron.Schedule) time.Duration {
	shortest := time.Duration(0)
	prev := s.Next(scheduleReference)
	for range 8 {
		next := s.Next(prev)
		if gap := next.Sub(prev); gap > 0 && (shortest == 0 || gap < shortest) {
			shortest = gap
		}
		prev = next
	}
	return shortest
}

// NextGap returns the time between the next two runs of the schedule spec
// after now; 0 for a spec CheckSchedule refuses.
func NextGap(spec string, now time.Time) time.Duration {
	s, err := parseSchedule(spec)
	if err != nil {
		return 0
	}
	first := s.Next(now.UTC())
	return s.Next(first).Sub(first)
}

// Jitter returns the stable delay of a target's scheduled runs: a hash of its
// name, at most a tenth of the interval and at most 30 s.
func Jitter(name string, interval time.Duration) time.Duration {
	limit := min(interval/10, maxJitter)
	if limit < time.Second {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64()%uint64(limit/time.Second)) * time.Second
}

// jittered delays every activation of a schedule by a fixed amount. Its
// first activation is the first slot after start-up (a slot that has just
// passed is covered by the start-up probe); later ones follow the slots, each
// shifted by the delay. Next is only called from cron's scheduling goroutine.
type jittered struct {
	inner   cron.Schedule
	delay   time.Duration
	started bool
}

func (j *jittered) Next(t time.Time) time.Time {
	if !j.started {
		j.started = true
		return j.inner.Next(t).Add(j.delay)
	}
	if _, ok := j.inner.(cron.ConstantDelaySchedule); ok {
		return j.inner.Next(t)
	}
	return j.inner.Next(t.Add(-j.delay)).Add(j.delay)
}

// Scheduler runs a job for each target on its cron schedule, in UTC, with a
// stable per-target jitter; a target whose previous run is still going is
// skipped, at most Concurrency jobs run at once, and a panicking job is
// recovered and logged.
//
// The targets that share a schedule and a jitter fire at the same instants,
// so they share one cron entry, and the jobs run on a fixed set of worker
// goroutines: a round of many targets costs neither a cron entry nor a new
// goroutine (with its stack grown again) per target, and cron's scheduling
// goroutine sorts a few entries, not one per target.
type Scheduler struct {
	cron     *cron.Cron
	log      *slog.Logger
	workers  int
	job      func(ctx context.Context, t *pinwatchd.Target)
	ctx      context.Context
	cancel   context.CancelFunc
	work     chan *scheduled // to the workers, unbuffered
	stopping chan struct{}   // closed by Stop: hand out nothing more
	quit     chan struct{}   // closed by Stop once nothing is handed out
	dispatch sync.WaitGroup  // RunNow's goroutines
	pool     sync.WaitGroup  // the workers
	stopOnce sync.Once
	lastTick atomic.Int64 // unix nanos of the last job start (or of Start)
	interval time.Duration
	targets  map[string]*scheduled
}

// scheduled is one target of a running Scheduler: an element of the slice
// given to Start, not a copy (a fleet of 100,000 targets is held once).
type scheduled struct {
	target  *pinwatchd.Target
	running atomic.Bool // handed to a worker and not finished yet
}

// NewScheduler prepares a scheduler that calls job for each target it runs.
// concurrency bounds jobs in flight (at least 1).
func NewScheduler(log *slog.Logger, concurrency int, job func(ctx context.Context, t *pinwatchd.Target)) *Scheduler {
	return &Scheduler{log: log, workers: max(concurrency, 1), job: job}
}

// slot is the cron entry of the targets that share a schedule and a jitter.
type slot struct {
	spec  string
	delay time.Duration
}

// Start schedules every target (its own Schedule, else defaultSpec). Specs
// must have been validated; an invalid one is an error naming the target.
// Call RunNow to probe targets immediately, as at start-up. The scheduler
// keeps using the elements of targets: the caller must not change them
// while it runs.
func (s *Scheduler) Start(ctx context.Context, defaultSpec string, targets []pinwatchd.Target) error {
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.cron = cron.New(cron.WithLocation(time.UTC), cron.WithParser(specParser), cron.WithLogger(cronLogger{s.log}))
	s.lastTick.Store(time.Now().UnixNano())
	s.targets = make(map[string]*scheduled, len(targets))
	s.work, s.stopping, s.quit = make(chan *scheduled), make(chan struct{}), make(chan struct{})
	states := make([]scheduled, len(targets))
	specs := map[string]cron.Schedule{} // each distinct spec parsed once
	slots := map[slot][]*scheduled{}
	var order []slot // slots in the order of their first target
	for i := range targets {
		st := &states[i]
		st.target = &targets[i]
		s.targets[st.target.Name] = st
		spec := defaultSpec
		if st.target.Schedule != "" {
			spec = st.target.Schedule
		}
		sched, ok := specs[spec]
		if !ok {
			var err error
			if sched, err = parseSchedule(spec); err != nil {
				s.cancel()
				return fmt.Errorf("target %q: %w", st.target.Name, err)
			}
			specs[spec] = sched
		}
		iv := Interval(sched)
		if s.interval == 0 || iv < s.interval {
			s.interval = iv
		}
		k := slot{spec, Jitter(st.target.Name, iv)}
		if _, ok := slots[k]; !ok {
			order = append(order, k)
		}
		slots[k] = append(slots[k], st)
	}
	for _, k := range order {
		list := slices.Clip(slots[k])
		s.cron.Schedule(&jittered{inner: specs[k.spec], delay: k.delay}, cron.FuncJob(func() { s.hand(list) }))
	}
	for range s.workers {
		s.pool.Go(s.worker)
	}
	s.cron.Start()
	return nil
}

// RunNow runs the named targets (every target when names is empty) once,
// now, without jitter and without waiting for them. Unknown names are
// ignored; a target already running is skipped.
func (s *Scheduler) RunNow(names ...string) {
	var list []*scheduled
	if len(names) == 0 {
		for _, st := range s.targets {
			list = append(list, st)
		}
	}
	for _, n := range names {
		if st, ok := s.targets[n]; ok {
			list = append(list, st)
		}
	}
	s.dispatch.Go(func() { s.hand(list) })
}

// hand gives each target of list to the next free worker, skipping those
// still running, until the list is done or the scheduler stops.
func (s *Scheduler) hand(list []*scheduled) {
	for _, st := range list {
		if !st.running.CompareAndSwap(false, true) {
			s.log.Warn("previous probe still running; skipping this run", logkey.Target, st.target.Name)
			continue
		}
		select {
		case s.work <- st:
		case <-s.stopping:
			st.running.Store(false)
			return
		}
	}
}

// worker runs the targets handed to it until Stop.
func (s *Scheduler) worker() {
	for {
		select {
		case st := <-s.work:
			s.runJob(st.target)
			st.running.Store(false)
		case <-s.quit:
			return
		}
	}
}

// runJob runs the job, recovering a panic.
func (s *Scheduler) runJob(t *pinwatchd.Target) {
	s.lastTick.Store(time.Now().UnixNano())
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("probe job panicked", logkey.Target, t.Name, "panic", fmt.Sprint(r))
		}
	}()
	s.job(s.ctx, t)
}

// Healthy reports whether the scheduler has started a job (or started)
// within two of its shortest intervals (plus the largest jitter) before now.
// The limit saturates, so an interval of any length is never overdue early.
func (s *Scheduler) Healthy(now time.Time) bool {
	if s.cron == nil || s.interval == 0 {
		return s.cron != nil
	}
	last := time.Unix(0, s.lastTick.Load())
	return now.Sub(last) <= addSaturating(addSaturating(s.interval, s.interval), maxJitter)
}

// addSaturating returns a+b for non-negative durations, or the longest
// duration when the sum does not fit.
func addSaturating(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Stop stops scheduling (targets of a round not started yet are not
// started) and waits for running jobs; once ctx is done it cancels their
// context and waits for them to return.
func (s *Scheduler) Stop(ctx context.Context) {
	if s.cron == nil {
		return
	}
	s.stopOnce.Do(func() {
		close(s.stopping)
		<-s.cron.Stop().Done() // its jobs only hand out targets: they return at once
		s.dispatch.Wait()
		close(s.quit)
	})
	done := make(chan struct{})
	go func() { s.pool.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
	s.cancel()
}

// cronLogger sends cron's chatter to Debug and its errors to Error.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, logkey.Err, err)...)
}
