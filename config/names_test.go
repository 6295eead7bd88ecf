package config

import (
	"strings"
	"testing"
)

func TestHostNames(t *testing.T) {
	good := []string{"api.example.com", "api.example.com.", "localhost", "_dmarc.example.com", "xn--mller-kva.example",
		"192.0.2.10", "2001:db8::1", "fe80::1%eth0", strings.Repeat("a", 63) + ".example"}
	for _, h := range good {
		if !isHostName(h) || hasControlOrSpace(h) {
			t.Errorf("%q is refused, want it accepted as a host name", h)
		}
	}
	bad := []string{"", ".", "api..example.com", ".example.com", "api.example.com:443", "müller.example",
		strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 127) + "ab", "api example.com", "a*b"}
	for _, h := range bad {
		if isHostName(h) {
			t.Errorf("isHostName(%q) = true, want false", h)
		}
	}
	for _, h := range []string{"a\rb", "a\nb", "a\x00b", "a\x1bb", "a\x07b", "a b", "a\tb", "a\u0085b", "a\u00a0b", "a\xffb", "a\x7fb"} {
		if !hasControlOrSpace(h) {
			t.Errorf("hasControlOrSpace(%q) = false, want true", h)
		}
	}
}

func TestLoopbackHosts(t *testing.T) {
	for h, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true, "LOCALHOST.": true, "::ffff:127.0.0.1": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.10": false, "10.0.0.1": false, "example.com": false,
		"localhost.example.com": false, "128.0.0.1": false,
	} {
		if got := isLoopbackHost(h); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestSlackURLs(t *testing.T) {
	for u, want := range map[string]bool{
		"https://hooks.slack.com/services/T0/B0/x": true,
		"https://slack.com/api/":                   true,
		"http://127.0.0.1:9/hook":                  true,
		"http://[::1]:9/api/":                      true,
		"http://localhost:8080/api/":               true,
		"http://hooks.slack.com/services/T0/B0/x":  false,
		"http://192.168.1.10/api/":                 false,
		"http://127.0.0.1.example.com/":            false,
		"ftp://hooks.slack.com/x":                  false,
		"hooks.slack.com/services/T0/B0/x":         false,
		"https:///path-only":                       false,
		"https://hooks.slack.com/\x1b[2K":          false,
	} {
		if got := isSlackURL(u); got != want {
			t.Errorf("isSlackURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// TestListen checks [http] listen, its old name [metrics] listen and
// allow_remote, each message naming the key and the value.
func TestListen(t *testing.T) {
	const target = "\n[[target]]\nname = \"a\"\nhost = \"a.example.com\"\n"
	remote := func(key, l, port string) string {
		return key + ": listen = \"" + l + "\" is not a loopback address, so /metrics and /healthz would be reachable from the network; listen on \"127.0.0.1:" + port + "\", or set [http] allow_remote = true"
	}
	for _, tc := range []struct {
		doc, listen, want string
	}{
		{"[http]\nlisten = \"127.0.0.1:9794\"", "127.0.0.1:9794", ""},
		{"[http]\nlisten = \"[::1]:9794\"", "[::1]:9794", ""},
		{"[http]\nlisten = \"localhost:9794\"", "localhost:9794", ""},
		{"[metrics]\nlisten = \"127.0.0.1:9794\"", "127.0.0.1:9794", ""},
		{"[http]\nlisten = \"0.0.0.0:9794\"", "", "l.toml:2: " + remote("http.listen", "0.0.0.0:9794", "9794")},
		{"[http]\nlisten = \":9794\"", "", "l.toml:2: " + remote("http.listen", ":9794", "9794")},
		{"[http]\nlisten = \"[::]:80\"", "", "l.toml:2: " + remote("http.listen", "[::]:80", "80")},
		{"[http]\nlisten = \"192.168.1.10:9794\"", "", "l.toml:2: " + remote("http.listen", "192.168.1.10:9794", "9794")},
		{"[http]\nlisten = \"metrics.example.com:9794\"", "", "l.toml:2: " + remote("http.listen", "metrics.example.com:9794", "9794")},
		{"[metrics]\nlisten = \"0.0.0.0:9794\"", "", "l.toml:2: " + remote("metrics.listen", "0.0.0.0:9794", "9794")},
		{"[http]\nlisten = \"0.0.0.0:9794\"\nallow_remote = true", "0.0.0.0:9794", ""},
		{"[http]\nallow_remote = true\n[metrics]\nlisten = \":9794\"", ":9794", ""},
		{"[http]\nlisten = \"127.0.0.1:1\"\n[metrics]\nlisten = \"127.0.0.1:2\"", "",
			"l.toml:4: metrics.listen: listen is set in both [http] and [metrics]; keep [http] listen ([metrics] listen is its old name)"},
		{"[http]\nlisten = \"127.0.0.1\"", "", `l.toml:2: http.listen: listen = "127.0.0.1" is not host:port; write e.g. "127.0.0.1:9794" (loopback is recommended)`},
		{"[http]\nlisten = \"a b:1\"\nallow_remote = true", "", `l.toml:2: http.listen: listen = "a b:1": "a b" is not an IP address or host name; write e.g. "127.0.0.1:1"`},
	} {
		c, err := Parse(strings.NewReader(tc.doc+target), "l.toml", Options{})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want it accepted", tc.doc, err)
		case tc.want == "" && c.HTTPListen() != tc.listen:
			t.Errorf("%q: HTTPListen() = %q, want %q", tc.doc, c.HTTPListen(), tc.listen)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%q:\n%v\nwant\n%s", tc.doc, err, tc.want)
		}
	}
}

// TestServerNames checks host and sni on one target each.
func TestServerNames(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`host = "api.example.com"`, ""},
		{`host = "2001:db8::1"`, ""},
		{`host = "api.example.com"` + "\n" + `sni = "origin.example.com"`, ""},
		{`host = "a\u0007b.example.com"`, `n.toml:3: target "a" (target[0]).host: host = "a\ab.example.com" contains whitespace or a control character; ` + hostNameHint},
		{`host = "api.example.com"` + "\n" + `sni = "x\ny"`, `n.toml:4: target "a" (target[0]).sni: sni = "x\ny" contains whitespace or a control character; ` + hostNameHint},
		{`host = "api.example.com"` + "\n" + `sni = "https://x"`, `n.toml:4: target "a" (target[0]).sni: sni = "https://x" must be a bare host name or IP (no scheme, path or brackets)`},
		{`host = "a!b"`, `n.toml:3: target "a" (target[0]).host: host = "a!b" is not a DNS name or IP address; ` + hostNameHint},
	} {
		_, err := Parse(strings.NewReader("[[target]]\nname = \"a\"\n"+tc.line+"\n"), "n.toml", Options{})
		if got := errString(err); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.line, got, tc.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
