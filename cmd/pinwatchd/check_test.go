package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
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

// target renders a [[target]] for a server; extra holds more TOML lines.
func (f *fleet) target(name string, s *testpki.Server, extra ...string) string {
	port := s.Addr[strings.LastIndex(s.Addr, ":")+1:]
	return fmt.Sprintf("[[target]]\nname = %q\nhost = \"localhost\"\nport = %s\naddresses = [%q]\nca_file = %q\n%s\n",
		name, port, s.Addr, f.caFile, strings.Join(extra, "\n"))
}

// config writes a config file with the given targets and returns its path.
func (f *fleet) config(t *testing.T, targets ...string) string {
	t.Helper()
	path := filepath.Join(f.dir, "config.toml")
	body := fmt.Sprintf("timeout = \"5s\"\ndatabase = %q\n\n%s", filepath.Join(f.dir, "pinwatchd.db"), strings.Join(targets, "\n"))
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pinsLine(pins ...pinwatchd.Pin) string {
	quoted := make([]string, len(pins))
	for i, p := range pins {
		quoted[i] = fmt.Sprintf("%q", "sha256/"+p.String())
	}
	return "pins = [" + strings.Join(quoted, ", ") + "]"
}

func TestCheckExitCodes(t *testing.T) {
	f := newFleet(t)
	good := f.serve(t, map[string]string{"Strict-Transport-Security": "max-age=31536000"})
	spare := testpki.KeyPin(t, f.pki.Spare)
	wrong := testpki.KeyPin(t, testpki.NewKey(t, testpki.P256))

	healthy := f.target("healthy", good, pinsLine(f.pki.Leaf.Pin(), spare))
	noBackup := f.target("no-backup", good, pinsLine(f.pki.Intermediate.Pin()))
	drifted := f.target("drifted", good, pinsLine(wrong, spare))

	tests := []struct {
		name     string
		targets  []string
		code     int
		contains []string
	}{
		{"all good", []string{healthy}, exitOK, []string{"ok        healthy (localhost:", "1 target: 0 critical, 0 warning, 1 ok", "no_pin_header"}},
		{"warning only", []string{healthy, noBackup}, exitWarning, []string{"warning   no-backup", "missing_backup_pin", "2 targets: 0 critical, 1 warning, 1 ok"}},
		{"critical", []string{healthy, noBackup, drifted}, exitCritical, []string{"CRITICAL  drifted", "pin_mismatch", `pin-set "inline" has no pin matching`, "3 targets: 1 critical, 1 warning, 1 ok"}},
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
