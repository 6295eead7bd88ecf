package main

import "testing"

func TestTerm(t *testing.T) {
	for in, want := range map[string]string{
		"CN=api.example.com,O=Example":  "CN=api.example.com,O=Example",
		"Müller GmbH, 東京":               "Müller GmbH, 東京",
		"evil\x1b[1A\x1b[2K":            `evil\x1b[1A\x1b[2K`,
		"bell\a and\rreturn\nnewline\t": `bell\x07 and\x0dreturn\x0anewline\x09`,
		"nul\x00 del\x7f":               `nul\x00 del\x7f`,
		"c1 \u009b2K csi":               `c1 \u009b2K csi`,
		"bidi \u202egnp.exe":            `bidi \u202egnp.exe`,
		"isolate \u2066x\u2069":         `isolate \u2066x\u2069`,
		"bad utf-8 \xff\xfe":            `bad utf-8 \xff\xfe`,
		"":                              "",
	} {
		if got := term(in); got != want {
			t.Errorf("term(%q) = %q, want %q", in, got, want)
		}
	}
	if got := termAll([]string{"a\x1b", "b"}); len(got) != 2 || got[0] != `a\x1b` || got[1] != "b" {
		t.Errorf("termAll = %q", got)
	}
}
