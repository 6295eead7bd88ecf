package pinwatchdtest

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
)

// resolverFor asks only the stand-in server, as monitor.NewResolver does
// (this package does not import monitor).
func resolverFor(d *DNS) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, network, d.Addr)
	}}
}

func lookup(t *testing.T, d *DNS, name string) ([]string, error) {
	t.Helper()
	ips, err := resolverFor(d).LookupIPAddr(t.Context(), name)
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return out, err
}

func TestDNSModes(t *testing.T) {
	d := NewDNS(t)
	d.Set("API.pinwatchd.test.", "127.0.0.1", "127.0.0.2", "::1")

	got, err := lookup(t, d, "api.pinwatchd.test")
	if err != nil || !slices.Equal(got, []string{"127.0.0.1", "127.0.0.2", "::1"}) {
		t.Fatalf("answer: %v, %v; want 127.0.0.1, 127.0.0.2 and ::1", got, err)
	}
	if _, err := lookup(t, d, "unknown.pinwatchd.test"); !isNotFound(err) {
		t.Errorf("a name never set: %v, want not found (NXDOMAIN)", err)
	}

	for _, tc := range []struct {
		mode     DNSMode
		notFound bool
	}{{DNSServFail, false}, {DNSNXDomain, true}, {DNSNoAnswer, true}} {
		d.SetMode(tc.mode)
		got, err := lookup(t, d, "api.pinwatchd.test")
		var de *net.DNSError
		if err == nil || !errors.As(err, &de) || de.IsNotFound != tc.notFound {
			t.Errorf("mode %d: %v, %v; want a DNS error with IsNotFound %v", tc.mode, got, err, tc.notFound)
		}
	}

	d.SetMode(DNSAnswer)
	d.Set("api.pinwatchd.test", "127.0.0.1")
	if got, err := lookup(t, d, "api.pinwatchd.test"); err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("after switching back and changing the answer: %v, %v; want only 127.0.0.1", got, err)
	}
	for _, q := range d.Queries() {
		if q.Name != "api.pinwatchd.test" && q.Name != "unknown.pinwatchd.test" || (q.Type != dnsTypeA && q.Type != dnsTypeAAAA) || q.Net != "udp" {
			t.Errorf("recorded query %+v, want A or AAAA over UDP for the names asked", q)
		}
	}
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func TestDNSTruncatedAnswersOverTCP(t *testing.T) {
	d := NewDNS(t)
	d.Set("big.pinwatchd.test", "127.0.0.9")
	d.TruncateUDP(true)
	got, err := lookup(t, d, "big.pinwatchd.test")
	if err != nil || !slices.Equal(got, []string{"127.0.0.9"}) {
		t.Fatalf("lookup: %v, %v; want 127.0.0.9 over TCP", got, err)
	}
	tcp := 0
	for _, q := range d.Queries() {
		if q.Net == "tcp" {
			tcp++
		}
	}
	if tcp == 0 {
		t.Errorf("queries %+v, want the truncated ones asked again over TCP", d.Queries())
	}
}

func TestDNSIgnoresGarbage(t *testing.T) {
	d := NewDNS(t)
	c, err := net.Dial("udp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, junk := range [][]byte{{1, 2, 3}, make([]byte, 12), {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'x'}} {
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
	}
	d.Set("ok.pinwatchd.test", "127.0.0.1")
	if got, err := lookup(t, d, "ok.pinwatchd.test"); err != nil || len(got) != 1 {
		t.Errorf("after junk datagrams: %v, %v; want the server still answering", got, err)
	}
}
