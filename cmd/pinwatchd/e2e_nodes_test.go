package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pgtest"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/notify"
)

// nodesWait bounds the waits that include a lease of a killed node: the
// lease (30 s), then the survivor's next look at the outbox (at most its
// poll interval, 30 s), and some slack.
const nodesWait = notify.Lease + notify.DefaultPollInterval + 30*time.Second

// twoNodes is a database shared by the daemons of two vantages, a stand-in
// Slack they deliver to, and the loopback servers they probe (SPEC §14).
type twoNodes struct {
	f       *fleet
	slack   *pinwatchdtest.Slack
	url     string // the nodes' database, with a password file
	admin   string // the same database, for the queries
	pwFile  string
	hook    string
	configs map[string]string // vantage → config file
	targets []config.TargetConfig
	// only lists targets of one vantage's config alone (per-node
	// addresses), vantage → targets.
	only map[string][]config.TargetConfig
	// silentAfter is [alerts] node_silent_after; 0 keeps the default.
	silentAfter time.Duration
}

func newTwoNodes(t *testing.T) *twoNodes {
	t.Helper()
	pinwatchdBinary(t)
	c := pgtest.Shared(t)
	role, pw := c.CreateRole(t)
	dbName := c.CreateDatabase(t, role)
	n := &twoNodes{f: newFleet(t), slack: newE2ESlack(t), url: c.TCPURL(role, dbName),
		admin: c.SocketURL(pgtest.SuperUser, dbName), configs: map[string]string{}}
	n.pwFile = filepath.Join(n.f.dir, "db-password")
	writeFile(t, n.pwFile, pw+"\n")
	n.hook = n.slack.WebhookFile(t, n.f.dir)
	return n
}

// write writes the config of vantage with the current targets.
func (n *twoNodes) write(t *testing.T, vantage string) string {
	t.Helper()
	cfg := config.Default()
	cfg.Vantage = vantage
	cfg.Database, cfg.DatabasePasswordFile = n.url, n.pwFile
	cfg.Schedule = mustSchedule(t, "@every 1s")
	cfg.Timeout = config.Duration{Duration: 2 * time.Second}
	cfg.Alerts.FailureThreshold = 1
	cfg.Alerts.DigestWindow = config.Duration{Duration: time.Second}
	cfg.Slack.WebhookURLFile = n.hook
	cfg.TargetConfigs = append(slices.Clone(n.targets), n.only[vantage]...)
	if n.silentAfter > 0 {
		cfg.Alerts.NodeSilentAfter = &config.Duration{Duration: n.silentAfter}
	}
	var b bytes.Buffer
	if err := config.Encode(&b, cfg); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(n.f.dir, "config-"+vantage+".toml")
	writeFile(t, path, b.String())
	n.configs[vantage] = path
	return path
}

// alerts returns what `pinwatchd alerts --json --all` says.
func (n *twoNodes) alerts(t *testing.T) e2eAlerts { return queryAlerts(t, n.admin, true) }

// vantages returns the vantages an alert lists, sorted.
func vantages(a e2eAlert) []string {
	var out []string
	for _, s := range a.Sites {
		out = append(out, s.Vantage)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkOnce fails the test unless every alert in doc had each change in
// changes delivered to Slack exactly once.
func (n *twoNodes) checkOnce(t *testing.T, doc e2eAlerts, state string, changes ...string) {
	t.Helper()
	for _, a := range doc.Alerts {
		if a.State != state {
			continue
		}
		for _, ch := range changes {
			if got := n.slack.Count(ch, a.Target, a.Kind); got != 1 {
				t.Errorf("%s %s/%s reached Slack %d times, want once", ch, a.Target, a.Kind, got)
			}
		}
	}
}

// Two nodes on one PostgreSQL database share their alerts and their
// delivery: one alert per condition lists both vantages, every alert
// change reaches Slack exactly once, and the notifications a node claimed
// when it was killed (SIGKILL, mid-send) are delivered by the other once
// its lease ends.
func TestTwoNodesShareAlertsAndDelivery(t *testing.T) {
	t.Parallel()
	n := newTwoNodes(t)
	legacy, api := n.f.serve(t, hstsHeaders), n.f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, n.f.pki.Spare)
	other := testpki.KeyPin(t, n.f.pki.Intermediate.Leaf(t, testpki.Options{}).Key)
	n.targets = []config.TargetConfig{
		n.f.target(t, "legacy", legacy, withPins(n.f.pki.Leaf.Pin())),
		n.f.target(t, "api", api, withPins(spare, other)),
	}
	cfgA, cfgB := n.write(t, "a"), n.write(t, "b")

	// Node a alone: its first message hangs, so that a holds the claims
	// of every pending notification when it is killed.
	n.slack.Push(pinwatchdtest.SlackReply{Hang: true})
	a := startDaemon(t, cfgA)
	select {
	case <-n.slack.Arrived():
	case <-time.After(e2eWait):
		t.Fatal("node a sent nothing to Slack")
	}
	a.signal(t, syscall.SIGKILL)
	if code := a.wait(t, e2eWait); code != -1 {
		t.Fatalf("node a exited with %d after SIGKILL, want killed", code)
	}
	opened := n.alerts(t)
	if _, ok := opened.find("api", "pin_mismatch"); !ok || opened.NotificationsPending == 0 {
		t.Fatalf("before node b: alerts %+v; want a pin_mismatch on api and notifications pending", opened)
	}
	if len(n.slack.Delivered()) != 0 {
		t.Fatalf("Slack accepted %v before node b started", n.slack.Delivered())
	}

	// Node b takes over a's notifications once a's lease ends, and adds
	// its vantage to the open alerts.
	b := startDaemon(t, cfgB)
	waitForWithin(t, nodesWait, "node b to deliver what node a left", func() bool {
		return n.alerts(t).NotificationsPending == 0 && len(n.slack.Delivered()) > 0
	})
	waitFor(t, "the pin_mismatch on api to list both vantages", func() bool {
		m, _ := n.alerts(t).find("api", "pin_mismatch")
		return slices.Equal(vantages(m), []string{"a", "b"})
	})
	doc := n.alerts(t)
	n.checkOnce(t, doc, "open", "opened")
	for _, x := range doc.Alerts {
		if x.State != "open" {
			t.Errorf("alert %s/%s is %s, want open", x.Target, x.Kind, x.State)
		}
	}

	// Node a comes back; both run. Fixing api's pins resolves its alerts
	// once both vantages no longer see them: one resolve message each.
	a = startDaemon(t, cfgA)
	n.targets[1] = n.f.target(t, "api", api, withPins(n.f.pki.Leaf.Pin(), spare))
	n.write(t, "a")
	n.write(t, "b")
	a.signal(t, syscall.SIGHUP)
	b.signal(t, syscall.SIGHUP)
	waitForWithin(t, nodesWait, "the alerts of api to resolve and be delivered", func() bool {
		doc := n.alerts(t)
		m, ok := doc.find("api", "pin_mismatch")
		return ok && m.State == "resolved" && doc.NotificationsPending == 0 && n.slack.Count("resolved", "api", "pin_mismatch") > 0
	})
	// A round more of each node, then every change is counted.
	time.Sleep(2 * time.Second)
	doc = n.alerts(t)
	n.checkOnce(t, doc, "resolved", "opened", "resolved")
	n.checkOnce(t, doc, "open", "opened")
	if m, _ := doc.find("legacy", "missing_backup_pin"); m.State != "open" || !slices.Equal(vantages(m), []string{"a", "b"}) {
		t.Errorf("legacy's missing_backup_pin = %+v, want open, seen by a and b", m)
	}
	for _, e := range n.slack.Delivered() {
		if e.Change == "" || e.Target == "" {
			t.Errorf("a Slack message names no change or target: %q", e.Text)
		}
	}
	a.stop(t)
	b.stop(t)
	if t.Failed() {
		t.Logf("Slack received %d requests: %+v", len(n.slack.Requests()), n.slack.Delivered())
	}
}

// Two nodes watch each other (SPEC §14): a target whose per-node addresses
// serve a different leaf key to each raises vantage_inconsistent, once,
// listing both vantages; a node killed with SIGKILL gets vantage_silent
// from the survivor after node_silent_after, resolved when it is back;
// each change reaches Slack exactly once.
func TestTwoNodesSeeEachOther(t *testing.T) {
	t.Parallel()
	n := newTwoNodes(t)
	n.silentAfter = config.MinNodeSilentAfter
	plain := n.f.serve(t, hstsHeaders)
	rotated := testpki.Serve(t, testpki.Chain(n.f.pki.Intermediate.Leaf(t, testpki.Options{}), n.f.pki.Intermediate), testpki.HeaderHandler(hstsHeaders))
	n.targets = []config.TargetConfig{n.f.target(t, "www", plain)}
	// "edge" is one name behind two edges: node a reaches the one with
	// the old key, node b the one that rotated.
	n.only = map[string][]config.TargetConfig{
		"a": {n.f.target(t, "edge", plain)},
		"b": {n.f.target(t, "edge", rotated)},
	}
	a, b := startDaemon(t, n.write(t, "a")), startDaemon(t, n.write(t, "b"))
	waitFor(t, "vantage_inconsistent on edge, seen by a and b", func() bool {
		m, ok := n.alerts(t).find("edge", "vantage_inconsistent")
		return ok && m.State == "open" && slices.Equal(vantages(m), []string{"a", "b"})
	})
	waitFor(t, "the vantage_inconsistent alert in Slack", func() bool {
		return n.slack.Count("opened", "edge", "vantage_inconsistent") > 0
	})
	m, _ := n.alerts(t).find("edge", "vantage_inconsistent")
	for _, key := range []string{n.f.pki.Leaf.Pin().String(), "a sees", "b sees"} {
		if !strings.Contains(m.Message, key) {
			t.Errorf("vantage_inconsistent message %q does not name %q", m.Message, key)
		}
	}
	if _, ok := n.alerts(t).find("www", "vantage_inconsistent"); ok {
		t.Error("www, served the same key to both nodes, has a vantage_inconsistent alert")
	}

	// Node a dies: b raises vantage_silent for it, and only for it.
	a.signal(t, syscall.SIGKILL)
	a.wait(t, e2eWait)
	waitForWithin(t, nodesWait, "vantage_silent for a, in Slack", func() bool {
		m, ok := n.alerts(t).find("vantage/a", "vantage_silent")
		return ok && m.State == "open" && n.slack.Count("opened", "vantage/a", "vantage_silent") > 0
	})
	if _, ok := n.alerts(t).find("vantage/b", "vantage_silent"); ok {
		t.Error("the surviving node b has a vantage_silent alert")
	}

	// Node a is back: its alert resolves.
	a = startDaemon(t, n.configs["a"])
	waitForWithin(t, nodesWait, "vantage_silent for a to resolve, in Slack", func() bool {
		m, _ := n.alerts(t).find("vantage/a", "vantage_silent")
		return m.State == "resolved" && n.slack.Count("resolved", "vantage/a", "vantage_silent") > 0
	})
	time.Sleep(2 * time.Second) // a round more of each node, then every change is counted
	doc := n.alerts(t)
	n.checkOnce(t, doc, "resolved", "opened", "resolved")
	n.checkOnce(t, doc, "open", "opened")
	a.stop(t)
	b.stop(t)
	if t.Failed() {
		t.Logf("Slack received %d requests: %+v", len(n.slack.Requests()), n.slack.Delivered())
	}
}
