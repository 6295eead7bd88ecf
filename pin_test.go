package pinwatchd_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// spkiPEM is a P-256 public key whose pin was computed with openssl:
//
//	openssl pkey -pubin -in pub.pem -outform der | openssl dgst -sha256 -binary | base64
const (
	spkiPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAUqa2YG4w3zXF9nSX8U4iopINojs
GPSzjUt4XDBijmWxSQO85x8JfTr6xHRR0QJQyqRZhSfKvB5W22eqeJXCQA==
-----END PUBLIC KEY-----
`
	spkiPin = "P1voyndEBL17p7E4UKN6Hwtk3sLl9n+O34XupqRSpcc="
)

func TestParsePinSpellings(t *testing.T) {
	want := mustPin(t, spkiPin)
	tests := []struct{ name, in string }{
		{"OkHttp", "sha256/" + spkiPin},
		{"HPKP", `pin-sha256="` + spkiPin + `"`},
		{"HPKP unquoted", "pin-sha256=" + spkiPin},
		{"bare", spkiPin},
		{"HPKP with ; as pin --format hpkp prints it", `pin-sha256="` + spkiPin + `";`},
		{"HPKP unquoted with ;", "pin-sha256=" + spkiPin + ";"},
		{"HPKP directive name in capitals", `PIN-SHA256="` + spkiPin + `"`},
		{"OkHttp pasted with space and newline", "  sha256/" + spkiPin + "\n"},
		{"bare with tabs", "\t" + spkiPin + "\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pinwatchd.ParsePin(tt.in)
			if err != nil {
				t.Fatalf("ParsePin(%q): %v", tt.in, err)
			}
			if got != want {
				t.Errorf("ParsePin(%q) = %s, want %s", tt.in, got, want)
			}
		})
	}
}

func TestParsePinErrors(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 20)) // a SHA-1 sized digest
	long := base64.StdEncoding.EncodeToString(make([]byte, 64))  // a SHA-512 sized digest
	tests := []struct {
		name, in string
		hint     string // also in the message: what is wrong
	}{
		{"empty", "", "0 bytes"},
		{"blank", "   ", "0 bytes"},
		{"prefix only", "sha256/", "0 bytes"},
		{"empty quoted value", `pin-sha256=""`, "0 bytes"},
		{"20 bytes", short, "20 bytes"},
		{"20 bytes with prefix", "sha256/" + short, "20 bytes"},
		{"64 bytes", `pin-sha256="` + long + `"`, "64 bytes"},
		{"not base64", "sha256/not*base64!", "base64"},
		{"missing padding", strings.TrimSuffix(spkiPin, "="), "base64"},
		{"URL-safe alphabet", "sha256/" + strings.NewReplacer("+", "-", "/", "_").Replace(spkiPin), "base64"},
		{"other algorithm, OkHttp", "sha1/" + short, "base64"},
		{"other algorithm, HPKP", `pin-sha1="` + short + `"`, "base64"},
		{"other algorithm, same length", "sha512/" + spkiPin, "base64"},
		{"quoted bare value", `"` + spkiPin + `"`, "base64"},
		{"unclosed quote", `pin-sha256="` + spkiPin, "base64"},
		{"quote only at the end", "pin-sha256=" + spkiPin + `"`, "base64"},
		{"quoted after sha256/", `sha256/"` + spkiPin + `"`, "base64"},
		{"two prefixes", "sha256/sha256/" + spkiPin, "base64"},
		{"two semicolons", spkiPin + ";;", "base64"},
		{"two pins", spkiPin + " " + spkiPin, "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pinwatchd.ParsePin(tt.in)
			if err == nil {
				t.Fatalf("ParsePin(%q) = %s, want an error", tt.in, p)
			}
			msg := err.Error()
			if !strings.Contains(msg, strconv.Quote(tt.in)) {
				t.Errorf("error %q does not name the value %q", msg, tt.in)
			}
			if !strings.Contains(msg, tt.hint) {
				t.Errorf("error %q does not say %q", msg, tt.hint)
			}
		})
	}
}

func TestPinText(t *testing.T) {
	p := mustPin(t, "sha256/"+spkiPin)
	if got := p.String(); got != spkiPin {
		t.Errorf("String() = %q, want %q", got, spkiPin)
	}
	if len(p.String()) != 44 {
		t.Errorf("String() has %d characters, want 44", len(p.String()))
	}
	b, err := p.MarshalText()
	if err != nil || string(b) != spkiPin {
		t.Errorf("MarshalText() = %q, %v; want %q", b, err, spkiPin)
	}

	// UnmarshalText takes what ParsePin takes, so config files and JSON
	// may use any spelling.
	for _, in := range []string{spkiPin, "sha256/" + spkiPin, `pin-sha256="` + spkiPin + `"`} {
		var q pinwatchd.Pin
		if err := q.UnmarshalText([]byte(in)); err != nil || q != p {
			t.Errorf("UnmarshalText(%q) = %s, %v; want %s", in, q, err, p)
		}
	}
	var q pinwatchd.Pin
	if err := q.UnmarshalText([]byte("sha256/AAAA")); err == nil || !q.IsZero() {
		t.Errorf("UnmarshalText(short) = %s, %v; want an error and no pin", q, err)
	}
}

func TestPinJSON(t *testing.T) {
	pins := []pinwatchd.Pin{mustPin(t, spkiPin), {}}
	b, err := json.Marshal(pins)
	if err != nil {
		t.Fatal(err)
	}
	want := `["` + spkiPin + `","AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var back []pinwatchd.Pin
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0] != pins[0] || back[1] != pins[1] {
		t.Errorf("round trip = %v, want %v", back, pins)
	}
	if err := json.Unmarshal([]byte(`["sha256/AAAA"]`), &back); err == nil {
		t.Error("json.Unmarshal of a short pin succeeded, want an error")
	}
}

func TestPinIsZero(t *testing.T) {
	if !(pinwatchd.Pin{}).IsZero() {
		t.Error("zero Pin: IsZero() = false")
	}
	if mustPin(t, spkiPin).IsZero() {
		t.Errorf("%s: IsZero() = true", spkiPin)
	}
}

func TestPinOf(t *testing.T) {
	t.Run("openssl vector", func(t *testing.T) {
		block, _ := pem.Decode([]byte(spkiPEM))
		if block == nil {
			t.Fatal("no PEM block")
		}
		if got := pinwatchd.PinOf(block.Bytes).String(); got != spkiPin {
			t.Errorf("PinOf = %s, want %s (openssl)", got, spkiPin)
		}
	})
	t.Run("generated key", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(der)
		want := base64.StdEncoding.EncodeToString(sum[:])
		if got := pinwatchd.PinOf(der).String(); got != want {
			t.Errorf("PinOf = %s, want %s", got, want)
		}
	})
}

func TestPinSetContains(t *testing.T) {
	a, b, c := pinwatchd.Pin{1}, pinwatchd.Pin{2}, pinwatchd.Pin{3}
	tests := []struct {
		name string
		pins []pinwatchd.Pin
		p    pinwatchd.Pin
		want bool
	}{
		{"first", []pinwatchd.Pin{a, b}, a, true},
		{"last", []pinwatchd.Pin{a, b}, b, true},
		{"absent", []pinwatchd.Pin{a, b}, c, false},
		{"empty set", nil, a, false},
		{"zero pin in empty set", nil, pinwatchd.Pin{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pinwatchd.PinSet{Name: "ios-app-5", Pins: tt.pins}
			if got := s.Contains(tt.p); got != tt.want {
				t.Errorf("Contains(%s) = %v, want %v", tt.p, got, tt.want)
			}
		})
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
