package storage

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestHashChain(t *testing.T) {
	a := fakeCert("a", "i", t0.Add(time.Hour), 1)
	b := fakeCert("b", "i", t0.Add(time.Hour), 2)
	ab, err := hashChain([]pinwatchd.Cert{a, b})
	if err != nil || !ab.ok {
		t.Fatalf("hashChain(a, b) = %v, %v", ab, err)
	}
	ba, _ := hashChain([]pinwatchd.Cert{b, a})
	if ab.hash == ba.hash {
		t.Error("a chain and its reverse have the same hash")
	}
	// Only the SHA-256 digests count: a copy without DER is the same chain.
	a2 := a
	a2.DER, a2.Subject = nil, "CN=other"
	if k, _ := hashChain([]pinwatchd.Cert{a2, b}); k != ab {
		t.Error("the same certificates hash differently")
	}
	if k, err := hashChain(nil); err != nil || k.ok {
		t.Errorf("hashChain(nil) = %v, %v; want no chain", k, err)
	}
	bad := b
	bad.SHA256 = strings.Repeat("z", 64)
	if _, err := hashChain([]pinwatchd.Cert{a, bad}); err == nil ||
		err.Error() != `certificate 1 (b): sha256 "`+bad.SHA256+`" is not 64 hex digits` {
		t.Errorf("hashChain with a bad digest: %v", err)
	}
}

func TestEncodeHeader(t *testing.T) {
	h1 := &pinwatchd.HSTSHeader{Raw: "max-age=1", MaxAge: 1, Valid: true}
	h2 := &pinwatchd.HSTSHeader{Raw: "max-age=1", MaxAge: 1, Valid: true}
	v1, err := encodeHeader("hsts", h1, true)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := encodeHeader("hsts", h2, true)
	if !v1.ok || v1.hash != v2.hash {
		t.Error("equal headers have different hashes")
	}
	p, _ := encodeHeader("pkp", h1, true)
	if p.hash == v1.hash {
		t.Error("the kind is not part of the hash")
	}
	if v, _ := encodeHeader("hsts", (*pinwatchd.HSTSHeader)(nil), false); v.ok {
		t.Error("an absent header is present")
	}
	if v1.cut || v1.whole != v1.hash || v1.wholeHash() != nil {
		t.Error("a short header is stored cut, or its span keeps a second hash")
	}

	// A long value is stored cut, under the hash of the stored text; the
	// span keeps the whole value's.
	long := func(last string) headerValue {
		t.Helper()
		h := &pinwatchd.HSTSHeader{Raw: "max-age=1; x=" + strings.Repeat("a", 100_000) + last, MaxAge: 1, Valid: true}
		v, err := encodeHeader("hsts", h, true)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	l1, l2 := long("1"), long("2")
	if !l1.cut || len(l1.parsed) > MaxHeaderValue || len(l1.parsed) < MaxHeaderValue-64 || !strings.Contains(string(l1.parsed), `"cut":true`) {
		t.Errorf("long value stored as %d bytes (cut %v), want just under %d bytes marked cut", len(l1.parsed), l1.cut, MaxHeaderValue)
	}
	if l1.hash != l2.hash || l1.whole == l2.whole || l1.whole == l1.hash || string(l1.wholeHash()) != string(l1.whole[:]) {
		t.Error("two long values that differ past the cut: want one stored hash and two whole hashes")
	}
}
