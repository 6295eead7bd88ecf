package loopdns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Mode is how the server answers (see Server.SetMode).
type Mode int

// Answers of the server.
const (
	// Answer answers from the records set for the name (NOERROR with no
	// records for a known name without records of the asked type), and
	// NXDOMAIN for a name never set.
	Answer Mode = iota
	// ServFail answers every query SERVFAIL, as a resolver whose upstream
	// is down, or a validating resolver facing bogus signatures, does.
	ServFail
	// NXDomain answers every query NXDOMAIN: no such name.
	NXDomain
	// NoAnswer answers every query NOERROR with no records.
	NoAnswer
	// Silent answers nothing: every query times out.
	Silent
)

// Record types and response codes (RFC 1035, RFC 3596, RFC 6698).
const (
	TypeA    = 1
	TypeMX   = 15
	TypeAAAA = 28
	TypeTLSA = 52

	rcodeOK   = 0
	rcodeServ = 2
	rcodeNX   = 3
)

// maxUDP is the largest UDP answer sent; a longer one is truncated so that
// the client asks again over TCP.
const maxUDP = 4096

// Query is one question the server received.
type Query struct {
	Net  string // "udp" or "tcp"
	Name string // lower case, without the trailing dot
	Type uint16 // TypeA, TypeAAAA, TypeMX, TypeTLSA, …
}

// MX is one MX record (RFC 1035 §3.3.9); the null MX of RFC 7505 is
// {0, "."}.
type MX struct {
	Preference uint16
	Host       string
}

// TLSA is one TLSA record (RFC 6698 §2.1).
type TLSA struct {
	Usage, Selector, MatchingType uint8
	Data                          []byte
}

// zone is what the server knows of one name.
type zone struct {
	addrs  []netip.Addr
	mx     []MX
	tlsa   []TLSA
	signed bool // answers carry the AD bit
	bogus  bool // every answer about the name is SERVFAIL
}

// Server is a DNS server on 127.0.0.1, UDP and TCP on the same port. Its
// methods are safe for concurrent use.
type Server struct {
	// Addr is "127.0.0.1:port", the same port for UDP and TCP.
	Addr string

	udp  net.PacketConn
	tcp  net.Listener
	ctx  context.Context // done when the server stops
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	names    map[string]*zone
	mode     Mode
	truncate bool
	queries  []Query
}

// Start starts a server on 127.0.0.1 that knows no names yet. Close stops
// it.
func Start() (*Server, error) {
	s := &Server{names: map[string]*zone{}}
	// Take a UDP port, then the TCP port of the same number; another
	// process may hold the TCP one, so try a few.
	var err error
	for range 20 {
		if s.udp, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("dns server: listen on udp 127.0.0.1: %w", err)
		}
		if s.tcp, err = net.Listen("tcp", s.udp.LocalAddr().String()); err == nil {
			break
		}
		_ = s.udp.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dns server: no port free for both UDP and TCP on 127.0.0.1: %w", err)
	}
	s.Addr = s.udp.LocalAddr().String()
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.wg.Go(s.serveUDP)
	s.wg.Go(s.serveTCP)
	return s, nil
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() error {
	s.stop()
	err := errors.Join(s.udp.Close(), s.tcp.Close())
	s.wg.Wait()
	return err
}

// entry returns the zone of name, creating it; the caller holds mu.
func (s *Server) entry(name string) *zone {
	n := CanonicalName(name)
	z, ok := s.names[n]
	if !ok {
		z = &zone{}
		s.names[n] = z
	}
	return z
}

// Set makes name resolve to addrs (IP literals; IPv4 ones answer A
// questions, IPv6 ones AAAA), replacing the addresses it had. No addrs
// makes it a known name without addresses. An address that is not an IP
// literal is an error.
func (s *Server) Set(name string, addrs ...string) error {
	ips := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("dns server: address %q of %s is not an IP literal", a, name)
		}
		ips[i] = ip
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(name).addrs = ips
	return nil
}

// SetMX replaces the MX records of name; none makes it a name without MX
// records. MX{0, "."} is a null MX (RFC 7505).
func (s *Server) SetMX(name string, mx ...MX) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(name).mx = append([]MX(nil), mx...)
}

// SetTLSA replaces the TLSA records of name (e.g. "_25._tcp.mx1.example")
// and says whether the answers about name carry the AD bit: a validating
// resolver sets it for a DNSSEC-signed zone whose signatures check out.
func (s *Server) SetTLSA(name string, authenticated bool, recs ...TLSA) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.entry(name)
	z.tlsa, z.signed = append([]TLSA(nil), recs...), authenticated
}

// SetBogus makes every question about name answered SERVFAIL (on), as a
// validating resolver answers for a zone whose signatures do not check
// out, or answered again (off).
func (s *Server) SetBogus(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(name).bogus = on
}

// SetMode switches how every following query is answered.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// TruncateUDP, when on, answers every UDP query with the truncated (TC)
// flag and no records, so that a client has to ask again over TCP; TCP
// queries are answered in full.
func (s *Server) TruncateUDP(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate = on
}

// Queries returns the questions received so far, in order.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.queries...)
}

// CanonicalName lower-cases name and drops a trailing dot.
func CanonicalName(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

func (s *Server) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := s.answer(buf[:n], "udp"); resp != nil {
			_, _ = s.udp.WriteTo(resp, from)
		}
	}
}

func (s *Server) serveTCP() {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		conns.Go(func() {
			defer c.Close()
			stop := context.AfterFunc(s.ctx, func() { _ = c.Close() })
			defer stop()
			s.serveConn(c)
		})
	}
}

// tcpIdle is how long a TCP connection may stay idle between queries.
const tcpIdle = 30 * time.Second

// serveConn answers length-prefixed queries on one TCP connection (RFC 1035
// §4.2.2) until the client closes it.
func (s *Server) serveConn(c net.Conn) {
	var size [2]byte
	for {
		_ = c.SetReadDeadline(time.Now().Add(tcpIdle))
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp := s.answer(q, "tcp")
		if resp == nil {
			continue // silent, or a query it cannot parse
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}
