package monitor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// VantageTargetPrefix starts the target name of the alerts about a node
// sharing the database (SPEC §14): vantage_silent of node NAME is about
// the target "vantage/NAME".
const VantageTargetPrefix = "vantage/"

// SilentNodes is the vantage_silent rule of SPEC §14 as a pure function,
// applied by the node self at now. nodes are the heartbeat rows of every
// node sharing the database, open the open vantage_silent alerts (other
// kinds are ignored), silentAfter is `[alerts] node_silent_after`.
//
// A node other than self whose latest heartbeat is silentAfter old or
// older opens a warning (target "vantage/NAME", subject NAME, no
// address); a node never raises it for itself. An open alert resolves,
// whoever applies the rule (the node itself included), once its node
// heartbeats again, or when its node's row is gone. A still-silent
// node's alert is reminded after pol.RenotifyAfter. It returns only the
// alerts that changed (to be stored) and the changes to announce.
func SilentNodes(self string, nodes []pinwatchd.Node, open []pinwatchd.Alert, silentAfter time.Duration, pol pinwatchd.AlertPolicy, now time.Time) (next []pinwatchd.Alert, changes []pinwatchd.AlertChange) {
	now = now.UTC()
	silent := map[string]pinwatchd.Node{}
	listed := map[string]bool{}
	for _, n := range nodes {
		listed[n.Vantage] = true
		if n.Vantage != self && now.Sub(n.LastSeen) >= silentAfter {
			silent[n.Vantage] = n
		}
	}
	isOpen := map[string]bool{}
	for _, a := range open {
		if a.Kind != pinwatchd.KindVantageSilent {
			continue
		}
		isOpen[a.Subject] = true
		if n, still := silent[a.Subject]; still {
			if pol.RenotifyAfter > 0 && !now.Before(a.LastNotifiedAt.Add(pol.RenotifyAfter)) {
				a.Message, a.LastNotifiedAt = silentMessage(n, now), now
				changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeReminder, Alert: a})
				next = append(next, a)
			}
			continue
		}
		a.State, a.ResolvedAt = pinwatchd.AlertResolved, now
		a.ResolveReason = ResolveReason(pinwatchd.KindVantageSilent)
		if !listed[a.Subject] {
			a.ResolveReason = "the node is no longer listed"
		}
		if pol.NotifyResolved {
			a.LastNotifiedAt = now
			changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeResolved, Alert: a})
		}
		next = append(next, a)
	}
	names := make([]string, 0, len(silent))
	for v := range silent {
		if !isOpen[v] {
			names = append(names, v)
		}
	}
	slices.Sort(names)
	for _, v := range names {
		a := pinwatchd.Alert{
			Target: VantageTargetPrefix + v, Kind: pinwatchd.KindVantageSilent, Subject: v,
			Severity: pinwatchd.SeverityWarning, Addresses: []string{}, State: pinwatchd.AlertOpen,
			Message: silentMessage(silent[v], now), OpenedAt: now, LastNotifiedAt: now,
		}
		changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeOpened, Alert: a})
		next = append(next, a)
	}
	return next, changes
}

// silentMessage says which node is silent and since when.
func silentMessage(n pinwatchd.Node, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "node %s", n.Vantage)
	if n.Host != "" && n.Host != n.Vantage {
		fmt.Fprintf(&b, " (host %s)", n.Host)
	}
	fmt.Fprintf(&b, " has not reported for %s, since %s: its probes are missing from the shared database",
		now.Sub(n.LastSeen).Truncate(time.Second), n.LastSeen.UTC().Format(time.RFC3339))
	return b.String()
}
