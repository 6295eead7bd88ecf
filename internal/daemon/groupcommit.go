package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// Group commit (SPEC §11): the daemon records the rounds of its targets in
// shared transactions, one per groupWindow or groupMaxObs observations
// (or groupMaxRounds rounds), whichever comes first, never one per target.
// A transaction costs five round trips on PostgreSQL whatever it holds,
// so one per target would bound a fleet to about a thousand observations
// a second.
const (
	// groupWindow is how long the first round of a batch waits for
	// companions: targets fire spread over their jitter, so a lone one
	// usually finds some within a tenth of a second.
	groupWindow = 100 * time.Millisecond
	// groupMaxObs is the most observations in one transaction: a full
	// batch is committed at once.
	groupMaxObs = 256
	// groupMaxRounds is the most rounds (targets) in one transaction. The
	// scheduler runs 2×groupMaxRounds jobs beyond concurrency, for the
	// rounds of the batch being committed and of the batch filling: once
	// a batch holds that many, no other round can join it before the
	// probes' slots run dry, so it is committed at once. Each waiting job
	// holds its round in memory, on a worker of its own: 128 extra
	// workers keep the daemon of 10,000 targets near 61 MiB (SPEC §11:
	// under 64). A larger transaction rewrites fewer SQLite pages per
	// observation (the spans of a batch share pages): 64 rounds instead of
	// 32 cut the group commit's CPU in the steady state by about a fifth.
	groupMaxRounds = 64
)

// errRecorderClosed answers a round recorded after the daemon began to
// stop.
var errRecorderClosed = errors.New("record observations: the daemon is stopping")

// recorder is the store method a groupRecorder batches.
type recorder interface {
	// Record stores observations, of one or more targets, in one
	// transaction and returns the events it derived, each naming its
	// target; on error nothing is stored.
	Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error)
	// PendingTargets returns the targets that have chain changes not
	// announced yet.
	PendingTargets(ctx context.Context) ([]string, error)
}

// groupRecorder gathers the rounds that concurrent callers record into
// shared Record transactions. Each caller waits until its round is
// committed and gets back the events of its own targets; if a shared
// transaction fails, every round of it is retried alone, so a bad round
// fails only its caller. Rounds are committed in the order they arrive,
// one transaction at a time, by one goroutine (run). Safe for concurrent
// use; a round must name each target once, and rounds recorded at once
// must be of different targets (the scheduler never runs a target twice
// at once; should it happen, the second waits for the next batch).
type groupRecorder struct {
	db        recorder
	log       *slog.Logger
	window    time.Duration // groupWindow but in tests
	maxObs    int           // groupMaxObs but in tests
	maxRounds int           // groupMaxRounds but in tests
	// joined, when set, is called by run each time a round joins the
	// pending batch, with the batch's observations (tests).
	joined func(pending int)

	// announced holds the targets whose latest commit left no chain
	// change to announce: their runner's PendingEvents is answered
	// without a query (groupStore.PendingEvents), once.
	announced sync.Map // target name → struct{}

	reqs    chan *recordRequest
	closing chan struct{} // closed by Close: flush and stop
	stopped chan struct{} // closed when run has returned
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
}

// recordRequest is one caller's round, waiting to be committed.
type recordRequest struct {
	ctx    context.Context
	obs    []pinwatchd.Observation
	events []pinwatchd.Event
	err    error
	// nothingPending: after the commit, none of obs's targets had a
	// chain change to announce.
	nothingPending bool
	done           chan struct{} // closed once events, err and nothingPending are set
}

// newGroupRecorder returns a group recorder writing to db with the
// daemon's window and batch size; start runs it.
func newGroupRecorder(db recorder, log *slog.Logger) *groupRecorder {
	return &groupRecorder{db: db, log: log, window: groupWindow, maxObs: groupMaxObs, maxRounds: groupMaxRounds,
		reqs: make(chan *recordRequest), closing: make(chan struct{}), stopped: make(chan struct{})}
}

// start runs the recorder until Close; its transactions use ctx, which
// should outlive every caller.
func (g *groupRecorder) start(ctx context.Context) {
	g.ctx, g.cancel = context.WithCancel(ctx)
	go g.run()
}

// Record stores obs in the next shared transaction and returns, once it
// is committed, the events of obs's targets. It first gives back the
// caller's probe slot (releaseSlot), so that a round waiting for its
// commit never holds up a probe. When ctx is done first it returns
// ctx.Err(), and the round may or may not be stored; after Close it
// stores nothing and returns errRecorderClosed.
func (g *groupRecorder) Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error) {
	releaseSlot(ctx)
	if len(obs) == 0 {
		return nil, nil
	}
	req := &recordRequest{ctx: ctx, obs: obs, done: make(chan struct{})}
	select {
	case g.reqs <- req:
	case <-g.stopped:
		return nil, errRecorderClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-req.done:
		if req.err == nil && req.nothingPending {
			for i := range obs {
				g.announced.Store(obs[i].Target, struct{}{})
			}
		}
		return req.events, req.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// nothingPending reports, once, whether the latest commit of target's
// round found no chain change of target to announce.
func (g *groupRecorder) nothingPending(target string) bool {
	_, ok := g.announced.LoadAndDelete(target)
	return ok
}

// Close commits the pending batch and stops the recorder; later rounds get
// errRecorderClosed. If ctx is done first, the transaction in progress is
// cancelled (its callers get the error). Call it once no caller is left,
// before the database closes. Idempotent.
func (g *groupRecorder) Close(ctx context.Context) {
	if g.cancel == nil {
		return // never started
	}
	g.once.Do(func() { close(g.closing) })
	select {
	case <-g.stopped:
	case <-ctx.Done():
		g.cancel()
		<-g.stopped
	}
	g.cancel()
}

// run gathers rounds into batches and commits each when it is full (of
// observations or of rounds), when the window of its first round has
// passed, or at Close.
func (g *groupRecorder) run() {
	defer close(g.stopped)
	var (
		batch   []*recordRequest
		pending int // observations in batch
		targets = map[string]bool{}
		timer   = time.NewTimer(g.window)
		due     <-chan time.Time // timer.C while batch is not empty
	)
	timer.Stop()
	defer timer.Stop()
	flush := func() {
		g.commit(batch)
		clear(batch)
		batch, pending, due = batch[:0], 0, nil
		clear(targets)
		timer.Stop()
	}
	for {
		select {
		case req := <-g.reqs:
			if pending > 0 && (pending+len(req.obs) > g.maxObs || anyTarget(targets, req.obs)) {
				flush()
			}
			batch = append(batch, req)
			pending += len(req.obs)
			for i := range req.obs {
				targets[req.obs[i].Target] = true
			}
			if g.joined != nil {
				g.joined(pending)
			}
			if pending >= g.maxObs || len(batch) >= g.maxRounds {
				flush()
			} else if due == nil {
				timer.Reset(g.window)
				due = timer.C
			}
		case <-due:
			flush()
		case <-g.closing:
			flush()
			return
		}
	}
}

// anyTarget reports whether an observation of obs is of a target in set.
func anyTarget(set map[string]bool, obs []pinwatchd.Observation) bool {
	for i := range obs {
		if set[obs[i].Target] {
			return true
		}
	}
	return false
}

// commit records batch in one transaction and answers each caller with
// the events of its targets. A caller that has given up is left out. If
// the transaction fails, each round is recorded alone, so that only the
// rounds that fail by themselves are answered with an error.
func (g *groupRecorder) commit(batch []*recordRequest) {
	live := batch[:0:0]
	n := 0
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
		n += len(r.obs)
	}
	if len(live) == 0 {
		return
	}
	defer func() {
		g.checkPending(live)
		for _, r := range live {
			close(r.done)
		}
	}()
	if len(live) == 1 {
		r := live[0]
		r.events, r.err = g.db.Record(g.ctx, r.obs)
		return
	}
	obs := make([]pinwatchd.Observation, 0, n)
	for _, r := range live {
		obs = append(obs, r.obs...)
	}
	events, err := g.db.Record(g.ctx, obs)
	if err != nil {
		g.log.Warn("group commit failed; recording each target's round alone", "rounds", len(live), "observations", n, logkey.Err, err)
		for _, r := range live {
			r.events, r.err = g.db.Record(g.ctx, r.obs)
		}
		return
	}
	owner := make(map[string]*recordRequest, len(live))
	for _, r := range live {
		for i := range r.obs {
			owner[r.obs[i].Target] = r
		}
	}
	for _, ev := range events {
		if r := owner[ev.Target]; r != nil {
			r.events = append(r.events, ev)
		}
	}
}

// checkPending asks the store, once for the whole batch, which targets
// have chain changes to announce (this batch's, or left by `check
// --record`, a crash or a failed announcement), and marks the rounds of
// the others: their runners need not ask PendingEvents each. A change
// recorded by another process after this query waits for its target's
// next round. If the query fails, every runner asks for itself.
func (g *groupRecorder) checkPending(live []*recordRequest) {
	pending, err := g.db.PendingTargets(g.ctx)
	if err != nil {
		g.log.Warn("could not read which targets have chain changes to announce; each target's round asks for itself", logkey.Err, err)
		return
	}
	set := make(map[string]bool, len(pending))
	for _, t := range pending {
		set[t] = true
	}
	for _, r := range live {
		r.nothingPending = r.err == nil && !anyTarget(set, r.obs)
	}
}

// slotKey is the context key of a job's probe slot (probeSlots.acquire).
type slotKey struct{}

// probeSlots bounds the targets being probed at once to the configured
// concurrency (SPEC §7). A job holds a slot while it probes and gives it
// back when it starts to record (groupRecorder.Record calls releaseSlot):
// waiting up to groupWindow for the commit must not keep the next target
// from being probed, or a start-up round of thousands of targets would
// crawl at concurrency targets per window.
type probeSlots chan struct{}

// acquire waits for a slot and returns a context carrying its release,
// and the release itself (idempotent), or ctx's error.
func (s probeSlots) acquire(ctx context.Context) (context.Context, func(), error) {
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return ctx, nil, ctx.Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-s }) }
	return context.WithValue(ctx, slotKey{}, release), release, nil
}

// releaseSlot gives back the probe slot ctx carries, if any and not given
// back yet.
func releaseSlot(ctx context.Context) {
	if release, ok := ctx.Value(slotKey{}).(func()); ok {
		release()
	}
}

// groupStore is the daemon's store with Record batched by a groupRecorder:
// what the runner writes through.
type groupStore struct {
	store
	rec *groupRecorder
}

// Record records obs in the next group commit (groupRecorder.Record).
func (s groupStore) Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error) {
	return s.rec.Record(ctx, obs)
}

// PendingEvents returns the chain changes of target to announce, without
// a query when the commit of its latest round found none.
func (s groupStore) PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error) {
	if s.rec.nothingPending(target) {
		return nil, nil
	}
	return s.store.PendingEvents(ctx, target)
}
