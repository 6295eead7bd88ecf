package pinwatchd_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// rsaKey is the RSA key of the keyfile tests, generated once: RSA
// generation is slow under the race detector.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// keyfileFixture holds a key of each kind.
type keyfileFixture struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	p384 *ecdsa.PrivateKey
	ed   ed25519.PrivateKey
}

func newKeyfileFixture(t *testing.T) *keyfileFixture {
	t.Helper()
	rk, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &keyfileFixture{rsa: rk, ec: ec, p384: p384, ed: ed}
}

// pinOf is the RFC 7469 pin of pub, computed independently of the code
// under test.
func pinOf(t *testing.T, pub crypto.PublicKey) pinwatchd.Pin {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pinwatchd.PinOf(der)
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// derOK returns a function passing through the DER of an encoder,
// failing t on its error.
func derOK(t *testing.T) func([]byte, error) []byte {
	return func(der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}

// csrDER is a CSR for key with the given subject common name.
func csrDER(t *testing.T, key crypto.Signer, cn string) []byte {
	t.Helper()
	return derOK(t)(x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key))
}

func TestParsePublicKeys(t *testing.T) {
	f := newKeyfileFixture(t)
	p := testpki.New(t)
	rsaPin, ecPin, p384Pin, edPin := pinOf(t, &f.rsa.PublicKey), pinOf(t, &f.ec.PublicKey), pinOf(t, &f.p384.PublicKey), pinOf(t, f.ed.Public())

	ok := derOK(t)
	spki := func(pub any) []byte { return ok(x509.MarshalPKIXPublicKey(pub)) }
	pkcs8 := func(priv any) []byte { return ok(x509.MarshalPKCS8PrivateKey(priv)) }
	sec1 := ok(x509.MarshalECPrivateKey(f.ec))
	curve := ok(asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})) // prime256v1, as openssl ecparam writes it
	rsaCSR := csrDER(t, f.rsa, "csr.example.com")
	bundle := slices.Concat(p.Leaf.PEM(), p.Intermediate.PEM(), p.Root.PEM())
	certDERs := slices.Concat(p.Leaf.Cert.Raw, p.Intermediate.Cert.Raw)

	type key struct {
		pin   pinwatchd.Pin
		label string
	}
	leaf := key{p.Leaf.Pin(), p.Leaf.Cert.Subject.String()}
	inter := key{p.Intermediate.Pin(), p.Intermediate.Cert.Subject.String()}
	root := key{p.Root.Pin(), p.Root.Cert.Subject.String()}
	for _, tc := range []struct {
		name string
		in   []byte
		want []key
	}{
		{"certificate bundle keeps order", bundle, []key{leaf, inter, root}},
		{"bundle reversed", slices.Concat(p.Root.PEM(), p.Intermediate.PEM(), p.Leaf.PEM()), []key{root, inter, leaf}},
		{"text around the blocks", slices.Concat([]byte("subject=CN = localhost\n"), p.Leaf.PEM(), []byte("trailing notes\n")), []key{leaf}},
		{"PKIX RSA public key", pemOf("PUBLIC KEY", spki(&f.rsa.PublicKey)), []key{{rsaPin, "RSA-2048 public key"}}},
		{"PKIX ECDSA public key", pemOf("PUBLIC KEY", spki(&f.ec.PublicKey)), []key{{ecPin, "ECDSA P-256 public key"}}},
		{"PKIX Ed25519 public key", pemOf("PUBLIC KEY", spki(f.ed.Public())), []key{{edPin, "Ed25519 public key"}}},
		{"PKCS#1 RSA public key", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&f.rsa.PublicKey)), []key{{rsaPin, "RSA-2048 public key"}}},
		{"PKCS#1 RSA private key", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(f.rsa)), []key{{rsaPin, "RSA-2048 private key"}}},
		{"PKCS#8 RSA private key", pemOf("PRIVATE KEY", pkcs8(f.rsa)), []key{{rsaPin, "RSA-2048 private key"}}},
		{"PKCS#8 ECDSA private key", pemOf("PRIVATE KEY", pkcs8(f.p384)), []key{{p384Pin, "ECDSA P-384 private key"}}},
		{"PKCS#8 Ed25519 private key", pemOf("PRIVATE KEY", pkcs8(f.ed)), []key{{edPin, "Ed25519 private key"}}},
		{"SEC1 EC private key", pemOf("EC PRIVATE KEY", sec1), []key{{ecPin, "ECDSA P-256 private key"}}},
		{"SEC1 after EC PARAMETERS", slices.Concat(pemOf("EC PARAMETERS", curve), pemOf("EC PRIVATE KEY", sec1)), []key{{ecPin, "ECDSA P-256 private key"}}},
		{"CSR", pemOf("CERTIFICATE REQUEST", rsaCSR), []key{{rsaPin, "CN=csr.example.com"}}},
		{"CSR, old PEM type", pemOf("NEW CERTIFICATE REQUEST", csrDER(t, f.ed, "new.example.com")), []key{{edPin, "CN=new.example.com"}}},
		{"CSR with an empty subject", pemOf("CERTIFICATE REQUEST", csrDER(t, f.ec, "")), []key{{ecPin, "ECDSA P-256 CSR with an empty subject"}}},
		{"mixed file", slices.Concat(p.Leaf.PEM(), pemOf("PRIVATE KEY", pkcs8(f.ed)), pemOf("PUBLIC KEY", spki(&f.ec.PublicKey))),
			[]key{leaf, {edPin, "Ed25519 private key"}, {ecPin, "ECDSA P-256 public key"}}},
		{"DER certificate", p.Leaf.Cert.Raw, []key{leaf}},
		{"DER certificates concatenated", certDERs, []key{leaf, inter}},
		{"DER CSR", rsaCSR, []key{{rsaPin, "CN=csr.example.com"}}},
		{"DER PKIX public key", spki(&f.ec.PublicKey), []key{{ecPin, "ECDSA P-256 public key"}}},
		{"DER PKCS#1 RSA public key", x509.MarshalPKCS1PublicKey(&f.rsa.PublicKey), []key{{rsaPin, "RSA-2048 public key"}}},
		{"DER PKCS#1 RSA private key", x509.MarshalPKCS1PrivateKey(f.rsa), []key{{rsaPin, "RSA-2048 private key"}}},
		{"DER PKCS#8 private key", pkcs8(f.ed), []key{{edPin, "Ed25519 private key"}}},
		{"DER SEC1 EC private key", sec1, []key{{ecPin, "ECDSA P-256 private key"}}},
		{"empty", nil, nil},
		{"blank lines", []byte("\n \r\n\t\n"), nil},
		{"EC PARAMETERS alone", pemOf("EC PARAMETERS", curve), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pinwatchd.ParsePublicKeys(tc.in)
			if err != nil {
				t.Fatalf("ParsePublicKeys: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParsePublicKeys gave %d keys %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if got[i].Pin != w.pin || got[i].Label != w.label {
					t.Errorf("key %d = %s %q, want %s %q", i, got[i].Pin, got[i].Label, w.pin, w.label)
				}
			}
		})
	}
}

func TestParsePublicKeysErrors(t *testing.T) {
	f := newKeyfileFixture(t)
	p := testpki.New(t)
	leafPEM := p.Leaf.PEM()
	keyPEM := pemOf("PRIVATE KEY", derOK(t)(x509.MarshalPKCS8PrivateKey(f.ec)))
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   bytes.Repeat([]byte{0x5a}, 64),
	})
	for _, tc := range []struct {
		name string
		in   []byte
		want []string // in the error, in order
	}{
		{"unsupported type", slices.Concat(leafPEM, pemOf("X509 CRL", []byte{0x30, 0})),
			[]string{"PEM block 2", `"X509 CRL"`, "not a certificate, public key, private key or CSR"}},
		{"unsupported type first", pemOf("OPENSSH PRIVATE KEY", []byte("openssh-key-v1")),
			[]string{"PEM block 1", `"OPENSSH PRIVATE KEY"`}},
		{"PKCS#8 encrypted key", slices.Concat(leafPEM, keyPEM, pemOf("ENCRYPTED PRIVATE KEY", []byte{0x30, 0})),
			[]string{"PEM block 3", "ENCRYPTED PRIVATE KEY", "encrypted", "openssl pkey"}},
		{"legacy encrypted key", legacyEncrypted,
			[]string{"PEM block 1", "RSA PRIVATE KEY", "encrypted", "openssl pkey"}},
		{"truncated", leafPEM[:len(leafPEM)/2], []string{"truncated or malformed PEM block"}},
		{"truncated after a good block", slices.Concat(leafPEM, keyPEM[:len(keyPEM)-10]), []string{"truncated or malformed PEM block"}},
		{"no END line", leafPEM[:bytes.Index(leafPEM, []byte("-----END"))], []string{"truncated or malformed PEM block"}},
		{"bad base64", []byte("-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n"), []string{"truncated or malformed PEM block"}},
		// pem.Decode alone would skip a broken block and read the next.
		{"truncated before a good block", slices.Concat(keyPEM[:len(keyPEM)/2], []byte("\n"), leafPEM),
			[]string{"truncated or malformed PEM block (block 1)"}},
		{"bad base64 before a good block", slices.Concat([]byte("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"), leafPEM),
			[]string{"truncated or malformed PEM block (block 1)"}},
		{"block numbers count broken blocks", slices.Concat(leafPEM, keyPEM, pemOf("X509 CRL", []byte{0x30, 0})),
			[]string{"PEM block 3", `"X509 CRL"`}},
		{"certificate that does not parse", slices.Concat(keyPEM, pemOf("CERTIFICATE", []byte("not DER"))),
			[]string{"PEM block 2 (CERTIFICATE) does not parse"}},
		{"private key that does not parse", pemOf("EC PRIVATE KEY", []byte{0x30, 3, 2, 1, 1}),
			[]string{"PEM block 1 (EC PRIVATE KEY) does not parse"}},
		{"neither PEM nor DER", []byte("hello, this is not a key\n"),
			[]string{"not PEM, and not a DER certificate, CSR, public key or private key"}},
		{"DER cut short", p.Leaf.Cert.Raw[:100],
			[]string{"not PEM, and not a DER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pinwatchd.ParsePublicKeys(tc.in)
			if err == nil {
				t.Fatalf("ParsePublicKeys = %+v, nil; want an error", got)
			}
			if got != nil {
				t.Errorf("ParsePublicKeys returned keys %+v with the error", got)
			}
			msg := err.Error()
			for _, w := range tc.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Errorf("error %q lacks %q", err, w)
					continue
				}
				msg = msg[i+len(w):]
			}
		})
	}
}

// TestParsePublicKeysCert checks that a certificate's key carries the
// certificate (the preflight needs its names and dates) and no other does.
func TestParsePublicKeysCert(t *testing.T) {
	f := newKeyfileFixture(t)
	p := testpki.New(t)
	in := slices.Concat(p.Leaf.PEM(), p.Intermediate.PEM(), pemOf("EC PRIVATE KEY", derOK(t)(x509.MarshalECPrivateKey(f.ec))),
		pemOf("CERTIFICATE REQUEST", csrDER(t, f.ec, "csr.example.com")))
	got, err := pinwatchd.ParsePublicKeys(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d keys, want 4", len(got))
	}
	if got[0].Cert == nil || !bytes.Equal(got[0].Cert.Raw, p.Leaf.Cert.Raw) || got[1].Cert == nil || !bytes.Equal(got[1].Cert.Raw, p.Intermediate.Cert.Raw) {
		t.Errorf("the certificates' keys do not carry their certificates: %+v", got[:2])
	}
	if got[2].Cert != nil || got[3].Cert != nil {
		t.Errorf("a private key or CSR carries a certificate: %+v", got[2:])
	}
	der, err := pinwatchd.ParsePublicKeys(p.Leaf.Cert.Raw)
	if err != nil || len(der) != 1 || der[0].Cert == nil || der[0].Cert.Subject.String() != p.Leaf.Cert.Subject.String() {
		t.Errorf("DER certificate = %+v, %v; want its certificate", der, err)
	}
}
