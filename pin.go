package pinwatchd

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Pin is an RFC 7469 SPKI fingerprint: the SHA-256 digest of a DER-encoded
// SubjectPublicKeyInfo. Its text form is standard base64 with padding
// (44 characters).
type Pin [sha256.Size]byte

// PinOf returns the pin of a DER-encoded SubjectPublicKeyInfo.
func PinOf(spkiDER []byte) Pin { return Pin(sha256.Sum256(spkiDER)) }

// String returns the pin as standard base64 with padding.
func (p Pin) String() string { return base64.StdEncoding.EncodeToString(p[:]) }

// IsZero reports whether p is the zero value (no pin).
func (p Pin) IsZero() bool { return p == Pin{} }

// MarshalText encodes the pin as base64.
func (p Pin) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts every spelling ParsePin accepts.
func (p *Pin) UnmarshalText(b []byte) error {
	v, err := ParsePin(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParsePin parses a pin written as `sha256/X` (OkHttp), `pin-sha256="X"` or
// `pin-sha256=X` (HPKP), or bare `X`, where X is the standard base64 of 32
// bytes. A trailing `;` (as copied from an HPKP header) is ignored. The error
// names the value.
func ParsePin(s string) (Pin, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimSpace(strings.TrimSuffix(v, ";"))
	switch {
	case strings.HasPrefix(v, "sha256/"):
		v = v[len("sha256/"):]
	case len(v) > len("pin-sha256=") && strings.EqualFold(v[:len("pin-sha256=")], "pin-sha256="):
		v = strings.TrimSpace(v[len("pin-sha256="):])
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return Pin{}, fmt.Errorf("pin %q is not valid base64", s)
	}
	if len(b) != sha256.Size {
		return Pin{}, fmt.Errorf("pin %q decodes to %d bytes, want 32 (a SHA-256 digest)", s, len(b))
	}
	return Pin(b), nil
}

// PinSet is a named list of pins: a configured `[[pinset]]`, a target's
// inline pins (named "inline"), or the pins announced in a Public-Key-Pins
// header (named "header" or "header-report-only").
type PinSet struct {
	Name string
	Pins []Pin
	// Expires is the date after which clients stop enforcing the set, as
	// Android's <pin-set expiration> and TrustKit have; zero when none.
	Expires time.Time
	// ReportOnly marks a set whose findings are informational
	// (a Public-Key-Pins-Report-Only header).
	ReportOnly bool
}

// Names of the pin-sets that do not come from a `[[pinset]]`.
const (
	PinSetInline           = "inline"
	PinSetHeader           = "header"
	PinSetHeaderReportOnly = "header-report-only"
)

// Contains reports whether p is one of the set's pins.
func (s PinSet) Contains(p Pin) bool {
	for _, q := range s.Pins {
		if q == p {
			return true
		}
	}
	return false
}
