package monitor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

const (
	rec1 = "3 1 1 00000000000000000000000000000000000000000000000000000000000000aa"
	rec2 = "2 1 1 00000000000000000000000000000000000000000000000000000000000000bb"
)

func dnsProber(t *testing.T, d *pinwatchdtest.DNS, timeout time.Duration) *Prober {
	return &Prober{Timeout: timeout, DNSServer: netip.MustParseAddrPort(d.Addr)}
}

func TestLookupTLSA(t *testing.T) {
	d := pinwatchdtest.NewDNS(t)
	d.SetTLSA("_25._tcp.mx1.pinwatchd.test", true, rec2, rec1)
	d.SetTLSA("_25._tcp.mx2.pinwatchd.test", false, rec1)
	d.Set("mx3.pinwatchd.test", "127.0.0.1")
	p := dnsProber(t, d, 2*time.Second)
	lookup := func(host string) *pinwatchd.TLSAResult {
		return p.LookupTLSA(t.Context(), &pinwatchd.Target{Host: host, Port: 25, DANE: true})
	}

	res := lookup("mx1.pinwatchd.test")
	var got []string
	for _, r := range res.Records {
		got = append(got, r.String())
	}
	if res.Error != "" || !res.Authenticated || !slices.Equal(got, []string{rec2, rec1}) || res.Name != "_25._tcp.mx1.pinwatchd.test" {
		t.Errorf("signed RRset: %+v, want both records sorted, authenticated", res)
	}
	if res := lookup("mx2.pinwatchd.test"); res.Error != "" || res.Authenticated || len(res.Records) != 1 {
		t.Errorf("unsigned RRset: %+v, want one record, not authenticated", res)
	}
	if res := lookup("mx3.pinwatchd.test"); res.Error != "" || len(res.Records) != 0 {
		t.Errorf("a name without TLSA: %+v, want no records and no error", res)
	}
	if res := lookup("nowhere.pinwatchd.test"); res.Error != "" || len(res.Records) != 0 {
		t.Errorf("NXDOMAIN: %+v, want no records and no error", res)
	}
	for _, q := range d.Queries() {
		if q.Type != 52 {
			t.Errorf("query %+v, want only TLSA questions", q)
		}
	}

	d.SetMode(pinwatchdtest.DNSServFail)
	if res := lookup("mx1.pinwatchd.test"); !strings.Contains(res.Error, "SERVFAIL") || !strings.Contains(res.Error, d.Addr) {
		t.Errorf("SERVFAIL: %+v, want an error naming the resolver and SERVFAIL", res)
	}
	d.SetMode(pinwatchdtest.DNSSilent)
	p.Timeout = 300 * time.Millisecond
	if res := lookup("mx1.pinwatchd.test"); !strings.Contains(res.Error, "no answer from "+d.Addr+" within 300ms") {
		t.Errorf("silent resolver: %+v, want a timeout", res)
	}
}

// An RRset too large for UDP is asked again over TCP.
func TestLookupTLSAOverTCP(t *testing.T) {
	d := pinwatchdtest.NewDNS(t)
	var recs []string
	for i := range 60 {
		recs = append(recs, fmt.Sprintf("3 1 1 %064x", i))
	}
	d.SetTLSA("_25._tcp.big.pinwatchd.test", true, recs...)
	res := dnsProber(t, d, 2*time.Second).LookupTLSA(t.Context(), &pinwatchd.Target{Host: "big.pinwatchd.test", Port: 25})
	if res.Error != "" || len(res.Records) != 60 {
		t.Fatalf("big RRset: error %q, %d records, want 60", res.Error, len(res.Records))
	}
	if qs := d.Queries(); len(qs) != 2 || qs[0].Net != "udp" || qs[1].Net != "tcp" {
		t.Errorf("queries %+v, want UDP then TCP", qs)
	}
}

func TestLookupMX(t *testing.T) {
	d := pinwatchdtest.NewDNS(t)
	d.SetMX("example.test", pinwatchdtest.MX{Preference: 20, Host: "MX2.example.test."}, pinwatchdtest.MX{Preference: 10, Host: "mx1.example.test"})
	d.SetMX("null.test", pinwatchdtest.MX{Preference: 0, Host: "."})
	d.Set("nomx.test", "127.0.0.1")
	p := dnsProber(t, d, 2*time.Second)
	mx := func(domain string) ([]Exchange, error) {
		return p.LookupMX(t.Context(), &pinwatchd.Target{Name: "mail", MX: domain})
	}
	ex, err := mx("example.test")
	if err != nil || !slices.Equal(ex, []Exchange{{10, "mx1.example.test"}, {20, "mx2.example.test"}}) {
		t.Errorf("LookupMX = %+v, %v; want mx1 then mx2, lower case", ex, err)
	}
	for domain, want := range map[string]string{
		"null.test":    "null.test has a null MX (RFC 7505): the domain accepts no mail",
		"nomx.test":    "nomx.test has no MX records",
		"nowhere.test": "nowhere.test has no such domain",
	} {
		if _, err := mx(domain); err == nil || err.Error() != want {
			t.Errorf("LookupMX(%s) error %v, want %q", domain, err, want)
		}
	}
	d.SetMode(pinwatchdtest.DNSServFail)
	if _, err := mx("example.test"); err == nil || !strings.Contains(err.Error(), "the MX lookup of example.test failed") || !strings.Contains(err.Error(), "SERVFAIL") {
		t.Errorf("SERVFAIL: %v", err)
	}
}
