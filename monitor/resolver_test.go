package monitor

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

func TestParseResolver(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the address, or a part of the error
		ok       bool
	}{
		{"127.0.0.1:53", "127.0.0.1:53", true},
		{" 192.0.2.53:5353 ", "192.0.2.53:5353", true},
		{"[::1]:53", "[::1]:53", true},
		{"[::ffff:127.0.0.1]:53", "127.0.0.1:53", true},
		{"127.0.0.1", `resolver "127.0.0.1" has no port`, false},
		{"::1", `resolver "::1" has no port`, false},
		{"[::1]", `resolver "[::1]" has no port`, false},
		{"127.0.0.1:0", "has port 0", false},
		{"127.0.0.1:99999", `port "99999" is not a number from 1 to 65535`, false},
		{"127.0.0.1:dns", `port "dns" is not a number`, false},
		{"dns.example.com:53", "names a host, not an IP address", false},
		{"[fe80::1%eth0]:53", "has an IPv6 zone", false},
		{"", `resolver "" is not an IP address and port`, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseResolver(tc.in)
			if tc.ok {
				if err != nil || got.String() != tc.want {
					t.Fatalf("ParseResolver(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"127.0.0.1:53"`) {
				t.Fatalf("ParseResolver(%q) error = %v, want one containing %q and an example", tc.in, err, tc.want)
			}
		})
	}
}

func TestNewResolverSystemByDefault(t *testing.T) {
	if r := NewResolver(netip.AddrPort{}); r != nil {
		t.Errorf("NewResolver(zero) = %v, want nil (the system resolver)", r)
	}
}

// TestNewResolverAsksOnlyItsServer: every lookup goes to the configured
// server, A and AAAA both.
func TestNewResolverAsksOnlyItsServer(t *testing.T) {
	dns := pinwatchdtest.NewDNS(t)
	dns.Set("api.pinwatchd.test", "127.0.0.2", "::1")
	r := NewResolver(netip.MustParseAddrPort(dns.Addr))
	ips, err := r.LookupIPAddr(t.Context(), "api.pinwatchd.test")
	if err != nil {
		t.Fatalf("LookupIPAddr: %v", err)
	}
	var got []string
	for _, ip := range ips {
		got = append(got, ip.String())
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"127.0.0.2", "::1"}) {
		t.Errorf("addresses %v, want 127.0.0.2 and ::1", got)
	}
	types := map[uint16]bool{}
	for _, q := range dns.Queries() {
		types[q.Type] = true
	}
	if !types[1] || !types[28] {
		t.Errorf("the server was asked %+v, want A and AAAA questions", dns.Queries())
	}
}

// TestNewResolverRetriesOverTCP: a truncated UDP answer is asked again over
// TCP, on the same server.
func TestNewResolverRetriesOverTCP(t *testing.T) {
	dns := pinwatchdtest.NewDNS(t)
	dns.Set("big.pinwatchd.test", "127.0.0.3")
	dns.TruncateUDP(true)
	ips, err := NewResolver(netip.MustParseAddrPort(dns.Addr)).LookupIPAddr(t.Context(), "big.pinwatchd.test")
	if err != nil || len(ips) != 1 || !ips[0].IP.Equal(net.IPv4(127, 0, 0, 3)) {
		t.Fatalf("LookupIPAddr = %v, %v; want 127.0.0.3 from the TCP answer", ips, err)
	}
	var nets []string
	for _, q := range dns.Queries() {
		nets = append(nets, q.Net)
	}
	if !slices.Contains(nets, "udp") || !slices.Contains(nets, "tcp") {
		t.Errorf("queries went over %v, want UDP first, then TCP", nets)
	}
}

// TestProbeUsesResolver: a Prober with the resolver probes every address
// the server answers, and a failing server is dns_failed naming the host.
func TestProbeUsesResolver(t *testing.T) {
	dns := pinwatchdtest.NewDNS(t)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	_, port, _ := net.SplitHostPort(closed)
	dns.Set("two.pinwatchd.test", "127.0.0.1", "127.0.0.2")
	p := &Prober{Timeout: 2 * time.Second, Resolver: NewResolver(netip.MustParseAddrPort(dns.Addr))}
	n, _ := strconv.Atoi(port)
	tg := &pinwatchd.Target{Name: "two", Host: "two.pinwatchd.test", Port: n}

	obs := p.Probe(t.Context(), tg)
	if len(obs) != 2 || obs[0].Address != "127.0.0.1:"+port || obs[1].Address != "127.0.0.2:"+port {
		t.Fatalf("observations at %v, want 127.0.0.1:%s and 127.0.0.2:%s", addressesOf(obs), port, port)
	}
	dns.SetMode(pinwatchdtest.DNSServFail)
	obs = p.Probe(t.Context(), tg)
	if len(obs) != 1 || obs[0].Error == nil || obs[0].Error.Kind != pinwatchd.KindDNSFailed || obs[0].Address != "two.pinwatchd.test:"+port {
		t.Fatalf("with SERVFAIL: observations %+v, want one dns_failed at two.pinwatchd.test:%s", obs, port)
	}
}

func addressesOf(obs []pinwatchd.Observation) []string {
	out := make([]string, len(obs))
	for i := range obs {
		out[i] = obs[i].Address
	}
	return out
}
