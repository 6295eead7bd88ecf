package testpki

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MailBehaviour is how a MailServer answers before the TLS handshake.
type MailBehaviour int32

// Behaviours of a MailServer. The endless ones stop after a million lines
// or when the client hangs up.
const (
	// MailNormal offers STARTTLS and accepts it.
	MailNormal MailBehaviour = iota
	// MailRefuse offers STARTTLS and refuses it: SMTP "454 4.7.0 TLS not
	// available", IMAP "NO", POP3 "-ERR".
	MailRefuse
	// MailNoOffer answers SMTP's EHLO without STARTTLS.
	MailNoOffer
	// MailEndlessEHLO answers SMTP's EHLO with "250-" continuation lines
	// that never end.
	MailEndlessEHLO
	// MailEndlessGreeting sends a greeting of continuation lines ("220-",
	// "* OK", "+OK") that never ends.
	MailEndlessGreeting
	// MailLongLine sends a greeting line that never ends (no CRLF).
	MailLongLine
	// MailSilent accepts the connection and says nothing.
	MailSilent
)

// mailLines bounds the lines an endless behaviour sends.
const mailLines = 1_000_000

// MailServer is a mail server on loopback speaking SMTP, IMAP or POP3 up to
// STARTTLS and then TLS with a certificate that can be swapped while it
// runs, as a DANE mail server rotating its key. It is real enough for
// pinwatchd's probe and no more: after the handshake it waits for the
// client to hang up.
type MailServer struct {
	// Addr is the listening "127.0.0.1:port".
	Addr string

	proto     string
	ln        net.Listener
	cert      atomic.Pointer[tls.Certificate]
	behaviour atomic.Int32
	done      chan struct{}
	wg        sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
	ehlo  []string
}

// ServeMail starts a mail server for proto ("smtp", "imap" or "pop3") on
// 127.0.0.1:0 presenting cert after STARTTLS. It stops at the end of the
// test (or at the Standalone's Close).
func ServeMail(tb TB, proto string, cert tls.Certificate) *MailServer {
	tb.Helper()
	return ServeMailOn(tb, "127.0.0.1:0", proto, cert)
}

// ServeMailOn is ServeMail on the given loopback listen address, e.g.
// "127.0.0.2:2525" for a second exchange on the port of the first.
func ServeMailOn(tb TB, listen, proto string, cert tls.Certificate) *MailServer {
	tb.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		tb.Fatalf("testpki: listen on %s for %s: %v", listen, proto, err)
	}
	s := &MailServer{Addr: ln.Addr().String(), proto: proto, ln: ln, done: make(chan struct{}), conns: map[net.Conn]bool{}}
	s.cert.Store(&cert)
	s.wg.Go(s.accept)
	tb.Cleanup(s.close)
	return s
}

// SetCertificate makes the server present cert from the next handshake on.
func (s *MailServer) SetCertificate(cert tls.Certificate) { s.cert.Store(&cert) }

// SetBehaviour switches how the next connections are answered.
func (s *MailServer) SetBehaviour(b MailBehaviour) { s.behaviour.Store(int32(b)) }

// EHLONames returns the names clients sent with SMTP's EHLO, in order.
func (s *MailServer) EHLONames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ehlo...)
}

func (s *MailServer) close() {
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *MailServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			s.serve(c, MailBehaviour(s.behaviour.Load()))
		})
	}
}

// serve speaks the protocol on one connection.
func (s *MailServer) serve(c net.Conn, b MailBehaviour) {
	r := bufio.NewReader(c)
	say := func(lines ...string) bool {
		_, err := io.WriteString(c, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	hear := func() (string, bool) {
		l, err := r.ReadString('\n')
		return strings.TrimRight(l, "\r\n"), err == nil
	}
	greeting := map[string]string{"smtp": "220 mx.pinwatchd.test ESMTP", "imap": "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready", "pop3": "+OK POP3 ready"}[s.proto]
	switch b {
	case MailSilent:
		_, _ = io.Copy(io.Discard, c)
		return
	case MailEndlessGreeting:
		cont := map[string]string{"smtp": "220-welcome", "imap": "* OK still greeting", "pop3": "+OK still greeting"}[s.proto]
		for range mailLines {
			if !say(cont) {
				return
			}
		}
		return
	case MailLongLine:
		chunk := strings.Repeat("x", 1024)
		for range mailLines {
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
		}
		return
	}
	if !say(greeting) {
		return
	}
	if s.proto == "smtp" {
		l, ok := hear()
		if !ok {
			return
		}
		name, _ := strings.CutPrefix(l, "EHLO ")
		s.mu.Lock()
		s.ehlo = append(s.ehlo, name)
		s.mu.Unlock()
		switch b {
		case MailNoOffer:
			say("250-mx.pinwatchd.test", "250-PIPELINING", "250 8BITMIME")
			_, _ = hear()
			return
		case MailEndlessEHLO:
			for range mailLines {
				if !say("250-PIPELINING") {
					return
				}
			}
			return
		}
		if !say("250-mx.pinwatchd.test greets "+name, "250-PIPELINING", "250 STARTTLS") {
			return
		}
	}
	l, ok := hear()
	if !ok {
		return
	}
	tag, _, _ := strings.Cut(l, " ")
	yes := map[string]string{"smtp": "220 2.0.0 Ready to start TLS", "imap": tag + " OK Begin TLS negotiation now", "pop3": "+OK Begin TLS negotiation"}[s.proto]
	no := map[string]string{"smtp": "454 4.7.0 TLS not available due to local problem", "imap": tag + " NO STARTTLS is not available", "pop3": "-ERR STLS not available"}[s.proto]
	if b == MailRefuse {
		say(no)
		_, _ = hear()
		return
	}
	if !say(yes) {
		return
	}
	tc := tls.Server(c, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }})
	if err := tc.Handshake(); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, tc)
}
