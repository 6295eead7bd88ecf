package pinwatchdtest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// DNSMode is how the stand-in DNS server answers (see DNS.SetMode).
type DNSMode int

// Answers of the stand-in DNS server.
const (
	// DNSAnswer answers A and AAAA queries with the addresses set for the
	// name (NOERROR with no records for a known name without addresses of
	// that family), and NXDOMAIN for a name never set.
	DNSAnswer DNSMode = iota
	// DNSServFail answers every query SERVFAIL, as a resolver whose
	// upstream is down does.
	DNSServFail
	// DNSNXDomain answers every query NXDOMAIN: no such name.
	DNSNXDomain
	// DNSNoAnswer answers every query NOERROR with no records.
	DNSNoAnswer
)

// DNS record types and response codes of RFC 1035 and RFC 3596.
const (
	dnsTypeA    = 1
	dnsTypeAAAA = 28
	rcodeOK     = 0
	rcodeServ   = 2
	rcodeNX     = 3
)

// DNSQuery is one question the stand-in DNS server received.
type DNSQuery struct {
	Net  string // "udp" or "tcp"
	Name string // lower case, without the trailing dot
	Type uint16 // 1 for A, 28 for AAAA
}

// DNS is a real DNS server on 127.0.0.1, UDP and TCP on the same port,
// standing in for the resolver of the code under test: point a resolver at
// Addr (the config's `resolver`, `probe --resolver`, monitor.NewResolver).
// It answers A and AAAA questions from the addresses given to Set, and can
// be switched while it runs to SERVFAIL, NXDOMAIN or empty answers
// (SetMode), or to truncating every UDP answer so that clients retry over
// TCP (TruncateUDP). The wire format is written here with the standard
// library (RFC 1035 §4). Its methods are safe for concurrent use; it stops
// at the end of the test.
type DNS struct {
	// Addr is "127.0.0.1:port", the same port for UDP and TCP.
	Addr string

	udp  net.PacketConn
	tcp  net.Listener
	ctx  context.Context // done when the server stops
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	names    map[string][]netip.Addr
	mode     DNSMode
	truncate bool
	queries  []DNSQuery
}

// NewDNS starts a stand-in DNS server on 127.0.0.1 that knows no names yet.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{names: map[string][]netip.Addr{}}
	// Take a UDP port, then the TCP port of the same number; another
	// process may hold the TCP one, so try a few.
	var err error
	for range 20 {
		if d.udp, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatalf("pinwatchdtest: DNS: listen udp: %v", err)
		}
		if d.tcp, err = net.Listen("tcp", d.udp.LocalAddr().String()); err == nil {
			break
		}
		_ = d.udp.Close()
	}
	if err != nil {
		t.Fatalf("pinwatchdtest: DNS: no port free for both UDP and TCP on 127.0.0.1: %v", err)
	}
	d.Addr = d.udp.LocalAddr().String()
	d.ctx, d.stop = context.WithCancel(context.Background())
	d.wg.Go(d.serveUDP)
	d.wg.Go(d.serveTCP)
	t.Cleanup(func() {
		d.stop()
		_ = d.udp.Close()
		_ = d.tcp.Close()
		d.wg.Wait()
	})
	return d
}

// Set makes name resolve to addrs (IP literals; IPv4 ones answer A
// questions, IPv6 ones AAAA), replacing what it resolved to before. No
// addrs makes it a known name without addresses. It panics on an address
// that is not an IP literal: that is a mistake in the test.
func (d *DNS) Set(name string, addrs ...string) {
	ips := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		ips[i] = netip.MustParseAddr(a)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names[canonicalName(name)] = ips
}

// SetMode switches how every following query is answered.
func (d *DNS) SetMode(m DNSMode) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mode = m
}

// TruncateUDP, when on, answers every UDP query with the truncated (TC)
// flag and no records, so that a client has to ask again over TCP; TCP
// queries are answered in full.
func (d *DNS) TruncateUDP(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.truncate = on
}

// Queries returns the questions received so far, in order.
func (d *DNS) Queries() []DNSQuery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DNSQuery(nil), d.queries...)
}

// canonicalName lower-cases name and drops a trailing dot.
func canonicalName(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

func (d *DNS) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := d.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n], "udp"); resp != nil {
			_, _ = d.udp.WriteTo(resp, from)
		}
	}
}

func (d *DNS) serveTCP() {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := d.tcp.Accept()
		if err != nil {
			return
		}
		conns.Go(func() {
			defer c.Close()
			stop := context.AfterFunc(d.ctx, func() { _ = c.Close() })
			defer stop()
			d.serveConn(c)
		})
	}
}

// serveConn answers length-prefixed queries on one TCP connection (RFC 1035
// §4.2.2) until the client closes it.
func (d *DNS) serveConn(c net.Conn) {
	var size [2]byte
	for {
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp := d.answer(q, "tcp")
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// errShortQuery is a query too short to answer.
var errShortQuery = errors.New("short DNS query")

// parseQuestion returns the end of the first question of query q (after
// QTYPE and QCLASS), its name and its type.
func parseQuestion(q []byte) (end int, name string, qtype uint16, err error) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) < 1 {
		return 0, "", 0, errShortQuery
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return 0, "", 0, errShortQuery
		}
		n := int(q[i])
		if n == 0 {
			i++
			break
		}
		if n&0xc0 != 0 || i+1+n > len(q) {
			return 0, "", 0, errShortQuery // queries carry no compression
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	if i+4 > len(q) {
		return 0, "", 0, errShortQuery
	}
	return i + 4, canonicalName(strings.Join(labels, ".")), binary.BigEndian.Uint16(q[i:]), nil
}

// answer builds the response to query q received over network, or nil for
// a query it cannot parse.
func (d *DNS) answer(q []byte, network string) []byte {
	end, name, qtype, err := parseQuestion(q)
	if err != nil {
		return nil
	}
	d.mu.Lock()
	d.queries = append(d.queries, DNSQuery{Net: network, Name: name, Type: qtype})
	mode, truncate := d.mode, d.truncate
	ips, known := d.names[name]
	d.mu.Unlock()

	var rcode byte
	var records []netip.Addr
	switch {
	case mode == DNSServFail:
		rcode = rcodeServ
	case mode == DNSNXDomain || (mode == DNSAnswer && !known):
		rcode = rcodeNX
	case mode == DNSAnswer:
		for _, ip := range ips {
			if (qtype == dnsTypeA && ip.Is4()) || (qtype == dnsTypeAAAA && ip.Is6() && !ip.Is4In6()) {
				records = append(records, ip)
			}
		}
	}
	tc := truncate && network == "udp" && rcode == rcodeOK
	if tc {
		records = nil
	}

	r := append([]byte(nil), q[:end]...)
	r[2] = 0x80 | q[2]&0x79 // response; opcode and recursion desired as asked
	if tc {
		r[2] |= 0x02
	}
	r[3] = 0x80 | rcode                  // recursion available
	binary.BigEndian.PutUint16(r[4:], 1) // the one question
	binary.BigEndian.PutUint16(r[6:], uint16(len(records)))
	binary.BigEndian.PutUint32(r[8:], 0) // no authority or additional records
	for _, ip := range records {
		r = append(r, 0xc0, 0x0c) // the name: a pointer to the question's
		r = binary.BigEndian.AppendUint16(r, qtype)
		r = binary.BigEndian.AppendUint16(r, 1) // class IN
		r = binary.BigEndian.AppendUint32(r, 1) // TTL, seconds
		b := ip.AsSlice()
		r = binary.BigEndian.AppendUint16(r, uint16(len(b)))
		r = append(r, b...)
	}
	return r
}
