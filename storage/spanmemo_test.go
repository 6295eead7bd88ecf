package storage

import (
	"reflect"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// Two observations have the same fingerprint exactly when one extends the
// span of the other: each value latestSpan.extends compares changes it,
// and the texts it compares by presence only (error and HTTP error
// messages) do not.
func TestSpanPrintAgreesWithExtends(t *testing.T) {
	p := testpki.New(t)
	base := okObs("api", "127.0.0.1:443", time.Unix(1e9, 0), pkiChain(p.Leaf, p.Intermediate, p.Root))
	base.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=600", MaxAge: 600, Valid: true}
	other := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	variants := map[string]func(o *pinwatchd.Observation){
		"served chain":   func(o *pinwatchd.Observation) { o.ServedChain = other.served },
		"verified chain": func(o *pinwatchd.Observation) { o.VerifiedChain = other.verified },
		"no verified":    func(o *pinwatchd.Observation) { o.VerifiedChain = nil },
		"HSTS value": func(o *pinwatchd.Observation) {
			o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=60", MaxAge: 60, Valid: true}
		},
		"no HSTS":          func(o *pinwatchd.Observation) { o.StrictTransportSecurity = nil },
		"PKP appears":      func(o *pinwatchd.Observation) { o.PublicKeyPins = &pinwatchd.PinHeader{Raw: "max-age=60"} },
		"PKP-RO appears":   func(o *pinwatchd.Observation) { o.PublicKeyPinsReportOnly = &pinwatchd.PinHeader{Raw: "max-age=60"} },
		"SNI":              func(o *pinwatchd.Observation) { o.SNI = "www.example" },
		"TLS version":      func(o *pinwatchd.Observation) { o.TLSVersion = "TLS 1.2" },
		"untrusted":        func(o *pinwatchd.Observation) { o.Verification.Trusted = false },
		"untrusted reason": func(o *pinwatchd.Observation) { o.Verification.UntrustedReason = "expired" },
		"hostname invalid": func(o *pinwatchd.Observation) { o.Verification.HostnameValid = false },
		"hostname error":   func(o *pinwatchd.Observation) { o.Verification.HostnameError = "x509: mismatch" },
		"HTTP method":      func(o *pinwatchd.Observation) { o.HTTP = &pinwatchd.HTTPResult{Method: "GET", Status: 200} },
		"HTTP status":      func(o *pinwatchd.Observation) { o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 503} },
		"HTTP error": func(o *pinwatchd.Observation) {
			o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 200, Error: "reset"}
		},
		"no HTTP": func(o *pinwatchd.Observation) { o.HTTP = nil },
		"HSTS errors, empty not nil": func(o *pinwatchd.Observation) {
			h := *o.StrictTransportSecurity
			h.Errors = []string{}
			o.StrictTransportSecurity = &h
		},
		"HSTS preload": func(o *pinwatchd.Observation) {
			h := *o.StrictTransportSecurity
			h.Preload = true
			o.StrictTransportSecurity = &h
		},
		"PKP pins": func(o *pinwatchd.Observation) {
			o.PublicKeyPins = &pinwatchd.PinHeader{Raw: "max-age=60", Pins: []pinwatchd.Pin{{1}}}
		},
		"TLSA RRset": func(o *pinwatchd.Observation) {
			o.TLSA = &pinwatchd.TLSAResult{Name: "_443._tcp.api", Records: []pinwatchd.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: "ab"}}}
		},
		"failed": func(o *pinwatchd.Observation) {
			*o = failObs(o.Target, o.Address, o.Time, pinwatchd.KindTimeout, "timed out")
		},
	}
	same := map[string]func(o *pinwatchd.Observation){
		"later time":       func(o *pinwatchd.Observation) { o.Time = o.Time.Add(time.Hour) },
		"HTTP error text":  func(o *pinwatchd.Observation) { o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 200, Error: ""} },
		"duration":         func(o *pinwatchd.Observation) { o.Duration = time.Second },
		"another vantage":  func(o *pinwatchd.Observation) { o.Vantage = "b" },
		"the same content": func(*pinwatchd.Observation) {},
		"chains copied":    func(o *pinwatchd.Observation) { o.ServedChain = append([]pinwatchd.Cert(nil), o.ServedChain...) },
	}
	printAndSpan := func(o pinwatchd.Observation) (spanPrint, obsKeys) {
		k, err := keysOf(&o)
		if err != nil {
			t.Fatal(err)
		}
		return printOf(&o), k
	}
	// span is what latestSpan the database would hold after recording o.
	span := func(o pinwatchd.Observation, k obsKeys) latestSpan {
		l := latestSpan{sni: o.SNI, tlsVersion: o.TLSVersion, trusted: o.Verification.Trusted, untrustedReason: o.Verification.UntrustedReason,
			hostnameValid: o.Verification.HostnameValid, hostError: o.Verification.HostnameError,
			httpMethod: k.httpMethod, httpStatus: k.httpStatus, httpError: k.httpE}
		if o.Error != nil {
			l.errorKind = string(o.Error.Kind)
		}
		for _, h := range []struct {
			dst  *[]byte
			hash [32]byte
			ok   bool
		}{{&l.served, k.served.hash, k.served.ok}, {&l.verified, k.verified.hash, k.verified.ok}, {&l.pkp, k.pkp.whole, k.pkp.ok},
			{&l.pkpRO, k.pkpRO.whole, k.pkpRO.ok}, {&l.hsts, k.hsts.whole, k.hsts.ok}, {&l.tlsa, k.tlsa.whole, k.tlsa.present}} {
			if h.ok {
				*h.dst = append([]byte(nil), h.hash[:]...)
			}
		}
		return l
	}
	bp, bk := printAndSpan(base)
	bl := span(base, bk)
	for name, f := range variants {
		o := base
		f(&o)
		op, ok := printAndSpan(o)
		if bl.extends(&o, &ok) {
			t.Fatalf("%s: extends says unchanged; the variant tests nothing", name)
		}
		if op == bp {
			t.Errorf("%s: same fingerprint as the base, though it does not extend the base's span", name)
		}
	}
	for name, f := range same {
		o := base
		f(&o)
		op, ok := printAndSpan(o)
		if !bl.extends(&o, &ok) {
			t.Fatalf("%s: extends says changed", name)
		}
		if op != bp {
			t.Errorf("%s: another fingerprint than the base, though it extends the base's span", name)
		}
	}
}

// printOf reads every field of the parsed headers and the stored identity
// of a TLSA RRset: a field added to one of those types must be added there
// too (or this count changed, once it is shown not to be stored).
func TestSpanPrintCoversEveryField(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want int
	}{
		{reflect.TypeFor[pinwatchd.PinHeader](), 9},
		{reflect.TypeFor[pinwatchd.HSTSHeader](), 7},
		{reflect.TypeFor[pinwatchd.TLSAResult](), 5},
		{reflect.TypeFor[pinwatchd.TLSARecord](), 7},
	} {
		if n := c.typ.NumField(); n != c.want {
			t.Errorf("%s has %d fields, printOf was written for %d: add the new one to printOf", c.typ, n, c.want)
		}
	}
}
