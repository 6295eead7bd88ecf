package pinwatchd

import (
	"encoding/json"
	"fmt"
)

// PinSetTLSA is the name of the pin-set a target's TLSA RRset forms in
// findings (SPEC §12), and the subject of its alerts.
const PinSetTLSA = "tlsa"

// Protocol is the plaintext protocol a target speaks before TLS
// (STARTTLS): "smtp", "imap" or "pop3"; empty for TLS from the first byte.
// It encodes as JSON null when empty.
type Protocol string

// STARTTLS protocols (SPEC §12).
const (
	ProtocolNone Protocol = ""
	ProtocolSMTP Protocol = "smtp"
	ProtocolIMAP Protocol = "imap"
	ProtocolPOP3 Protocol = "pop3"
)

// ParseProtocol parses a STARTTLS protocol name; the error names the value.
func ParseProtocol(s string) (Protocol, error) {
	switch p := Protocol(s); p {
	case ProtocolSMTP, ProtocolIMAP, ProtocolPOP3:
		return p, nil
	}
	return "", fmt.Errorf("STARTTLS protocol %q is not one of smtp, imap, pop3", s)
}

// MarshalJSON encodes the protocol, null when empty.
func (p Protocol) MarshalJSON() ([]byte, error) {
	if p == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(p))
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (p *Protocol) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*p = ""
	if s != nil {
		*p = Protocol(*s)
	}
	return nil
}

// TLSARecord is one record of a TLSA RRset (RFC 6698 §2.1), with what
// matching it against a served chain found.
type TLSARecord struct {
	Usage        uint8
	Selector     uint8
	MatchingType uint8
	// Data is the certificate association data in lower-case hex.
	Data string
	// Usable is set when the record is well-formed and its usage applies
	// to the target (PKIX-TA and PKIX-EE do not for SMTP, RFC 7672).
	Usable bool
	// Matches is where it matches the chain: "leaf" or "chain N" (N the
	// position in the served chain, the leaf being 0); empty for none.
	Matches string
	// Note says why the record is not usable; empty when it is.
	Note string
}

// String returns the record in presentation form: "3 1 1 5e8f…".
func (r TLSARecord) String() string {
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, r.Data)
}

type tlsaRecordJSON struct {
	Usage        uint8   `json:"usage"`
	Selector     uint8   `json:"selector"`
	MatchingType uint8   `json:"matching_type"`
	Data         string  `json:"data"`
	Usable       bool    `json:"usable"`
	Matches      *string `json:"matches"`
	Note         string  `json:"note,omitempty"`
}

// MarshalJSON encodes the record in the shape of SPEC §5, matches null when
// it matches nothing.
func (r TLSARecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(tlsaRecordJSON{r.Usage, r.Selector, r.MatchingType, r.Data, r.Usable, NullString(r.Matches), r.Note})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (r *TLSARecord) UnmarshalJSON(b []byte) error {
	var j tlsaRecordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = TLSARecord{Usage: j.Usage, Selector: j.Selector, MatchingType: j.MatchingType, Data: j.Data, Usable: j.Usable, Note: j.Note}
	if j.Matches != nil {
		r.Matches = *j.Matches
	}
	return nil
}

// TLSAResult is the TLSA lookup of a DANE target (SPEC §12): the RRset at
// Name, whether the resolver authenticated it (the AD bit), or why the
// lookup failed.
type TLSAResult struct {
	Name          string       // "_25._tcp.mx1.example.com"
	Authenticated bool         // the answer carried the AD bit
	Error         string       // why the lookup failed (SERVFAIL, timeout); empty on success
	Records       []TLSARecord // sorted; empty when the name has none
	// Cut is set on a stored RRset that was longer than the storage bound
	// and lost its last records.
	Cut bool
}

type tlsaResultJSON struct {
	Name          string       `json:"name"`
	Authenticated bool         `json:"authenticated"`
	Error         *string      `json:"error"`
	Records       []TLSARecord `json:"records"`
	Cut           bool         `json:"cut,omitempty"`
}

// MarshalJSON encodes the result in the shape of SPEC §5: error null on
// success, records a list.
func (r TLSAResult) MarshalJSON() ([]byte, error) {
	recs := r.Records
	if recs == nil {
		recs = []TLSARecord{}
	}
	return json.Marshal(tlsaResultJSON{r.Name, r.Authenticated, NullString(r.Error), recs, r.Cut})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (r *TLSAResult) UnmarshalJSON(b []byte) error {
	var j tlsaResultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = TLSAResult{Name: j.Name, Authenticated: j.Authenticated, Records: j.Records, Cut: j.Cut}
	if j.Error != nil {
		r.Error = *j.Error
	}
	return nil
}

// TLSAName returns the owner name of the TLSA records of a TCP service
// (RFC 6698 §3): "_PORT._tcp.HOST".
func TLSAName(host string, port int) string {
	return fmt.Sprintf("_%d._tcp.%s", port, host)
}
