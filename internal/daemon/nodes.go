package daemon

import (
	"context"
	"fmt"
	"os"
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

// checkNodes applies monitor.SilentNodes for the node self and saves what
// changed with its notifications, through SaveAlerts (one transaction).
// Another node opening the same alert at the same time is no failure: the
// database keeps one open alert per identity and refuses the second, which
// then finds the alert open and leaves it be.
func (d *Daemon) checkNodes(ctx context.Context, self string, silentAfter time.Duration, pol pinwatchd.AlertPolicy, now time.Time) error {
	nodes, err := d.db.Nodes(ctx)
	if err != nil {
		return err
	}
	open, err := d.db.OpenAlertsUnder(ctx, monitor.VantageTargetPrefix)
	if err != nil {
		return err
	}
	next, changes := monitor.SilentNodes(self, nodes, open, silentAfter, pol, now)
	if len(next) == 0 {
		return nil
	}
	notes := make([]pinwatchd.Notification, 0, len(changes))
	for _, c := range changes {
		a := c.Alert
		notes = append(notes, pinwatchd.Notification{Type: c.Type, Alert: &a, PrevSeverity: c.PrevSeverity, CreatedAt: now})
	}
	if err := d.db.SaveAlerts(ctx, next, notes); err != nil {
		if d.openedElsewhere(ctx, next) {
			d.log.Debug("another node opened the vantage_silent alerts first", logkey.Err, err)
			return nil
		}
		return fmt.Errorf("save the vantage_silent alerts: %w", err)
	}
	for _, c := range changes {
		d.log.Info("node alert "+string(c.Type), logkey.Target, c.Alert.Target, logkey.Kind, string(c.Alert.Kind), "message", c.Alert.Message)
	}
	if len(notes) > 0 {
		d.mu.Lock()
		sender := d.sender
		d.mu.Unlock()
		if sender != nil {
			sender.Wake()
		}
	}
	return nil
}

// openedElsewhere reports whether every alert of next that was to be
// opened is open in the database now: another node opened it first.
func (d *Daemon) openedElsewhere(ctx context.Context, next []pinwatchd.Alert) bool {
	open, err := d.db.OpenAlertsUnder(ctx, monitor.VantageTargetPrefix)
	if err != nil {
		return false
	}
	isOpen := map[pinwatchd.AlertKey]bool{}
	for i := range open {
		isOpen[open[i].Key()] = true
	}
	opening := false
	for i := range next {
		if next[i].ID == 0 {
			opening = true
			if !isOpen[next[i].Key()] {
				return false
			}
		}
	}
	return opening
}

// hostName is the machine's name for the nodes table; "" when unknown.
func hostName() string {
	h, _ := os.Hostname()
	return h
}
