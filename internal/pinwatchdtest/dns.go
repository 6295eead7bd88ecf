package pinwatchdtest

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/loopdns"
)

// DNSMode is how the stand-in DNS server answers (see DNS.SetMode).
type DNSMode = loopdns.Mode

// Answers of the stand-in DNS server.
const (
	// DNSAnswer answers from the records set for the name (NOERROR with
	// no records for a known name without records of the asked type), and
	// NXDOMAIN for a name never set.
	DNSAnswer = loopdns.Answer
	// DNSServFail answers every query SERVFAIL, as a resolver whose
	// upstream is down, or that found bogus DNSSEC signatures, does.
	DNSServFail = loopdns.ServFail
	// DNSNXDomain answers every query NXDOMAIN: no such name.
	DNSNXDomain = loopdns.NXDomain
	// DNSNoAnswer answers every query NOERROR with no records.
	DNSNoAnswer = loopdns.NoAnswer
	// DNSSilent answers nothing, so that every lookup times out.
	DNSSilent = loopdns.Silent
)

// DNSQuery is one question the stand-in DNS server received: Net ("udp" or
// "tcp"), Name (lower case, without the trailing dot) and Type (1 for A,
// 28 for AAAA, 15 for MX, 52 for TLSA).
type DNSQuery = loopdns.Query

// MX is one MX record of the stand-in server; MX{0, "."} is a null MX.
type MX = loopdns.MX

// DNS is a real DNS server on 127.0.0.1, UDP and TCP on the same port,
// standing in for the resolver of the code under test: point a resolver at
// Addr (the config's `resolver`, `probe --resolver`, monitor.NewResolver).
// It answers A, AAAA, MX and TLSA questions from what Set, SetMX and
// SetTLSA gave it, TLSA answers with the AD bit or without, and can be
// switched while it runs to SERVFAIL, NXDOMAIN, empty answers or silence
// (SetMode), or to truncating every UDP answer so that clients retry over
// TCP (TruncateUDP). Its methods are safe for concurrent use; it stops at
// the end of the test.
type DNS struct {
	// Addr is "127.0.0.1:port", the same port for UDP and TCP.
	Addr string
	s    *loopdns.Server
}

// NewDNS starts a stand-in DNS server on 127.0.0.1 that knows no names yet.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	s, err := loopdns.Start()
	if err != nil {
		t.Fatalf("pinwatchdtest: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &DNS{Addr: s.Addr, s: s}
}

// Set makes name resolve to addrs (IP literals; IPv4 ones answer A
// questions, IPv6 ones AAAA), replacing what it resolved to before. No
// addrs makes it a known name without addresses. It panics on an address
// that is not an IP literal: that is a mistake in the test.
func (d *DNS) Set(name string, addrs ...string) {
	if err := d.s.Set(name, addrs...); err != nil {
		panic(err)
	}
}

// SetMX replaces the MX records of name; none leaves it a known name
// without MX records.
func (d *DNS) SetMX(name string, mx ...MX) { d.s.SetMX(name, mx...) }

// SetTLSA replaces the TLSA records at name ("_25._tcp.mx1.example"), each
// written in presentation form ("3 1 1 5e8f…", the data in hex), and says
// whether its answers carry the AD bit. It panics on a record it cannot
// read: that is a mistake in the test.
func (d *DNS) SetTLSA(name string, authenticated bool, records ...string) {
	recs := make([]loopdns.TLSA, len(records))
	for i, r := range records {
		var u, s, m uint8
		var data string
		if _, err := fmt.Sscan(r, &u, &s, &m, &data); err != nil {
			panic("pinwatchdtest: TLSA record " + r + ": " + err.Error())
		}
		b, err := hex.DecodeString(data)
		if err != nil {
			panic("pinwatchdtest: TLSA record " + r + ": data is not hex")
		}
		recs[i] = loopdns.TLSA{Usage: u, Selector: s, MatchingType: m, Data: b}
	}
	d.s.SetTLSA(name, authenticated, recs...)
}

// SetBogus makes every question about name answered SERVFAIL, as a
// validating resolver answers for a zone with bogus signatures (on), or
// answered again (off).
func (d *DNS) SetBogus(name string, on bool) { d.s.SetBogus(name, on) }

// SetMode switches how every following query is answered.
func (d *DNS) SetMode(m DNSMode) { d.s.SetMode(m) }

// TruncateUDP, when on, answers every UDP query with the truncated (TC)
// flag and no records, so that a client has to ask again over TCP; TCP
// queries are answered in full.
func (d *DNS) TruncateUDP(on bool) { d.s.TruncateUDP(on) }

// Queries returns the questions received so far, in order.
func (d *DNS) Queries() []DNSQuery { return d.s.Queries() }

// Record types of the queries the tests look for.
const (
	dnsTypeA    = loopdns.TypeA
	dnsTypeAAAA = loopdns.TypeAAAA
)
