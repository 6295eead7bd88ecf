package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// Store is what a Runner needs of persistence.
type Store interface {
	// Record stores one round of observations (of one or more targets) in
	// one transaction and returns the timeline events it derived. A
	// chain_changed event is stored without its notified mark, for
	// PendingEvents to find. Safe for concurrent use; writes are
	// serialised.
	Record(ctx context.Context, obs []pinwatchd.Observation) ([]pinwatchd.Event, error)
	// PendingEvents returns the chain_changed events of target that carry
	// no notified mark yet, oldest first, whoever recorded them (a round
	// of this or another daemon, `pinwatchd check --record`), each with
	// its ID. A target with none or never recorded yields none, not an
	// error. Safe for concurrent use.
	PendingEvents(ctx context.Context, target string) ([]pinwatchd.Event, error)
	// AnnounceEvents sets the notified mark of the events ids and enqueues
	// notes (each about one of them, by Event.ID) in one transaction, and
	// returns how many notifications it enqueued. An event already marked,
	// or unknown, is skipped with its notes: each event is enqueued at
	// most once however many callers race, and a repeated call is
	// harmless. With no notes the events are only marked. A note about
	// none of ids is an error and nothing is written. Safe for concurrent
	// use; writes are serialised.
	AnnounceEvents(ctx context.Context, ids []int64, notes []pinwatchd.Notification) (int, error)
	// UpdateAlerts moves the open alerts of target: in one transaction,
	// serialised with every other node's UpdateAlerts of target, it runs
	// fn on them and stores the alerts fn returns (inserted when their ID
	// is 0, updated otherwise) with its notifications (those about an
	// alert without an ID get the alert's new ID). An error of fn stores
	// nothing. fn must not call the store.
	UpdateAlerts(ctx context.Context, target string, fn func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error)) error
	// OpenAlerts returns the open alerts of target; none is not an error.
	// A read outside UpdateAlerts: it lets a round with nothing to alert
	// about skip the write.
	OpenAlerts(ctx context.Context, target string) ([]pinwatchd.Alert, error)
	// FailureCounts returns, per address of target, how many probes in a
	// row from vantage have failed up to the latest one; addresses whose
	// latest probe from vantage succeeded are absent.
	FailureCounts(ctx context.Context, target, vantage string) (map[string]int, error)
	// NameState returns what the alert rules of vantage remember of
	// target's name; the zero NameState when nothing is stored. Each
	// vantage has its own, as each resolves names from where it is; one
	// with none gets what was stored before vantages existed.
	NameState(ctx context.Context, target, vantage string) (pinwatchd.NameState, error)
	// SaveNameState replaces vantage's and drops what was stored before
	// vantages existed; the zero NameState forgets it. Idempotent.
	SaveNameState(ctx context.Context, target, vantage string, s pinwatchd.NameState) error
}

// Hooks let the caller observe what a Runner does (metrics); every field is
// optional.
type Hooks struct {
	// Probed is called once per round of a target with its observations
	// and findings.
	Probed func(t *pinwatchd.Target, obs []pinwatchd.Observation, findings []pinwatchd.Finding)
	// Enqueued is called after notifications were stored, to wake the
	// sender.
	Enqueued func(n int)
}

// Runner probes a target, records what it saw, evaluates it and moves its
// alerts through their lifecycle, enqueuing the notifications. It is safe for
// concurrent use on different targets.
type Runner struct {
	Prober     *Prober
	Store      Store
	Log        *slog.Logger
	Policy     pinwatchd.AlertPolicy
	Thresholds pinwatchd.Thresholds
	Now        func() time.Time
	Hooks      Hooks
	// Vantage names this node (SPEC §14): its rounds add and clear its
	// own sites of the alerts the nodes of one database share.
	Vantage string
	// Vantages, when set, compares this node's view of each target with
	// the other live nodes' (vantage_inconsistent, SPEC §14).
	Vantages Vantages

	mu       sync.Mutex
	memory   map[string]Memory // per target, after its latest round
	disagree map[string]int    // per target, consecutive vantage disagreements
	// calm holds the targets whose latest round left no open alert at
	// all (Process skips their alert read while nothing alerts).
	calm map[string]bool
}

// quiet reports whether the latest round of target left no open alert.
func (r *Runner) quiet(target string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calm[target]
}

// setQuiet records whether the round of target just processed left no
// open alert.
func (r *Runner) setQuiet(target string, quiet bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !quiet {
		delete(r.calm, target)
		return
	}
	if r.calm == nil {
		r.calm = map[string]bool{}
	}
	r.calm[target] = true
}

// Run probes t once and processes the result. Errors are storage errors;
// the probe's own failures are findings. An mx target's round resolves its
// MX records and runs a round of every exchange (see runMX).
func (r *Runner) Run(ctx context.Context, t *pinwatchd.Target) error {
	if t.MX != "" {
		return r.runMX(ctx, t)
	}
	obs := r.Prober.Probe(ctx, t)
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: a cancelled probe is not an observation
	}
	return r.Process(ctx, t, obs)
}

// Process records and evaluates one round of observations of t, moves its
// alerts and then announces its chain changes (announceEvents).
func (r *Runner) Process(ctx context.Context, t *pinwatchd.Target, obs []pinwatchd.Observation) error {
	now := r.Now().UTC()
	if _, err := r.Store.Record(ctx, obs); err != nil {
		return fmt.Errorf("record %s: %w", t.Name, err)
	}
	findings := Evaluate(t, obs, r.Thresholds, now)
	for _, o := range obs {
		if o.Error != nil {
			r.Log.Warn("probe failed", logkey.Target, t.Name, logkey.Address, o.Address, logkey.Kind, string(o.Error.Kind), logkey.Err, o.Error.Message)
		}
	}
	if r.Hooks.Probed != nil {
		r.Hooks.Probed(t, obs, findings)
	}
	before, err := r.recall(ctx, t, obs)
	if err != nil {
		return err
	}
	// A target whose latest round left no open alert, and whose round
	// now has nothing to alert about, has nothing to move: no other node
	// adds this node's sites to an alert, so the read is skipped.
	var open []pinwatchd.Alert
	if alertable(findings) || !r.quiet(t.Name) {
		if open, err = r.Store.OpenAlerts(ctx, t.Name); err != nil {
			return fmt.Errorf("load alerts of %s: %w", t.Name, err)
		}
	}
	f, ok, err := r.vantageFinding(ctx, t, open)
	if err != nil {
		r.Log.Warn("vantage comparison failed", logkey.Target, t.Name, logkey.Err, err)
	}
	if ok {
		findings = append(findings, f)
	}
	after, _ := before.Advance(obs, nil, r.Policy.FailureThreshold)
	n, quiet := 0, true
	if len(open) > 0 || alertable(findings) {
		n, err = r.update(ctx, t, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.AlertChange) {
			var gone []string
			after, gone = before.Advance(obs, ViewOf(open, r.Vantage), r.Policy.FailureThreshold)
			round := NewRound(obs, findings, after, gone)
			round.Vantage = r.Vantage
			next, changes := UpdateAlerts(t.Name, open, round, r.Policy, now)
			quiet = len(open) == 0 && len(next) == 0
			return next, changes
		})
		if err != nil {
			r.setQuiet(t.Name, false)
			return err
		}
	}
	r.setQuiet(t.Name, quiet)
	if err := r.remember(ctx, t, before, after); err != nil {
		return err
	}
	r.enqueued(n)
	return r.announceEvents(ctx, t, now)
}

// alertable reports whether a finding may open an alert: its severity is
// warning or above (groupFindings).
func alertable(findings []pinwatchd.Finding) bool {
	for i := range findings {
		if findings[i].Severity >= pinwatchd.SeverityWarning && findings[i].Kind != pinwatchd.KindChainChanged {
			return true
		}
	}
	return false
}

// update moves the open alerts of t with fn in one store transaction (see
// Store.UpdateAlerts) and enqueues the notifications of the changes fn
// returns, addressed to t's Slack channel. It returns how many it
// enqueued; the caller wakes the sender.
func (r *Runner) update(ctx context.Context, t *pinwatchd.Target, fn func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.AlertChange)) (int, error) {
	now := r.Now().UTC()
	enqueued := 0
	err := r.Store.UpdateAlerts(ctx, t.Name, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
		next, changes := fn(open)
		notes := make([]pinwatchd.Notification, 0, len(changes))
		for _, c := range changes {
			a := c.Alert
			notes = append(notes, pinwatchd.Notification{Channel: t.SlackChannel, Type: c.Type, Alert: &a, PrevSeverity: c.PrevSeverity, CreatedAt: now})
		}
		enqueued = len(notes)
		return next, notes, nil
	})
	if err != nil {
		return 0, fmt.Errorf("save alerts of %s: %w", t.Name, err)
	}
	return enqueued, nil
}

// announceEvents announces every chain_changed event of t that is not yet
// announced (SPEC §6): the one this round recorded, and any that
// `check --record` recorded or that a round stopped by a crash, a reload or
// a failed write left behind. Each event's notification and its notified
// mark are written in one transaction, so it is announced exactly once;
// with NotifyChanges off it is marked and only logged.
func (r *Runner) announceEvents(ctx context.Context, t *pinwatchd.Target, now time.Time) error {
	events, err := r.Store.PendingEvents(ctx, t.Name)
	if err != nil {
		return fmt.Errorf("load chain changes of %s: %w", t.Name, err)
	}
	if len(events) == 0 {
		return nil
	}
	ids := make([]int64, len(events))
	var notes []pinwatchd.Notification
	for i, ev := range events {
		ids[i] = ev.ID
		if !r.Policy.NotifyChanges {
			// Otherwise the notification's own log line says it.
			r.Log.Info("chain changed", logkey.Target, ev.Target, logkey.Address, ev.Address, "class", string(ev.Class), "old_leaf_pin", ev.OldLeafPin, "new_leaf_pin", ev.NewLeafPin)
			continue
		}
		notes = append(notes, pinwatchd.Notification{Channel: t.SlackChannel, Type: pinwatchd.ChangeChainChanged, Event: &ev, CreatedAt: now})
	}
	n, err := r.Store.AnnounceEvents(ctx, ids, notes)
	if err != nil {
		return fmt.Errorf("announce chain changes of %s: %w", t.Name, err)
	}
	if r.Hooks.Enqueued != nil && n > 0 {
		r.Hooks.Enqueued(n)
	}
	return nil
}

// recall returns the memory of t before the round obs, loading it from the
// store the first time t is seen (after a start or a reload), once obs is
// recorded.
func (r *Runner) recall(ctx context.Context, t *pinwatchd.Target, obs []pinwatchd.Observation) (Memory, error) {
	r.mu.Lock()
	m, known := r.memory[t.Name]
	r.mu.Unlock()
	if known {
		return m, nil
	}
	// The memory is this node's: the failures its own probes saw.
	var vantage string
	if len(obs) > 0 {
		vantage = obs[0].Vantage
	}
	failures, err := r.Store.FailureCounts(ctx, t.Name, vantage)
	if err != nil {
		return Memory{}, fmt.Errorf("load failure counts of %s: %w", t.Name, err)
	}
	name, err := r.Store.NameState(ctx, t.Name, r.Vantage)
	if err != nil {
		return Memory{}, fmt.Errorf("load the name state of %s: %w", t.Name, err)
	}
	return seedMemory(failures, name, obs, nameAddress(t)), nil
}

// remember keeps the memory after a round of t, storing the name's part of
// it when it changed (rarely: while the name fails to resolve or an
// alerted address is missing from its answers).
func (r *Runner) remember(ctx context.Context, t *pinwatchd.Target, before, after Memory) error {
	r.mu.Lock()
	if r.memory == nil {
		r.memory = map[string]Memory{}
	}
	r.memory[t.Name] = after
	r.mu.Unlock()
	addr := nameAddress(t)
	if s := after.nameState(addr); !sameNameState(s, before.nameState(addr)) {
		if err := r.Store.SaveNameState(ctx, t.Name, r.Vantage, s); err != nil {
			return fmt.Errorf("save the name state of %s: %w", t.Name, err)
		}
	}
	return nil
}
