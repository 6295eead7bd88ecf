package pinwatchd

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Cert is the recorded form of one X.509 certificate. Parsed certificates are
// not kept between probes; Cert carries what reports, evaluation and storage
// need, plus the DER for storage.
type Cert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"` // lowercase hex, as openssl prints it without colons
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"` // lowercase hex digest of the DER
	Pin       Pin       `json:"pin_sha256"`
	IsCA      bool      `json:"is_ca"`
	KeyType   string    `json:"key_type"` // e.g. "RSA-2048", "ECDSA P-256", "Ed25519"
	DER       []byte    `json:"-"`
}

// CertFromX509 records c. Times are UTC.
func CertFromX509(c *x509.Certificate) Cert {
	sum := sha256.Sum256(c.Raw)
	return Cert{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Serial:    strings.ToLower(c.SerialNumber.Text(16)),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		SHA256:    hex.EncodeToString(sum[:]),
		Pin:       PinOf(c.RawSubjectPublicKeyInfo),
		IsCA:      c.IsCA,
		KeyType:   KeyType(c.PublicKey),
		DER:       c.Raw,
	}
}

// DaysLeft returns the whole days from now until NotAfter, negative once
// expired.
func (c Cert) DaysLeft(now time.Time) int {
	d := c.NotAfter.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// Label returns a short human name for the certificate: its subject's common
// name if it has one, else the whole subject, else its SHA-256 prefix.
func (c Cert) Label() string {
	for _, part := range strings.Split(c.Subject, ",") {
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return v
		}
	}
	if c.Subject != "" {
		return c.Subject
	}
	if len(c.SHA256) >= 16 {
		return "sha256:" + c.SHA256[:16]
	}
	return "certificate"
}

// KeyType names the algorithm and size of a public key as found in
// x509.Certificate.PublicKey: "RSA-2048", "ECDSA P-256", "Ed25519".
func KeyType(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
