package monitor

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

func TestAdHocTarget(t *testing.T) {
	const pin = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	tests := []struct {
		name string
		in   AdHoc
		want pinwatchd.Target
	}{
		{"host", AdHoc{Arg: "api.example.com", HTTP: true},
			pinwatchd.Target{Name: "api.example.com", Host: "api.example.com", Port: 443, HTTP: true, Path: "/"}},
		{"host and port", AdHoc{Arg: "mail.example.com:25"},
			pinwatchd.Target{Name: "mail.example.com", Host: "mail.example.com", Port: 25, Path: "/"}},
		{"bare IPv6", AdHoc{Arg: "::1"},
			pinwatchd.Target{Name: "::1", Host: "::1", Port: 443, Path: "/"}},
		{"bracketed IPv6 and port", AdHoc{Arg: "[::1]:8443"},
			pinwatchd.Target{Name: "::1", Host: "::1", Port: 8443, Path: "/"}},
		{"URL with a path", AdHoc{Arg: "https://api.example.com:8443/health?x=1", HTTP: true},
			pinwatchd.Target{Name: "api.example.com", Host: "api.example.com", Port: 8443, HTTP: true, Path: "/health"}},
		{"connect takes the port", AdHoc{Arg: "api.example.com:8443", SNI: "edge.example.com", Connect: []string{"127.0.0.1", "[::1]:9443"}},
			pinwatchd.Target{Name: "api.example.com", Host: "api.example.com", Port: 8443, SNI: "edge.example.com", Path: "/",
				Addresses: []string{"127.0.0.1:8443", "[::1]:9443"}}},
		{"pins form the inline set", AdHoc{Arg: "api.example.com", Pins: []string{pin}},
			pinwatchd.Target{Name: "api.example.com", Host: "api.example.com", Port: 443, Path: "/",
				PinSets: []pinwatchd.PinSet{{Name: pinwatchd.PinSetInline, Pins: []pinwatchd.Pin{mustPin(t, pin)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Target()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Target() =\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestAdHocTargetErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "roots.pem")
	tests := []struct {
		in   AdHoc
		want string // the error names the value and where it came from
	}{
		{AdHoc{Arg: "http://api.example.com"}, `"http://api.example.com" is not a host or an https:// URL`},
		{AdHoc{Arg: "api example"}, `"api example" is not a valid HOST[:PORT]`},
		{AdHoc{Arg: "api.example.com:70000"}, `port "70000" of "api.example.com:70000" is not a number from 1 to 65535`},
		{AdHoc{Arg: ":443"}, `":443" has no host`},
		{AdHoc{Arg: "api.example.com", Connect: []string{"db.internal:443"}}, `--connect "db.internal:443": "db.internal" is not an IP address`},
		{AdHoc{Arg: "api.example.com", Connect: []string{"127.0.0.1:0"}}, `--connect "127.0.0.1:0": port "0" is not a number from 1 to 65535`},
		{AdHoc{Arg: "api.example.com", CAFile: missing}, `--ca-file "` + missing + `": no such file or directory`},
		{AdHoc{Arg: "api.example.com", Pins: []string{"sha256/short"}}, `--pin: `},
	}
	for _, tt := range tests {
		_, err := tt.in.Target()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func mustPin(t *testing.T, s string) pinwatchd.Pin {
	t.Helper()
	p, err := pinwatchd.ParsePin(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
