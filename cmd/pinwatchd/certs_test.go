package main

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/config"
)

// certsRows runs `certs --json` with args and returns target/address →
// stale ("" for null).
func certsRows(t *testing.T, args ...string) map[string]string {
	t.Helper()
	stdout, stderr, code := runCmd(t, "", nil, append([]string{"certs", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("certs %v: exit %d: %s", args, code, stderr)
	}
	var doc struct {
		Certs []struct {
			Target  string  `json:"target"`
			Address string  `json:"address"`
			Stale   *string `json:"stale"`
		} `json:"certs"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("certs --json printed invalid JSON: %v\n%s", err, stdout)
	}
	rows := map[string]string{}
	for _, c := range doc.Certs {
		rows[c.Target+" "+c.Address] = deref(c.Stale)
	}
	if !strings.Contains(stdout, `"stale"`) && len(doc.Certs) > 0 {
		t.Errorf("certs --json has no stale field:\n%s", stdout)
	}
	return rows
}

// certs shows what the configured targets serve now; rows of a removed
// target and of an address that is no longer probed only with --all,
// marked as such.
func TestCertsCurrentState(t *testing.T) {
	f := newFleet(t)
	s1, s2, s3 := f.serve(t, nil), f.serve(t, nil), f.serve(t, nil)
	both := f.target(t, "api", s1)
	hp, err := config.ParseHostPort(s2.Addr)
	if err != nil {
		t.Fatal(err)
	}
	both.Addresses = append(both.Addresses, hp)
	f.config(t, both, f.target(t, "old", s3))
	db := filepath.Join(f.dir, "pinwatchd.db")
	cfg := filepath.Join(f.dir, "config.toml")
	if _, stderr, code := runCmd(t, "", nil, "check", "--config", cfg, "--record"); code == exitError {
		t.Fatalf("first check --record: %s", stderr)
	}
	// api now resolves to s1 only, and old is no longer configured.
	f.config(t, f.target(t, "api", s1))
	if _, stderr, code := runCmd(t, "", nil, "check", "--config", cfg, "--record"); code == exitError {
		t.Fatalf("second check --record: %s", stderr)
	}
	current, left, gone := "api "+s1.Addr, "api "+s2.Addr, "old "+s3.Addr

	if got := certsRows(t, "--config", cfg); len(got) != 1 || got[current] != "" {
		t.Errorf("certs = %v, want only %s", got, current)
	}
	want := map[string]string{current: "", left: "left_dns", gone: "not_configured"}
	if got := certsRows(t, "--config", cfg, "--all"); !maps.Equal(got, want) {
		t.Errorf("certs --all = %v, want %v", got, want)
	}

	stdout, _, _ := runCmd(t, "", nil, "certs", "--config", cfg)
	if !strings.Contains(stdout, s1.Addr) || strings.Contains(stdout, s2.Addr) || strings.Contains(stdout, s3.Addr) ||
		!strings.Contains(stdout, "(2 rows of targets no longer configured or addresses that left DNS not shown; --all shows them)") {
		t.Errorf("certs:\n%s", stdout)
	}
	stdout, _, _ = runCmd(t, "", nil, "certs", "--config", cfg, "--all")
	for _, line := range strings.Split(stdout, "\n") {
		switch {
		case strings.Contains(line, s2.Addr) && !strings.Contains(line, "left DNS (last seen "),
			strings.Contains(line, s3.Addr) && !strings.Contains(line, "not configured (last seen "),
			strings.Contains(line, s1.Addr) && !strings.HasSuffix(line, "  ok"):
			t.Errorf("certs --all row %q has the wrong STATUS", line)
		}
	}
	if strings.Count(stdout, "\n") != 4 || strings.Contains(stdout, "not shown") {
		t.Errorf("certs --all should list all three rows under the header and hide none:\n%s", stdout)
	}

	t.Run("database without a config", func(t *testing.T) {
		stdout, stderr, code := runCmd(t, "", nil, "certs", "--database", db, "--json")
		if code != exitOK || !strings.Contains(stderr, "every target in "+db+" counts as configured") {
			t.Fatalf("exit %d, stderr %q; want 0 and a note that every target counts as configured", code, stderr)
		}
		if !strings.Contains(stdout, `"stale": null`) || strings.Contains(stdout, s2.Addr) || !strings.Contains(stdout, s3.Addr) {
			t.Errorf("with no config, old counts as configured and the address that left DNS stays hidden:\n%s", stdout)
		}
	})
	t.Run("an explicit config must be readable", func(t *testing.T) {
		missing := filepath.Join(f.dir, "missing.toml")
		_, stderr, code := runCmd(t, "", nil, "certs", "--database", db, "--config", missing)
		if code != exitError || !strings.Contains(stderr, "config file "+missing+" does not exist") {
			t.Errorf("exit %d, stderr %q; want 3 naming %s", code, stderr, missing)
		}
	})
}
