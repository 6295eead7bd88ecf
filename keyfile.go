package pinwatchd

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// PublicKey is one public key found in a file of certificates or keys.
type PublicKey struct {
	// Pin is the key's RFC 7469 pin.
	Pin Pin
	// Label names where the key came from: the certificate or CSR subject,
	// else the key type and kind ("ECDSA P-256 private key").
	Label string
	// CA is set for the key of a CA certificate (basicConstraints cA).
	CA bool
	// Cert is the certificate the key came from; nil for a public key,
	// private key or CSR.
	Cert *x509.Certificate
}

var pemStart = []byte("-----BEGIN ")

// ParsePublicKeys returns the public key of every certificate (each of a
// bundle), public key, private key (PKCS#1, PKCS#8, SEC1; RSA, ECDSA,
// Ed25519) and CSR in data, PEM (every block, in order) or one DER
// structure. Empty data holds none. The error says which PEM block is at
// fault and why; an encrypted private key is refused with a hint.
func ParsePublicKeys(data []byte) ([]PublicKey, error) {
	if !bytes.Contains(data, pemStart) {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil
		}
		return pinsOfDER(data)
	}
	var keys []PublicKey
	rest := data
	for n := 1; ; n++ {
		i := bytes.Index(rest, pemStart)
		if i < 0 {
			break
		}
		// pem.Decode skips a malformed block and returns the next good
		// one: a block must start at the first BEGIN line, or the file
		// is broken there.
		block, next := pem.Decode(rest[i:])
		if block == nil || bytes.Contains(rest[i+1:len(rest)-len(next)], pemStart) {
			return nil, fmt.Errorf("truncated or malformed PEM block (block %d)", n)
		}
		rest = next
		ks, err := pinsOfPEMBlock(block)
		switch {
		case errors.Is(err, errUnsupported):
			return nil, fmt.Errorf("PEM block %d has type %q, which is not a certificate, public key, private key or CSR", n, block.Type)
		case errors.Is(err, errEncrypted):
			return nil, fmt.Errorf("PEM block %d (%s) is encrypted; decrypt it first (openssl pkey -in FILE)", n, block.Type)
		case err != nil:
			return nil, fmt.Errorf("PEM block %d (%s) does not parse: %w", n, block.Type, err)
		}
		keys = append(keys, ks...)
	}
	return keys, nil
}

// Conditions of a PEM block that pinsOfPEMBlock cannot use.
var (
	errUnsupported = errors.New("unsupported PEM block type")
	errEncrypted   = errors.New("encrypted PEM block")
)

func pinsOfPEMBlock(b *pem.Block) ([]PublicKey, error) {
	if _, encrypted := b.Headers["Proc-Type"]; encrypted || b.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errEncrypted
	}
	switch b.Type {
	case "CERTIFICATE":
		return pinsOfCerts(x509.ParseCertificates(b.Bytes))
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		return pinOfCSR(x509.ParseCertificateRequest(b.Bytes))
	case "PUBLIC KEY":
		return pinOfPublic(x509.ParsePKIXPublicKey(b.Bytes))
	case "RSA PUBLIC KEY":
		return pinOfPublic(x509.ParsePKCS1PublicKey(b.Bytes))
	case "PRIVATE KEY":
		return pinOfPrivate(x509.ParsePKCS8PrivateKey(b.Bytes))
	case "RSA PRIVATE KEY":
		return pinOfPrivate(x509.ParsePKCS1PrivateKey(b.Bytes))
	case "EC PRIVATE KEY":
		return pinOfPrivate(x509.ParseECPrivateKey(b.Bytes))
	case "EC PARAMETERS":
		// `openssl ecparam -genkey` writes the curve before the key.
		return nil, nil
	}
	return nil, errUnsupported
}

// pinsOfDER tries each structure a DER file may hold, in turn.
func pinsOfDER(der []byte) ([]PublicKey, error) {
	if certs, err := x509.ParseCertificates(der); err == nil && len(certs) > 0 {
		return pinsOfCerts(certs, nil)
	}
	if csr, err := x509.ParseCertificateRequest(der); err == nil {
		return pinOfCSR(csr, nil)
	}
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		return pinOfPublic(pub, nil)
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return pinOfPrivate(k, nil)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return pinOfPrivate(k, nil)
	}
	if pub, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return pinOfPublic(pub, nil)
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return pinOfPrivate(k, nil)
	}
	return nil, errors.New("not PEM, and not a DER certificate, CSR, public key or private key")
}

func pinsOfCerts(certs []*x509.Certificate, err error) ([]PublicKey, error) {
	if err != nil {
		return nil, err
	}
	keys := make([]PublicKey, 0, len(certs))
	for _, c := range certs {
		keys = append(keys, PublicKey{Pin: PinOf(c.RawSubjectPublicKeyInfo), Label: subjectLabel(c.Subject.String(), c.PublicKey, "certificate"), CA: c.IsCA, Cert: c})
	}
	return keys, nil
}

func pinOfCSR(csr *x509.CertificateRequest, err error) ([]PublicKey, error) {
	if err != nil {
		return nil, err
	}
	return []PublicKey{{Pin: PinOf(csr.RawSubjectPublicKeyInfo), Label: subjectLabel(csr.Subject.String(), csr.PublicKey, "CSR")}}, nil
}

// subjectLabel is the -v text of a certificate or CSR: its subject, or the
// key type when the subject is empty.
func subjectLabel(subject string, pub any, what string) string {
	if subject != "" {
		return subject
	}
	return KeyType(pub) + " " + what + " with an empty subject"
}

func pinOfPublic(pub any, err error) ([]PublicKey, error) {
	if err != nil {
		return nil, err
	}
	return keyPin(pub, "public key")
}

func pinOfPrivate(priv any, err error) ([]PublicKey, error) {
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(interface{ Public() crypto.PublicKey })
	if !ok {
		return nil, fmt.Errorf("private key of type %T has no public half", priv)
	}
	return keyPin(signer.Public(), "private key")
}

// keyPin pins a public key by its canonical DER SubjectPublicKeyInfo, the
// bytes a certificate for it would carry.
func keyPin(pub any, what string) ([]PublicKey, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return []PublicKey{{Pin: PinOf(spki), Label: KeyType(pub) + " " + what}}, nil
}
