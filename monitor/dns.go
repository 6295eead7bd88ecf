package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/pinwatchd/pinwatchd"
)

// This file asks the DNS questions net.Resolver cannot: TLSA with the DO
// bit, reading the AD bit of the answer, and MX with its null form. It is
// the one place github.com/miekg/dns is imported.

// resolvConf is where the system resolver's address is read from when no
// resolver is configured.
const resolvConf = "/etc/resolv.conf"

// ednsSize is the UDP answer size offered; a longer answer is truncated
// and asked again over TCP.
const ednsSize = 1232

// askServer returns "ip:port" of the DNS server for TLSA and MX questions:
// server when set, else the first nameserver of /etc/resolv.conf.
func askServer(server netip.AddrPort) (string, error) {
	if server.IsValid() {
		return server.String(), nil
	}
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return "", fmt.Errorf("no resolver configured and %s cannot be read: %w", resolvConf, err)
	}
	if len(cc.Servers) == 0 {
		return "", fmt.Errorf("no resolver configured and %s lists no nameserver", resolvConf)
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}

// errDNSTimeout is a question no answer came back to in time.
var errDNSTimeout = errors.New("timed out")

// ask sends one question to server with the DO bit set (RFC 3225) and the
// AD bit (RFC 6840 §5.7), over UDP and again over TCP when the answer is
// truncated, and returns the answer. A response code other than NOERROR
// and NXDOMAIN is an error naming it.
func ask(ctx context.Context, server, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	q.AuthenticatedData = true
	q.SetEdns0(ednsSize, true)
	c := &dns.Client{Net: "udp", UDPSize: ednsSize}
	r, _, err := c.ExchangeContext(ctx, q, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, q, server)
	}
	if err != nil {
		var ne net.Error
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil, errDNSTimeout
		}
		return nil, errors.New(reason(err))
	}
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return r, nil
	case dns.RcodeServerFailure:
		return nil, errors.New("SERVFAIL")
	}
	return nil, fmt.Errorf("answer %s", dns.RcodeToString[r.Rcode])
}

// lookupTLSA returns the TLSA RRset at name (SPEC §12): its records,
// sorted, with the association data in lower-case hex, and whether the
// answer was authenticated (AD). A name without TLSA records (NXDOMAIN or
// an empty answer) has none and is no error.
func lookupTLSA(ctx context.Context, server, name string) ([]pinwatchd.TLSARecord, bool, error) {
	r, err := ask(ctx, server, name, dns.TypeTLSA)
	if err != nil {
		return nil, false, err
	}
	var recs []pinwatchd.TLSARecord
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TLSA); ok {
			recs = append(recs, pinwatchd.TLSARecord{Usage: t.Usage, Selector: t.Selector,
				MatchingType: t.MatchingType, Data: strings.ToLower(t.Certificate)})
		}
	}
	slices.SortFunc(recs, func(a, b pinwatchd.TLSARecord) int {
		return cmp.Or(cmp.Compare(a.Usage, b.Usage), cmp.Compare(a.Selector, b.Selector),
			cmp.Compare(a.MatchingType, b.MatchingType), cmp.Compare(a.Data, b.Data))
	})
	return slices.CompactFunc(recs, func(a, b pinwatchd.TLSARecord) bool { return a.String() == b.String() }), r.AuthenticatedData, nil
}

// Exchange is one mail exchange of a domain's MX RRset.
type Exchange struct {
	Preference uint16
	Host       string // lower case, without the trailing dot
}

// errNullMX, errNoMX and errNoDomain are the MX answers that name no
// exchange.
var (
	errNullMX   = errors.New("a null MX (RFC 7505): the domain accepts no mail")
	errNoMX     = errors.New("no MX records")
	errNoDomain = errors.New("no such domain")
)

// lookupMX returns the exchanges of domain, by preference then name,
// without repeats. A null MX, no MX records and a domain that does not
// exist are errors that say so.
func lookupMX(ctx context.Context, server, domain string) ([]Exchange, error) {
	r, err := ask(ctx, server, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	if r.Rcode == dns.RcodeNameError {
		return nil, errNoDomain
	}
	var out []Exchange
	for _, rr := range r.Answer {
		mx, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		host := strings.TrimSuffix(strings.ToLower(mx.Mx), ".")
		if host == "" {
			return nil, errNullMX
		}
		out = append(out, Exchange{Preference: mx.Preference, Host: host})
	}
	if len(out) == 0 {
		return nil, errNoMX
	}
	slices.SortFunc(out, func(a, b Exchange) int {
		return cmp.Or(cmp.Compare(a.Preference, b.Preference), cmp.Compare(a.Host, b.Host))
	})
	return slices.CompactFunc(out, func(a, b Exchange) bool { return a.Host == b.Host }), nil
}
