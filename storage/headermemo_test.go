package storage

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The memo compares every field of a parsed header: a field added to
// either type must be added to samePinHeader or sameHSTSHeader too.
func TestHeaderMemoKnowsEveryField(t *testing.T) {
	if n := reflect.TypeFor[pinwatchd.PinHeader]().NumField(); n != 9 {
		t.Errorf("PinHeader has %d fields; samePinHeader compares 9", n)
	}
	if n := reflect.TypeFor[pinwatchd.HSTSHeader]().NumField(); n != 7 {
		t.Errorf("HSTSHeader has %d fields; sameHSTSHeader compares 7", n)
	}
}

// A remembered value is returned only for an equal value; one that differs
// in a parsed field under the same raw text is encoded anew.
func TestHeaderMemoReturnsWhatEncodingWould(t *testing.T) {
	h := &pinwatchd.PinHeader{Raw: `pin-sha256="x"; max-age=10`, Pins: []pinwatchd.Pin{{1}}, MaxAge: 10, Valid: true}
	for _, v := range []*pinwatchd.PinHeader{
		h, h, // the second from the memo
		{Raw: h.Raw, Pins: []pinwatchd.Pin{{1}}, MaxAge: 10, Valid: true, Notes: []string{}},
		{Raw: h.Raw, Pins: []pinwatchd.Pin{{2}}, MaxAge: 10, Valid: true},
		{Raw: h.Raw, Pins: []pinwatchd.Pin{{1}}, MaxAge: 11, Valid: true},
	} {
		got, err := encodeHeader("pkp", v, true)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		if string(got.parsed) != string(b) || got.whole != hashHeader("pkp", b) {
			t.Errorf("encodeHeader(%+v) = %s, want %s", v, got.parsed, b)
		}
	}
	hs := &pinwatchd.HSTSHeader{Raw: "max-age=1", MaxAge: 1, Valid: true}
	for _, v := range []*pinwatchd.HSTSHeader{hs, hs, {Raw: hs.Raw, MaxAge: 1, Valid: true, Preload: true}} {
		got, err := encodeHeader("hsts", v, true)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(v); string(got.parsed) != string(b) {
			t.Errorf("encodeHeader(%+v) = %s, want %s", v, got.parsed, b)
		}
	}
}
