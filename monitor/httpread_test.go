package monitor

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// tlsServer is rawServer that completes a TLS handshake with cert before
// handing the connection to handle.
func tlsServer(t *testing.T, cert tls.Certificate, handle func(*tls.Conn)) string {
	t.Helper()
	return rawServer(t, "", func(c net.Conn) {
		tc, err := tlsHandshake(c, cert)
		if err != nil {
			return
		}
		handle(tc)
	})
}

// answer returns a handler that reads one request and writes resp.
func answer(resp string) func(*tls.Conn) {
	return func(c *tls.Conn) {
		if _, err := readRequest(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = c.Write([]byte(resp))
		_, _ = c.Read(make([]byte, 1))
	}
}

// randomPins returns n distinct random pins.
func randomPins(n int) []pinwatchd.Pin {
	pins := make([]pinwatchd.Pin, n)
	for i := range pins {
		_, _ = rand.Read(pins[i][:])
	}
	return pins
}

func pinHeaderValue(pins []pinwatchd.Pin) string {
	var b strings.Builder
	for _, p := range pins {
		fmt.Fprintf(&b, "pin-sha256=\"%s\"; ", p)
	}
	b.WriteString("max-age=5184000")
	return b.String()
}

func TestProbeHTTPTrickle(t *testing.T) {
	checkGoroutines(t)
	pki := testpki.New(t)
	resp := "HTTP/1.1 200 OK\r\nPublic-Key-Pins: " + pinHeaderValue(randomPins(2)) + "\r\n\r\n"
	addr := tlsServer(t, pki.TLS(), func(c *tls.Conn) {
		if _, err := readRequest(bufio.NewReader(c)); err != nil {
			return
		}
		for i := range len(resp) {
			if _, err := c.Write([]byte{resp[i]}); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	o := probeOne(t, p, target(addr))
	if o.Error == nil || o.Error.Kind != pinwatchd.KindTimeout || !strings.Contains(o.Error.Message, addr) {
		t.Fatalf("Error = %+v, want a timeout naming %s", o.Error, addr)
	}
	t.Logf("message: %s", o.Error.Message)
	wantPins(t, "served", o.ServedChain, pki.Leaf, pki.Intermediate)
	if o.PublicKeyPins != nil || o.HTTP == nil || o.HTTP.Error != "" {
		t.Errorf("PublicKeyPins = %+v, HTTP = %+v; want no header and no HTTP error (the timeout says it)", o.PublicKeyPins, o.HTTP)
	}
}

func TestProbeHTTPLargeHeaders(t *testing.T) {
	pki := testpki.New(t)
	pins := randomPins(1100)
	value := pinHeaderValue(pins)
	if len(value) < 60_000 {
		t.Fatalf("test header is %d bytes, want at least 60 KB", len(value))
	}
	filler := strings.Repeat("x", 1000)
	srv := testpki.Serve(t, pki.TLS(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for i := range 300 { // 300 KB of other headers before the pins
			w.Header().Set(fmt.Sprintf("X-Filler-%d", i), filler)
		}
		w.Header().Set("Public-Key-Pins-Report-Only", value)
	}))
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	o := probeOne(t, p, target(srv.Addr))
	if o.Error != nil || o.HTTP.Error != "" {
		t.Fatalf("Error = %+v, HTTP = %+v; want a complete response", o.Error, o.HTTP)
	}
	h := o.PublicKeyPinsReportOnly
	if h == nil || h.Raw != value || !h.Valid || len(h.Pins) != len(pins) {
		t.Fatalf("Public-Key-Pins-Report-Only parsed as %d pins (valid %v), want %d valid pins", lenPins(h), h != nil && h.Valid, len(pins))
	}
	for i, pin := range pins {
		if h.Pins[i] != pin {
			t.Fatalf("pin %d = %s, want %s", i, h.Pins[i], pin)
		}
	}
}

func lenPins(h *pinwatchd.PinHeader) int {
	if h == nil {
		return -1
	}
	return len(h.Pins)
}

func TestProbeHTTPNotSpoken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(*tls.Conn)
		want   string
	}{
		{"silent", func(c *tls.Conn) { _, _ = c.Read(make([]byte, 4096)); _, _ = c.Read(make([]byte, 1)) }, "no HTTP response within "},
		{"closes", func(c *tls.Conn) { _, _ = c.Read(make([]byte, 4096)) }, "closed the connection without an HTTP response"},
		{"other protocol", answer("+OK POP3 server ready\r\n"), "not an HTTP response"},
		{"banner without newline", answer("\x00\x01binary"), "not an HTTP response"},
		{"broken header", answer("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), "not an HTTP response: malformed MIME header"},
		{"headers over the cap", answer("HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 1<<20+1000) + "\r\n\r\n"), "exceed the 1 MiB cap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			pki := testpki.New(t)
			addr := tlsServer(t, pki.TLS(), tc.handle)
			p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
			o := probeOne(t, p, target(addr))
			if o.Error != nil {
				t.Fatalf("Error = %+v, want none: the chain was read", o.Error)
			}
			wantPins(t, "served", o.ServedChain, pki.Leaf, pki.Intermediate)
			if !o.Verification.Trusted {
				t.Errorf("Verification = %+v, want trusted", o.Verification)
			}
			if o.HTTP == nil || !strings.Contains(o.HTTP.Error, tc.want) || o.HTTP.Status != 0 {
				t.Fatalf("HTTP = %+v, want no status and an error containing %q", o.HTTP, tc.want)
			}
			if o.Duration >= p.Timeout {
				t.Errorf("Duration = %v, want the chain within the %v deadline", o.Duration, p.Timeout)
			}
			if o.PublicKeyPins != nil || o.StrictTransportSecurity != nil {
				t.Errorf("headers recorded from a non-HTTP answer: %+v %+v", o.PublicKeyPins, o.StrictTransportSecurity)
			}
		})
	}
}

func TestProbeHTTPHeadRefused(t *testing.T) {
	pki := testpki.New(t)
	pins := pinHeaderValue(randomPins(2))
	var (
		mu      sync.Mutex
		methods []string
		remotes = map[string]bool{}
	)
	srv := testpki.Serve(t, pki.TLS(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		if r.Method == http.MethodHead {
			w.Header().Set("Allow", "GET")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Public-Key-Pins", pins)
		_, _ = w.Write([]byte(strings.Repeat("body ", 10000)))
	}))
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	o := probeOne(t, p, target(srv.Addr))
	if o.Error != nil {
		t.Fatalf("Error = %+v, want none", o.Error)
	}
	if *o.HTTP != (pinwatchd.HTTPResult{Method: "GET", Status: 200}) {
		t.Errorf("HTTP = %+v, want GET 200", o.HTTP)
	}
	if o.PublicKeyPins == nil || o.PublicKeyPins.Raw != pins {
		t.Errorf("PublicKeyPins = %+v, want the GET response's header", o.PublicKeyPins)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(methods, ",") != "HEAD,GET" || len(remotes) != 1 {
		t.Errorf("server saw %v from %d connections, want HEAD then GET on one connection", methods, len(remotes))
	}
}

func TestProbeHTTPEarlyHints(t *testing.T) {
	pki := testpki.New(t)
	addr := tlsServer(t, pki.TLS(), answer("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
		"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=120\r\n\r\n"))
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	o := probeOne(t, p, target(addr))
	if o.Error != nil || *o.HTTP != (pinwatchd.HTTPResult{Method: "HEAD", Status: 200}) {
		t.Fatalf("Error = %+v, HTTP = %+v; want HEAD 200 after the 103", o.Error, o.HTTP)
	}
	if o.StrictTransportSecurity == nil || o.StrictTransportSecurity.MaxAge != 120 {
		t.Errorf("StrictTransportSecurity = %+v, want the final response's max-age 120", o.StrictTransportSecurity)
	}
}

// answerInParts returns a handler that reads one request and writes each
// part of the response, pausing before all but the first.
func answerInParts(pause time.Duration, parts ...string) func(*tls.Conn) {
	return func(c *tls.Conn) {
		if _, err := readRequest(bufio.NewReader(c)); err != nil {
			return
		}
		for i, part := range parts {
			if i > 0 {
				time.Sleep(pause)
			}
			if _, err := c.Write([]byte(part)); err != nil {
				return
			}
		}
		_, _ = c.Read(make([]byte, 1))
	}
}

// A server that starts its answer within half of the probe's time has the
// whole of it for the rest of the headers, whether it pauses inside a
// response or after an informational one.
func TestProbeHTTPPauseAfterFirstBytes(t *testing.T) {
	checkGoroutines(t)
	pki := testpki.New(t)
	for name, parts := range map[string][]string{
		"inside the headers": {"HTTP/1.1 200 OK\r\n", "Strict-Transport-Security: max-age=120\r\n\r\n"},
		"after a 103":        {"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=120\r\n\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			// Half of the 2 s is about 1 s: the pause outlasts it.
			addr := tlsServer(t, pki.TLS(), answerInParts(1300*time.Millisecond, parts...))
			p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
			o := probeOne(t, p, target(addr))
			if o.Error != nil || o.HTTP == nil || *o.HTTP != (pinwatchd.HTTPResult{Method: "HEAD", Status: 200}) {
				t.Fatalf("Error = %+v, HTTP = %+v; want HEAD 200 read after the pause", o.Error, o.HTTP)
			}
			if o.StrictTransportSecurity == nil || o.StrictTransportSecurity.MaxAge != 120 {
				t.Errorf("StrictTransportSecurity = %+v, want max-age 120", o.StrictTransportSecurity)
			}
		})
	}
}

// Probes share buffered readers: what one endpoint sent never shows in
// another's observation.
func TestProbeHTTPReadersNotShared(t *testing.T) {
	pki := testpki.New(t)
	withHeaders := tlsServer(t, pki.TLS(), answer("HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=120\r\nPublic-Key-Pins: "+pinHeaderValue(randomPins(2))+"\r\n\r\n"))
	bare := tlsServer(t, pki.TLS(), answer("HTTP/1.1 204 No Content\r\n\r\n"))
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	for range 3 {
		if o := probeOne(t, p, target(withHeaders)); o.StrictTransportSecurity == nil || o.PublicKeyPins == nil {
			t.Fatalf("HSTS = %+v, PKP = %+v; want both", o.StrictTransportSecurity, o.PublicKeyPins)
		}
		o := probeOne(t, p, target(bare))
		if o.Error != nil || o.HTTP == nil || o.HTTP.Status != 204 || o.StrictTransportSecurity != nil || o.PublicKeyPins != nil {
			t.Fatalf("Error = %+v, HTTP = %+v, HSTS = %+v, PKP = %+v; want a 204 without headers", o.Error, o.HTTP, o.StrictTransportSecurity, o.PublicKeyPins)
		}
	}
}

func TestProbeHTTPHeadRefusedAndClosed(t *testing.T) {
	pki := testpki.New(t)
	addr := tlsServer(t, pki.TLS(), answer("HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nStrict-Transport-Security: max-age=60\r\n\r\n"))
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool()}
	o := probeOne(t, p, target(addr))
	if o.Error != nil || *o.HTTP != (pinwatchd.HTTPResult{Method: "HEAD", Status: 501}) {
		t.Fatalf("Error = %+v, HTTP = %+v; want HEAD 501 and no GET on a closing connection", o.Error, o.HTTP)
	}
	if o.StrictTransportSecurity == nil || o.StrictTransportSecurity.MaxAge != 60 {
		t.Errorf("StrictTransportSecurity = %+v, want max-age 60 from the 501 response", o.StrictTransportSecurity)
	}
}

func TestProbeHTTPRequest(t *testing.T) {
	pki := testpki.New(t)
	got := make(chan string, 1)
	addr := tlsServer(t, pki.TLS(), func(c *tls.Conn) {
		req, _ := readRequest(bufio.NewReader(c))
		got <- req
		_, _ = c.Write([]byte("HTTP/1.1 204 No Content\r\nPublic-Key-Pins: first\r\nPublic-Key-Pins: pin-sha256=\"second\"\r\n\r\n"))
	})
	p := &Prober{Timeout: 2 * time.Second, Roots: pki.RootPool(), UserAgent: "pinwatchd-test\r\nX-Injected: 1"}
	tg := &pinwatchd.Target{Name: "api", Host: "api.example", Port: 8443, Addresses: []string{addr}, HTTP: true, Path: "/health check?x=1"}
	o := probeOne(t, p, tg)
	want := "HEAD /health%20check?x=1 HTTP/1.1\r\nHost: api.example:8443\r\nUser-Agent: pinwatchd-testX-Injected: 1\r\nAccept: */*\r\n\r\n"
	if req := <-got; req != want {
		t.Errorf("request =\n%q\nwant\n%q", req, want)
	}
	if o.HTTP == nil || o.HTTP.Status != 204 {
		t.Errorf("HTTP = %+v, want status 204", o.HTTP)
	}
	if o.PublicKeyPins == nil || o.PublicKeyPins.Raw != "first" || o.PublicKeyPins.Valid {
		t.Errorf("PublicKeyPins = %+v, want the first header only, which is malformed", o.PublicKeyPins)
	}
	if o.SNI != "api.example" || o.Verification.HostnameValid {
		t.Errorf("SNI = %q, HostnameValid = %v; want api.example and false (leaf is for localhost)", o.SNI, o.Verification.HostnameValid)
	}
}

func TestHostHeader(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"example.com", 443, "example.com"},
		{"example.com", 8443, "example.com:8443"},
		{"::1", 443, "[::1]"},
		{"[::1]", 8443, "[::1]:8443"},
		{"192.0.2.1", 80, "192.0.2.1:80"},
	} {
		if got := hostHeader(&pinwatchd.Target{Host: tc.host, Port: tc.port}); got != tc.want {
			t.Errorf("hostHeader(%s, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}
