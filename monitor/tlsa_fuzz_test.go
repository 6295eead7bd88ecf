package monitor

import (
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// FuzzTLSARecord judges and matches any record a zone might publish: no
// panic, and a record is usable only when it is well-formed.
func FuzzTLSARecord(f *testing.F) {
	f.Add(uint8(3), uint8(1), uint8(1), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	f.Add(uint8(2), uint8(0), uint8(2), "zz")
	f.Add(uint8(255), uint8(255), uint8(255), "")
	f.Add(uint8(3), uint8(1), uint8(0), "3059301306072a8648ce3d020106082a8648ce3d03010703420004")
	o := &pinwatchd.Observation{ServedChain: []pinwatchd.Cert{{SHA256: "x", DER: []byte("not a certificate")}, {SHA256: "y"}}}
	f.Fuzz(func(t *testing.T, usage, selector, mtype uint8, data string) {
		r := pinwatchd.TLSARecord{Usage: usage, Selector: selector, MatchingType: mtype, Data: data}
		res := &pinwatchd.TLSAResult{Authenticated: true, Records: []pinwatchd.TLSARecord{r}}
		got := MatchTLSA(res, o, usage%2 == 0).Records[0]
		if got.Usable && TLSAProblem(r) != "" {
			t.Fatalf("malformed record %s is usable", r)
		}
		_ = tlsaFindings(&pinwatchd.Target{DANE: true}, []pinwatchd.Observation{{ServedChain: o.ServedChain, TLSA: res}})
	})
}
