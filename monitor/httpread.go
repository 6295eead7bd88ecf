package monitor

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// maxResponseHeaderBytes caps what is read of one HTTP response's status line
// and headers.
const maxResponseHeaderBytes = 1 << 20

// readers are the buffered readers of HTTP exchanges, reused across probes
// (one is 4 KiB; a fleet's round allocated one per probe).
var readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// exchangeHTTP sends one HEAD request over the probed connection (and a GET
// when the server refuses HEAD with 405 or 501 and keeps the connection
// open), reads the response headers, never the body, and records the pin and
// HSTS headers. An endpoint that does not speak HTTP sets obs.HTTP.Error and
// leaves the observation successful; headers not complete by the deadline
// make the observation a timeout with its chain kept.
func (p *Prober) exchangeHTTP(s *session, tc *tls.Conn, t *pinwatchd.Target, obs *pinwatchd.Observation) {
	res := &pinwatchd.HTTPResult{Method: http.MethodHead}
	obs.HTTP = res
	lr := &io.LimitedReader{R: tc, N: maxResponseHeaderBytes}
	br := readers.Get().(*bufio.Reader)
	br.Reset(lr)
	// Nothing read through br outlives the exchange: header values are
	// copied into strings, and a body is never read.
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()

	resp, perr, herr := p.roundTrip(s, tc, br, lr, t, http.MethodHead)
	switch {
	case perr != nil:
		obs.Error = perr
		return
	case herr != "":
		res.Error = herr
		return
	}
	res.Status = resp.StatusCode
	if (resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) && !resp.Close {
		lr.N = maxResponseHeaderBytes
		get, perr, herr := p.roundTrip(s, tc, br, lr, t, http.MethodGet)
		switch {
		case perr != nil:
			obs.Error = perr
			return
		case herr != "":
			res.Error = fmt.Sprintf("GET after HEAD was refused with %d: %s", resp.StatusCode, herr)
		default:
			resp = get
			res.Method, res.Status = http.MethodGet, get.StatusCode
		}
	}
	if v, ok := firstHeader(resp.Header, "Public-Key-Pins"); ok {
		obs.PublicKeyPins = ParsePinHeader(v)
	}
	if v, ok := firstHeader(resp.Header, "Public-Key-Pins-Report-Only"); ok {
		obs.PublicKeyPinsReportOnly = ParsePinHeader(v)
	}
	if v, ok := firstHeader(resp.Header, "Strict-Transport-Security"); ok {
		obs.StrictTransportSecurity = ParseHSTS(v)
	}
}

// roundTrip writes one request and reads the response headers through br,
// which reads from lr.
// It returns the response, or the ProbeError when the probe ran out of time
// (the observation becomes a timeout), or a reason why the endpoint gave no
// usable HTTP response (recorded in HTTPResult.Error).
func (p *Prober) roundTrip(s *session, tc *tls.Conn, br *bufio.Reader, lr *io.LimitedReader, t *pinwatchd.Target, method string) (*http.Response, *pinwatchd.ProbeError, string) {
	raw := appendRequest(make([]byte, 0, 256), method, t, p.userAgent())
	if _, err := tc.Write(raw); err != nil {
		if s.timedOut(err) {
			return nil, s.timeout("HTTP request to"), ""
		}
		return nil, nil, fmt.Sprintf("send %s request: %s", method, reason(err))
	}

	// A TLS endpoint that does not speak HTTP stays silent: give it half of
	// the remaining time to start answering, so the chain is still recorded.
	start := time.Now()
	wait := s.deadline.Sub(start) / 2
	_ = tc.SetReadDeadline(start.Add(wait))
	_, err := br.Peek(1)
	if err == nil && !headersBuffered(br) {
		// The rest of the headers may take the probe's whole time.
		_ = tc.SetReadDeadline(s.deadline)
	}
	if err != nil {
		var ne net.Error
		switch {
		case s.ctx.Err() != nil:
			return nil, s.timeout("HTTP response from"), ""
		case errors.As(err, &ne) && ne.Timeout():
			return nil, nil, fmt.Sprintf("no HTTP response within %s", roundDuration(wait))
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, nil, "the server closed the connection without an HTTP response"
		}
		return nil, nil, "no HTTP response: " + reason(err)
	}
	if !looksHTTP(br) {
		return nil, nil, "not an HTTP response"
	}

	req := &http.Request{Method: method}
	resp, err := http.ReadResponse(br, req)
	// Skip informational responses (103 Early Hints) before the final one.
	for i := 0; err == nil && i < 8 && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols; i++ {
		resp, err = http.ReadResponse(br, req)
	}
	if err != nil {
		switch {
		case s.timedOut(err):
			return nil, s.timeout("HTTP response headers from"), ""
		case lr.N <= 0:
			return nil, nil, fmt.Sprintf("HTTP response headers exceed the %d MiB cap", maxResponseHeaderBytes>>20)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, nil, "the server closed the connection during the HTTP response headers"
		}
		return nil, nil, "not an HTTP response: " + truncate(err.Error(), 200)
	}
	return resp, nil, ""
}

// looksHTTP reports whether the bytes already received can start an HTTP
// response ("HTTP/").
func looksHTTP(br *bufio.Reader) bool {
	b, _ := br.Peek(min(br.Buffered(), 5))
	return bytes.HasPrefix([]byte("HTTP/"), b)
}

// headersBuffered reports whether br holds a final (not 1xx) response's
// status line and all of its headers, so that reading them reads nothing
// more from the connection. The usual server sends them in one record.
func headersBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	if len(b) < len("HTTP/1.1 200") || b[9] == '1' {
		return false
	}
	return bytes.Contains(b, []byte("\r\n\r\n"))
}

// firstHeader returns the first value of the named header: only the first
// header of each name counts.
func firstHeader(h http.Header, name string) (string, bool) {
	vs := h[name]
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// appendRequest appends an HTTP/1.1 request for t without a body.
func appendRequest(b []byte, method string, t *pinwatchd.Target, userAgent string) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = appendPath(b, t.Path)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, hostHeader(t)...)
	b = append(b, "\r\nUser-Agent: "...)
	for i := 0; i < len(userAgent); i++ {
		if c := userAgent[i]; c >= ' ' && c != 0x7f {
			b = append(b, c)
		}
	}
	return append(b, "\r\nAccept: */*\r\n\r\n"...)
}

// appendPath appends the request target: path, "/" when empty, with bytes
// that may not appear in a request line percent-encoded.
func appendPath(b []byte, path string) []byte {
	if path == "" || path[0] != '/' {
		b = append(b, '/')
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c <= ' ' || c >= 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// hostHeader returns the Host header for t: its host name, with the port
// unless it is 443, IPv6 literals in brackets.
func hostHeader(t *pinwatchd.Target) string {
	host := strings.Trim(t.Host, "[]")
	if t.Port != 0 && t.Port != 443 {
		return net.JoinHostPort(host, strconv.Itoa(t.Port))
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
