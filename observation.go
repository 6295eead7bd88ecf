package pinwatchd

import "time"

// Observation is the result of probing one address once. The chain and the
// headers always come from the same TLS connection.
type Observation struct {
	Target  string    `json:"-"` // target name
	Address string    `json:"address"`
	SNI     string    `json:"sni"`
	Time    time.Time `json:"-"`
	// Duration is how long the probe of this address took.
	Duration time.Duration `json:"-"`

	// Error is set when the probe failed (a connectivity kind). The chain is
	// empty unless the handshake succeeded and only the header read timed
	// out; the headers are then unknown (nil).
	Error *ProbeError `json:"error"`

	TLSVersion    string `json:"tls_version"`
	ServedChain   []Cert `json:"served_chain"`
	VerifiedChain []Cert `json:"verified_chain"`
	// Verification tells apart the reasons the served chain may not verify.
	Verification Verification `json:"verification"`

	// HTTP records the one request sent after the handshake; nil when the
	// target is not HTTP-probed.
	HTTP *HTTPResult `json:"http,omitempty"`

	PublicKeyPins           *PinHeader  `json:"public_key_pins"`
	PublicKeyPinsReportOnly *PinHeader  `json:"public_key_pins_report_only"`
	StrictTransportSecurity *HSTSHeader `json:"strict_transport_security"`

	// STARTTLS is the protocol spoken before the handshake; empty for none.
	STARTTLS Protocol `json:"starttls"`
	// TLSA is the target's TLSA lookup with each record matched against
	// this address's chain; nil unless the target is a DANE target.
	TLSA *TLSAResult `json:"tlsa"`

	// Vantage names the node that probed (SPEC §14); "" in observations
	// recorded before vantage points existed.
	Vantage string `json:"vantage"`
}

// ProbeError says why an address could not be probed.
type ProbeError struct {
	Kind    Kind   `json:"kind"` // dns_failed, connect_failed, handshake_failed or timeout
	Message string `json:"message"`
}

// Error returns "kind: message", e.g. "timeout: connect to 192.0.2.10:443
// took longer than 10s".
func (e *ProbeError) Error() string { return string(e.Kind) + ": " + e.Message }

// Verification is the outcome of verifying the served chain, separately from
// the handshake.
type Verification struct {
	// Trusted is true when a chain to a trust anchor was built, ignoring
	// expiry (expiry has its own findings).
	Trusted bool `json:"trusted"`
	// UntrustedReason says why no chain was built (unknown authority,
	// incomplete chain); empty when Trusted.
	UntrustedReason string `json:"untrusted_reason,omitempty"`
	// HostnameValid is true when the leaf is valid for the target's host.
	HostnameValid bool `json:"hostname_valid"`
	// HostnameError says why it is not; empty when HostnameValid.
	HostnameError string `json:"hostname_error,omitempty"`
}

// HTTPResult records the HTTP request sent over the probed connection.
type HTTPResult struct {
	Method string `json:"method"` // HEAD, or GET after HEAD was refused
	Status int    `json:"status"` // 0 when no response was read
	// Error says why no response was read (the endpoint does not speak
	// HTTP); empty on success. A deadline is reported as a timeout of the
	// whole observation instead.
	Error string `json:"error,omitempty"`
}

// PinHeader is a parsed Public-Key-Pins or Public-Key-Pins-Report-Only header
// (RFC 7469). When Valid is false the header is ignored for pinning and
// Errors says why.
type PinHeader struct {
	Raw               string   `json:"raw"`
	Pins              []Pin    `json:"pins"`
	MaxAge            int64    `json:"max_age"` // seconds; 0 when missing or invalid
	IncludeSubDomains bool     `json:"include_subdomains"`
	ReportURI         string   `json:"report_uri"`
	Valid             bool     `json:"valid"`
	Errors            []string `json:"errors"`
	Notes             []string `json:"notes"`
	// Cut is true when the value was longer than the 8 KiB a stored header
	// value keeps (SPEC §9): Raw, ReportURI, Pins, Errors and Notes then
	// hold only their start, exactly as received; the other fields come from
	// the whole value. A probe's own headers are never cut.
	Cut bool `json:"cut,omitempty"`
}

// SeenPinHeader is one distinct Public-Key-Pins value recorded for a target
// and the last time any of its addresses sent it: a client that saw it
// then enforces its pins until LastSeen + max-age (RFC 7469 §2.3.3).
type SeenPinHeader struct {
	Header   PinHeader
	LastSeen time.Time // UTC
}

// HSTSHeader is a parsed Strict-Transport-Security header (RFC 6797).
type HSTSHeader struct {
	Raw               string   `json:"raw"`
	MaxAge            int64    `json:"max_age"` // seconds; 0 when missing or invalid
	IncludeSubDomains bool     `json:"include_subdomains"`
	Preload           bool     `json:"preload"`
	Valid             bool     `json:"valid"`
	Errors            []string `json:"errors"`
	// Cut is true when the value was longer than the 8 KiB a stored header
	// value keeps (SPEC §9): Raw and Errors then hold only their start,
	// exactly as received; the other fields come from the whole value. A
	// probe's own headers are never cut.
	Cut bool `json:"cut,omitempty"`
}

// Leaf returns the first served certificate, or nil.
func (o *Observation) Leaf() *Cert {
	if len(o.ServedChain) == 0 {
		return nil
	}
	return &o.ServedChain[0]
}

// Chain returns the verified chain when there is one, else the served chain:
// the chain pins and expiry are judged on.
func (o *Observation) Chain() []Cert {
	if len(o.VerifiedChain) > 0 {
		return o.VerifiedChain
	}
	return o.ServedChain
}
