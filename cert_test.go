package pinwatchd_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestCertFromX509(t *testing.T) {
	notBefore := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	notAfter := notBefore.Add(90 * 24 * time.Hour)
	rootKey, leafKey := newP256(t), newP256(t)
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(0x0abcdef0123),
		Subject:               pkix.Name{CommonName: "Test Root CA", Organization: []string{"Acme"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	root := mustCert(t, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	leaf := mustCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(0xfeed),
		Subject:      pkix.Name{CommonName: "api.example.com"},
		DNSNames:     []string{"api.example.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}, root, &leafKey.PublicKey, rootKey)

	tests := []struct {
		name string
		x    *x509.Certificate
		want pinwatchd.Cert
	}{
		{"root", root, pinwatchd.Cert{
			Subject: "CN=Test Root CA,O=Acme", Issuer: "CN=Test Root CA,O=Acme", Serial: "abcdef0123",
			NotBefore: notBefore, NotAfter: notAfter.AddDate(10, 0, 0), IsCA: true, KeyType: "ECDSA P-256",
		}},
		{"leaf", leaf, pinwatchd.Cert{
			Subject: "CN=api.example.com", Issuer: "CN=Test Root CA,O=Acme", Serial: "feed",
			NotBefore: notBefore, NotAfter: notAfter, IsCA: false, KeyType: "ECDSA P-256",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Computed here from the raw bytes: the pin hashes the SPKI,
			// the fingerprint the whole certificate.
			spki := sha256.Sum256(tt.x.RawSubjectPublicKeyInfo)
			der := sha256.Sum256(tt.x.Raw)
			want := tt.want
			want.Pin = mustPin(t, base64.StdEncoding.EncodeToString(spki[:]))
			want.SHA256 = hex.EncodeToString(der[:])
			want.DER = tt.x.Raw
			if got := pinwatchd.CertFromX509(tt.x); !reflect.DeepEqual(got, want) {
				got.DER, want.DER = nil, nil
				t.Errorf("CertFromX509 = %+v\nwant           %+v", got, want)
			}
		})
	}
}

// TestCertJSON checks the CERT object of SPEC §5.
func TestCertJSON(t *testing.T) {
	c := pinwatchd.Cert{
		Subject: "CN=api.example.com", Issuer: "CN=Test CA", Serial: "feed",
		NotBefore: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		NotAfter:  time.Date(2026, 4, 2, 3, 4, 5, 0, time.UTC),
		SHA256:    testCertSHA, Pin: mustPin(t, spkiPin), IsCA: false, KeyType: "ECDSA P-256",
		DER: []byte{0x30, 0x82},
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"subject": "CN=api.example.com", "issuer": "CN=Test CA", "serial": "feed",
		"not_before": "2026-01-02T03:04:05Z", "not_after": "2026-04-02T03:04:05Z",
		"sha256": testCertSHA, "pin_sha256": spkiPin, "is_ca": false,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q = %#v, want %#v", b, k, got[k], v)
		}
	}
	for k := range got {
		if k == "DER" || k == "der" {
			t.Errorf("%s: the DER is in the JSON", b)
		}
	}
	var back pinwatchd.Cert
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c.DER = nil
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip = %+v\nwant         %+v", back, c)
	}
}

func TestCertDaysLeft(t *testing.T) {
	notAfter := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name string
		now  time.Time
		want int
	}{
		{"30 days before", notAfter.Add(-30 * day), 30},
		{"a second short of 30 days", notAfter.Add(-30*day + time.Second), 29},
		{"a day and a second before", notAfter.Add(-day - time.Second), 1},
		{"a day before", notAfter.Add(-day), 1},
		{"an hour before", notAfter.Add(-time.Hour), 0},
		{"at NotAfter", notAfter, 0},
		{"a nanosecond after", notAfter.Add(time.Nanosecond), -1},
		{"a day after", notAfter.Add(day), -1},
		{"a day and a second after", notAfter.Add(day + time.Second), -2},
		{"in another zone", notAfter.Add(-2 * day).In(time.FixedZone("UTC+14", 14*3600)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pinwatchd.Cert{NotAfter: notAfter}
			if got := c.DaysLeft(tt.now); got != tt.want {
				t.Errorf("DaysLeft(%v) = %d, want %d", tt.now, got, tt.want)
			}
		})
	}
}

func TestCertLabel(t *testing.T) {
	tests := []struct {
		name string
		c    pinwatchd.Cert
		want string
	}{
		{"common name first", pinwatchd.Cert{Subject: "CN=api.example.com,O=Acme,C=US"}, "api.example.com"},
		{"common name after others", pinwatchd.Cert{Subject: "C=US,O=Acme,CN=Acme Issuing CA"}, "Acme Issuing CA"},
		{"no common name", pinwatchd.Cert{Subject: "O=Acme,C=US", SHA256: testCertSHA}, "O=Acme,C=US"},
		{"no subject", pinwatchd.Cert{SHA256: testCertSHA}, "sha256:" + testCertSHA[:16]},
		{"nothing", pinwatchd.Cert{}, "certificate"},
		// A subject is text the certificate's holder chose: an escaped
		// separator inside a value never starts another attribute.
		{"CN smuggled into an organisation", pinwatchd.Cert{Subject: subjectOf(pkix.Name{Organization: []string{"x,CN=bank.example"}})}, `O=x\,CN=bank.example`},
		{"common name with a comma", pinwatchd.Cert{Subject: subjectOf(pkix.Name{CommonName: "Acme, Inc. CA", Organization: []string{"Acme"}})}, "Acme, Inc. CA"},
		{"multi-valued RDN", pinwatchd.Cert{Subject: "OU=ops+CN=edge.example.com,O=Acme"}, "edge.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Label(); got != tt.want {
				t.Errorf("Label() = %q, want %q", got, tt.want)
			}
		})
	}
}

// subjectOf returns the subject text of n as a served certificate's Subject
// holds it.
func subjectOf(n pkix.Name) string { return n.String() }

func TestKeyType(t *testing.T) {
	rsaKey := func(bits int) *rsa.PublicKey {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1)) // only the size matters here
		return &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537}
	}
	tests := []struct {
		pub  any
		want string
	}{
		{rsaKey(1024), "RSA-1024"},
		{rsaKey(2048), "RSA-2048"},
		{rsaKey(3072), "RSA-3072"},
		{rsaKey(4096), "RSA-4096"},
		{rsaKey(8192), "RSA-8192"},
		{&ecdsa.PublicKey{Curve: elliptic.P224()}, "ECDSA P-224"},
		{&ecdsa.PublicKey{Curve: elliptic.P256()}, "ECDSA P-256"},
		{&ecdsa.PublicKey{Curve: elliptic.P384()}, "ECDSA P-384"},
		{&ecdsa.PublicKey{Curve: elliptic.P521()}, "ECDSA P-521"},
		{ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)), "Ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := pinwatchd.KeyType(tt.pub); got != tt.want {
				t.Errorf("KeyType = %q, want %q", got, tt.want)
			}
		})
	}
}

func newP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustCert(t *testing.T, tmpl, parent *x509.Certificate, pub any, priv any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
