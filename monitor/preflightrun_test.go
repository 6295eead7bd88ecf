package monitor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

func TestReadCandidate(t *testing.T) {
	p := testpki.New(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	chain := write("chain.pem", slices.Concat(p.Leaf.PEM(), p.Intermediate.PEM()))
	root := write("root.der", p.Root.Cert.Raw)
	keys, err := ReadCandidate([]string{chain, root})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Position+" "+filepath.Base(k.File))
	}
	if want := "leaf chain.pem,intermediate 1 chain.pem,root root.der"; strings.Join(got, ",") != want {
		t.Errorf("positions %q, want %q", strings.Join(got, ","), want)
	}
	if keys[0].Pin != p.Leaf.Pin() || keys[0].Cert == nil || keys[2].Pin != p.Root.Pin() {
		t.Errorf("keys = %+v", keys)
	}
	for _, tc := range []struct{ files []string }{
		{[]string{filepath.Join(dir, "missing.pem")}},
		{[]string{write("empty.pem", nil)}},
		{[]string{write("junk.pem", []byte("-----BEGIN CERTIFICATE-----\nxx\n"))}},
		{nil},
	} {
		if _, err := ReadCandidate(tc.files); err == nil {
			t.Errorf("ReadCandidate(%v) gave no error", tc.files)
		}
	}
}

func TestFindTarget(t *testing.T) {
	targets := []pinwatchd.Target{{Name: "api", Host: "api.example"}, {Name: "mail", MX: "example.com", Port: 25}}
	if got, ok := findTarget(targets, "api"); !ok || got.Host != "api.example" {
		t.Errorf("api = %+v, %v", got, ok)
	}
	if got, ok := findTarget(targets, "mail/mx1.example.com"); !ok || got.Host != "mx1.example.com" || !got.DANE || got.Port != 25 {
		t.Errorf("mail/mx1.example.com = %+v, %v; want the exchange as a DANE target", got, ok)
	}
	for _, name := range []string{"nope", "api/x", "mail/"} {
		if _, ok := findTarget(targets, name); ok {
			t.Errorf("findTarget(%q) found one", name)
		}
	}
}
