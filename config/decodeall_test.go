package config

import (
	"strings"
	"testing"
)

// TestDecodeAllListsEveryBadValue checks that values go-toml cannot decode
// are all reported, each under its own key path and line, however they
// are mixed: array elements before and after each other, integers where a
// string is wanted (which go-toml reports without a position), a type
// mismatch inside an inline table.
func TestDecodeAllListsEveryBadValue(t *testing.T) {
	doc := `timeout = 10
[[target]]
name = "api"
host = "api.example.com"
pins = ["sha256/AAAA", 5,
  "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "x"]
addresses = ["192.0.2.1", "nope"]

[[target]]
name = "web"
host = "www.example.com"
port = true
`
	_, err := Parse(strings.NewReader(doc), "c.toml", Options{SkipSecretFiles: true})
	want := []string{
		`c.toml:1: timeout: want a duration string such as "10s", "15m" or "30d", got a TOML integer`,
		`c.toml:5: target "api" (target[0]).pins[0]: pin "sha256/AAAA" decodes to 3 bytes, want 32 (a SHA-256 digest)`,
		`c.toml:5: target "api" (target[0]).pins[1]: want a pin string such as "sha256/…", got a TOML integer`,
		`c.toml:6: target "api" (target[0]).pins[3]: pin "x" is not valid base64`,
		`c.toml:7: target "api" (target[0]).addresses[1]: address "nope" is not an IP or ip:port; write e.g. "192.0.2.10:443", "192.0.2.10", "[2001:db8::1]:443" or "2001:db8::1" (addresses replace DNS, so host names are not accepted)`,
		`c.toml:12: target "web" (target[1]).port: want an integer, got a TOML boolean`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Parse =\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

func TestBlankValueAt(t *testing.T) {
	for _, tc := range []struct {
		doc, at, want string
	}{
		{`a = "x"` + "\nb = 1\n", `"x"`, "       \nb = 1\n"},
		{`p = ["a", "b", "c"]`, `"b"`, `p = ["a",      "c"]`},
		{`p = ["a", "b"]`, `"b"`, `p = ["a"     ]`},
		{`p = ["a"]`, `"a"`, `p = [   ]`},
		{"p = [\n  \"a\",\n  \"b\",\n]", `"a"`, "p = [\n      \n  \"b\",\n]"},
		{"s = '''\nline\n'''\nb = 1", `'''`, "       \n    \n   \nb = 1"},
		{`t = [{n = "a", port = "x"}]`, `"x"`, `t = [{n = "a",           }]`},
	} {
		doc := []byte(tc.doc)
		off := strings.Index(tc.doc, tc.at)
		if !blankValueAt(doc, off) {
			t.Errorf("blankValueAt(%q, %d) found nothing", tc.doc, off)
			continue
		}
		if string(doc) != tc.want {
			t.Errorf("blankValueAt(%q at %q) =\n%q\nwant\n%q", tc.doc, tc.at, doc, tc.want)
		}
	}
	if doc := []byte("a = 1\n"); blankValueAt(doc, 100) || blankValueAt(doc, -1) {
		t.Errorf("blankValueAt out of range reported a blank")
	}
}
