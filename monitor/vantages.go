package monitor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Vantages lets a Runner compare its view of a target with the views of
// the other nodes sharing its database (SPEC §14, vantage_inconsistent). A
// Runner without one is a single node and compares nothing.
type Vantages interface {
	// Live returns the vantages of the other nodes whose heartbeat is
	// recent (not silent); none means there is nobody to compare with,
	// and no query is made.
	Live() []string
	// Interval returns the schedule interval of t: views further apart
	// than that are not compared.
	Interval(t *pinwatchd.Target) time.Duration
	// LatestObservations returns the latest observation of every
	// (address, vantage) of target, with Vantage and Time set.
	LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error)
}

// vantageView is what one vantage saw of a target at its latest round:
// the leaf keys served at its addresses.
type vantageView struct {
	vantage string
	at      time.Time
	keys    []string // leaf key pins, sorted, distinct
}

// CompareVantages is the comparison behind vantage_inconsistent (SPEC
// §14): it compares the latest observations that served a chain, of one target, from
// self and the live vantages whose latest probe is within interval of
// self's, and returns the finding when two of them saw different leaf
// keys. Within a vantage, only the addresses of its latest round count
// (those probed within interval of its latest probe). A failed probe is
// no view (one whose header read failed after the handshake is). The
// rule's other half, opening only after two consecutive disagreements, is
// the Runner's (see Runner.vantageFinding).
func CompareVantages(self string, latest []pinwatchd.Observation, live []string, interval time.Duration) (pinwatchd.Finding, Comparison) {
	views := map[string]*vantageView{}
	for i := range latest {
		o := &latest[i]
		if o.Leaf() == nil || (o.Vantage != self && !slices.Contains(live, o.Vantage)) {
			continue
		}
		v := views[o.Vantage]
		if v == nil {
			v = &vantageView{vantage: o.Vantage}
			views[o.Vantage] = v
		}
		if o.Time.After(v.at) {
			v.at = o.Time
		}
	}
	for i := range latest {
		o := &latest[i]
		v := views[o.Vantage]
		if v == nil || o.Leaf() == nil || v.at.Sub(o.Time) > interval {
			continue
		}
		if pin := o.Leaf().Pin.String(); !slices.Contains(v.keys, pin) {
			v.keys = append(v.keys, pin)
		}
	}
	mine := views[self]
	if mine == nil {
		return pinwatchd.Finding{}, NotCompared
	}
	compared := []*vantageView{mine}
	for name, v := range views {
		if name != self && absDuration(v.at.Sub(mine.at)) <= interval {
			compared = append(compared, v)
		}
	}
	if len(compared) < 2 {
		return pinwatchd.Finding{}, NotCompared
	}
	agree := true
	for _, v := range compared {
		slices.Sort(v.keys)
		if !slices.Equal(v.keys, mine.keys) {
			agree = false
		}
	}
	if agree {
		return pinwatchd.Finding{}, Agree
	}
	slices.SortFunc(compared, func(a, b *vantageView) int { return strings.Compare(a.vantage, b.vantage) })
	parts := make([]string, len(compared))
	for i, v := range compared {
		parts[i] = fmt.Sprintf("%s sees leaf key %s", v.vantage, strings.Join(v.keys, " and "))
	}
	return pinwatchd.Finding{
		Kind: pinwatchd.KindVantageInconsistent, Severity: pinwatchd.SeverityWarning,
		Message: fmt.Sprintf("the vantages see different leaf keys: %s", strings.Join(parts, "; ")),
	}, Disagree
}

// Comparison is the outcome of CompareVantages.
type Comparison int

// The outcomes of CompareVantages: no other live vantage probed within the
// interval (or this one has no view), all saw the same leaf keys, or not.
const (
	NotCompared Comparison = iota
	Agree
	Disagree
)

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// vantageFinding applies the vantage_inconsistent rule to a round of t,
// whose open alerts are open: the finding of CompareVantages once two
// consecutive rounds of this node disagree, so that a rotation one node
// sees a round before the other is no alert. Like an address that was not
// probed, a round that could compare with nobody (the other nodes silent,
// or their probes too old) keeps this node's part of an open
// vantage_inconsistent alert as it is: a node's death neither resolves it
// nor, when the node returns, opens it again; so does a failed query,
// whose error is returned with the finding that keeps the alert. A single
// node (no Vantages, or no other node alive) makes no query.
func (r *Runner) vantageFinding(ctx context.Context, t *pinwatchd.Target, open []pinwatchd.Alert) (pinwatchd.Finding, bool, error) {
	if r.Vantages == nil {
		return pinwatchd.Finding{}, false, nil
	}
	var (
		f       pinwatchd.Finding
		outcome = NotCompared
	)
	if live := r.Vantages.Live(); len(live) > 0 {
		latest, err := r.Vantages.LatestObservations(ctx, t.Name)
		if err != nil {
			kept := r.keepVantageFinding(open)
			return kept, kept.Kind != "", fmt.Errorf("compare the vantages of %s: %w", t.Name, err)
		}
		f, outcome = CompareVantages(r.Vantage, latest, live, r.Vantages.Interval(t))
	}
	switch outcome {
	case Agree:
		r.setDisagreements(t.Name, 0)
		return pinwatchd.Finding{}, false, nil
	case Disagree:
		return f, r.setDisagreements(t.Name, -1) >= 2, nil
	}
	kept := r.keepVantageFinding(open)
	return kept, kept.Kind != "", nil
}

// keepVantageFinding returns the finding that keeps this node's part of
// the open vantage_inconsistent alert among open as it is; the zero
// Finding when there is none or it does not list this vantage.
func (r *Runner) keepVantageFinding(open []pinwatchd.Alert) pinwatchd.Finding {
	for _, a := range open {
		if a.Kind != pinwatchd.KindVantageInconsistent {
			continue
		}
		for _, s := range a.Sites {
			if s.Vantage == r.Vantage {
				return pinwatchd.Finding{Kind: a.Kind, Severity: a.Severity, Message: a.Message}
			}
		}
	}
	return pinwatchd.Finding{}
}

// setDisagreements sets the count of consecutive disagreeing comparisons
// of target to n, or adds one when n < 0, and returns it.
func (r *Runner) setDisagreements(target string, n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n < 0 {
		if r.disagree == nil {
			r.disagree = map[string]int{}
		}
		r.disagree[target]++
		return r.disagree[target]
	}
	delete(r.disagree, target)
	return n
}
