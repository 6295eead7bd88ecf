package config

import (
	"strings"
	"testing"
)

func TestResolverKey(t *testing.T) {
	const target = "\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"
	for _, tc := range []struct {
		name, doc string
		want      string // the resolver, or the error
		ok        bool
	}{
		{"unset: the system resolver", "", "", true},
		{"IPv4", `resolver = "127.0.0.1:5353"`, "127.0.0.1:5353", true},
		{"IPv6", `resolver = "[::1]:53"`, "[::1]:53", true},
		{"no port", "\nresolver = \"127.0.0.1\"", `r.toml:2: resolver: resolver "127.0.0.1" has no port; write an IP address and a port, e.g. "127.0.0.1:53" or "[::1]:53"`, false},
		{"a number", `resolver = 53`, `r.toml:1: resolver: want an IP:PORT string such as "127.0.0.1:53", got a TOML integer`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tc.doc+target), "r.toml", Options{})
			if !tc.ok {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("Parse error =\n%v\nwant\n%s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Resolver.String(); got != tc.want || c.Resolver.IsSet() != (tc.want != "") {
				t.Errorf("resolver = %q (set %v), want %q", got, c.Resolver.IsSet(), tc.want)
			}
		})
	}
}
