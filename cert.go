package pinwatchd

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strconv"
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
	return CertFromX509Named(c, NameString(&c.Subject), NameString(&c.Issuer))
}

// CertFromX509Named records c with its subject and issuer already turned
// into strings (NameString of c.Subject and c.Issuer), for a caller that
// keeps the strings of names it sees often.
func CertFromX509Named(c *x509.Certificate, subject, issuer string) Cert {
	sum := sha256.Sum256(c.Raw)
	return Cert{
		Subject:   subject,
		Issuer:    issuer,
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
	if v, ok := commonName(c.Subject); ok {
		return v
	}
	if c.Subject != "" {
		return c.Subject
	}
	if len(c.SHA256) >= 16 {
		return "sha256:" + c.SHA256[:16]
	}
	return "certificate"
}

// commonName returns the unescaped value of the first CN attribute of an
// RFC 4514 distinguished name as pkix.Name.String writes it. Separators
// escaped inside a value (`\,`, `\+`) are part of the value, so a
// certificate whose organisation reads "x,CN=bank.example" cannot choose the
// name it is shown by.
func commonName(dn string) (string, bool) {
	start := 0
	for i := 0; i <= len(dn); i++ {
		if i < len(dn) && dn[i] == '\\' {
			i++ // the next byte is escaped
			continue
		}
		if i < len(dn) && dn[i] != ',' && dn[i] != '+' {
			continue
		}
		if v, ok := strings.CutPrefix(dn[start:i], "CN="); ok {
			return unescapeDN(v), true
		}
		start = i + 1
	}
	return "", false
}

// unescapeDN removes the backslashes of RFC 4514 escapes (`\,` → `,`); hex
// escapes (`\0d`) are left as written, so control characters stay visible.
func unescapeDN(v string) string {
	if !strings.Contains(v, "\\") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && strings.IndexByte(",+\"\\<>;#= ", v[i+1]) >= 0 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// KeyType names the algorithm and size of a public key as found in
// x509.Certificate.PublicKey: "RSA-2048", "ECDSA P-256", "Ed25519".
func KeyType(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch n := k.N.BitLen(); n {
		case 2048:
			return "RSA-2048"
		case 3072:
			return "RSA-3072"
		case 4096:
			return "RSA-4096"
		default:
			return "RSA-" + strconv.Itoa(n)
		}
	case *ecdsa.PublicKey:
		switch name := k.Curve.Params().Name; name {
		case "P-256":
			return "ECDSA P-256"
		case "P-384":
			return "ECDSA P-384"
		case "P-521":
			return "ECDSA P-521"
		default:
			return "ECDSA " + name
		}
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
