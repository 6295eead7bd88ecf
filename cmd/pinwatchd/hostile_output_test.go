package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// Certificate and header text written to attack a terminal: move the
// cursor up a line and erase it, ring the bell, return to the line start.
const (
	hostileLeafCN = "shop\x1b[1A\x1b[2K\a\rpinned leaf"
	hostileCACN   = "Evil CA\x1b[1A\x1b[2K\a\r"
	hostileSAN    = "localhost\x1b[2K\a" // shown in the name-mismatch error
)

// TestHostileTextEscapedInEveryOutput serves a chain whose subjects, name
// and headers carry ESC sequences, BEL and CR, and runs every command that
// prints them: probe, check, check --record then certs and history, and
// the daemon then alerts. No raw ESC, BEL or CR byte reaches any human
// output, the text is shown escaped (SPEC §16), and JSON keeps it exact.
func TestHostileTextEscapedInEveryOutput(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	dir := t.TempDir()
	root := testpki.NewRoot(t, testpki.Options{})
	ca := root.Intermediate(t, testpki.Options{CommonName: hostileCACN})
	leaf := ca.Leaf(t, testpki.Options{CommonName: hostileLeafCN, DNSNames: []string{hostileSAN}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	caFile := filepath.Join(dir, "ca.pem")
	writeFile(t, caFile, string(root.PEM()))
	// The HTTP reader refuses header lines with control characters; the
	// error that quotes the line is shown too.
	srv := testpki.Serve(t, testpki.Chain(leaf, ca), testpki.HeaderHandler(map[string]string{
		"Public-Key-Pins": "max-age=\x1b[1A60; pin-sha256=\"\a\"",
	}))

	assertSafe := func(what, out string) {
		t.Helper()
		for _, b := range []byte{0x1b, 0x07, '\r'} {
			if i := strings.IndexByte(out, b); i >= 0 {
				t.Errorf("%s prints a raw %q byte at %d:\n%q", what, b, i, out)
			}
		}
		if !strings.Contains(out, `\x1b[2K`) {
			t.Errorf("%s does not show the hostile text escaped:\n%s", what, out)
		}
	}

	_, port, _ := net.SplitHostPort(srv.Addr)
	stdout, stderr, _ := cliRun(t, "probe", "localhost:"+port, "--connect", "127.0.0.1", "--ca-file", caFile)
	assertSafe("probe", stdout+stderr)
	for _, want := range []string{`shop\x1b[1A\x1b[2K\x07\x0dpinned leaf`, `Evil CA\x1b[1A\x1b[2K\x07\x0d`, `valid for localhost\x1b[2K\x07`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("probe does not show %s:\n%s", want, stdout)
		}
	}

	stdout, _, _ = cliRun(t, "probe", "localhost:"+port, "--connect", "127.0.0.1", "--ca-file", caFile, "--json")
	var doc struct {
		Targets []struct {
			Addresses []struct {
				ServedChain []struct {
					Subject, Issuer string
				} `json:"served_chain"`
			} `json:"addresses"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Targets) != 1 || len(doc.Targets[0].Addresses) != 1 ||
		len(doc.Targets[0].Addresses[0].ServedChain) != 2 {
		t.Fatalf("probe --json: %v\n%s", err, stdout)
	}
	if c := doc.Targets[0].Addresses[0].ServedChain[0]; !strings.Contains(c.Subject, "CN="+hostileLeafCN) || !strings.Contains(c.Issuer, "CN="+hostileCACN) {
		t.Errorf("probe --json changed the text: subject %q, issuer %q", c.Subject, c.Issuer)
	}

	db, cfg := filepath.Join(dir, "pinwatchd.db"), filepath.Join(dir, "config.toml")
	addr := mustHostPort(t, srv.Addr)
	target := config.TargetConfig{Name: "shop", Host: "localhost", Port: ptr(int(addr.Port)), CAFile: caFile,
		Addresses: []config.HostPort{addr}}
	e2eConfig{db: db, targets: []config.TargetConfig{target}}.write(t, cfg)

	stdout, stderr, _ = cliRun(t, "check", "--config", cfg)
	assertSafe("check", stdout+stderr)
	stdout, stderr, _ = cliRun(t, "check", "--record", "--config", cfg)
	assertSafe("check --record", stdout+stderr)
	for _, args := range [][]string{{"certs"}, {"history"}} {
		stdout, stderr, code := cliRun(t, append(args, "--database", db)...)
		if code != exitOK {
			t.Fatalf("%s exited %d: %s", args[0], code, stderr)
		}
		assertSafe(args[0], stdout+stderr)
	}

	d := startDaemon(t, cfg)
	waitFor(t, "the hostname_mismatch alert", func() bool { return openAlert(queryAlerts(t, db, false), "shop", "hostname_mismatch") })
	d.stop(t)
	stdout, stderr, code := cliRun(t, "alerts", "--all", "--database", db)
	if code != exitOK {
		t.Fatalf("alerts exited %d: %s", code, stderr)
	}
	assertSafe("alerts", stdout+stderr)
}

func ptr[T any](v T) *T { return &v }

func mustHostPort(t *testing.T, s string) config.HostPort {
	t.Helper()
	hp, err := config.ParseHostPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return hp
}
