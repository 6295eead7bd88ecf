package monitor_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
	"github.com/pinwatchd/pinwatchd/storage"
)

// dbVantages is the view of the other nodes a daemon gives its Runner:
// the live vantages it heard from, and the shared database's latest
// observations.
type dbVantages struct {
	db   *storage.DB
	live []string
}

func (v *dbVantages) Live() []string                           { return v.live }
func (v *dbVantages) Interval(*pinwatchd.Target) time.Duration { return time.Hour }
func (v *dbVantages) LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error) {
	return v.db.LatestObservations(ctx, target)
}

// nodeRunner is the Runner of node vantage on the fixture's database,
// seeing the other vantages in live.
func (f *rnFixture) nodeRunner(vantage string, live ...string) (*monitor.Runner, *dbVantages) {
	r := f.runner(pinwatchd.AlertPolicy{FailureThreshold: 1, NotifyResolved: true}, nil)
	v := &dbVantages{db: f.db, live: live}
	r.Vantage, r.Vantages = vantage, v
	return r, v
}

// nodeRound is a round of r, whose node sees leaf.
func (f *rnFixture) nodeRound(r *monitor.Runner, leaf *testpki.Cert) {
	f.t.Helper()
	o := f.served(leaf)
	o.Vantage = r.Vantage
	f.round(r, o)
}

// inconsistent returns the open vantage_inconsistent alert, if any.
func (f *rnFixture) inconsistent() (pinwatchd.Alert, bool) {
	for _, a := range f.openAlerts() {
		if a.Kind == pinwatchd.KindVantageInconsistent {
			return a, true
		}
	}
	return pinwatchd.Alert{}, false
}

func TestVantageInconsistentNeedsTwoDisagreements(t *testing.T) {
	f := newRNFixture(t)
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	a, _ := f.nodeRunner("a", "b")
	b, _ := f.nodeRunner("b", "a")

	f.nodeRound(a, f.pki.Leaf) // nobody to compare with yet
	f.nodeRound(b, rotated)    // b's first disagreement
	f.nodeRound(a, f.pki.Leaf) // a's first disagreement
	if _, ok := f.inconsistent(); ok {
		t.Fatal("vantage_inconsistent opened after one disagreement of each node")
	}
	f.nodeRound(b, rotated) // b's second: opens
	f.nodeRound(a, f.pki.Leaf)
	alert, ok := f.inconsistent()
	if !ok {
		t.Fatal("no vantage_inconsistent after two disagreements of each node")
	}
	var vs []string
	for _, s := range alert.Sites {
		vs = append(vs, s.Vantage)
	}
	slices.Sort(vs)
	if !slices.Equal(slices.Compact(vs), []string{"a", "b"}) || alert.Subject != "" {
		t.Errorf("alert lists vantages %v, subject %q; want a and b, the target itself", vs, alert.Subject)
	}
	for _, want := range []string{"a sees leaf key " + f.pki.Leaf.Pin().String(), "b sees leaf key " + rotated.Pin().String()} {
		if !strings.Contains(alert.Message, want) {
			t.Errorf("message %q lacks %q", alert.Message, want)
		}
	}
	if got := describe(f.take()); slices.Index(got, "opened vantage_inconsistent") < 0 || len(slices.DeleteFunc(got, func(s string) bool { return s != "opened vantage_inconsistent" })) != 1 {
		t.Errorf("notifications %v, want vantage_inconsistent opened once", got)
	}

	// Node a rotates too: the nodes agree and the alert resolves once
	// neither lists it.
	f.nodeRound(a, rotated)
	f.nodeRound(b, rotated)
	if a, ok := f.inconsistent(); ok {
		t.Errorf("vantage_inconsistent still open once both nodes see the same key: %+v", a)
	}
	if got := describe(f.take()); !slices.Contains(got, "resolved vantage_inconsistent") {
		t.Errorf("notifications %v, want vantage_inconsistent resolved", got)
	}
}

// A rotation that one node sees a round before the other is no alert.
func TestVantageRotationSeenARoundApart(t *testing.T) {
	f := newRNFixture(t)
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	a, _ := f.nodeRunner("a", "b")
	b, _ := f.nodeRunner("b", "a")
	f.nodeRound(a, f.pki.Leaf)
	f.nodeRound(b, f.pki.Leaf)
	f.nodeRound(a, rotated) // a disagrees once
	f.nodeRound(b, rotated) // b agrees
	f.nodeRound(a, rotated) // a agrees
	f.nodeRound(b, rotated)
	if alert, ok := f.inconsistent(); ok {
		t.Errorf("a rotation seen a round apart opened %+v", alert)
	}
}

// A node that cannot compare (the other is silent) keeps its part of the
// alert: the other's death neither resolves it nor, on its return, opens it
// again.
func TestVantageInconsistentKeptWhileAlone(t *testing.T) {
	f := newRNFixture(t)
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	a, _ := f.nodeRunner("a", "b")
	b, bv := f.nodeRunner("b", "a")
	for range 3 {
		f.nodeRound(a, f.pki.Leaf)
		f.nodeRound(b, rotated)
	}
	if _, ok := f.inconsistent(); !ok {
		t.Fatal("no vantage_inconsistent to keep")
	}
	f.take()
	// Node a dies: b, alone, has nobody to compare with.
	bv.live = nil
	for range 3 {
		f.nodeRound(b, rotated)
	}
	if _, ok := f.inconsistent(); !ok {
		t.Fatal("vantage_inconsistent resolved while node b had nobody to compare with")
	}
	// Node a restarts, remembering nothing, before it hears of b.
	a, av := f.nodeRunner("a")
	f.nodeRound(a, f.pki.Leaf)
	av.live, bv.live = []string{"b"}, []string{"a"}
	for range 2 {
		f.nodeRound(b, rotated)
		f.nodeRound(a, f.pki.Leaf)
	}
	if _, ok := f.inconsistent(); !ok {
		t.Error("vantage_inconsistent not open while the nodes still disagree")
	}
	if got := describe(f.take()); len(got) != 0 {
		t.Errorf("notifications %v while the condition held throughout, want none", got)
	}
}

func TestCompareVantages(t *testing.T) {
	pki := testpki.New(t)
	rotated := pki.Intermediate.Leaf(t, testpki.Options{})
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	obs := func(vantage, addr string, leaf *testpki.Cert, at time.Duration) pinwatchd.Observation {
		o := pinwatchd.Observation{Target: "api", Address: addr, Vantage: vantage, Time: t0.Add(at)}
		if leaf == nil {
			o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "timeout"}
		} else {
			o.ServedChain = []pinwatchd.Cert{pinwatchd.CertFromX509(leaf.Cert)}
		}
		return o
	}
	const x, y = "192.0.2.1:443", "192.0.2.2:443"
	tests := []struct {
		name   string
		latest []pinwatchd.Observation
		live   []string
		want   monitor.Comparison
	}{
		{"same key", []pinwatchd.Observation{obs("a", x, pki.Leaf, 0), obs("b", y, pki.Leaf, 0)}, []string{"b"}, monitor.Agree},
		{"different keys", []pinwatchd.Observation{obs("a", x, pki.Leaf, 0), obs("b", y, rotated, 0)}, []string{"b"}, monitor.Disagree},
		{"other node silent", []pinwatchd.Observation{obs("a", x, pki.Leaf, 0), obs("b", y, rotated, 0)}, nil, monitor.NotCompared},
		{"other probe older than the interval", []pinwatchd.Observation{obs("a", x, pki.Leaf, 2*time.Hour), obs("b", y, rotated, 0)}, []string{"b"}, monitor.NotCompared},
		{"other probe failed", []pinwatchd.Observation{obs("a", x, pki.Leaf, 0), obs("b", y, nil, 0)}, []string{"b"}, monitor.NotCompared},
		{"no view of its own", []pinwatchd.Observation{obs("a", x, nil, 0), obs("b", y, rotated, 0)}, []string{"b"}, monitor.NotCompared},
		{"an address left long ago", []pinwatchd.Observation{
			obs("a", x, pki.Leaf, 3*time.Hour), obs("a", y, rotated, 0), obs("b", y, pki.Leaf, 3*time.Hour)}, []string{"b"}, monitor.Agree},
		{"both keys at both", []pinwatchd.Observation{
			obs("a", x, pki.Leaf, 0), obs("a", y, rotated, 0), obs("b", x, rotated, 0), obs("b", y, pki.Leaf, 0)}, []string{"b"}, monitor.Agree},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, got := monitor.CompareVantages("a", tt.latest, tt.live, time.Hour)
			if got != tt.want {
				t.Fatalf("CompareVantages = %v, want %v", got, tt.want)
			}
			if (f.Kind == pinwatchd.KindVantageInconsistent) != (got == monitor.Disagree) {
				t.Errorf("finding %+v with outcome %v", f, got)
			}
		})
	}
}
