package loopdns

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func exchange(t *testing.T, s *Server, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		q.SetEdns0(4096, true)
	}
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	r, _, err := c.Exchange(q, s.Addr)
	if err != nil {
		t.Fatalf("exchange %s: %v", name, err)
	}
	return r
}

func TestServer(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Set("mx1.test", "127.0.0.1", "::1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("bad.test", "not-an-ip"); err == nil {
		t.Error("Set accepted an address that is not an IP literal")
	}
	s.SetMX("example.test", MX{10, "mx1.test"}, MX{20, "mx2.test."})
	s.SetMX("null.test", MX{0, "."})
	s.SetTLSA("_25._tcp.mx1.test", true, TLSA{3, 1, 1, make([]byte, 32)})
	s.SetTLSA("_25._tcp.mx2.test", false, TLSA{2, 0, 2, make([]byte, 64)})

	r := exchange(t, s, "example.test", dns.TypeMX, false)
	if len(r.Answer) != 2 || r.Answer[0].(*dns.MX).Mx != "mx1.test." || r.Answer[1].(*dns.MX).Preference != 20 || r.AuthenticatedData {
		t.Errorf("MX answer %v, want mx1 (10) and mx2 (20), no AD", r.Answer)
	}
	if r := exchange(t, s, "null.test", dns.TypeMX, false); len(r.Answer) != 1 || r.Answer[0].(*dns.MX).Mx != "." {
		t.Errorf("null MX answer %v, want one MX of the root", r.Answer)
	}
	r = exchange(t, s, "_25._tcp.mx1.test", dns.TypeTLSA, true)
	if len(r.Answer) != 1 || !r.AuthenticatedData || r.Answer[0].(*dns.TLSA).Usage != 3 {
		t.Errorf("signed TLSA answer %v (AD %v), want one 3 1 1 record with AD", r.Answer, r.AuthenticatedData)
	}
	if r := exchange(t, s, "_25._tcp.mx2.test", dns.TypeTLSA, true); len(r.Answer) != 1 || r.AuthenticatedData {
		t.Errorf("unsigned TLSA answer %v (AD %v), want one record without AD", r.Answer, r.AuthenticatedData)
	}
	if r := exchange(t, s, "mx1.test", dns.TypeAAAA, false); len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "::1" {
		t.Errorf("AAAA answer %v, want ::1", r.Answer)
	}
	if r := exchange(t, s, "mx1.test", dns.TypeTLSA, false); len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess {
		t.Errorf("a known name without TLSA: %v, want NOERROR and no records", r)
	}
	if r := exchange(t, s, "unknown.test", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("unknown name: rcode %d, want NXDOMAIN", r.Rcode)
	}
	s.SetBogus("_25._tcp.mx2.test", true)
	if r := exchange(t, s, "_25._tcp.mx2.test", dns.TypeTLSA, true); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("a bogus name: rcode %d, want SERVFAIL", r.Rcode)
	}
	if r := exchange(t, s, "_25._tcp.mx1.test", dns.TypeTLSA, true); r.Rcode != dns.RcodeSuccess {
		t.Errorf("beside a bogus name: rcode %d, want NOERROR", r.Rcode)
	}
	s.SetMode(ServFail)
	if r := exchange(t, s, "example.test", dns.TypeMX, false); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("ServFail mode: rcode %d", r.Rcode)
	}
	s.SetMode(Silent)
	q := new(dns.Msg)
	q.SetQuestion("example.test.", dns.TypeMX)
	if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(q, s.Addr); err == nil {
		t.Error("Silent mode answered")
	}
	if n := len(s.Queries()); n != 11 {
		t.Errorf("%d queries recorded, want 11", n)
	}
}

// An answer longer than the client's UDP size is truncated, and whole over
// TCP.
func TestServerTruncates(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var recs []TLSA
	for i := range 20 {
		recs = append(recs, TLSA{3, 1, 1, append(make([]byte, 31), byte(i))})
	}
	s.SetTLSA("_25._tcp.big.test", true, recs...)
	if r := exchange(t, s, "_25._tcp.big.test", dns.TypeTLSA, false); !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("UDP answer of 20 records to a 512-byte client: truncated %v, %d records", r.Truncated, len(r.Answer))
	}
	if r := exchange(t, s, "_25._tcp.big.test", dns.TypeTLSA, true); r.Truncated || len(r.Answer) != 20 {
		t.Errorf("UDP answer to a 4096-byte client: truncated %v, %d records", r.Truncated, len(r.Answer))
	}
	q := new(dns.Msg)
	q.SetQuestion("_25._tcp.big.test.", dns.TypeTLSA)
	r, _, err := (&dns.Client{Net: "tcp"}).Exchange(q, s.Addr)
	if err != nil || len(r.Answer) != 20 {
		t.Errorf("TCP answer: %v, %v; want 20 records", r, err)
	}
}
