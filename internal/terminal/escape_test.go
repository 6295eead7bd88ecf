package terminal

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"CN=api.example.com,O=Example":  "CN=api.example.com,O=Example",
		"Müller GmbH, 東京":               "Müller GmbH, 東京",
		"evil\x1b[1A\x1b[2K":            `evil\x1b[1A\x1b[2K`,
		"bell\a and\rreturn\nnewline\t": `bell\x07 and\x0dreturn\x0anewline\x09`,
		"nul\x00 del\x7f":               `nul\x00 del\x7f`,
		"c1 \u009b2K csi":               `c1 \u009b2K csi`,
		"bidi \u202egnp.exe":            `bidi \u202egnp.exe`,
		"isolate \u2066x\u2069":         `isolate \u2066x\u2069`,
		"line\u2028separator":           `line\u2028separator`,
		"bad utf-8 \xff\xfe":            `bad utf-8 \xff\xfe`,
		"":                              "",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := EscapeAll([]string{"a\x1b", "b"}); len(got) != 2 || got[0] != `a\x1b` || got[1] != "b" {
		t.Errorf("EscapeAll = %q", got)
	}
}

func BenchmarkEscapeClean(b *testing.B) {
	s := "CN=pinwatchd test intermediate,O=pinwatchd test"
	for b.Loop() {
		if Escape(s) != s {
			b.Fatal("changed")
		}
	}
}
