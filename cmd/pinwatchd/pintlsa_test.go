package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// openSSLSPKISHA256 returns the lower-case hex SHA-256 of the certificate
// file's SubjectPublicKeyInfo by the pipeline people publish TLSA records
// with. Without openssl the test is skipped, except in CI, where it fails.
func openSSLSPKISHA256(t *testing.T, file string) string {
	t.Helper()
	requireOpenSSL(t)
	out, err := exec.CommandContext(t.Context(), "sh", "-c",
		`openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`, "sh", file).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pipeline: %v\n%s", err, out)
	}
	hex, _, _ := strings.Cut(string(out), " ")
	return hex
}

// pin --format tlsa prints the data of the TLSA record to publish: DANE-EE
// "3 1 1 HEX" for a server certificate, DANE-TA "2 1 1 HEX" for a CA
// certificate, HEX being what the openssl pipeline prints.
func TestPinFormatTLSA(t *testing.T) {
	root := testpki.NewRoot(t, testpki.Options{KeyKind: testpki.RSA2048})
	inter := root.Intermediate(t, testpki.Options{KeyKind: testpki.P384})
	for _, kind := range []testpki.KeyKind{testpki.P256, testpki.RSA2048, testpki.Ed25519} {
		t.Run(string(kind), func(t *testing.T) {
			leaf := inter.Leaf(t, testpki.Options{KeyKind: kind, CommonName: "mx1.example.com"})
			file := writeTemp(t, "leaf.pem", leaf.PEM())
			want := "3 1 1 " + openSSLSPKISHA256(t, file) + "\n"
			stdout, stderr, code := runCmd(t, "", nil, "pin", "--format", "tlsa", file)
			if code != exitOK || stdout != want {
				t.Errorf("pin --format tlsa printed %q (exit %d, stderr %q), want %q", stdout, code, stderr, want)
			}
		})
	}
	t.Run("bundle", func(t *testing.T) {
		leaf := inter.Leaf(t, testpki.Options{CommonName: "mx1.example.com"})
		files := map[string]*testpki.Cert{"leaf": leaf, "inter": inter, "root": root}
		hex := map[string]string{}
		for name, c := range files {
			hex[name] = openSSLSPKISHA256(t, writeTemp(t, name+".pem", c.PEM()))
		}
		bundle := writeTemp(t, "chain.pem", append(append(leaf.PEM(), inter.PEM()...), root.PEM()...))
		want := "3 1 1 " + hex["leaf"] + "  CN=mx1.example.com,O=pinwatchd test\n" +
			"2 1 1 " + hex["inter"] + "  " + inter.Cert.Subject.String() + "\n" +
			"2 1 1 " + hex["root"] + "  " + root.Cert.Subject.String() + "\n"
		stdout, stderr, code := runCmd(t, "", nil, "pin", "--format", "tlsa", "-v", bundle)
		if code != exitOK || stdout != want {
			t.Errorf("pin --format tlsa -v of a chain printed\n%s(exit %d, stderr %q), want\n%s", stdout, code, stderr, want)
		}
	})
}

// requireOpenSSL skips a comparison with the openssl pipelines when openssl
// is missing, except in CI (CI=true), where .ci/run installs it and its
// absence is a failure.
func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not on PATH; CI must install it (apt-get install openssl) for this comparison")
		}
		t.Skip("openssl is not on PATH; install it (apt-get install openssl) for this comparison")
	}
}
