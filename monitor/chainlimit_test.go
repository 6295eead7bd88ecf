package monitor

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// fatCert is a CA certificate carrying size bytes of an unknown,
// non-critical extension: a served chain's bulk.
func fatCert(t *testing.T, size int) *testpki.Cert {
	t.Helper()
	tmpl := caTemplate(fmt.Sprintf("filler of %d bytes", size))
	tmpl.ExtraExtensions = []pkix.Extension{{Id: []int{1, 3, 6, 1, 4, 1, 55555, 1}, Value: make([]byte, size)}}
	c := mkCert(t, tmpl, nil)
	return &testpki.Cert{Cert: c.cert, Key: c.key}
}

// TestProbeChainLimits serves chains past the bounds of SPEC §9 and §16 (20
// certificates, 256 KiB) from hostile loopback servers: each is a
// handshake_failed observation with no chain, neither stored nor verified.
// Chains at the bounds are probed as usual.
func TestProbeChainLimits(t *testing.T) {
	pki := testpki.New(t)
	var extra []*testpki.Cert // with the leaf and its issuer, 21 certificates
	for i := range maxChainCerts - 1 {
		extra = append(extra, pki.Root.Intermediate(t, testpki.Options{CommonName: fmt.Sprintf("extra CA %d", i)}))
	}
	tests := []struct {
		name  string
		chain []*testpki.Cert // served after the leaf
		want  string          // the error message after the address; empty for a normal probe
	}{
		{"21 certificates", append([]*testpki.Cert{pki.Intermediate}, extra...), "chain of 21 certificates exceeds 20"},
		{"20 certificates", append([]*testpki.Cert{pki.Intermediate}, extra[1:]...), ""},
		{"300 KB", []*testpki.Cert{pki.Intermediate, fatCert(t, 300_000)}, "chain of 30"},
		{"200 KB", []*testpki.Cert{pki.Intermediate, fatCert(t, 200_000)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := testpki.Serve(t, testpki.Chain(pki.Leaf, tc.chain...), nil)
			tg := target(srv.Addr)
			tg.HTTP = false
			o := probeOne(t, &Prober{Timeout: 5 * time.Second, Roots: pki.RootPool()}, tg)
			if tc.want == "" {
				if o.Error != nil || len(o.ServedChain) != 1+len(tc.chain) || !o.Verification.Trusted {
					t.Errorf("error %+v, %d served, trusted %v; want a normal probe of %d certificates",
						o.Error, len(o.ServedChain), o.Verification.Trusted, 1+len(tc.chain))
				}
				return
			}
			prefix := "TLS handshake with " + srv.Addr + ": " + tc.want
			if o.Error == nil || o.Error.Kind != pinwatchd.KindHandshakeFailed || !strings.HasPrefix(o.Error.Message, prefix) {
				t.Fatalf("Error = %+v, want handshake_failed %q…", o.Error, prefix)
			}
			if tc.name == "300 KB" && !strings.HasSuffix(o.Error.Message, " bytes exceeds 256 KiB") {
				t.Errorf("message %q does not say the chain exceeds 256 KiB", o.Error.Message)
			}
			if len(o.ServedChain) != 0 || len(o.VerifiedChain) != 0 || o.Verification != (pinwatchd.Verification{}) {
				t.Errorf("served %d, verified %d, verification %+v; want no chain and no verdict", len(o.ServedChain), len(o.VerifiedChain), o.Verification)
			}
		})
	}
}

// TestChainTooLargeBytes covers the size bound crypto/tls does not reach
// first (it refuses certificate messages above 256 KiB itself).
func TestChainTooLargeBytes(t *testing.T) {
	s := &session{addr: "192.0.2.1:443"}
	peer := []*x509.Certificate{{Raw: make([]byte, 200<<10)}, {Raw: make([]byte, 56<<10)}}
	if perr := s.chainTooLarge(peer); perr != nil {
		t.Errorf("256 KiB exactly: %+v, want accepted", perr)
	}
	peer[1].Raw = append(peer[1].Raw, 0)
	perr := s.chainTooLarge(peer)
	if want := "TLS handshake with 192.0.2.1:443: chain of 262145 bytes exceeds 256 KiB"; perr == nil || perr.Kind != pinwatchd.KindHandshakeFailed || perr.Message != want {
		t.Errorf("256 KiB + 1: %+v, want handshake_failed %q", perr, want)
	}

	for _, tc := range []struct {
		err  string
		n    int
		want bool
	}{
		{"remote error: tls: handshake message of length 307245 bytes exceeds maximum of 262144 bytes", 307245, true},
		{"tls: handshake message of length 70000 bytes exceeds maximum of 65536 bytes", 0, false}, // not the certificates
		{"tls: first record does not look like a TLS handshake", 0, false},
	} {
		if n, ok := oversizedCertificates(errors.New(tc.err)); n != tc.n || ok != tc.want {
			t.Errorf("oversizedCertificates(%q) = %d, %v; want %d, %v", tc.err, n, ok, tc.n, tc.want)
		}
	}
}
