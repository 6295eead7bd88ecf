package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// NodeStore is what ForgetNode needs of the database the nodes share.
type NodeStore interface {
	// Nodes returns every node's row, ordered by vantage.
	Nodes(ctx context.Context) ([]pinwatchd.Node, error)
	// ForgetNode deletes the row of the node vantage; false when there
	// was none.
	ForgetNode(ctx context.Context, vantage string) (bool, error)
	// Alerts returns the open alerts (every retained one with all).
	Alerts(ctx context.Context, all bool) ([]pinwatchd.Alert, error)
	// UpdateAlerts moves the open alerts of target in one transaction,
	// serialised with the nodes' own (see Store).
	UpdateAlerts(ctx context.Context, target string, fn func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error)) error
}

// ErrNodeAlive is returned by ForgetNode for a node that reported lately:
// a running node would write its row again at its next heartbeat.
var ErrNodeAlive = errors.New("the node is running")

// Forgotten is what ForgetNode did.
type Forgotten struct {
	// Withdrawn counts the open alerts the node's sites were taken off,
	// Resolved those of them no other vantage lists, now resolved.
	Withdrawn, Resolved int
}

// ForgetNode removes a node that left for good (decommissioned, renamed)
// from the database the nodes share (SPEC §14): its row in the nodes table,
// so that the others resolve its vantage_silent alert and stop comparing
// with it, and its (vantage, address) sites on the open alerts, each alert
// no other vantage lists being resolved with a notification (delivered by
// a running daemon, to channelOf(target), nil meaning the default
// channel). A node whose last heartbeat is more recent than alive is
// refused with ErrNodeAlive. Alerts that list no site of the node are left
// as they are.
func ForgetNode(ctx context.Context, s NodeStore, vantage string, alive time.Duration, pol pinwatchd.AlertPolicy,
	channelOf func(target string) string, now time.Time) (Forgotten, error) {
	var done Forgotten
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return done, err
	}
	i := slices.IndexFunc(nodes, func(n pinwatchd.Node) bool { return n.Vantage == vantage })
	if i < 0 {
		return done, fmt.Errorf("no node %q shares the database (see pinwatchd nodes)", vantage)
	}
	if age := now.Sub(nodes[i].LastSeen); age < alive {
		return done, fmt.Errorf("node %q reported %s ago: %w; stop it first, then forget it once it has been silent for %s",
			vantage, age.Round(time.Second), ErrNodeAlive, alive)
	}
	if _, err := s.ForgetNode(ctx, vantage); err != nil {
		return done, err
	}
	open, err := s.Alerts(ctx, false)
	if err != nil {
		return done, err
	}
	var targets []string
	for _, a := range open {
		if listsVantage(a, vantage) && !slices.Contains(targets, a.Target) {
			targets = append(targets, a.Target)
		}
	}
	reason := "node " + vantage + " was forgotten"
	for _, target := range targets {
		channel := ""
		if channelOf != nil {
			channel = channelOf(target)
		}
		err := s.UpdateAlerts(ctx, target, func(open []pinwatchd.Alert) ([]pinwatchd.Alert, []pinwatchd.Notification, error) {
			mine := slices.DeleteFunc(slices.Clone(open), func(a pinwatchd.Alert) bool { return !listsVantage(a, vantage) })
			next, changes := Withdraw(mine, vantage, reason, pol, now)
			done.Withdrawn += len(next)
			notes := make([]pinwatchd.Notification, 0, len(changes))
			for _, c := range changes {
				a := c.Alert
				done.Resolved++
				notes = append(notes, pinwatchd.Notification{Channel: channel, Type: c.Type, Alert: &a, CreatedAt: now})
			}
			return next, notes, nil
		})
		if err != nil {
			return done, fmt.Errorf("take node %s off the alerts of %s: %w", vantage, target, err)
		}
	}
	return done, nil
}

// listsVantage reports whether a lists a site of vantage.
func listsVantage(a pinwatchd.Alert, vantage string) bool {
	return slices.ContainsFunc(a.Sites, func(s pinwatchd.Site) bool { return s.Vantage == vantage })
}
