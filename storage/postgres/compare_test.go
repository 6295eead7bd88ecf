package postgres

import (
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// An observation extends a span when nothing compared differs; error and
// HTTP error messages count by presence only, since their text varies from
// probe to probe.
func TestExtends(t *testing.T) {
	base := pinwatchd.Observation{
		Target: "api", Address: "127.0.0.1:443", SNI: "api", TLSVersion: "TLS 1.3",
		Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true},
		HTTP:         &pinwatchd.HTTPResult{Method: "HEAD", Status: 200},
		Error:        &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "i/o timeout"},
	}
	span := func(o pinwatchd.Observation) *latestSpan {
		t.Helper()
		k, err := keysOf(&o)
		if err != nil {
			t.Fatal(err)
		}
		l := &latestSpan{sni: o.SNI, tlsVersion: o.TLSVersion, trusted: o.Verification.Trusted,
			hostnameValid: o.Verification.HostnameValid, untrustedReason: o.Verification.UntrustedReason,
			hostError: o.Verification.HostnameError, httpMethod: k.httpMethod, httpStatus: k.httpStatus,
			httpError: k.httpE, errorKind: k.kind}
		if k.hsts.Present {
			l.hsts = k.hsts.Whole[:]
		}
		return l
	}
	l := span(base)
	for _, tc := range []struct {
		name    string
		change  func(o *pinwatchd.Observation)
		extends bool
	}{
		{"the same", func(*pinwatchd.Observation) {}, true},
		{"another error message", func(o *pinwatchd.Observation) {
			o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "deadline"}
		}, true},
		{"another error kind", func(o *pinwatchd.Observation) { o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.KindConnectFailed} }, false},
		{"no error", func(o *pinwatchd.Observation) { o.Error = nil }, false},
		{"another status", func(o *pinwatchd.Observation) { o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 503} }, false},
		{"an HTTP error appears", func(o *pinwatchd.Observation) {
			o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 200, Error: "EOF"}
		}, false},
		{"no HTTP", func(o *pinwatchd.Observation) { o.HTTP = nil }, false},
		{"an HSTS header", func(o *pinwatchd.Observation) {
			o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=1", MaxAge: 1, Valid: true}
		}, false},
		{"another SNI", func(o *pinwatchd.Observation) { o.SNI = "www" }, false},
		{"untrusted", func(o *pinwatchd.Observation) { o.Verification.Trusted = false }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.change(&o)
			k, err := keysOf(&o)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.extends(&o, &k); got != tc.extends {
				t.Errorf("extends = %v, want %v", got, tc.extends)
			}
		})
	}
	// An HTTP error that changes text but stays present still extends.
	withErr := base
	withErr.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 200, Error: "EOF"}
	other := withErr
	other.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 200, Error: "connection reset"}
	k, _ := keysOf(&other)
	if !span(withErr).extends(&other, &k) {
		t.Error("another HTTP error text does not extend the span")
	}
}
