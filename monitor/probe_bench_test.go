package monitor

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// benchServer serves a P-256 root → intermediate → leaf chain with a
// Public-Key-Pins header on loopback.
func benchServer(b *testing.B) (*testpki.PKI, string) {
	b.Helper()
	pki := testpki.New(b)
	srv := testpki.Serve(b, pki.TLS(), testpki.HeaderHandler(map[string]string{
		"Public-Key-Pins":           `pin-sha256="` + pki.Leaf.Pin().String() + `"; pin-sha256="` + testpki.KeyPin(b, pki.Spare).String() + `"; max-age=5184000`,
		"Strict-Transport-Security": "max-age=31536000",
	}))
	return pki, srv.Addr
}

// BenchmarkProbe measures one probe of an HTTP target: connect, handshake,
// chain capture and verification, pins, one HEAD and the header parsing.
// The loopback server's CPU is included, as it is in BenchmarkBareClient.
func BenchmarkProbe(b *testing.B) {
	pki, addr := benchServer(b)
	p := &Prober{Timeout: 5 * time.Second, Roots: pki.RootPool()}
	tg := target(addr)
	b.ReportAllocs()
	for b.Loop() {
		o := p.Probe(b.Context(), tg)[0]
		if o.Error != nil || o.HTTP.Status != 200 || o.PublicKeyPins == nil || !o.Verification.Trusted {
			b.Fatalf("probe failed: %+v", o)
		}
	}
}

// BenchmarkBareClient is the baseline of SPEC §11: a bare crypto/tls client
// with the same key-exchange settings that does the same handshake, hashes
// every served key and reads the headers of one HEAD response.
func BenchmarkBareClient(b *testing.B) {
	_, addr := benchServer(b)
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}, ServerName: "localhost"} //nolint:gosec // baseline does no verification
	req := []byte("HEAD / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bare\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		tc := tls.Client(c, cfg)
		if err := tc.Handshake(); err != nil {
			b.Fatal(err)
		}
		var pins [][sha256.Size]byte
		for _, cert := range tc.ConnectionState().PeerCertificates {
			pins = append(pins, sha256.Sum256(cert.RawSubjectPublicKeyInfo))
		}
		if _, err := tc.Write(req); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(tc), &http.Request{Method: http.MethodHead})
		if err != nil || resp.Header.Get("Public-Key-Pins") == "" || len(pins) != 2 {
			b.Fatalf("response %v, %v", resp, err)
		}
		_ = tc.Close()
	}
}
