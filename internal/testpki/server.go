package testpki

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Server is a real HTTPS server on loopback whose certificate can be swapped
// while it runs (a key rotation or a renewal).
type Server struct {
	// Addr is the listening "127.0.0.1:port" (or "[::1]:port").
	Addr string
	cert atomic.Pointer[tls.Certificate]
	srv  *http.Server
}

// Serve starts an HTTPS server on 127.0.0.1:0 serving cert. A nil handler
// answers 200 with an empty body. The server stops at the end of the test.
func Serve(tb TB, cert tls.Certificate, h http.Handler) *Server {
	tb.Helper()
	return ServeOn(tb, "127.0.0.1:0", cert, h)
}

// ServeOn is Serve on the given loopback listen address, e.g. "[::1]:0".
func ServeOn(tb TB, listen string, cert tls.Certificate, h http.Handler) *Server {
	tb.Helper()
	if h == nil {
		h = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		tb.Fatalf("testpki: listen %s: %v", listen, err)
	}
	s := &Server{Addr: ln.Addr().String()}
	s.cert.Store(&cert)
	cfg := &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil },
		NextProtos:     []string{"http/1.1"},
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		// Handshakes cut short by a test closing the server are expected.
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() {
		if err := s.srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Logf("testpki: serve %s: %v", s.Addr, err)
		}
	}()
	tb.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// SetCertificate makes the server present cert from the next handshake on.
func (s *Server) SetCertificate(cert tls.Certificate) { s.cert.Store(&cert) }

// HeaderHandler answers every request with the given response headers.
func HeaderHandler(headers map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
	})
}
