package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// namedServer serves a leaf valid for e2eHost on 127.0.0.1 and returns its
// port, with the stand-in DNS server answering e2eHost with 127.0.0.1.
func namedServer(t *testing.T, f *fleet) (port string, dns *pinwatchdtest.DNS) {
	t.Helper()
	srv := testpki.Serve(t, testpki.Chain(f.namedLeaf(t), f.pki.Intermediate), testpki.HeaderHandler(hstsHeaders))
	_, port, _ = net.SplitHostPort(srv.Addr)
	dns = pinwatchdtest.NewDNS(t)
	dns.Set(e2eHost, "127.0.0.1")
	return port, dns
}

func TestProbeResolver(t *testing.T) {
	f := newFleet(t)
	port, dns := namedServer(t, f)
	host := e2eHost + ":" + port

	stdout, stderr, code := runCmd(t, "", nil, "probe", host, "--resolver", dns.Addr, "--ca-file", f.caFile)
	if code != exitOK || !strings.Contains(stdout, "127.0.0.1:"+port+"  sni "+e2eHost) {
		t.Fatalf("probe --resolver: exit %d, want 0 and the address the stand-in DNS answered:\n%s\n%s", code, stdout, stderr)
	}
	dns.SetMode(pinwatchdtest.DNSServFail)
	stdout, _, code = runCmd(t, "", nil, "probe", host, "--resolver", dns.Addr, "--json")
	if code != exitWarning || !strings.Contains(stdout, `"kind": "dns_failed"`) || !strings.Contains(stdout, "server misbehaving") {
		t.Errorf("probe --resolver with SERVFAIL: exit %d, want 1 with dns_failed:\n%s", code, stdout)
	}

	for _, tt := range []struct{ value, want string }{
		{"127.0.0.1", `--resolver: resolver "127.0.0.1" has no port; write an IP address and a port, e.g. "127.0.0.1:53" or "[::1]:53"`},
		{"dns.example.com:53", `--resolver: resolver "dns.example.com:53" names a host, not an IP address`},
	} {
		_, stderr, code := runCmd(t, "", nil, "probe", host, "--resolver", tt.value)
		if code != exitError || !strings.Contains(stderr, tt.want) {
			t.Errorf("--resolver %s: exit %d, stderr %q; want 3 and %q", tt.value, code, stderr, tt.want)
		}
	}
}

func TestCheckResolver(t *testing.T) {
	f := newFleet(t)
	port, dns := namedServer(t, f)
	p, _ := strconv.Atoi(port)
	c := config.Default()
	c.Timeout = config.Duration{Duration: 5 * time.Second}
	c.Database = filepath.Join(f.dir, "pinwatchd.db")
	if err := c.Resolver.UnmarshalText([]byte(dns.Addr)); err != nil {
		t.Fatal(err)
	}
	c.TargetConfigs = []config.TargetConfig{f.namedTarget("api", p, withPins(f.pki.Intermediate.Pin(), testpki.KeyPin(t, f.pki.Spare)))}
	var b bytes.Buffer
	if err := config.Encode(&b, c); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "config.toml")
	writeFile(t, path, b.String())
	if !strings.Contains(b.String(), "resolver = '"+dns.Addr+"'") && !strings.Contains(b.String(), `resolver = "`+dns.Addr+`"`) {
		t.Fatalf("the encoded config lacks the resolver:\n%s", b.String())
	}

	stdout, stderr, code := runCmd(t, "", nil, "check", "--config", path, "--json")
	if code != exitOK || !strings.Contains(stdout, `"address": "127.0.0.1:`+port+`"`) {
		t.Fatalf("check with resolver: exit %d, want 0 with the address the stand-in DNS answered:\n%s\n%s", code, stdout, stderr)
	}
	dns.SetMode(pinwatchdtest.DNSNXDomain)
	stdout, _, code = runCmd(t, "", nil, "check", "--config", path)
	if code != exitWarning || !strings.Contains(stdout, "dns_failed") || !strings.Contains(stdout, "no such host") {
		t.Errorf("check with NXDOMAIN: exit %d, want 1 with dns_failed:\n%s", code, stdout)
	}
}
