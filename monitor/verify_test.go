package monitor

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// probeChain serves cert on loopback and probes it as host "localhost"
// trusting pki's root, without HTTP.
func probeChain(t *testing.T, pki *testpki.PKI, cert testpki.Cert, intermediates ...*testpki.Cert) pinwatchd.Observation {
	t.Helper()
	srv := testpki.Serve(t, testpki.Chain(&cert, intermediates...), nil)
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	tg := target(srv.Addr)
	tg.HTTP = false
	o := probeOne(t, p, tg)
	if o.Error != nil {
		t.Fatalf("Error = %+v, want a completed handshake", o.Error)
	}
	return o
}

func TestVerifyMissingIntermediate(t *testing.T) {
	pki := testpki.New(t)
	o := probeChain(t, pki, *pki.Leaf)
	v := o.Verification
	if v.Trusted || !strings.Contains(v.UntrustedReason, "unknown authority") || !strings.Contains(v.UntrustedReason, "missing intermediate") ||
		!strings.Contains(v.UntrustedReason, "pinwatchd test intermediate") {
		t.Errorf("Verification = %+v, want untrusted naming the missing intermediate", v)
	}
	if len(o.VerifiedChain) != 0 || len(o.ServedChain) != 1 {
		t.Errorf("served %d, verified %d certificates; want 1 and none", len(o.ServedChain), len(o.VerifiedChain))
	}
	if !v.HostnameValid {
		t.Errorf("HostnameValid = false, want true: the name check does not depend on trust")
	}
}

func TestVerifyUnknownRoot(t *testing.T) {
	pki := testpki.New(t)
	other := testpki.New(t)
	o := probeChain(t, other, *pki.Leaf, pki.Intermediate)
	if v := o.Verification; v.Trusted || !strings.Contains(v.UntrustedReason, "unknown authority") || !strings.Contains(v.UntrustedReason, "pinwatchd test root") {
		t.Errorf("Verification = %+v, want untrusted naming the unknown root", v)
	}
	wantPins(t, "served", o.ServedChain, pki.Leaf, pki.Intermediate)
}

func TestVerifyExpired(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	root := testpki.NewRoot(t, testpki.Options{NotBefore: now.Add(-1000 * day)})
	pki := &testpki.PKI{Root: root}
	expiredInter := root.Intermediate(t, testpki.Options{NotBefore: now.Add(-400 * day), NotAfter: now.Add(-day)})
	goodInter := root.Intermediate(t, testpki.Options{NotBefore: now.Add(-400 * day)})
	for _, tc := range []struct {
		name  string
		leaf  *testpki.Cert
		inter *testpki.Cert
	}{
		{"intermediate", expiredInter.Leaf(t, testpki.Options{NotBefore: now.Add(-60 * day), NotAfter: now.Add(30 * day)}), expiredInter},
		{"leaf", goodInter.Leaf(t, testpki.Options{NotBefore: now.Add(-100 * day), NotAfter: now.Add(-2 * day)}), goodInter},
		{"leaf not yet valid", goodInter.Leaf(t, testpki.Options{NotBefore: now.Add(day), NotAfter: now.Add(90 * day)}), goodInter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := probeChain(t, pki, *tc.leaf, tc.inter)
			if want := (pinwatchd.Verification{Trusted: true, HostnameValid: true}); o.Verification != want {
				t.Errorf("Verification = %+v, want %+v: expiry has its own findings", o.Verification, want)
			}
			wantPins(t, "verified", o.VerifiedChain, tc.leaf, tc.inter, root)
			expired := 0
			for _, c := range o.VerifiedChain {
				if now.After(c.NotAfter) || now.Before(c.NotBefore) {
					expired++
				}
			}
			if expired != 1 {
				t.Errorf("%d certificates of the verified chain are outside their validity now, want 1", expired)
			}
		})
	}
	t.Run("expired and unknown root", func(t *testing.T) {
		leaf := expiredInter.Leaf(t, testpki.Options{NotBefore: now.Add(-60 * day)})
		o := probeChain(t, testpki.New(t), *leaf, expiredInter)
		if v := o.Verification; v.Trusted || !strings.Contains(v.UntrustedReason, "unknown authority") {
			t.Errorf("Verification = %+v, want untrusted for the unknown root", v)
		}
	})
}

func TestVerifyWrongHostname(t *testing.T) {
	pki := testpki.New(t)
	leaf := pki.Intermediate.Leaf(t, testpki.Options{CommonName: "other.example", DNSNames: []string{"other.example"}})
	o := probeChain(t, pki, *leaf, pki.Intermediate)
	v := o.Verification
	if !v.Trusted || v.HostnameValid || !strings.Contains(v.HostnameError, "other.example") || !strings.Contains(v.HostnameError, "localhost") {
		t.Errorf("Verification = %+v, want trusted with a hostname error naming other.example and localhost", v)
	}
}

func TestVerifyKeyTypes(t *testing.T) {
	pki := testpki.New(t)
	for _, tc := range []struct {
		kind testpki.KeyKind
		want string
	}{
		{testpki.RSA2048, "RSA-2048"},
		{testpki.P256, "ECDSA P-256"},
		{testpki.P384, "ECDSA P-384"},
		{testpki.Ed25519, "Ed25519"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			leaf := pki.Intermediate.Leaf(t, testpki.Options{KeyKind: tc.kind})
			o := probeChain(t, pki, *leaf, pki.Intermediate)
			got := o.Leaf()
			if got.KeyType != tc.want || got.Pin != testpki.KeyPin(t, leaf.Key) {
				t.Errorf("leaf key %s pin %s, want %s pin %s", got.KeyType, got.Pin, tc.want, testpki.KeyPin(t, leaf.Key))
			}
			if !o.Verification.Trusted || len(o.VerifiedChain) != 3 {
				t.Errorf("Verification = %+v with %d verified certificates, want trusted with 3", o.Verification, len(o.VerifiedChain))
			}
		})
	}
}

func TestVerifyCAFile(t *testing.T) {
	pki := testpki.New(t)
	srv := testpki.Serve(t, pki.TLS(), nil)
	dir := t.TempDir()
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	probe := func(caFile string) pinwatchd.Verification {
		t.Helper()
		tg := target(srv.Addr)
		tg.HTTP, tg.CAFile = false, caFile
		return probeOne(t, p, tg).Verification
	}

	missing := filepath.Join(dir, "missing.pem")
	if v := probe(missing); v.Trusted || !strings.Contains(v.UntrustedReason, missing) || !strings.Contains(v.UntrustedReason, "no such file") {
		t.Errorf("missing ca_file: Verification = %+v, want untrusted naming %s and the error", v, missing)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := probe(bad); v.Trusted || !strings.Contains(v.UntrustedReason, bad) || !strings.Contains(v.UntrustedReason, "no PEM certificate") {
		t.Errorf("ca_file without certificates: Verification = %+v, want untrusted naming %s", v, bad)
	}
	// The file is fixed: the next probe reads it again.
	if err := os.WriteFile(bad, pki.Root.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := probe(bad); !v.Trusted {
		t.Errorf("repaired ca_file: Verification = %+v, want trusted", v)
	}

	// A ca_file adds to the roots; a target without it still uses them.
	var clock atomic.Int64 // seconds past now
	start := time.Now()
	q := &Prober{Timeout: 2 * time.Second, Roots: testpki.New(t).RootPool(),
		Now: func() time.Time { return start.Add(time.Duration(clock.Load()) * time.Second) }}
	tg := target(srv.Addr)
	tg.HTTP = false
	if v := probeOne(t, q, tg).Verification; v.Trusted {
		t.Errorf("without ca_file: Verification = %+v, want untrusted", v)
	}
	tg.CAFile = pki.WriteCAFile(t)
	for range 2 { // the second probe uses the cached pool and verdict
		if v := probeOne(t, q, tg).Verification; !v.Trusted {
			t.Errorf("with ca_file: Verification = %+v, want trusted", v)
		}
	}

	// A changed ca_file is read again once caFileRecheck has passed
	// since it was last looked at (not on every probe), and verdicts
	// reached with the old one are not reused.
	other := testpki.New(t)
	if err := os.WriteFile(tg.CAFile, other.Root.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := probeOne(t, q, tg).Verification; !v.Trusted {
		t.Errorf("ca_file changed within a second of its last look: Verification = %+v, want the old pool's (trusted)", v)
	}
	clock.Add(1)
	if v := probeOne(t, q, tg).Verification; v.Trusted {
		t.Errorf("ca_file with another root: Verification = %+v, want untrusted", v)
	}
	if err := os.WriteFile(tg.CAFile, append(other.Root.PEM(), pki.Root.PEM()...), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Add(1)
	if o := probeOne(t, q, tg); !o.Verification.Trusted || len(o.VerifiedChain) != 3 {
		t.Errorf("ca_file with both roots: Verification = %+v, want trusted", o.Verification)
	}
}

func TestSortAddresses(t *testing.T) {
	got := sortAddresses([]string{"[::1]:443", "10.0.0.2:443", "10.0.0.10:443", "[2001:db8::1]:443", "10.0.0.2:443", "9.9.9.9:8443", "bogus"})
	want := []string{"9.9.9.9:8443", "10.0.0.2:443", "10.0.0.10:443", "[::1]:443", "[2001:db8::1]:443", "bogus"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sortAddresses = %v, want %v", got, want)
	}
	p := &Prober{}
	addrs, perr := p.addresses(t.Context(), &pinwatchd.Target{Host: "192.0.2.7", Port: 8443, Addresses: []string{"192.0.2.9", "[2001:db8::2]", "192.0.2.8:443"}})
	if perr != nil || strings.Join(addrs, " ") != "192.0.2.8:443 192.0.2.9:8443 [2001:db8::2]:8443" {
		t.Errorf("addresses = %v, %v; want bare IPs to take the target's port", addrs, perr)
	}
	addrs, perr = p.addresses(t.Context(), &pinwatchd.Target{Host: "2001:db8::5", Port: 443})
	if perr != nil || len(addrs) != 1 || addrs[0] != net.JoinHostPort("2001:db8::5", "443") {
		t.Errorf("addresses of an IP literal = %v, %v; want it without a lookup", addrs, perr)
	}
}
