package postgres

import (
	"fmt"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// Whether an observation extends the latest span of its address: the
// comparison of storage.DB's Record, column for column.

// latestSpan is the part of a span row compared with a new observation.
type latestSpan struct {
	id                         int64
	servedID, verifiedID       *int64
	served, verified           []byte // chain hashes, nil for none
	pkp, pkpRO, hsts           []byte // whole-value header hashes, nil for none
	sni, tlsVersion            string
	trusted, hostnameValid     bool
	untrustedReason, hostError string
	httpMethod, httpError      *string
	httpStatus                 *int32
	errorKind                  string
	tlsa                       []byte // whole-RRset hash, nil for none
}

// obsKeys are the content identities of an observation's chains and headers.
type obsKeys struct {
	served, verified           [32]byte
	hasServed, hasVerified     bool
	pkp, pkpRO, hsts           storage.HeaderValue
	httpMethod, httpE          *string
	httpStatus                 *int32
	kind                       string
	errorMessage               string
	servedCerts, verifiedCerts []pinwatchd.Cert
	tlsa                       storage.TLSAValue
}

func keysOf(o *pinwatchd.Observation) (obsKeys, error) {
	k := obsKeys{servedCerts: o.ServedChain, verifiedCerts: o.VerifiedChain}
	var err error
	if k.served, k.hasServed, err = storage.ChainHash(o.ServedChain); err != nil {
		return k, fmt.Errorf("served chain: %w", err)
	}
	if k.verified, k.hasVerified, err = storage.ChainHash(o.VerifiedChain); err != nil {
		return k, fmt.Errorf("verified chain: %w", err)
	}
	if k.pkp, err = storage.EncodeHeader("pkp", o.PublicKeyPins, o.PublicKeyPins != nil); err != nil {
		return k, err
	}
	if k.pkpRO, err = storage.EncodeHeader("pkp", o.PublicKeyPinsReportOnly, o.PublicKeyPinsReportOnly != nil); err != nil {
		return k, err
	}
	if k.hsts, err = storage.EncodeHeader("hsts", o.StrictTransportSecurity, o.StrictTransportSecurity != nil); err != nil {
		return k, err
	}
	if k.tlsa, err = storage.EncodeTLSA(o.TLSA); err != nil {
		return k, err
	}
	if h := o.HTTP; h != nil {
		status := int32(h.Status)
		k.httpMethod, k.httpStatus, k.httpE = &h.Method, &status, &h.Error
	}
	if o.Error != nil {
		k.kind, k.errorMessage = string(o.Error.Kind), o.Error.Message
	}
	return k, nil
}

// extends reports whether o, with keys k, equals the span l. Error and HTTP
// messages are compared by presence only: their text may vary from probe to
// probe without anything having changed.
func (l *latestSpan) extends(o *pinwatchd.Observation, k *obsKeys) bool {
	v := &o.Verification
	return k.kind == l.errorKind &&
		equalHash(l.served, k.served, k.hasServed) &&
		equalHash(l.verified, k.verified, k.hasVerified) &&
		equalHash(l.pkp, k.pkp.Whole, k.pkp.Present) &&
		equalHash(l.pkpRO, k.pkpRO.Whole, k.pkpRO.Present) &&
		equalHash(l.hsts, k.hsts.Whole, k.hsts.Present) &&
		equalHash(l.tlsa, k.tlsa.Whole, k.tlsa.Present) &&
		o.SNI == l.sni && o.TLSVersion == l.tlsVersion &&
		v.Trusted == l.trusted && v.UntrustedReason == l.untrustedReason &&
		v.HostnameValid == l.hostnameValid && v.HostnameError == l.hostError &&
		equalPtr(k.httpMethod, l.httpMethod) && equalPtr(k.httpStatus, l.httpStatus) &&
		(k.httpE == nil) == (l.httpError == nil) &&
		(k.httpE == nil || (*k.httpE == "") == (*l.httpError == ""))
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// equalHash reports whether a stored hash (nil for NULL) is the one of an
// absent (ok false) or present value.
func equalHash(stored []byte, h [32]byte, ok bool) bool {
	if !ok {
		return stored == nil
	}
	return string(stored) == string(h[:])
}
