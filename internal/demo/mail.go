package demo

import (
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/loopdns"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// mailHost is the name of the demo's DANE mail server; its certificate
// is valid for localhost, which is what it is probed as.
const mailHost = "localhost"

// mail is the demo's DANE mail server: SMTP with STARTTLS on loopback, and
// a DNS server on loopback publishing its TLSA records, DNSSEC-signed (the
// AD bit set), as a validating resolver would answer.
type mail struct {
	srv  *testpki.MailServer
	dns  *loopdns.Server
	port int
}

// newMail starts the mail server with the PKI's leaf and publishes the
// TLSA records of its key and of the next one (next), as RFC 7671's
// rollover wants.
func newMail(tb testpki.TB, p *testpki.PKI, next pinwatchd.Pin) *mail {
	m := &mail{srv: testpki.ServeMail(tb, "smtp", p.TLS())}
	addr, err := netip.ParseAddrPort(m.srv.Addr)
	if err != nil {
		tb.Fatalf("demo: mail server address %q: %v", m.srv.Addr, err)
	}
	m.port = int(addr.Port())
	if m.dns, err = loopdns.Start(); err != nil {
		tb.Fatalf("demo: %v", err)
	}
	tb.Cleanup(func() { _ = m.dns.Close() })
	m.dns.SetTLSA(pinwatchd.TLSAName(mailHost, m.port), true, daneEE(p.Leaf.Pin()), daneEE(next))
	return m
}

// daneEE is the DANE-EE record (3 1 1) of a key.
func daneEE(p pinwatchd.Pin) loopdns.TLSA {
	return loopdns.TLSA{Usage: 3, Selector: 1, MatchingType: 1, Data: p[:]}
}

// rotate makes the mail server serve a fresh key, as an ACME client that
// renews with a new key does, without a TLSA record for it.
func (m *mail) rotate(tb testpki.TB, p *testpki.PKI) {
	leaf := p.Intermediate.Leaf(tb, testpki.Options{})
	m.srv.SetCertificate(testpki.Chain(leaf, p.Intermediate))
}

func (m *mail) describe(next pinwatchd.Pin) string {
	return fmt.Sprintf("mail      %s  SMTP STARTTLS + DANE: signed TLSA records for its key and the next (3 1 1 %s…)",
		m.srv.Addr, hex.EncodeToString(next[:])[:12])
}

// target is the mail server's target; the config's resolver must be the
// demo's DNS server.
func (m *mail) target(caFile string) (config.TargetConfig, error) {
	addr, err := config.ParseHostPort(m.srv.Addr)
	if err != nil {
		return config.TargetConfig{}, err
	}
	port := m.port
	return config.TargetConfig{Name: "mail", Host: mailHost, Port: &port, Addresses: []config.HostPort{addr},
		CAFile: caFile, STARTTLS: string(pinwatchd.ProtocolSMTP)}, nil
}
