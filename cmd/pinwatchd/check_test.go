package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// fleet is a set of loopback TLS servers sharing one test PKI.
type fleet struct {
	pki    *testpki.PKI
	caFile string
	dir    string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	p := testpki.New(t)
	return &fleet{pki: p, caFile: p.WriteCAFile(t), dir: t.TempDir()}
}

// serve starts a server presenting the fleet's leaf and intermediate.
func (f *fleet) serve(t *testing.T, headers map[string]string) *testpki.Server {
	t.Helper()
	return testpki.Serve(t, f.pki.TLS(), testpki.HeaderHandler(headers))
}

// target is a target probing a server of the fleet as localhost, trusting
// the fleet's CA; each option adjusts it.
func (f *fleet) target(t *testing.T, name string, s *testpki.Server, opts ...func(*config.TargetConfig)) config.TargetConfig {
	t.Helper()
	tc := f.addrTarget(t, name, s.Addr)
	for _, o := range opts {
		o(&tc)
	}
	return tc
}

// config writes a config file with the given targets and returns its path.
func (f *fleet) config(t *testing.T, targets ...config.TargetConfig) string {
	t.Helper()
	c := config.Default()
	c.Timeout = config.Duration{Duration: 5 * time.Second}
	c.Database = filepath.Join(f.dir, "pinwatchd.db")
	c.TargetConfigs = targets
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "config.toml")
	var b bytes.Buffer
	if err := config.Encode(&b, c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withPins sets a target's inline pin-set.
func withPins(pins ...pinwatchd.Pin) func(*config.TargetConfig) {
	return func(tc *config.TargetConfig) { tc.Pins = pins }
}

// noHTTP turns a target's HTTP request off.
func noHTTP(tc *config.TargetConfig) {
	off := false
	tc.HTTP = &off
}

func TestCheckExitCodes(t *testing.T) {
	f := newFleet(t)
	good := f.serve(t, map[string]string{"Strict-Transport-Security": "max-age=31536000"})
	spare := testpki.KeyPin(t, f.pki.Spare)
	wrong := testpki.KeyPin(t, testpki.NewKey(t, testpki.P256))

	healthy := f.target(t, "healthy", good, withPins(f.pki.Leaf.Pin(), spare))
	noBackup := f.target(t, "no-backup", good, withPins(f.pki.Intermediate.Pin()))
	drifted := f.target(t, "drifted", good, withPins(wrong, spare))

	tests := []struct {
		name     string
		targets  []config.TargetConfig
		code     int
		contains []string
	}{
		{"all good", []config.TargetConfig{healthy}, exitOK, []string{"ok        healthy (localhost:", "1 target: 0 critical, 0 warning, 1 ok", "no_pin_header"}},
		{"warning only", []config.TargetConfig{healthy, noBackup}, exitWarning, []string{"warning   no-backup", "missing_backup_pin", "2 targets: 0 critical, 1 warning, 1 ok"}},
		{"critical", []config.TargetConfig{healthy, noBackup, drifted}, exitCritical, []string{"CRITICAL  drifted", "pin_mismatch", `pin-set "inline" has no pin matching`, "3 targets: 1 critical, 1 warning, 1 ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.config(t, tt.targets...)
			stdout, stderr, code := runCmd(t, "", nil, "check", "--config", cfg)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.contains {
				if !strings.Contains(stdout, want) {
					t.Errorf("report lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
	t.Run("worst first", func(t *testing.T) {
		stdout, _, _ := runCmd(t, "", nil, "check", "--config", f.config(t, healthy, noBackup, drifted))
		d, n, h := strings.Index(stdout, "drifted ("), strings.Index(stdout, "no-backup ("), strings.Index(stdout, "healthy (")
		if d < 0 || n < 0 || h < 0 || d > n || n > h {
			t.Errorf("blocks not ordered critical, warning, ok:\n%s", stdout)
		}
	})
	t.Run("json and --target", func(t *testing.T) {
		stdout, _, code := runCmd(t, "", nil, "check", "--config", f.config(t, healthy, drifted), "--target", "drifted", "--json")
		if code != exitCritical {
			t.Fatalf("exit code %d, want %d", code, exitCritical)
		}
		var doc struct {
			Targets []struct {
				Name      string `json:"name"`
				Port      int    `json:"port"`
				Addresses []struct {
					Address     string           `json:"address"`
					Error       *json.RawMessage `json:"error"`
					ServedChain []struct {
						Pin string `json:"pin_sha256"`
					} `json:"served_chain"`
					VerifiedChain []json.RawMessage `json:"verified_chain"`
				} `json:"addresses"`
				Findings []struct {
					Kind, Severity string
					PinSet         *string `json:"pinset"`
				} `json:"findings"`
			} `json:"targets"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, stdout)
		}
		if len(doc.Targets) != 1 || doc.Targets[0].Name != "drifted" {
			t.Fatalf("targets = %+v, want only drifted", doc.Targets)
		}
		a := doc.Targets[0].Addresses
		if len(a) != 1 || a[0].Address != good.Addr || a[0].Error != nil || len(a[0].ServedChain) != 2 || len(a[0].VerifiedChain) != 3 {
			t.Fatalf("addresses = %+v", a)
		}
		if a[0].ServedChain[0].Pin != f.pki.Leaf.Pin().String() {
			t.Errorf("leaf pin %s, want %s", a[0].ServedChain[0].Pin, f.pki.Leaf.Pin())
		}
		found := false
		for _, fd := range doc.Targets[0].Findings {
			if fd.Kind == "pin_mismatch" && fd.Severity == "critical" && fd.PinSet != nil && *fd.PinSet == "inline" {
				found = true
			}
		}
		if !found {
			t.Errorf("no critical pin_mismatch for pin-set inline in %+v", doc.Targets[0].Findings)
		}
	})
	t.Run("unknown target", func(t *testing.T) {
		_, stderr, code := runCmd(t, "", nil, "check", "--config", f.config(t, healthy), "--target", "nope")
		if code != exitError || !strings.Contains(stderr, `--target "nope": no such target in the config; configured: healthy`) {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestCheckConfigErrors(t *testing.T) {
	_, stderr, code := runCmd(t, "", []string{"PINWATCHD_CONFIG=/nonexistent/pinwatchd.toml"}, "check")
	if code != exitError {
		t.Errorf("exit code %d, want 3", code)
	}
	if want := "config file /nonexistent/pinwatchd.toml does not exist"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}

func TestProbeCommand(t *testing.T) {
	f := newFleet(t)
	s := f.serve(t, map[string]string{
		"Public-Key-Pins": fmt.Sprintf(`pin-sha256="%s"; pin-sha256="%s"; max-age=5184000`, f.pki.Leaf.Pin(), testpki.KeyPin(t, f.pki.Spare)),
	})
	port := s.Addr[strings.LastIndex(s.Addr, ":")+1:]
	t.Run("healthy", func(t *testing.T) {
		stdout, stderr, code := runCmd(t, "", nil, "probe", "localhost:"+port, "--connect", "127.0.0.1", "--ca-file", f.caFile)
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"0 leaf", "pin sha256/" + f.pki.Leaf.Pin().String(), "2 root, not served", "Public-Key-Pins: max-age 5184000, 2 pins", "matches leaf", "backup (no key of the chain)", "result: ok"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("report lacks %q:\n%s", want, stdout)
			}
		}
	})
	t.Run("drift is critical", func(t *testing.T) {
		wrong := testpki.KeyPin(t, testpki.NewKey(t, testpki.P256))
		stdout, _, code := runCmd(t, "", nil, "probe", "localhost:"+port, "--connect", "127.0.0.1", "--ca-file", f.caFile, "--pin", wrong.String(), "--pin", "pin-sha256=\""+testpki.KeyPin(t, f.pki.Spare).String()+"\"")
		if code != exitCritical || !strings.Contains(stdout, "pin_mismatch") {
			t.Errorf("exit %d, want 2 with pin_mismatch:\n%s", code, stdout)
		}
	})
	t.Run("untrusted without ca-file", func(t *testing.T) {
		stdout, _, code := runCmd(t, "", nil, "probe", "127.0.0.1:"+port, "--sni", "localhost", "--no-http", "--json")
		if code != exitCritical || !strings.Contains(stdout, `"kind": "chain_untrusted"`) {
			t.Errorf("exit %d, want 2 with chain_untrusted:\n%s", code, stdout)
		}
		// probe reads no config: its vantage is the host name (SPEC §14).
		if want := fmt.Sprintf(`"vantage": %q`, config.DefaultVantage()); !strings.Contains(stdout, want) {
			t.Errorf("probe --json lacks %s on its address:\n%s", want, stdout)
		}
	})
	t.Run("connect refused is a warning", func(t *testing.T) {
		stdout, _, code := runCmd(t, "", nil, "probe", "127.0.0.1:1", "--timeout", "2s")
		if code != exitWarning || !strings.Contains(stdout, "connect_failed") {
			t.Errorf("exit %d, want 1 with connect_failed:\n%s", code, stdout)
		}
	})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"probe"}, "probe takes exactly one HOST[:PORT], got 0 arguments"},
		{[]string{"probe", "example.com:99999"}, `port "99999" of "example.com:99999" is not a number from 1 to 65535`},
		{[]string{"probe", "localhost", "--pin", "no-pe!"}, `--pin: pin "no-pe!" is not valid base64`},
		{[]string{"probe", "localhost", "--pin", "nope"}, `--pin: pin "nope" decodes to 3 bytes, want 32`},
		{[]string{"probe", "localhost", "--connect", "not-an-ip"}, `--connect "not-an-ip": not an IP or IP:PORT`},
		{[]string{"probe", "localhost", "--ca-file", "/nonexistent.pem"}, `--ca-file "/nonexistent.pem": no such file or directory`},
		{[]string{"probe", "http://localhost"}, `"http://localhost" is not a host or an https:// URL`},
	} {
		_, stderr, code := runCmd(t, "", nil, tt.args...)
		if code != exitError || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 3 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
