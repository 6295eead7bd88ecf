package pinwatchd_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// dnValues are attribute values NameString must print as pkix.Name.String
// does: plain ones, every character it escapes at every position, empty
// values, and values it leaves to pkix (non-ASCII, control characters).
var dnValues = []string{
	"api.example.com", "*.example.com", "Acme, Inc.", "a+b", `say "hi"`, `back\slash`, "<x>", "a;b",
	" leading", "trailing ", " ", "#hash", "mid#hash", "a b", "", "Zürich", "tab\there", "\x7f", "=", "##",
	"x,CN=bank.example",
}

func TestNameStringMatchesPkix(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	pick := func() []string {
		var out []string
		for range r.IntN(3) {
			out = append(out, dnValues[r.IntN(len(dnValues))])
		}
		return out
	}
	for i := range 5000 {
		n := pkix.Name{
			Country: pick(), Organization: pick(), OrganizationalUnit: pick(), Locality: pick(),
			Province: pick(), StreetAddress: pick(), PostalCode: pick(),
		}
		if r.IntN(4) > 0 {
			n.CommonName = dnValues[r.IntN(len(dnValues))]
		}
		if r.IntN(4) == 0 {
			n.SerialNumber = dnValues[r.IntN(len(dnValues))]
		}
		switch r.IntN(6) {
		case 0: // an attribute pkix does not parse into a field
			n.Names = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "ops@example.com"}}
		case 1:
			n.ExtraNames = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "extra"}}
		case 2: // a parsed field, as in a parsed certificate
			n.Names = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: n.CommonName}}
		}
		if got, want := pinwatchd.NameString(&n), n.String(); got != want {
			t.Fatalf("name %d %+v:\nNameString = %q\nString     = %q", i, n, got, want)
		}
	}
}

// The names of parsed certificates, as a prober sees them.
func TestNameStringOfParsedCertificates(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i, subject := range []pkix.Name{
		{CommonName: "api.example.com"},
		{CommonName: "Example CA", Organization: []string{"Example, Inc.", "Example Holdings"}, Country: []string{"US"},
			Province: []string{"CA"}, Locality: []string{"San Francisco"}, OrganizationalUnit: []string{"#1 team"}},
		{CommonName: " padded ", SerialNumber: "42", PostalCode: []string{"94103"}, StreetAddress: []string{"1 Main St"}},
		{CommonName: "bank.example", ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "a@b.example"}}},
		{Organization: []string{"Zürich AG"}},
		{},
	} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: subject,
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := pinwatchd.NameString(&c.Subject), c.Subject.String(); got != want {
			t.Errorf("subject %d: NameString = %q, String = %q", i, got, want)
		}
	}
}

func FuzzNameString(f *testing.F) {
	f.Add("api.example.com", "Acme, Inc.", "US", " x#")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, cn, o, c, ou string) {
		n := pkix.Name{CommonName: cn, Organization: []string{o}, Country: []string{c, ou}, OrganizationalUnit: []string{ou}}
		if got, want := pinwatchd.NameString(&n), n.String(); got != want {
			t.Errorf("%+v: NameString = %q, String = %q", n, got, want)
		}
	})
}

func BenchmarkNameString(b *testing.B) {
	n := pkix.Name{CommonName: "t00001.s000.bench.test", Organization: []string{"Bench"},
		Names: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "t00001.s000.bench.test"}}}
	b.Run("NameString", func(b *testing.B) {
		for b.Loop() {
			_ = pinwatchd.NameString(&n)
		}
	})
	b.Run("pkix", func(b *testing.B) {
		for b.Loop() {
			_ = n.String()
		}
	})
}
