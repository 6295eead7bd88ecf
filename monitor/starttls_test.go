package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// probeMail probes one STARTTLS server of the test PKI.
func probeMail(t *testing.T, pki *testpki.PKI, srv *testpki.MailServer, proto pinwatchd.Protocol, timeout time.Duration) pinwatchd.Observation {
	t.Helper()
	p := &Prober{Timeout: timeout, Roots: pki.RootPool()}
	tg := &pinwatchd.Target{Name: "mail", Host: "localhost", Port: 25, Addresses: []string{srv.Addr}, STARTTLS: proto, EHLO: "probe.pinwatchd.test"}
	obs := p.Probe(t.Context(), tg)
	if len(obs) != 1 {
		t.Fatalf("%d observations, want 1", len(obs))
	}
	return obs[0]
}

// Each protocol's opening leads to the same handshake and chain as any TLS
// target.
func TestSTARTTLSProtocols(t *testing.T) {
	pki := testpki.New(t)
	for _, proto := range []pinwatchd.Protocol{pinwatchd.ProtocolSMTP, pinwatchd.ProtocolIMAP, pinwatchd.ProtocolPOP3} {
		t.Run(string(proto), func(t *testing.T) {
			srv := testpki.ServeMail(t, string(proto), pki.TLS())
			o := probeMail(t, pki, srv, proto, 5*time.Second)
			if o.Error != nil || len(o.ServedChain) != 2 || o.ServedChain[0].Pin != pki.Leaf.Pin() || !o.Verification.Trusted {
				t.Fatalf("observation: error %v, %d certificates, trusted %v; want the test chain, verified", o.Error, len(o.ServedChain), o.Verification.Trusted)
			}
			if o.STARTTLS != proto || o.HTTP != nil {
				t.Errorf("starttls %q, http %+v; want %q and no HTTP request", o.STARTTLS, o.HTTP, proto)
			}
			if proto == pinwatchd.ProtocolSMTP {
				if got := srv.EHLONames(); len(got) != 1 || got[0] != "probe.pinwatchd.test" {
					t.Errorf("EHLO names %q, want the target's ehlo", got)
				}
			}
		})
	}
}

// A server that does not offer STARTTLS, refuses it, or answers past the
// bounds of SPEC §16 is starttls_failed with its answer in the message; one
// that says nothing is a timeout. None costs more than the probe timeout.
func TestSTARTTLSHostile(t *testing.T) {
	pki := testpki.New(t)
	tests := []struct {
		name    string
		proto   pinwatchd.Protocol
		b       testpki.MailBehaviour
		kind    pinwatchd.Kind
		message string
	}{
		{"smtp refused with 454", pinwatchd.ProtocolSMTP, testpki.MailRefuse, pinwatchd.KindSTARTTLSFailed, `the server refused STARTTLS; the server answered "454 4.7.0 TLS not available due to local problem"`},
		{"smtp not offered", pinwatchd.ProtocolSMTP, testpki.MailNoOffer, pinwatchd.KindSTARTTLSFailed, "the server does not offer STARTTLS"},
		{"smtp endless 250- lines", pinwatchd.ProtocolSMTP, testpki.MailEndlessEHLO, pinwatchd.KindSTARTTLSFailed, "more than 100 lines"},
		{"smtp greeting that never ends", pinwatchd.ProtocolSMTP, testpki.MailEndlessGreeting, pinwatchd.KindSTARTTLSFailed, "more than 100 lines"},
		{"smtp line without end", pinwatchd.ProtocolSMTP, testpki.MailLongLine, pinwatchd.KindSTARTTLSFailed, "a line longer than 4096 bytes"},
		{"smtp silent", pinwatchd.ProtocolSMTP, testpki.MailSilent, pinwatchd.KindTimeout, "STARTTLS dialogue with"},
		{"imap refused", pinwatchd.ProtocolIMAP, testpki.MailRefuse, pinwatchd.KindSTARTTLSFailed, `"a1 NO STARTTLS is not available"`},
		{"imap endless greeting", pinwatchd.ProtocolIMAP, testpki.MailEndlessGreeting, pinwatchd.KindSTARTTLSFailed, "more than 100 lines"},
		{"pop3 refused", pinwatchd.ProtocolPOP3, testpki.MailRefuse, pinwatchd.KindSTARTTLSFailed, `"-ERR STLS not available"`},
		{"pop3 line without end", pinwatchd.ProtocolPOP3, testpki.MailLongLine, pinwatchd.KindSTARTTLSFailed, "a line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testpki.ServeMail(t, string(tt.proto), pki.TLS())
			srv.SetBehaviour(tt.b)
			o := probeMail(t, pki, srv, tt.proto, 2*time.Second)
			if o.Error == nil || o.Error.Kind != tt.kind || !strings.Contains(o.Error.Message, tt.message) || !strings.Contains(o.Error.Message, srv.Addr) {
				t.Fatalf("error %+v, want %s naming %s and saying %q", o.Error, tt.kind, srv.Addr, tt.message)
			}
			if len(o.ServedChain) != 0 {
				t.Errorf("a chain was recorded after a failed STARTTLS")
			}
			fs := Evaluate(&pinwatchd.Target{Name: "mail", STARTTLS: tt.proto}, []pinwatchd.Observation{o}, pinwatchd.DefaultThresholds, time.Now())
			if len(fs) != 1 || fs[0].Kind != tt.kind || fs[0].Severity != pinwatchd.SeverityWarning {
				t.Errorf("findings %+v, want one %s warning", fs, tt.kind)
			}
		})
	}
}

func TestQuoteAnswer(t *testing.T) {
	if got := quoteAnswer([]string{"454 \x1b[31mno", strings.Repeat("x", 300)}); strings.ContainsRune(got, '\x1b') || len(got) > 220 {
		t.Errorf("quoteAnswer = %q, want control characters escaped and at most about 200 bytes", got)
	}
}
