package monitor

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// checkGoroutines fails the test when, after everything else the test set up
// has been cleaned up, the number of goroutines does not return to what it
// was when checkGoroutines was called. Call it first in a test.
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines still running, %d before the test:\n%s", runtime.NumGoroutine(), base, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// rawServer accepts TCP connections on listen ("127.0.0.1:0" if empty) and
// hands each to handle in its own goroutine. At cleanup it closes the
// listener and every connection and waits for the handlers.
func rawServer(t *testing.T, listen string, handle func(net.Conn)) string {
	t.Helper()
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("listen %s: %v", listen, err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// tlsHandshake completes a server-side handshake on c with cert.
func tlsHandshake(c net.Conn, cert tls.Certificate) (*tls.Conn, error) {
	tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	return tc, tc.Handshake()
}

// readRequest reads one request head (up to the blank line) from r.
func readRequest(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String(), err
		}
		if line == "\r\n" {
			return b.String(), nil
		}
	}
}

// target returns an HTTP-probed target for host "localhost" at the given
// addresses.
func target(addrs ...string) *pinwatchd.Target {
	port := 443
	if len(addrs) > 0 {
		_, ps, _ := net.SplitHostPort(addrs[0])
		port, _ = strconv.Atoi(ps)
	}
	return &pinwatchd.Target{Name: "t", Host: "localhost", Port: port, Addresses: addrs, HTTP: true, Path: "/"}
}

// probeOne probes t and requires exactly one observation.
func probeOne(t *testing.T, p *Prober, tg *pinwatchd.Target) pinwatchd.Observation {
	t.Helper()
	obs := p.Probe(t.Context(), tg)
	if len(obs) != 1 {
		t.Fatalf("Probe returned %d observations, want 1: %+v", len(obs), obs)
	}
	return obs[0]
}

func TestProbeHealthyChain(t *testing.T) {
	pki := testpki.New(t)
	srv := testpki.Serve(t, pki.TLS(), testpki.HeaderHandler(map[string]string{
		"Public-Key-Pins":           `pin-sha256="` + pki.Leaf.Pin().String() + `"; pin-sha256="` + testpki.KeyPin(t, pki.Spare).String() + `"; max-age=600`,
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
	}))
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name   string
		prober func() *Prober
		caFile bool
	}{
		{"roots", func() *Prober { return &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool(), Vantage: "ap-south"} }, false},
		{"ca_file", func() *Prober { return &Prober{Timeout: 2 * time.Second, Roots: x509.NewCertPool()} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := target(srv.Addr)
			if tc.caFile {
				tg.CAFile = pki.WriteCAFile(t)
			}
			p := tc.prober()
			before := time.Now()
			o := probeOne(t, p, tg)
			if o.Error != nil {
				t.Fatalf("Error = %+v, want none", o.Error)
			}
			if o.Address != srv.Addr || o.Target != "t" || o.SNI != "localhost" {
				t.Errorf("Address, Target, SNI = %q, %q, %q; want %q, t, localhost", o.Address, o.Target, o.SNI, srv.Addr)
			}
			if want := p.Vantage; o.Vantage != want {
				t.Errorf("Vantage = %q, want the Prober's %q", o.Vantage, want)
			}
			if o.Time.Location() != time.UTC || o.Time.Before(before.Add(-time.Second)) || o.Duration <= 0 {
				t.Errorf("Time = %v, Duration = %v; want a UTC start time and a positive duration", o.Time, o.Duration)
			}
			if o.TLSVersion != "TLS 1.3" {
				t.Errorf("TLSVersion = %q, want TLS 1.3", o.TLSVersion)
			}
			wantPins(t, "served", o.ServedChain, pki.Leaf, pki.Intermediate)
			wantPins(t, "verified", o.VerifiedChain, pki.Leaf, pki.Intermediate, pki.Root)
			if o.ServedChain[0].SHA256 == "" || o.ServedChain[1].IsCA != true || o.ServedChain[0].KeyType != "ECDSA P-256" {
				t.Errorf("served leaf/intermediate fields not recorded: %+v", o.ServedChain)
			}
			want := pinwatchd.Verification{Trusted: true, HostnameValid: true}
			if o.Verification != want {
				t.Errorf("Verification = %+v, want %+v", o.Verification, want)
			}
			if o.HTTP == nil || o.HTTP.Method != "HEAD" || o.HTTP.Status != 200 || o.HTTP.Error != "" {
				t.Fatalf("HTTP = %+v, want HEAD 200 without error", o.HTTP)
			}
			if o.PublicKeyPins == nil || !o.PublicKeyPins.Valid || len(o.PublicKeyPins.Pins) != 2 || o.PublicKeyPins.Pins[0] != pki.Leaf.Pin() {
				t.Errorf("PublicKeyPins = %+v, want the two announced pins", o.PublicKeyPins)
			}
			if o.PublicKeyPinsReportOnly != nil {
				t.Errorf("PublicKeyPinsReportOnly = %+v, want nil (not sent)", o.PublicKeyPinsReportOnly)
			}
			if h := o.StrictTransportSecurity; h == nil || h.MaxAge != 31536000 || !h.IncludeSubDomains {
				t.Errorf("StrictTransportSecurity = %+v, want max-age 31536000 with includeSubDomains", h)
			}
		})
	}
	t.Run("injected clock", func(t *testing.T) {
		p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool(), Now: func() time.Time { return fixed }}
		o := probeOne(t, p, target(srv.Addr))
		if !o.Time.Equal(fixed) || o.Time.Location() != time.UTC {
			t.Errorf("Time = %v, want %v in UTC", o.Time, fixed)
		}
		// The chain was issued in the present; in 2030 the leaf has expired
		// but the chain is still trusted (expiry has its own findings).
		if !o.Verification.Trusted || len(o.VerifiedChain) != 3 {
			t.Errorf("Verification at %v = %+v with %d verified certs, want trusted with 3", fixed, o.Verification, len(o.VerifiedChain))
		}
	})
}

// wantPins checks that chain holds exactly the pins of want, in order.
func wantPins(t *testing.T, what string, chain []pinwatchd.Cert, want ...*testpki.Cert) {
	t.Helper()
	if len(chain) != len(want) {
		t.Fatalf("%s chain has %d certificates, want %d", what, len(chain), len(want))
	}
	for i, c := range want {
		if chain[i].Pin != c.Pin() || chain[i].Subject != c.Cert.Subject.String() {
			t.Errorf("%s chain[%d] = %s %s, want %s %s", what, i, chain[i].Subject, chain[i].Pin, c.Cert.Subject, c.Pin())
		}
	}
}

func TestProbeAddressesServingDifferentKeys(t *testing.T) {
	pki := testpki.New(t)
	other := pki.Intermediate.Leaf(t, testpki.Options{})
	a := testpki.Serve(t, pki.TLS(), nil)
	b := testpki.Serve(t, testpki.Chain(other, pki.Intermediate), nil)
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}

	obs := p.Probe(t.Context(), target(b.Addr, a.Addr))
	if len(obs) != 2 {
		t.Fatalf("Probe returned %d observations, want 2", len(obs))
	}
	want := map[string]pinwatchd.Pin{a.Addr: pki.Leaf.Pin(), b.Addr: other.Pin()}
	for _, o := range obs {
		if o.Error != nil {
			t.Fatalf("%s: Error = %+v", o.Address, o.Error)
		}
		if got := o.Leaf().Pin; got != want[o.Address] {
			t.Errorf("%s: leaf pin %s, want %s", o.Address, got, want[o.Address])
		}
	}
	if obs[0].Leaf().Pin == obs[1].Leaf().Pin {
		t.Errorf("both addresses report leaf pin %s", obs[0].Leaf().Pin)
	}
	pa, _ := netip.ParseAddrPort(obs[0].Address)
	pb, _ := netip.ParseAddrPort(obs[1].Address)
	if pa.Compare(pb) >= 0 {
		t.Errorf("observations not sorted by address: %s before %s", obs[0].Address, obs[1].Address)
	}
}

// dnsServer starts the stand-in DNS server in mode, with name resolving to
// addrs, and returns a resolver that asks only that server.
func dnsServer(t *testing.T, mode pinwatchdtest.DNSMode, name string, addrs ...string) *net.Resolver {
	t.Helper()
	dns := pinwatchdtest.NewDNS(t)
	dns.Set(name, addrs...)
	dns.SetMode(mode)
	return NewResolver(netip.MustParseAddrPort(dns.Addr))
}

func TestProbeResolvesName(t *testing.T) {
	pki := testpki.New(t)
	srv := testpki.Serve(t, pki.TLS(), nil)
	_, ps, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(ps)
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool(), Resolver: dnsServer(t, pinwatchdtest.DNSAnswer, "probe.pinwatchd.test", "127.0.0.1")}

	tg := &pinwatchd.Target{Name: "named", Host: "probe.pinwatchd.test", SNI: "localhost", Port: port}
	o := probeOne(t, p, tg)
	if o.Error != nil {
		t.Fatalf("Error = %+v, want none", o.Error)
	}
	if o.Address != srv.Addr || o.SNI != "localhost" {
		t.Errorf("Address, SNI = %q, %q; want %q, localhost", o.Address, o.SNI, srv.Addr)
	}
	if o.Leaf().Pin != pki.Leaf.Pin() {
		t.Errorf("leaf pin %s, want %s", o.Leaf().Pin, pki.Leaf.Pin())
	}
	if o.HTTP != nil {
		t.Errorf("HTTP = %+v for a target with http = false, want nil", o.HTTP)
	}
	if o.Verification.HostnameValid {
		t.Errorf("HostnameValid = true for host probe.pinwatchd.test, leaf is for localhost")
	}
}

func TestProbeDNSFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode pinwatchdtest.DNSMode
		want string
	}{
		{"nxdomain", pinwatchdtest.DNSNXDomain, "no such host"},
		{"servfail", pinwatchdtest.DNSServFail, "lookup nothing.pinwatchd.test: "},
		{"no records", pinwatchdtest.DNSNoAnswer, "lookup nothing.pinwatchd.test: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			p := &Prober{Timeout: 2 * time.Second, Resolver: dnsServer(t, tc.mode, "nothing.pinwatchd.test"), Vantage: "eu-west-1"}
			tg := &pinwatchd.Target{Name: "gone", Host: "nothing.pinwatchd.test", Port: 8443, HTTP: true}
			o := probeOne(t, p, tg)
			if o.Vantage != "eu-west-1" {
				t.Errorf("Vantage = %q, want the Prober's eu-west-1", o.Vantage)
			}
			if o.Error == nil || o.Error.Kind != pinwatchd.KindDNSFailed || !strings.Contains(o.Error.Message, tc.want) {
				t.Fatalf("Error = %+v, want dns_failed containing %q", o.Error, tc.want)
			}
			t.Logf("message: %s", o.Error.Message)
			if o.Address != "nothing.pinwatchd.test:8443" || o.Target != "gone" || o.Time.IsZero() {
				t.Errorf("Address, Target, Time = %q, %q, %v; want the target's host:port, name and a time", o.Address, o.Target, o.Time)
			}
		})
	}
}

func TestProbeConnectivityFailures(t *testing.T) {
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return addr
	}
	for _, tc := range []struct {
		name string
		addr func(t *testing.T) string
		kind pinwatchd.Kind
		msg  string
	}{
		{"stalled server", func(t *testing.T) string {
			return pinwatchdtest.NewStallServer(t).Addr
		}, pinwatchd.KindTimeout, "timed out after 2s"},
		{"not TLS", func(t *testing.T) string {
			return rawServer(t, "", func(c net.Conn) {
				_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
				_, _ = c.Read(make([]byte, 1024))
			})
		}, pinwatchd.KindHandshakeFailed, "TLS handshake with "},
		{"closed after accept", func(t *testing.T) string {
			return rawServer(t, "", func(net.Conn) {})
		}, pinwatchd.KindHandshakeFailed, "closed the connection"},
		{"refused", closedPort, pinwatchd.KindConnectFailed, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			addr := tc.addr(t)
			p := &Prober{Timeout: 2 * time.Second}
			o := probeOne(t, p, target(addr))
			if o.Error == nil || o.Error.Kind != tc.kind || !strings.Contains(o.Error.Message, tc.msg) || !strings.Contains(o.Error.Message, addr) {
				t.Fatalf("Error = %+v, want %s naming %s and containing %q", o.Error, tc.kind, addr, tc.msg)
			}
			t.Logf("message: %s", o.Error.Message)
			if len(o.ServedChain) != 0 || o.HTTP != nil {
				t.Errorf("failed probe kept a chain or HTTP result: %+v", o)
			}
		})
	}
}

func TestProbeIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	_ = ln.Close()
	pki := testpki.New(t)
	srv := testpki.ServeOn(t, "[::1]:0", pki.TLS(), nil)
	_, ps, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(ps)
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}

	o := probeOne(t, p, &pinwatchd.Target{Name: "v6", Host: "::1", Port: port, HTTP: true})
	if o.Error != nil {
		t.Fatalf("Error = %+v, want none", o.Error)
	}
	if o.Address != srv.Addr || o.HTTP.Status != 200 {
		t.Errorf("Address = %q, HTTP = %+v; want %q and status 200", o.Address, o.HTTP, srv.Addr)
	}
	if !o.Verification.Trusted || !o.Verification.HostnameValid {
		t.Errorf("Verification = %+v, want trusted and valid for ::1", o.Verification)
	}
}

func TestProbeCancel(t *testing.T) {
	checkGoroutines(t)
	stall := pinwatchdtest.NewStallServer(t)
	addr := stall.Addr
	p := &Prober{Timeout: time.Minute}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan []pinwatchd.Observation, 1)
	go func() { done <- p.Probe(ctx, target(addr)) }()
	<-stall.Accepted
	cancel()
	select {
	case obs := <-done:
		if len(obs) != 1 || obs[0].Error == nil || obs[0].Error.Kind != pinwatchd.KindTimeout || !strings.Contains(obs[0].Error.Message, "cancelled") {
			t.Fatalf("observations = %+v, want one timeout saying cancelled", obs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Probe did not return after its context was cancelled")
	}
	// A context cancelled before the probe starts fails at once.
	if o := p.Probe(ctx, target(addr))[0]; o.Error == nil || o.Error.Kind != pinwatchd.KindTimeout {
		t.Errorf("Probe with a cancelled context: Error = %+v, want timeout", o.Error)
	}
}

func TestProbeConcurrencyBound(t *testing.T) {
	pki := testpki.New(t)
	var (
		mu                       sync.Mutex
		arrived, active, maxSeen int
	)
	// Connections are released in pairs: the n-th waits until the pair it
	// belongs to has arrived, so two probes are always open together, and a
	// third can only connect after a response was written.
	handle := func(c net.Conn) {
		mu.Lock()
		arrived++
		active++
		maxSeen = max(maxSeen, active)
		n := arrived
		mu.Unlock()
		want := n + n%2
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			ok := arrived >= want
			mu.Unlock()
			if ok {
				break
			}
		}
		tc, err := tlsHandshake(c, pki.TLS())
		if err == nil {
			_, err = readRequest(bufio.NewReader(tc))
		}
		mu.Lock()
		active--
		mu.Unlock()
		if err == nil {
			_, _ = tc.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
			_, _ = tc.Read(make([]byte, 1))
		}
	}
	var addrs []string
	for range 6 {
		addrs = append(addrs, rawServer(t, "", handle))
	}
	p := &Prober{Timeout: 10 * time.Second, Concurrency: 2, Roots: pki.RootPool()}
	var wg sync.WaitGroup
	results := make([][]pinwatchd.Observation, 2)
	for i := range results {
		wg.Go(func() { results[i] = p.Probe(t.Context(), target(addrs[i*3:i*3+3]...)) })
	}
	wg.Wait()
	for _, obs := range results {
		for _, o := range obs {
			if o.Error != nil || o.HTTP == nil || o.HTTP.Status != 200 {
				t.Errorf("%s: Error = %+v, HTTP = %+v; want a successful probe", o.Address, o.Error, o.HTTP)
			}
		}
	}
	if maxSeen != 2 {
		t.Errorf("at most %d connections were open at once, want exactly 2 (Concurrency)", maxSeen)
	}
}
