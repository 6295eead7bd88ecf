package testpki

import (
	"strings"
	"testing"
)

func TestStandalone(t *testing.T) {
	s := &Standalone{Dir: t.TempDir()}
	var order []int
	s.Cleanup(func() { order = append(order, 1) })
	s.Cleanup(func() { order = append(order, 2) })
	if d1, d2 := s.TempDir(), s.TempDir(); d1 == d2 || !strings.HasPrefix(d1, s.Dir) {
		t.Errorf("TempDir gave %q and %q under %q", d1, d2, s.Dir)
	}
	p := New(s) // the PKI works with a Standalone
	srv := Serve(s, p.TLS(), nil)
	if srv.Addr == "" {
		t.Fatal("no server address")
	}
	s.Close()
	s.Close()
	if len(order) < 2 || order[len(order)-2] != 2 || order[len(order)-1] != 1 {
		t.Errorf("cleanups ran as %v, want 2 then 1, once", order)
	}
	err := s.Do(func() {
		s.Fatalf("bad %d", 7)
		t.Error("Fatalf returned")
	})
	if err == nil || err.Error() != "bad 7" {
		t.Errorf("Do = %v, want the failure \"bad 7\"", err)
	}
	if err := s.Do(func() {}); err != nil {
		t.Errorf("Do after a failure = %v, want nil: each Do reports its own", err)
	}
}
