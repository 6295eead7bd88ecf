package pinwatchd_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The seed corpus lives in testdata/fuzz/FuzzParsePublicKeys (certificates,
// bundles, public and private keys of each kind, CSRs, PEM and DER, and
// broken, encrypted and unsupported inputs) and runs with every `go test`.

// FuzzParsePublicKeys checks that the reader behind `pinwatchd pin` never
// panics on any file, answers the same every time, labels every key it
// finds, and fails with one line and no keys.
func FuzzParsePublicKeys(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := pinwatchd.ParsePublicKeys(data)
		again, err2 := pinwatchd.ParsePublicKeys(data)
		if !reflect.DeepEqual(keys, again) || (err == nil) != (err2 == nil) {
			t.Fatalf("two reads differ: %v, %v and %v, %v", keys, err, again, err2)
		}
		if err != nil {
			if keys != nil {
				t.Fatalf("error %q with %d keys, want none", err, len(keys))
			}
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q is not one line", msg)
			}
			return
		}
		for i, k := range keys {
			if k.Label == "" || k.Pin.IsZero() {
				t.Fatalf("key %d of %d: pin %s, label %q; want both", i+1, len(keys), k.Pin, k.Label)
			}
		}
	})
}
