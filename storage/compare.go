package storage

import (
	"database/sql"
	"fmt"

	"github.com/pinwatchd/pinwatchd"
)

// What an observation is compared with to decide whether it extends the
// latest span of its address: the span's side (latestSpan), the
// observation's (obsKeys), and the comparison (extends), which the span's
// print (spanmemo.go) stands for.

// latestSpan is the part of a span row compared with a new observation.
type latestSpan struct {
	id                         int64
	servedID, verifiedID       sql.NullInt64
	served, verified           []byte // chain hashes, nil for none
	pkp, pkpRO, hsts           []byte // whole-value header hashes, nil for none
	sni, tlsVersion            string
	trusted, hostnameValid     bool
	untrustedReason, hostError string
	httpMethod, httpError      sql.NullString
	httpStatus                 sql.NullInt64
	errorKind                  string
	tlsa                       []byte // whole-RRset hash, nil for none
	print                      []byte // spanPrint, nil for a span from before prints
}

// obsKeys are the content identities of an observation's chains and headers.
type obsKeys struct {
	served, verified  chainKey
	pkp, pkpRO, hsts  headerValue
	httpMethod, httpE sql.NullString
	httpStatus        sql.NullInt64
	tlsa              tlsaValue
}

func keysOf(o *pinwatchd.Observation) (obsKeys, error) {
	var k obsKeys
	var err error
	if k.served, err = hashChain(o.ServedChain); err != nil {
		return k, fmt.Errorf("served chain: %w", err)
	}
	if k.verified, err = hashChain(o.VerifiedChain); err != nil {
		return k, fmt.Errorf("verified chain: %w", err)
	}
	if k.pkp, err = encodeHeader("pkp", o.PublicKeyPins, o.PublicKeyPins != nil); err != nil {
		return k, err
	}
	if k.pkpRO, err = encodeHeader("pkp", o.PublicKeyPinsReportOnly, o.PublicKeyPinsReportOnly != nil); err != nil {
		return k, err
	}
	if k.hsts, err = encodeHeader("hsts", o.StrictTransportSecurity, o.StrictTransportSecurity != nil); err != nil {
		return k, err
	}
	if k.tlsa, err = encodeTLSA(o.TLSA); err != nil {
		return k, err
	}
	if h := o.HTTP; h != nil {
		k.httpMethod = sql.NullString{String: h.Method, Valid: true}
		k.httpStatus = sql.NullInt64{Int64: int64(h.Status), Valid: true}
		k.httpE = sql.NullString{String: h.Error, Valid: true}
	}
	return k, nil
}

// extends reports whether o, with keys k, equals the span l. Error and HTTP
// messages are compared by presence only: their text may vary from probe to
// probe without anything having changed.
func (l *latestSpan) extends(o *pinwatchd.Observation, k *obsKeys) bool {
	var kind pinwatchd.Kind
	if o.Error != nil {
		kind = o.Error.Kind
	}
	v := &o.Verification
	return string(kind) == l.errorKind &&
		equalHash(l.served, k.served.hash, k.served.ok) &&
		equalHash(l.verified, k.verified.hash, k.verified.ok) &&
		equalHash(l.pkp, k.pkp.whole, k.pkp.ok) &&
		equalHash(l.pkpRO, k.pkpRO.whole, k.pkpRO.ok) &&
		equalHash(l.hsts, k.hsts.whole, k.hsts.ok) &&
		equalHash(l.tlsa, k.tlsa.whole, k.tlsa.present) &&
		o.SNI == l.sni && o.TLSVersion == l.tlsVersion &&
		v.Trusted == l.trusted && v.UntrustedReason == l.untrustedReason &&
		v.HostnameValid == l.hostnameValid && v.HostnameError == l.hostError &&
		k.httpMethod == l.httpMethod && k.httpStatus == l.httpStatus &&
		k.httpE.Valid == l.httpError.Valid && (k.httpE.String == "") == (l.httpError.String == "")
}
