package daemon

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// Liveness of the nodes sharing the database (SPEC §14): each heartbeats
// its row at start-up, every heartbeatEvery and after its rounds, and
// raises vantage_silent for the others that go quiet.
const (
	// heartbeatEvery is the longest time between two heartbeats.
	heartbeatEvery = 10 * time.Second
	// heartbeatGap is the shortest: a large fleet ends rounds all the
	// time, and one write a second says all there is to say.
	heartbeatGap = time.Second
)

// roundDone asks for a heartbeat after a round, without waiting.
func (d *Daemon) roundDone() {
	select {
	case d.beat <- struct{}{}:
	default:
	}
}

// nodeLoop heartbeats and applies the vantage_silent rule every
// heartbeatEvery and after rounds (at most once per heartbeatGap), until
// ctx is done. Run heartbeats once before it starts the loop.
func (d *Daemon) nodeLoop(ctx context.Context) {
	ticker := time.NewTicker(heartbeatEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-d.beat:
			select {
			case <-ctx.Done():
				return
			case <-time.After(heartbeatGap):
			}
		}
		d.logHeartbeat(ctx, d.heartbeat(ctx))
	}
}

// logHeartbeat logs a failed heartbeat, unless the daemon is stopping.
func (d *Daemon) logHeartbeat(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil {
		d.log.Error("heartbeat", logkey.Err, err)
	}
}

// heartbeat stores this node's row, then opens and resolves the
// vantage_silent alerts of the nodes it sees.
func (d *Daemon) heartbeat(ctx context.Context) error {
	cfg := d.config()
	now := d.opts.Now().UTC()
	self := pinwatchd.Node{Vantage: cfg.VantageName(), Host: hostName(), Version: d.opts.Version, StartedAt: d.startedAt, LastSeen: now}
	if err := d.db.Heartbeat(ctx, self); err != nil {
		return err
	}
	return d.checkNodes(ctx, cfg.VantageName(), cfg.NodeSilentAfter(now), policy(cfg), now)
}

// checkNodes applies monitor.SilentNodes for the node self, one silent
// node at a time: each node's vantage_silent alert (target vantage/NAME) is
// moved through UpdateAlerts, so the survivors serialise on it and only the
// first to see a change opens, reminds or resolves it, with its
// notification in the same transaction.
func (d *Daemon) checkNodes(ctx context.Context, self string, silentAfter time.Duration, pol pinwatchd.AlertPolicy, now time.Time) error {
	nodes, err := d.db.Nodes(ctx)
	if err != nil {
		return err
	}
	d.setLive(self, nodes, silentAfter, now)
	open, err := d.db.OpenAlertsUnder(ctx, monitor.VantageTargetPrefix)
	if err != nil {
		return err
	}
	// A target per node, and per open alert whose node's row is gone.
	byTarget := map[string][]pinwatchd.Node{}
	for _, n := range nodes {
		byTarget[monitor.VantageTargetPrefix+n.Vantage] = append(byTarget[monitor.VantageTargetPrefix+n.Vantage], n)
	}
	alerted := map[string]bool{}
	for _, a := range open {
		alerted[a.Target] = true
		if _, ok := byTarget[a.Target]; !ok {
			byTarget[a.Target] = nil
		}
	}
	targets := make([]string, 0, len(byTarget))
	for t := range byTarget {
		targets = append(targets, t)
	}
	slices.Sort(targets)
	enqueued := 0
	for _, target := range targets {
		if _, ch := monitor.SilentNodes(self, byTarget[target], nil, silentAfter, pol, now); !alerted[target] && len(ch) == 0 {
			// Nothing open and nothing to open (this node, a live
			// one): no write. Should another node open it meanwhile,
			// the next heartbeat sees it.
			continue
		}
		var changes []pinwatchd.AlertChange
		err := d.db.UpdateAlerts(ctx, target, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
			next, ch := monitor.SilentNodes(self, byTarget[target], open, silentAfter, pol, now)
			changes = ch
			notes := make([]pinwatchd.Notification, 0, len(ch))
			for _, c := range ch {
				a := c.Alert
				notes = append(notes, pinwatchd.Notification{Type: c.Type, Alert: &a, PrevSeverity: c.PrevSeverity, CreatedAt: now})
			}
			return next, notes, nil
		})
		if err != nil {
			return fmt.Errorf("move the vantage_silent alert of %s: %w", target, err)
		}
		for _, c := range changes {
			d.log.Info("node alert "+string(c.Type), logkey.Target, c.Alert.Target, logkey.Kind, string(c.Alert.Kind), "message", c.Alert.Message)
		}
		enqueued += len(changes)
	}
	if enqueued > 0 {
		d.mu.Lock()
		sender := d.sender
		d.mu.Unlock()
		if sender != nil {
			sender.Wake()
		}
	}
	return nil
}

// hostName is the machine's name for the nodes table; "" when unknown.
func hostName() string {
	h, _ := os.Hostname()
	return h
}

// setLive keeps the vantages of the other nodes that are not silent, for
// the runners' vantage comparison (liveVantages).
func (d *Daemon) setLive(self string, nodes []pinwatchd.Node, silentAfter time.Duration, now time.Time) {
	var live []string
	for _, n := range nodes {
		if n.Vantage != self && now.Sub(n.LastSeen) < silentAfter {
			live = append(live, n.Vantage)
		}
	}
	d.live.Store(&live)
}

// liveVantages is the daemon's monitor.Vantages: the nodes it heard from
// lately, each target's schedule interval, and the database's latest
// observations.
type liveVantages struct {
	d        *Daemon
	schedule string // the config's default schedule
}

func (v liveVantages) Live() []string {
	if p := v.d.live.Load(); p != nil {
		return *p
	}
	return nil
}

func (v liveVantages) Interval(t *pinwatchd.Target) time.Duration {
	spec := t.Schedule
	if spec == "" {
		spec = v.schedule
	}
	return monitor.NextGap(spec, v.d.opts.Now())
}

func (v liveVantages) LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	return v.d.db.LatestObservations(ctx, target)
}
