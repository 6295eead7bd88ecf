package testpki

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// The SMTP server's dialogue as a client sees it: greeting, EHLO offering
// STARTTLS, the go-ahead, then TLS with the certificate set; or a 454.
func TestMailServerSMTP(t *testing.T) {
	p := New(t)
	s := ServeMail(t, "smtp", p.TLS())
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		return c, bufio.NewReader(c)
	}
	line := func(r *bufio.Reader) string {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(l)
	}
	c, r := dial()
	defer c.Close()
	if l := line(r); !strings.HasPrefix(l, "220 ") {
		t.Fatalf("greeting %q", l)
	}
	c.Write([]byte("EHLO test.example\r\n"))
	var ehlo []string
	for l := line(r); ; l = line(r) {
		ehlo = append(ehlo, l)
		if strings.HasPrefix(l, "250 ") {
			break
		}
	}
	if ehlo[len(ehlo)-1] != "250 STARTTLS" {
		t.Errorf("EHLO answer %q, want STARTTLS offered", ehlo)
	}
	c.Write([]byte("STARTTLS\r\n"))
	if l := line(r); !strings.HasPrefix(l, "220 ") {
		t.Fatalf("STARTTLS answer %q", l)
	}
	tc := tls.Client(c, &tls.Config{ServerName: "localhost", RootCAs: p.RootPool()})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake after STARTTLS: %v", err)
	}
	if got := s.EHLONames(); len(got) != 1 || got[0] != "test.example" {
		t.Errorf("EHLONames = %q", got)
	}

	s.SetBehaviour(MailRefuse)
	c2, r2 := dial()
	defer c2.Close()
	line(r2)
	c2.Write([]byte("EHLO x\r\n"))
	for l := line(r2); !strings.HasPrefix(l, "250 "); l = line(r2) {
	}
	c2.Write([]byte("STARTTLS\r\n"))
	if l := line(r2); !strings.HasPrefix(l, "454 ") {
		t.Errorf("refusing server answered STARTTLS with %q, want 454", l)
	}
}
