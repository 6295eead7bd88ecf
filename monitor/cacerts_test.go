package monitor

import (
	"reflect"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// A cached CA is recorded exactly as CertFromX509 records it, and so is a
// leaf, which is never cached (only the strings of its names are), also
// when leaves of one issuer have other subjects.
func TestCACertCacheRecordsAsCertFromX509(t *testing.T) {
	pki := testpki.New(t)
	other := pki.Intermediate.Leaf(t, testpki.Options{CommonName: "other.example", DNSNames: []string{"other.example"}})
	var cc caCertCache
	for range 2 {
		for _, c := range []*testpki.Cert{pki.Leaf, pki.Intermediate, pki.Root, other} {
			if got, want := cc.record(c.Cert), pinwatchd.CertFromX509(c.Cert); !reflect.DeepEqual(got, want) {
				t.Errorf("record(%s) = %+v, want %+v", want.Subject, got, want)
			}
		}
	}
	if len(cc.m) != 2 {
		t.Errorf("%d certificates cached, want the 2 CAs", len(cc.m))
	}
}
