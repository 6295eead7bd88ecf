package monitor

import (
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// sharedNodes plays the rounds of several vantages against one set of
// open alerts, the way the nodes of one database do (SPEC §14).
type sharedNodes struct {
	t       *testing.T
	open    []pinwatchd.Alert
	changes []pinwatchd.AlertChange
	pol     pinwatchd.AlertPolicy
	now     time.Time
	nextID  int64
}

func newSharedNodes(t *testing.T) *sharedNodes {
	return &sharedNodes{t: t, now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC),
		pol: pinwatchd.AlertPolicy{FailureThreshold: 1, RenotifyAfter: 24 * time.Hour, NotifyResolved: true}}
}

// round runs one round of vantage: seen addresses served a chain, and
// the findings are pin mismatches at the addresses in mismatched with
// severity sev.
func (n *sharedNodes) round(vantage string, seen []string, sev pinwatchd.Severity, mismatched ...string) []pinwatchd.AlertChange {
	n.t.Helper()
	r := Round{Resolved: true, Seen: map[string]Seen{}, Vantage: vantage}
	for _, addr := range seen {
		r.Seen[addr] = SeenAll
	}
	for _, addr := range mismatched {
		r.Findings = append(r.Findings, pinwatchd.Finding{Kind: pinwatchd.KindPinMismatch, Severity: sev, Address: addr,
			PinSet: "ios", Message: "pin-set \"ios\" has no pin matching " + addr})
	}
	return n.apply(UpdateAlerts("api", n.open, r, n.pol, n.now))
}

// apply stores next as a database would and keeps the changes.
func (n *sharedNodes) apply(next []pinwatchd.Alert, changes []pinwatchd.AlertChange) []pinwatchd.AlertChange {
	n.now = n.now.Add(time.Minute)
	var open []pinwatchd.Alert
	byID := map[int64]pinwatchd.Alert{}
	for _, a := range next {
		if a.ID == 0 {
			n.nextID++
			a.ID = n.nextID
		}
		byID[a.ID] = a
	}
	for _, a := range n.open {
		if _, ok := byID[a.ID]; !ok {
			byID[a.ID] = a
		}
	}
	for _, a := range byID {
		if a.State == pinwatchd.AlertOpen {
			open = append(open, a)
		}
	}
	n.open = open
	n.changes = append(n.changes, changes...)
	return changes
}

// only returns the one open alert, failing the test otherwise.
func (n *sharedNodes) only() pinwatchd.Alert {
	n.t.Helper()
	if len(n.open) != 1 {
		n.t.Fatalf("open alerts = %+v, want one", n.open)
	}
	return n.open[0]
}

func sites(pairs ...string) []pinwatchd.Site {
	var out []pinwatchd.Site
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, pinwatchd.Site{Vantage: pairs[i], Address: pairs[i+1]})
	}
	return out
}

func changeTypes(cs []pinwatchd.AlertChange) []pinwatchd.ChangeType {
	var out []pinwatchd.ChangeType
	for _, c := range cs {
		out = append(out, c.Type)
	}
	return out
}

// Two vantages seeing one condition make one alert listing both; it
// stays open, silently, while one of them still sees it, and resolves,
// once, when the condition is gone from the latest probe of each.
func TestSharedAlertResolvesWhenEveryVantageCleared(t *testing.T) {
	n := newSharedNodes(t)
	const x, y = "10.0.0.1:443", "10.0.0.2:443"
	if got := changeTypes(n.round("a", []string{x}, pinwatchd.SeverityCritical, x)); !slices.Equal(got, []pinwatchd.ChangeType{pinwatchd.ChangeOpened}) {
		t.Fatalf("a's first round: changes %v, want opened", got)
	}
	if got := n.round("b", []string{x, y}, pinwatchd.SeverityCritical, x, y); len(got) != 0 {
		t.Fatalf("b's round of the same condition announced %v, want nothing", changeTypes(got))
	}
	a := n.only()
	if want := sites("a", x, "b", x, "b", y); !slices.Equal(a.Sites, want) {
		t.Errorf("sites = %v, want %v", a.Sites, want)
	}
	if want := []string{x, y}; !slices.Equal(a.Addresses, want) {
		t.Errorf("addresses = %v, want %v", a.Addresses, want)
	}
	// a no longer sees it: b's sites keep the alert open, silently.
	if got := n.round("a", []string{x}, pinwatchd.SeverityCritical); len(got) != 0 {
		t.Fatalf("a's clean round announced %v while b still sees the mismatch", changeTypes(got))
	}
	if got := n.only().Sites; !slices.Equal(got, sites("b", x, "b", y)) {
		t.Errorf("after a cleared: sites = %v, want b's only", got)
	}
	// b's round that did not see y keeps it.
	n.round("b", []string{x}, pinwatchd.SeverityCritical)
	if got := n.only().Sites; !slices.Equal(got, sites("b", y)) {
		t.Errorf("after b saw x only: sites = %v, want b's y kept", got)
	}
	got := n.round("b", []string{x, y}, pinwatchd.SeverityCritical)
	if !slices.Equal(changeTypes(got), []pinwatchd.ChangeType{pinwatchd.ChangeResolved}) {
		t.Fatalf("b's clean round: changes %v, want resolved", changeTypes(got))
	}
	if len(n.open) != 0 {
		t.Errorf("open alerts after every vantage cleared: %+v", n.open)
	}
	if want := []pinwatchd.ChangeType{pinwatchd.ChangeOpened, pinwatchd.ChangeResolved}; !slices.Equal(changeTypes(n.changes), want) {
		t.Errorf("every change announced: %v, want %v", changeTypes(n.changes), want)
	}
}

// Two vantages that see one alert with different severities do not
// escalate it by turns: it keeps the worse while both list it.
func TestSharedAlertSeverityDoesNotFlap(t *testing.T) {
	n := newSharedNodes(t)
	const x = "10.0.0.1:443"
	n.round("a", []string{x}, pinwatchd.SeverityWarning, x)
	if got := changeTypes(n.round("b", []string{x}, pinwatchd.SeverityCritical, x)); !slices.Equal(got, []pinwatchd.ChangeType{pinwatchd.ChangeEscalated}) {
		t.Fatalf("b sees it worse: changes %v, want escalated", got)
	}
	for range 3 {
		n.round("a", []string{x}, pinwatchd.SeverityWarning, x)
		n.round("b", []string{x}, pinwatchd.SeverityCritical, x)
	}
	if want := []pinwatchd.ChangeType{pinwatchd.ChangeOpened, pinwatchd.ChangeEscalated}; !slices.Equal(changeTypes(n.changes), want) {
		t.Errorf("changes = %v, want %v", changeTypes(n.changes), want)
	}
	if got := n.only().Severity; got != pinwatchd.SeverityCritical {
		t.Errorf("severity = %v, want critical", got)
	}
}

// An alert stored before vantages existed (sites without a vantage) is
// taken over by the first node that judges it.
func TestSharedAlertAdoptsSitesWithoutVantage(t *testing.T) {
	n := newSharedNodes(t)
	const x, y = "10.0.0.1:443", "10.0.0.2:443"
	n.open = []pinwatchd.Alert{{ID: 1, Target: "api", Kind: pinwatchd.KindPinMismatch, Subject: "ios", Severity: pinwatchd.SeverityCritical,
		Addresses: []string{x, y}, Sites: sites("", x, "", y), State: pinwatchd.AlertOpen, OpenedAt: n.now, LastNotifiedAt: n.now}}
	n.nextID = 1
	if got := n.round("a", []string{x}, pinwatchd.SeverityCritical, x); len(got) != 0 {
		t.Fatalf("changes %v, want none", changeTypes(got))
	}
	if got := n.only().Sites; !slices.Equal(got, sites("a", x, "a", y)) {
		t.Errorf("sites = %v, want both taken over by a (y not seen, kept)", got)
	}
}

// Withdraw takes one vantage off its alerts and resolves only those no
// other vantage lists.
func TestWithdraw(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	pol := pinwatchd.AlertPolicy{NotifyResolved: true}
	shared := pinwatchd.Alert{ID: 1, Target: "api", Kind: pinwatchd.KindPinMismatch, Subject: "ios", State: pinwatchd.AlertOpen,
		Sites: sites("a", "10.0.0.1:443", "b", "10.0.0.2:443"), Addresses: []string{"10.0.0.1:443", "10.0.0.2:443"}}
	alone := pinwatchd.Alert{ID: 2, Target: "api", Kind: pinwatchd.KindChainUntrusted, State: pinwatchd.AlertOpen, Sites: sites("a", "")}
	theirs := pinwatchd.Alert{ID: 3, Target: "api", Kind: pinwatchd.KindHostnameMismatch, State: pinwatchd.AlertOpen, Sites: sites("b", "10.0.0.2:443")}
	next, changes := Withdraw([]pinwatchd.Alert{shared, alone, theirs}, "a", "removed", pol, now)
	if len(next) != 2 || next[0].ID != 1 || next[0].State != pinwatchd.AlertOpen || !slices.Equal(next[0].Sites, sites("b", "10.0.0.2:443")) ||
		!slices.Equal(next[0].Addresses, []string{"10.0.0.2:443"}) {
		t.Fatalf("next = %+v, want the shared alert open on b's site only, then a's own resolved", next)
	}
	if next[1].ID != 2 || next[1].State != pinwatchd.AlertResolved || next[1].ResolveReason != "removed" {
		t.Errorf("a's own alert = %+v, want resolved, reason removed", next[1])
	}
	if len(changes) != 1 || changes[0].Type != pinwatchd.ChangeResolved || changes[0].Alert.ID != 2 {
		t.Errorf("changes = %+v, want the resolve of a's own alert only", changes)
	}
}
