package pinwatchd

import (
	"encoding/json"
	"time"
)

// Kind identifies a finding. The identifiers are stable: they appear in JSON,
// SQLite, metrics and Slack.
type Kind string

// Finding kinds (SPEC §3).
const (
	KindPinMismatch       Kind = "pin_mismatch"
	KindMissingBackupPin  Kind = "missing_backup_pin"
	KindPinSetExpiring    Kind = "pinset_expiring"
	KindPinSetExpired     Kind = "pinset_expired"
	KindCertExpiring      Kind = "cert_expiring"
	KindCertExpired       Kind = "cert_expired"
	KindChainUntrusted    Kind = "chain_untrusted"
	KindHostnameMismatch  Kind = "hostname_mismatch"
	KindDNSFailed         Kind = "dns_failed"
	KindConnectFailed     Kind = "connect_failed"
	KindHandshakeFailed   Kind = "handshake_failed"
	KindTimeout           Kind = "timeout"
	KindHeaderMalformed   Kind = "header_malformed"
	KindHeaderReportOnly  Kind = "header_report_only"
	KindNoPinHeader       Kind = "no_pin_header"
	KindHSTSMissing       Kind = "hsts_missing"
	KindHSTSMalformed     Kind = "hsts_malformed"
	KindIPInconsistent    Kind = "ip_inconsistent"
	KindTLSAMismatch      Kind = "tlsa_mismatch"
	KindTLSAMissingBackup Kind = "tlsa_missing_backup"
	KindTLSAUnsigned      Kind = "tlsa_unsigned"
	KindTLSAMalformed     Kind = "tlsa_malformed"
	KindTLSALookupFailed  Kind = "tlsa_lookup_failed"
	KindNoTLSA            Kind = "no_tlsa"
	KindSTARTTLSFailed    Kind = "starttls_failed"
	// The kinds of several vantage points (SPEC §14).
	KindVantageInconsistent Kind = "vantage_inconsistent"
	KindVantageSilent       Kind = "vantage_silent"
	KindChainChanged        Kind = "chain_changed"
)

// Kinds lists every finding kind in SPEC order.
var Kinds = []Kind{
	KindPinMismatch, KindMissingBackupPin, KindPinSetExpiring, KindPinSetExpired,
	KindCertExpiring, KindCertExpired, KindChainUntrusted, KindHostnameMismatch,
	KindDNSFailed, KindConnectFailed, KindHandshakeFailed, KindTimeout,
	KindHeaderMalformed, KindHeaderReportOnly, KindNoPinHeader, KindHSTSMissing,
	KindHSTSMalformed, KindIPInconsistent, KindTLSAMismatch, KindTLSAMissingBackup,
	KindTLSAUnsigned, KindTLSAMalformed, KindTLSALookupFailed, KindNoTLSA, KindSTARTTLSFailed,
	KindVantageInconsistent, KindVantageSilent, KindChainChanged,
}

// IsConnectivity reports whether k is one of the kinds that say an address
// could not be probed at all: dns_failed, connect_failed, handshake_failed
// and timeout.
func (k Kind) IsConnectivity() bool {
	switch k {
	case KindDNSFailed, KindConnectFailed, KindHandshakeFailed, KindTimeout:
		return true
	}
	return false
}

// ChangeClass classifies a chain_changed event, first match wins.
type ChangeClass string

// Change classes.
const (
	ChangeKeyRotated    ChangeClass = "key_rotated"    // the leaf key changed
	ChangeIssuerChanged ChangeClass = "issuer_changed" // same leaf key, another chain cert or the anchor changed
	ChangeRenewed       ChangeClass = "renewed"        // only the leaf certificate changed, same key
)

// Finding is one thing wrong (or worth knowing) about an observation or a
// target. Empty Address, PinSet and Cert mean "not about one" and encode as
// JSON null.
type Finding struct {
	Kind     Kind
	Severity Severity
	Address  string // ip:port, or host:port for dns_failed
	PinSet   string // pin-set name (SPEC §3)
	Cert     string // SHA-256 hex of the certificate at fault
	Message  string // one sentence for a person
	// Class is set for chain_changed.
	Class ChangeClass
	// Details names the certificate and the pins behind the finding, for
	// messages (SPEC §8); nil when the kind has none to show. It is a
	// pointer so that Finding stays comparable; treat it as read-only.
	Details *Details
	// Subject, when set, is the subject of the finding's alert instead of
	// the one its kind implies (AlertSubject): "mx" for the dns_failed of
	// an mx target whose MX lookup failed.
	Subject string
}

// Details is what a message shows about a finding besides its sentence
// (SPEC §8): the certificate it is about and, for pin_mismatch, the pins the
// chain was expected to match.
type Details struct {
	// Cert is the certificate at fault for cert_expiring and cert_expired,
	// and the served leaf for pin_mismatch, chain_untrusted,
	// hostname_mismatch, tlsa_mismatch and tlsa_missing_backup.
	Cert *CertSummary `json:"cert,omitempty"`
	// ExpectedPins are the distinct pins of the pin-set a pin_mismatch
	// found no match for, in the set's order.
	ExpectedPins []Pin `json:"expected_pins,omitempty"`
	// TLSA is the RRset behind a TLSA finding (SPEC §12), for its name and
	// records. For tlsa_mismatch and tlsa_missing_backup its records are
	// matched against the chain served at the finding's address, and Cert
	// is that chain's leaf.
	TLSA *TLSAResult `json:"tlsa,omitempty"`
}

// CertSummary names one certificate in a message: what an operator needs to
// find it (subject, issuer, key pin) and how long it lasts (NotAfter; days
// left are counted when the message is written).
type CertSummary struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	SHA256   string    `json:"sha256"`
	Pin      Pin       `json:"pin_sha256"`
	// Position is the certificate's place in its chain: "leaf",
	// "intermediate N" or "root".
	Position string `json:"position"`
}

// Summarize returns the summary of c at position ("leaf", "intermediate N"
// or "root") of its chain.
func Summarize(c Cert, position string) *CertSummary {
	return &CertSummary{Subject: c.Subject, Issuer: c.Issuer, NotAfter: c.NotAfter.UTC(), SHA256: c.SHA256,
		Pin: c.Pin, Position: position}
}

type findingJSON struct {
	Kind         Kind         `json:"kind"`
	Severity     Severity     `json:"severity"`
	Address      *string      `json:"address"`
	PinSet       *string      `json:"pinset"`
	Cert         *string      `json:"cert"`
	Message      string       `json:"message"`
	Class        ChangeClass  `json:"class,omitempty"`
	Certificate  *CertSummary `json:"certificate,omitempty"`
	ExpectedPins []Pin        `json:"expected_pins,omitempty"`
	Subject      string       `json:"subject,omitempty"`
}

// MarshalJSON encodes the finding in the shape of SPEC §5, with the
// details as "certificate" and "expected_pins" when there are any.
func (f Finding) MarshalJSON() ([]byte, error) {
	j := findingJSON{
		Kind: f.Kind, Severity: f.Severity, Address: NullString(f.Address),
		PinSet: NullString(f.PinSet), Cert: NullString(f.Cert), Message: f.Message, Class: f.Class,
		Subject: f.Subject,
	}
	if d := f.Details; d != nil {
		j.Certificate, j.ExpectedPins = d.Cert, d.ExpectedPins
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	*f = Finding{Kind: j.Kind, Severity: j.Severity, Address: deref(j.Address),
		PinSet: deref(j.PinSet), Cert: deref(j.Cert), Message: j.Message, Class: j.Class, Subject: j.Subject}
	if j.Certificate != nil || len(j.ExpectedPins) > 0 {
		f.Details = &Details{Cert: j.Certificate, ExpectedPins: j.ExpectedPins}
	}
	return nil
}

// Worst returns the highest severity among fs, SeverityInfo when empty.
func Worst(fs []Finding) Severity {
	w := SeverityInfo
	for _, f := range fs {
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w
}
