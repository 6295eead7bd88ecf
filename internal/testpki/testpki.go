// Package testpki generates certificate hierarchies and serves them from real
// TLS servers on loopback, for tests across the repository and for the
// offline demo. Nothing here is for production use.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// TB is the part of testing.TB the package uses; *testing.T and
// *testing.B satisfy it, and the demo supplies its own.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// KeyKind selects a key algorithm.
type KeyKind string

// Key kinds.
const (
	P256    KeyKind = "p256"
	P384    KeyKind = "p384"
	RSA2048 KeyKind = "rsa2048"
	Ed25519 KeyKind = "ed25519"
)

// NewKey generates a key of the given kind.
func NewKey(tb TB, kind KeyKind) crypto.Signer {
	tb.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch kind {
	case P256, "":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		tb.Fatalf("testpki: unknown key kind %q", kind)
	}
	if err != nil {
		tb.Fatalf("testpki: generate %s key: %v", kind, err)
	}
	return k
}

// KeyPin returns the RFC 7469 pin of a key's public half.
func KeyPin(tb TB, k crypto.Signer) pinwatchd.Pin {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		tb.Fatalf("testpki: marshal public key: %v", err)
	}
	return pinwatchd.PinOf(der)
}

// Cert is a generated certificate with its key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Pin returns the certificate's SPKI pin.
func (c *Cert) Pin() pinwatchd.Pin { return pinwatchd.PinOf(c.Cert.RawSubjectPublicKeyInfo) }

// PEM returns the certificate PEM-encoded.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// Options shape a certificate. Zero values give sensible defaults: valid
// from an hour ago for 90 days, a P-256 key, and for leaves the DNS name
// "localhost" plus the IPs 127.0.0.1 and ::1.
type Options struct {
	CommonName string
	DNSNames   []string
	IPs        []net.IP
	NotBefore  time.Time
	NotAfter   time.Time
	KeyKind    KeyKind
	// Key reuses an existing key instead of generating one (for renewals
	// that keep the key).
	Key crypto.Signer
}

var serial atomic.Int64

func init() { serial.Store(time.Now().UnixNano()) }

func issue(tb TB, parent *Cert, o Options, isCA bool) *Cert {
	tb.Helper()
	key := o.Key
	if key == nil {
		key = NewKey(tb, o.KeyKind)
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: o.CommonName, Organization: []string{"pinwatchd test"}},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = o.DNSNames
		tmpl.IPAddresses = o.IPs
		if tmpl.DNSNames == nil && tmpl.IPAddresses == nil {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		tb.Fatalf("testpki: create certificate %q: %v", o.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testpki: parse certificate %q: %v", o.CommonName, err)
	}
	return &Cert{Cert: c, Key: key}
}

// NewRoot creates a self-signed root CA.
func NewRoot(tb TB, o Options) *Cert {
	tb.Helper()
	if o.CommonName == "" {
		o.CommonName = "pinwatchd test root"
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(10 * 365 * 24 * time.Hour)
	}
	return issue(tb, nil, o, true)
}

// Intermediate issues a CA certificate signed by c.
func (c *Cert) Intermediate(tb TB, o Options) *Cert {
	tb.Helper()
	if o.CommonName == "" {
		o.CommonName = "pinwatchd test intermediate"
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(5 * 365 * 24 * time.Hour)
	}
	return issue(tb, c, o, true)
}

// Leaf issues a server certificate signed by c.
func (c *Cert) Leaf(tb TB, o Options) *Cert {
	tb.Helper()
	if o.CommonName == "" {
		o.CommonName = "localhost"
	}
	return issue(tb, c, o, false)
}

// PKI is the usual hierarchy: root → intermediate → leaf, with a spare key
// whose pin makes a valid backup pin.
type PKI struct {
	Root, Intermediate, Leaf *Cert
	Spare                    crypto.Signer
}

// New builds a root → intermediate → leaf hierarchy with P-256 keys and a
// leaf valid for localhost, 127.0.0.1 and ::1.
func New(tb TB) *PKI {
	tb.Helper()
	root := NewRoot(tb, Options{})
	inter := root.Intermediate(tb, Options{})
	return &PKI{Root: root, Intermediate: inter, Leaf: inter.Leaf(tb, Options{}), Spare: NewKey(tb, P256)}
}

// Chain returns a tls.Certificate serving leaf followed by the given
// intermediates, in order.
func Chain(leaf *Cert, intermediates ...*Cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, c := range intermediates {
		tc.Certificate = append(tc.Certificate, c.Cert.Raw)
	}
	return tc
}

// TLS returns leaf + intermediate as a tls.Certificate.
func (p *PKI) TLS() tls.Certificate { return Chain(p.Leaf, p.Intermediate) }

// RootPool returns a pool holding only the root.
func (p *PKI) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root.Cert)
	return pool
}

// WriteCAFile writes the root as a PEM file in a test temporary directory and
// returns its path, for a target's ca_file.
func (p *PKI) WriteCAFile(tb TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(path, p.Root.PEM(), 0o600); err != nil {
		tb.Fatalf("testpki: write ca file: %v", err)
	}
	return path
}
