package monitor

import (
	"reflect"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// A cached CA is recorded exactly as CertFromX509 records it, and so is a
// leaf, which is never cached.
func TestCACertCacheRecordsAsCertFromX509(t *testing.T) {
	pki := testpki.New(t)
	var cc caCertCache
	for range 2 {
		for _, c := range []*testpki.Cert{pki.Leaf, pki.Intermediate, pki.Root} {
			if got, want := cc.record(c.Cert), pinwatchd.CertFromX509(c.Cert); !reflect.DeepEqual(got, want) {
				t.Errorf("record(%s) = %+v, want %+v", want.Subject, got, want)
			}
		}
	}
	if len(cc.m) != 2 {
		t.Errorf("%d certificates cached, want the 2 CAs", len(cc.m))
	}
}
