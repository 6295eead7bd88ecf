package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/daemon"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/notify"
)

func TestDaemonLifecycle(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	api, legacy := f.serve(t, hstsHeaders), f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, f.pki.Spare)
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		f.target(t, "api", api, withPins(f.pki.Leaf.Pin(), spare)),
		f.target(t, "legacy", legacy, withPins(f.pki.Leaf.Pin())),
	}}.write(t, cfg)
	d := startDaemon(t, cfg)

	waitFor(t, "a missing_backup_pin alert on legacy", func() bool {
		return openAlert(queryAlerts(t, db, false), "legacy", "missing_backup_pin")
	})
	for _, a := range queryAlerts(t, db, false).Alerts {
		if a.Target == "api" {
			t.Errorf("healthy target api has an open alert: %+v", a)
		}
	}

	// Rotate api to a key its pin-set does not list.
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	api.SetCertificate(testpki.Chain(rotated, f.pki.Intermediate))
	waitFor(t, "a pin_mismatch alert on api", func() bool {
		return openAlert(queryAlerts(t, db, false), "api", "pin_mismatch")
	})
	a, _ := queryAlerts(t, db, false).find("api", "pin_mismatch")
	if a.Severity != "critical" || a.Subject != "inline" || len(a.Addresses) != 1 || a.Addresses[0] != api.Addr {
		t.Errorf("pin_mismatch alert = %+v, want critical, subject inline, address %s", a, api.Addr)
	}
	oldPin, newPin := f.pki.Leaf.Pin().String(), rotated.Pin().String()
	var changed e2eEvent
	waitFor(t, "a chain_changed event of api in the history", func() bool {
		var ok bool
		changed, ok = findEvent(queryHistory(t, db), "api", "chain_changed", nil)
		return ok
	})
	if deref(changed.Class) != "key_rotated" || deref(changed.OldLeafPin) != oldPin || deref(changed.NewLeafPin) != newPin || changed.Address != api.Addr {
		t.Errorf("chain_changed = class %q, %s -> %s at %s; want key_rotated, %s -> %s at %s",
			deref(changed.Class), deref(changed.OldLeafPin), deref(changed.NewLeafPin), changed.Address, oldPin, newPin, api.Addr)
	}
	if _, ok := findEvent(queryHistory(t, db), "api", "first_seen", nil); !ok {
		t.Error("history lacks the first_seen event of api")
	}
	waitFor(t, "Slack messages about the pin_mismatch and the chain change", func() bool {
		return slack.Count("opened", "api", "pin_mismatch") >= 1 && slack.Count("chain_changed", "api", "chain_changed") >= 1
	})
	for _, e := range slack.Delivered() {
		if e.Change == "chain_changed" && e.Target == "api" {
			if e.Class != "key_rotated" || !strings.Contains(e.Text, oldPin) || !strings.Contains(e.Text, newPin) {
				t.Errorf("chain_changed message lacks class key_rotated or the old and new pins: %s", e.Text)
			}
			break
		}
	}

	// Rotate back: the pin matches again.
	api.SetCertificate(f.pki.TLS())
	waitFor(t, "the pin_mismatch alert on api to resolve", func() bool {
		x, ok := queryAlerts(t, db, true).find("api", "pin_mismatch")
		return ok && x.State == "resolved"
	})
	waitFor(t, "a Slack message resolving the pin_mismatch", func() bool {
		return slack.Count("resolved", "api", "pin_mismatch") >= 1
	})
	d.stop(t)

	for _, e := range slack.Delivered() {
		if e.Change == "resolved" && !strings.HasPrefix(e.Text, "Resolved") {
			t.Errorf("resolve message does not start with Resolved: %s", e.Text)
		}
		if e.Change == "unknown" {
			t.Errorf("Slack message names no target and kind: %s", e.Text)
		}
	}
	for _, c := range []struct{ change, target, kind string }{
		{"opened", "api", "pin_mismatch"},
		{"opened", "legacy", "missing_backup_pin"},
		{"resolved", "api", "pin_mismatch"},
	} {
		if n := slack.Count(c.change, c.target, c.kind); n != 1 {
			t.Errorf("Slack got %d %s messages for %s %s, want 1", n, c.change, c.target, c.kind)
		}
	}
	if n := slack.Count("chain_changed", "api", "chain_changed"); n != 2 {
		t.Errorf("Slack got %d chain_changed messages for api, want 2 (there and back)", n)
	}
	slack.CheckPaths(t)
}

func TestDaemonReload(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	keep, gone, added := f.serve(t, hstsHeaders), f.serve(t, hstsHeaders), f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, f.pki.Spare)
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	conf := e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		f.target(t, "keep", keep, withPins(f.pki.Leaf.Pin(), spare)),
		f.target(t, "gone", gone, withPins(f.pki.Leaf.Pin())),
	}}
	conf.write(t, cfg)
	d := startDaemon(t, cfg)
	waitFor(t, "a missing_backup_pin alert on gone", func() bool {
		return openAlert(queryAlerts(t, db, false), "gone", "missing_backup_pin")
	})

	conf.targets = []config.TargetConfig{
		f.target(t, "keep", keep, withPins(f.pki.Leaf.Pin(), spare)),
		f.target(t, "added", added, withPins(f.pki.Leaf.Pin(), spare)),
	}
	conf.write(t, cfg)
	d.signal(t, syscall.SIGHUP)
	waitFor(t, "the added target's first_seen in the history", func() bool {
		_, ok := findEvent(queryHistory(t, db), "added", "first_seen", nil)
		return ok
	})
	waitFor(t, "the removed target's alert to resolve", func() bool {
		x, ok := queryAlerts(t, db, true).find("gone", "missing_backup_pin")
		return ok && x.State == "resolved"
	})
	x, _ := queryAlerts(t, db, true).find("gone", "missing_backup_pin")
	if !strings.Contains(deref(x.ResolveReason), "removed from the configuration") {
		t.Errorf("resolve reason %q does not say the target was removed", deref(x.ResolveReason))
	}
	waitFor(t, "a Slack message resolving the removed target's alert", func() bool {
		return slack.Count("resolved", "gone", "missing_backup_pin") == 1
	})

	// An invalid file is logged and the running configuration keeps going.
	writeFile(t, cfg, "schedule = \"@every 1s\"\n[[target]\nname = \"broken\n")
	d.signal(t, syscall.SIGHUP)
	waitFor(t, "the daemon to log the failed reload", func() bool {
		return strings.Contains(d.output.String(), "reload failed; keeping the running configuration")
	})
	before := lastSeen(t, db, "added")
	if before.IsZero() {
		t.Fatal("certs lists no chain for the added target")
	}
	waitFor(t, "the added target to be probed after the failed reload", func() bool {
		return lastSeen(t, db, "added").After(before)
	})
	if d.exited() {
		t.Fatalf("the daemon exited after an invalid reload")
	}
	d.stop(t)
	slack.CheckPaths(t)
}

func TestDaemonShutdownAndRestart(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	stall := pinwatchdtest.NewStallServer(t)
	legacy := f.serve(t, hstsHeaders)
	slack := newE2ESlack(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	const timeout = 2 * time.Second
	e2eConfig{db: db, timeout: timeout.String(), webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		f.addrTarget(t, "stalled", stall.Addr),
		f.target(t, "legacy", legacy, withPins(f.pki.Leaf.Pin())),
	}}.write(t, cfg)
	d := startDaemon(t, cfg)
	waitFor(t, "both alerts open and announced", func() bool {
		as := queryAlerts(t, db, false)
		return openAlert(as, "stalled", "timeout") && openAlert(as, "legacy", "missing_backup_pin") &&
			as.NotificationsPending == 0
	})

	// SIGTERM while a probe of the stalled server is in flight.
	nextAccept := func() {
		t.Helper()
		for len(stall.Accepted) > 0 {
			<-stall.Accepted
		}
		select {
		case <-stall.Accepted:
		case <-time.After(e2eWait):
			t.Fatal("the daemon stopped probing the stalled server")
		}
	}
	nextAccept()
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, timeout+daemon.ShutdownGrace); code != exitOK {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}

	// Restart on the same database: open alerts are neither re-sent nor
	// forgotten.
	d2 := startDaemon(t, cfg)
	restarted := time.Now()
	waitFor(t, "two rounds of the stalled target after the restart", func() bool {
		return strings.Count(d2.output.String(), `msg="probe failed" target=stalled`) >= 2
	})
	waitFor(t, "a round of legacy after the restart", func() bool {
		return lastSeen(t, db, "legacy").Unix() > restarted.Unix()
	})
	as := queryAlerts(t, db, false)
	if !openAlert(as, "stalled", "timeout") || !openAlert(as, "legacy", "missing_backup_pin") {
		t.Errorf("open alerts after the restart = %+v, want stalled timeout and legacy missing_backup_pin", as.Alerts)
	}
	if as.NotificationsPending != 0 {
		t.Errorf("notifications_pending = %d after the restart, want 0", as.NotificationsPending)
	}
	if n := len(slack.Delivered()); n != 2 {
		t.Errorf("Slack got %d notifications across both runs, want 2: %+v", n, slack.Delivered())
	}
	for _, c := range [][2]string{{"stalled", "timeout"}, {"legacy", "missing_backup_pin"}} {
		if n := slack.Count("opened", c[0], c[1]); n != 1 {
			t.Errorf("%s %s was announced %d times across two runs, want once", c[0], c[1], n)
		}
	}

	// A second signal during the (slow) shutdown exits at once with 1.
	nextAccept()
	d2.signal(t, syscall.SIGTERM)
	d2.signal(t, syscall.SIGINT)
	if code := d2.wait(t, e2eWait); code != 1 {
		t.Fatalf("exit status %d after SIGTERM then SIGINT, want 1", code)
	}
	if !strings.Contains(d2.output.String(), "second signal; exiting at once") {
		t.Errorf("the daemon did not log the second signal:\n%s", d2.output.String())
	}
	slack.CheckPaths(t)
}

func TestDaemonOutboxSurvivesCrash(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	srv := f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, f.pki.Spare)
	wrong := testpki.KeyPin(t, testpki.NewKey(t, testpki.P256))
	slack := newE2ESlack(t)
	slack.SetStatus(http.StatusInternalServerError)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		f.target(t, "legacy", srv, withPins(f.pki.Leaf.Pin())),
		f.target(t, "drifted", srv, withPins(wrong, spare)),
		f.addrTarget(t, "refused", closedPort(t)),
	}}.write(t, cfg)
	want := [][2]string{{"legacy", "missing_backup_pin"}, {"drifted", "pin_mismatch"}, {"refused", "connect_failed"}}

	d := startDaemon(t, cfg)
	waitFor(t, "three alerts pending delivery and a failed attempt", func() bool {
		as := queryAlerts(t, db, false)
		return len(as.Alerts) == 3 && as.NotificationsPending == 3 && len(slack.Requests()) > 0
	})
	d.signal(t, syscall.SIGKILL)
	d.wait(t, e2eWait)
	if n := len(slack.Delivered()); n != 0 {
		t.Fatalf("Slack accepted %d notifications while answering 500", n)
	}

	d2 := startDaemon(t, cfg)
	slack.SetStatus(http.StatusOK)
	// A notification whose retry was scheduled before the crash is due at
	// its stored time, but a fresh sender learns of it only when it next
	// polls the outbox (notify.DefaultPollInterval); allow for that.
	waitForWithin(t, notify.DefaultPollInterval+notify.MaxBackoff, "the outbox to drain after the restart", func() bool {
		return queryAlerts(t, db, false).NotificationsPending == 0
	})
	for _, w := range want {
		if n := slack.Count("opened", w[0], w[1]); n != 1 {
			t.Errorf("Slack got %s %s %d times, want exactly once", w[0], w[1], n)
		}
	}
	if n := len(slack.Delivered()); n != len(want) {
		t.Errorf("Slack accepted %d notifications, want %d: %+v", n, len(want), slack.Delivered())
	}
	d2.stop(t)
	slack.CheckPaths(t)
}

func TestDaemonHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	srv := f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, f.pki.Spare)
	wrong := testpki.KeyPin(t, testpki.NewKey(t, testpki.P256))
	slack := newE2ESlack(t)
	slack.Push(pinwatchdtest.SlackReply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "2"},
		Body: "rate_limited"}) // the first request only
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, webhookFile: slack.WebhookFile(t, f.dir), targets: []config.TargetConfig{
		f.target(t, "legacy", srv, withPins(f.pki.Leaf.Pin())),
		f.target(t, "drifted", srv, withPins(wrong, spare)),
	}}.write(t, cfg)
	d := startDaemon(t, cfg)
	waitFor(t, "both alerts delivered", func() bool {
		return slack.Count("opened", "legacy", "missing_backup_pin") == 1 && slack.Count("opened", "drifted", "pin_mismatch") == 1
	})
	d.stop(t)

	hits := slack.Requests()
	if len(hits) < 3 || hits[0].Status != http.StatusTooManyRequests {
		t.Fatalf("requests = %+v, want a 429 first and then two deliveries", hits)
	}
	for _, h := range hits[1:] {
		if gap := h.At.Sub(hits[0].At); gap < 2*time.Second {
			t.Errorf("a request came %s after the 429 with Retry-After: 2", gap)
		}
	}
	if n := len(slack.Delivered()); n != 2 {
		t.Errorf("Slack accepted %d notifications, want 2", n)
	}
	slack.CheckPaths(t)
}

func TestDaemonKeepsWebhookSecret(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	cases := []struct {
		name    string
		webhook func(t *testing.T, dir string) string
	}{
		{"slack answers 500", func(t *testing.T, dir string) string {
			s := newE2ESlack(t)
			s.SetStatus(http.StatusInternalServerError)
			return s.WebhookFile(t, dir)
		}},
		{"connection refused", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "slack-webhook")
			writeFile(t, path, "http://"+closedPort(t)+webhookPathSecret+"\n")
			return path
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFleet(t)
			srv := f.serve(t, hstsHeaders)
			db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
			e2eConfig{db: db, webhookFile: tc.webhook(t, f.dir), targets: []config.TargetConfig{
				f.target(t, "legacy", srv, withPins(f.pki.Leaf.Pin())),
			}}.write(t, cfg)
			d := startDaemon(t, cfg)
			waitFor(t, "two failed deliveries in the log", func() bool {
				return strings.Count(d.output.String(), "slack delivery failed") >= 2
			})
			outputs := map[string]string{}
			for _, args := range [][]string{
				{"alerts", "--database", db}, {"alerts", "--json", "--all", "--database", db},
				{"history", "--database", db}, {"history", "--json", "--database", db},
				{"certs", "--json", "--database", db}, {"alerts", "--config", cfg},
				{"config", "check", "--config", cfg}, {"check", "--config", cfg, "--json"},
			} {
				stdout, stderr, _ := cliRun(t, args...)
				outputs[strings.Join(args, " ")] = stdout + stderr
			}
			if !strings.Contains(outputs["alerts --database "+db], "waiting in the outbox") {
				t.Errorf("alerts does not report the undelivered notification:\n%s", outputs["alerts --database "+db])
			}
			d.stop(t)
			outputs["daemon log"] = d.output.String()
			for _, name := range []string{db, db + "-wal"} {
				if b, err := os.ReadFile(name); err == nil {
					outputs[filepath.Base(name)] = string(b)
				}
			}
			for name, out := range outputs {
				for _, secret := range []string{webhookSecret, "/services/T000/B000"} {
					if i := strings.Index(out, secret); i >= 0 {
						t.Errorf("%s holds the webhook secret %q: …%q…", name, secret, out[max(i-200, 0):min(i+50, len(out))])
					}
				}
			}
		})
	}
}

func TestDaemonSystemdAndMetrics(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	api, legacy := f.serve(t, hstsHeaders), f.serve(t, hstsHeaders)
	spare := testpki.KeyPin(t, f.pki.Spare)
	sd := newSDListener(t)
	listen := closedPort(t)
	db, cfg := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, metrics: listen, targets: []config.TargetConfig{
		f.target(t, "api", api, withPins(f.pki.Leaf.Pin(), spare)),
		f.target(t, "legacy", legacy, withPins(f.pki.Leaf.Pin())),
	}}.write(t, cfg)
	d := startDaemon(t, cfg, "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=2000000")

	is := func(want string) func(string) bool { return func(s string) bool { return s == want } }
	ready := sd.next(t, "READY=1", 0, is("READY=1"))
	first := sd.next(t, "WATCHDOG=1", ready, is("WATCHDOG=1"))
	sd.next(t, "a second WATCHDOG=1", first+1, is("WATCHDOG=1"))

	base := "http://" + listen
	waitFor(t, "/healthz to answer 200 ok", func() bool {
		code, body := httpGet(base + "/healthz")
		return code == http.StatusOK && strings.TrimSpace(body) == "ok"
	})
	hasLine := func(body, prefix string, parts ...string) bool {
		for _, line := range strings.Split(body, "\n") {
			ok := strings.HasPrefix(line, prefix)
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return true
			}
		}
		return false
	}
	waitFor(t, "probe and pin metrics of api", func() bool {
		_, body := httpGet(base + "/metrics")
		return hasLine(body, "pinwatchd_probes_total{", `target="api"`) &&
			hasLine(body, `pinwatchd_pin_match{pinset="inline",target="api"} 1`) &&
			hasLine(body, `pinwatchd_backup_pin_present{pinset="inline",target="legacy"} 0`)
	})

	// SIGHUP: RELOADING=1 with the monotonic time, then READY=1.
	before := monotonicNow(t)
	d.signal(t, syscall.SIGHUP)
	reloading := sd.next(t, "RELOADING=1", ready+1, func(s string) bool { return strings.HasPrefix(s, "RELOADING=1") })
	after := monotonicNow(t)
	msg := sd.messages()[reloading].Text
	usec, ok := strings.CutPrefix(msg, "RELOADING=1\nMONOTONIC_USEC=")
	n, err := strconv.ParseInt(usec, 10, 64)
	if !ok || err != nil || n < before || n > after {
		t.Errorf("reload message %q: want RELOADING=1 and MONOTONIC_USEC between %d and %d", msg, before, after)
	}
	sd.next(t, "READY=1 after the reload", reloading+1, is("READY=1"))

	waitFor(t, "pinwatchd_alerts_open to count the missing backup pin", func() bool {
		_, body := httpGet(base + "/metrics")
		return hasLine(body, `pinwatchd_alerts_open{kind="missing_backup_pin",severity="warning"} 1`)
	})
	stopAt := len(sd.messages())
	d.stop(t)
	sd.next(t, "STOPPING=1", stopAt, is("STOPPING=1"))
	for _, m := range sd.messages() {
		switch {
		case m.Text == "READY=1", m.Text == "WATCHDOG=1", m.Text == "STOPPING=1", strings.HasPrefix(m.Text, "RELOADING=1\n"):
		default:
			t.Errorf("unexpected notify message %q", m.Text)
		}
	}
}
