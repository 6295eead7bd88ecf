package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// e2eCert is one entry of `certs --json`.
type e2eCert struct {
	Target  string  `json:"target"`
	Address string  `json:"address"`
	Stale   *string `json:"stale"`
}

// queryCerts runs `pinwatchd certs --json --database db`.
func queryCerts(t *testing.T, db string) []e2eCert {
	t.Helper()
	var doc struct {
		Certs []e2eCert `json:"certs"`
	}
	cliJSON(t, &doc, "certs", "--json", "--database", db)
	return doc.Certs
}

// The daemon records the rounds of many targets in shared transactions
// (group commit, SPEC §11). Killed with SIGKILL at any moment, it leaves
// no round half-written: every target's addresses are all in the database
// or none is, and all of them are of its latest round. Whatever it
// acknowledged is there: an alert opened on a round, and announced to
// Slack, is only ever opened once that round is stored.
func TestDaemonKilledMidGroupCommit(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	const servers, targets = 6, 240
	srvs := make([]*testpki.Server, servers)
	for i := range srvs {
		srvs[i] = f.serve(t, hstsHeaders)
	}
	// Each target probes two or three of the servers, and pins only the
	// served leaf: every round opens (or keeps) missing_backup_pin.
	want := map[string][]string{} // target → its addresses, sorted
	var tcs []config.TargetConfig
	for i := range targets {
		name := fmt.Sprintf("t%03d", i)
		tc := f.target(t, name, srvs[i%servers], withPins(f.pki.Leaf.Pin()))
		for j := 1; j < 2+i%2; j++ {
			hp, err := config.ParseHostPort(srvs[(i+j)%servers].Addr)
			if err != nil {
				t.Fatal(err)
			}
			tc.Addresses = append(tc.Addresses, hp)
		}
		for _, a := range tc.Addresses {
			want[name] = append(want[name], a.String())
		}
		slices.Sort(want[name])
		tcs = append(tcs, tc)
	}
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), targets: tcs}.write(t, cfg)

	// Killed during the start-up round, as soon as a round is stored.
	d := startDaemon(t, cfg)
	waitFor(t, "a first round in the database", func() bool { return len(queryCerts(t, db)) > 0 })
	d.signal(t, syscall.SIGKILL)
	d.wait(t, e2eWait)
	checkWholeRounds(t, db, want)

	// Killed again in the rounds every second, once Slack has been told
	// of alerts.
	d = startDaemon(t, cfg)
	waitFor(t, "notifications delivered to Slack", func() bool { return len(slack.Delivered()) > 0 })
	d.signal(t, syscall.SIGKILL)
	d.wait(t, e2eWait)
	recorded := checkWholeRounds(t, db, want)
	for _, e := range slack.Delivered() {
		if e.Kind != "missing_backup_pin" || e.Change != "opened" {
			t.Errorf("Slack got %q, want only missing_backup_pin alerts opening", e.Text)
			continue
		}
		if !recorded[e.Target] {
			t.Errorf("Slack was told of an alert on %s, whose round is not in the database", e.Target)
		}
	}
	for _, a := range queryAlerts(t, db, true).Alerts {
		if !recorded[a.Target] {
			t.Errorf("an alert on %s, whose round is not in the database: %+v", a.Target, a)
		}
	}

	// Nothing is lost: after a restart every target is recorded whole
	// and its alert reaches Slack.
	d = startDaemon(t, cfg)
	waitFor(t, "an alert on every target", func() bool { return len(queryAlerts(t, db, false).Alerts) == targets })
	waitFor(t, "Slack to hear of every alert", func() bool {
		told := map[string]bool{}
		for _, e := range slack.Delivered() {
			told[e.Target] = true
		}
		return len(told) == targets
	})
	d.stop(t)
	if n := len(checkWholeRounds(t, db, want)); n != targets {
		t.Errorf("%d targets recorded after a clean run, want %d", n, targets)
	}
	slack.CheckPaths(t)
}

// checkWholeRounds checks with `certs --json` that each target of want
// has all its addresses in the database, each of its latest round (none
// stale), or none of them, and returns the targets recorded.
func checkWholeRounds(t *testing.T, db string, want map[string][]string) map[string]bool {
	t.Helper()
	got := map[string][]string{}
	for _, c := range queryCerts(t, db) {
		got[c.Target] = append(got[c.Target], c.Address)
		if c.Stale != nil {
			t.Errorf("%s %s is %s: it is missing from its target's latest round", c.Target, c.Address, *c.Stale)
		}
	}
	recorded := map[string]bool{}
	for name, addrs := range got {
		slices.Sort(addrs)
		if !slices.Equal(addrs, want[name]) {
			t.Errorf("%s: addresses %q in the database, want all of %q or none", name, addrs, want[name])
		}
		recorded[name] = true
	}
	t.Logf("%d of %d targets recorded", len(recorded), len(want))
	return recorded
}
