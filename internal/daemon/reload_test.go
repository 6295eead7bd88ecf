package daemon

import (
	"errors"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	a, b := newEndpoint(t), newEndpoint(t)
	writeConfig(t, path, newConfig(t, dir, a.target(t, "old", a.pki.Leaf.Pin())))
	cfg := loadConfig(t, path)
	var logs logBuffer
	r := start(t, cfg, Options{ConfigPath: path, Log: logs.logger()})
	waitForOpenAlert(t, cfg.Database, "old", pinwatchd.KindMissingBackupPin)

	// Replace the target "old" by "new".
	writeConfig(t, path, newConfig(t, dir, b.target(t, "new", b.pki.Leaf.Pin())))
	if err := r.d.Reload(t.Context()); err != nil {
		t.Fatalf("Reload = %v, want nil", err)
	}
	if got := r.d.targetNames(); !slices.Equal(got, []string{"new"}) {
		t.Errorf("targets after the reload = %q, want [new]", got)
	}
	if len(logs.find(t, map[string]string{"msg": "configuration reloaded", "config": path})) != 1 {
		t.Errorf("no \"configuration reloaded\" line naming %s:\n%s", path, logs.String())
	}
	// The removed target's alert is resolved by Reload itself.
	const reason = "the target was removed from the configuration"
	gone := findAlert(alerts(t, cfg.Database, true), "old", pinwatchd.KindMissingBackupPin)
	if gone == nil || gone.State != pinwatchd.AlertResolved || gone.ResolveReason != reason || gone.ResolvedAt.IsZero() {
		t.Errorf("alert of the removed target after Reload = %+v, want resolved because %q", gone, reason)
	}
	waitFor(t, "the resolution to be notified", func() bool {
		return len(logs.find(t, map[string]string{"msg": "alert resolved", "target": "old", "reason": reason})) == 1
	})
	waitFor(t, "the first_seen event of the added target", func() bool {
		return hasEvent(history(t, cfg.Database, "new"), pinwatchd.EventFirstSeen)
	})
	waitForOpenAlert(t, cfg.Database, "new", pinwatchd.KindMissingBackupPin)

	// A file that does not load leaves the running configuration alone.
	for _, tc := range []struct {
		name  string
		write func(t *testing.T)
		want  string // in the error, besides the path
	}{
		{"syntax error", func(t *testing.T) { writeFile(t, path, "schedule = \"@every 1s\"\n[[target]\nname = \"x\"\n") }, ""},
		{"unknown key", func(t *testing.T) { writeFile(t, path, "shedule = \"@hourly\"\n") }, "shedule"},
		{"invalid value", func(t *testing.T) { writeFile(t, path, "concurrency = 0\n") }, "concurrency = 0 must be at least 1"},
		{"missing file", func(t *testing.T) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.write(t)
			err := r.d.Reload(t.Context())
			if err == nil {
				t.Fatal("Reload = nil, want an error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Reload = %q, want an error naming %s and saying %q", err, path, tc.want)
			}
			if got := r.d.targetNames(); !slices.Equal(got, []string{"new"}) {
				t.Errorf("targets after a failed reload = %q, want [new]", got)
			}
		})
	}
	if n := len(logs.find(t, map[string]string{"msg": "configuration reloaded"})); n != 1 {
		t.Errorf("%d \"configuration reloaded\" lines after the failed reloads, want 1", n)
	}
	// The old configuration still probes: a key rotation at "new" is seen.
	leaf := b.rotate(t)
	waitFor(t, "the rotation at the kept target to be recorded", func() bool {
		return hasEvent(history(t, cfg.Database, "new"), pinwatchd.EventChainChanged)
	})

	// A changed target applies: a backup pin resolves its alert.
	spare := testpki.KeyPin(t, b.pki.Spare)
	writeConfig(t, path, newConfig(t, dir, b.target(t, "new", leaf, spare)))
	if err := r.d.Reload(t.Context()); err != nil {
		t.Fatalf("Reload with a backup pin = %v, want nil", err)
	}
	waitFor(t, "missing_backup_pin of the changed target to resolve", func() bool {
		a := findAlert(alerts(t, cfg.Database, true), "new", pinwatchd.KindMissingBackupPin)
		return a != nil && a.State == pinwatchd.AlertResolved
	})
	if a := findAlert(alerts(t, cfg.Database, false), "new", pinwatchd.KindPinMismatch); a != nil {
		t.Errorf("the changed pin-set opened %+v, want it to match the served key", a)
	}
	r.stop(t)
}

func TestReloadNotRunning(t *testing.T) {
	e := newEndpoint(t)
	t.Run("before Run", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		writeConfig(t, path, newConfig(t, dir, e.target(t, "legacy", e.pki.Leaf.Pin())))
		d, err := New(t.Context(), loadConfig(t, path), Options{ConfigPath: path, Log: (&logBuffer{}).logger()})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Reload(t.Context()); !errors.Is(err, errNotRunning) {
			t.Errorf("Reload before Run = %v, want %v", err, errNotRunning)
		}
	})
	t.Run("configuration built in code", func(t *testing.T) {
		cfg := newConfig(t, t.TempDir(), e.target(t, "legacy", e.pki.Leaf.Pin()))
		r := start(t, cfg, Options{Log: (&logBuffer{}).logger()})
		err := r.d.Reload(t.Context())
		if err == nil || !strings.Contains(err.Error(), "not read from a file") {
			t.Errorf("Reload without ConfigPath = %v, want an error saying there is no file", err)
		}
		if got := r.d.targetNames(); !slices.Equal(got, []string{"legacy"}) {
			t.Errorf("targets after the refused reload = %q, want [legacy]", got)
		}
		r.stop(t)
	})
}

// TestReloadForgetsExchangeSeries checks that removing an mx target drops
// the metric series of its exchanges (NAME/EXCHANGE) along with its own,
// and leaves the other targets' series alone.
func TestReloadForgetsExchangeSeries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	e := newEndpoint(t)
	kept := e.target(t, "kept", e.pki.Leaf.Pin())
	// Nothing answers DNS here: the mx round fails with dns_failed, which
	// is all this test needs from it.
	resolver, err := netip.ParseAddrPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, dir, kept, config.TargetConfig{Name: "mail", MX: "mail.example"})
	cfg.Resolver = config.Resolver{AddrPort: resolver}
	cfg.HTTP.Listen = freeAddr(t)
	writeConfig(t, path, cfg)
	cfg = loadConfig(t, path)
	var logs logBuffer
	r := start(t, cfg, Options{ConfigPath: path, Log: logs.logger()})
	metricsURL := "http://" + cfg.HTTP.Listen + "/metrics"
	waitFor(t, "/metrics to show a probe of kept", func() bool {
		code, b := get(t, metricsURL)
		return code == http.StatusOK && strings.Contains(b, `target="kept"`)
	})
	// The series an exchange's rounds leave behind.
	for _, name := range []string{"mail/mx1.mail.example", "mail/mx2.mail.example"} {
		r.d.meter().Probed(&pinwatchd.Target{Name: name, DANE: true}, []pinwatchd.Observation{{
			ServedChain: []pinwatchd.Cert{pinwatchd.CertFromX509(e.pki.Leaf.Cert)},
			TLSA:        &pinwatchd.TLSAResult{Authenticated: true, Records: []pinwatchd.TLSARecord{{Usage: 3}}},
		}}, nil)
	}
	if _, b := get(t, metricsURL); !strings.Contains(b, `pinwatchd_tlsa_match{target="mail/mx1.mail.example"} 1`) {
		t.Fatalf("/metrics lacks the exchange's series before the reload:\n%s", b)
	}

	next := newConfig(t, dir, kept)
	next.HTTP.Listen = cfg.HTTP.Listen
	writeConfig(t, path, next)
	if err := r.d.Reload(t.Context()); err != nil {
		t.Fatalf("Reload = %v, want nil", err)
	}
	_, body := get(t, metricsURL)
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, `target="mail`) {
			t.Errorf("/metrics after removing mx target mail still has %q", line)
		}
	}
	if !strings.Contains(body, `pinwatchd_probes_total{result="ok",target="kept"}`) {
		t.Errorf("/metrics after the reload lost the series of kept:\n%s", body)
	}
}
