package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// pinKeys are the keys and certificates the pin tests read, generated once.
type pinKeys struct {
	rsa, ec, ed       crypto.Signer
	root, inter, leaf *testpki.Cert
}

func newPinKeys(t *testing.T) *pinKeys {
	t.Helper()
	root := testpki.NewRoot(t, testpki.Options{KeyKind: testpki.RSA2048})
	inter := root.Intermediate(t, testpki.Options{KeyKind: testpki.P384})
	leaf := inter.Leaf(t, testpki.Options{KeyKind: testpki.Ed25519, CommonName: "api.example.com"})
	return &pinKeys{
		rsa: testpki.NewKey(t, testpki.RSA2048), ec: testpki.NewKey(t, testpki.P256), ed: testpki.NewKey(t, testpki.Ed25519),
		root: root, inter: inter, leaf: leaf,
	}
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustDER returns a function that passes DER through and fails t on error.
func mustDER(t *testing.T) func([]byte, error) []byte {
	return func(der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}

func pkcs8DER(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	return mustDER(t)(x509.MarshalPKCS8PrivateKey(k))
}

func pkixDER(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	return mustDER(t)(x509.MarshalPKIXPublicKey(k.Public()))
}

func csrDER(t *testing.T, k crypto.Signer, cn string) []byte {
	t.Helper()
	return mustDER(t)(x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, k))
}

func TestPinFormats(t *testing.T) {
	k := newPinKeys(t)
	file := writeTemp(t, "leaf.pem", k.leaf.PEM())
	p := k.leaf.Pin().String()
	tests := []struct{ format, want string }{
		{"", p},
		{"base64", p},
		{"hpkp", `pin-sha256="` + p + `";`},
		{"okhttp", "sha256/" + p},
		{"android", `<pin digest="SHA-256">` + p + `</pin>`},
		{"trustkit", `"` + p + `",`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			args := []string{"pin", file}
			if tt.format != "" {
				args = append(args, "--format", tt.format) // flags after the file
			}
			stdout, stderr, code := runCmd(t, "", nil, args...)
			if code != exitOK || stdout != tt.want+"\n" {
				t.Errorf("pin %v printed %q (exit %d, stderr %q), want %q", args[1:], stdout, code, stderr, tt.want+"\n")
			}
			stdout, _, _ = runCmd(t, "", nil, append(args, "-v")...)
			if want := tt.want + "  CN=api.example.com,O=pinwatchd test\n"; stdout != want {
				t.Errorf("with -v printed %q, want %q", stdout, want)
			}
		})
	}
}

// TestPinJSON: --json lists every key of every file in input order, with
// the file, the pin, the line --format renders and the label.
func TestPinJSON(t *testing.T) {
	k := newPinKeys(t)
	leaf := writeTemp(t, "leaf.pem", k.leaf.PEM())
	key := writeTemp(t, "key.pem", pemBytes("PRIVATE KEY", pkcs8DER(t, k.ec)))
	stdout, stderr, code := runCmd(t, "", nil, "pin", "--json", "--format", "okhttp", leaf, key)
	if code != exitOK || stderr != "" {
		t.Fatalf("pin --json: exit %d, stderr %q", code, stderr)
	}
	var doc struct {
		Keys []struct{ File, Pin, Line, Label string } `json:"keys"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("pin --json printed %q: %v", stdout, err)
	}
	ecPin := testpki.KeyPin(t, k.ec).String()
	want := []struct{ File, Pin, Line, Label string }{
		{leaf, k.leaf.Pin().String(), "sha256/" + k.leaf.Pin().String(), "CN=api.example.com,O=pinwatchd test"},
		{key, ecPin, "sha256/" + ecPin, "ECDSA P-256 private key"},
	}
	if !reflect.DeepEqual(doc.Keys, want) {
		t.Errorf("pin --json keys =\n%+v\nwant\n%+v", doc.Keys, want)
	}
}

func TestPinInputs(t *testing.T) {
	k := newPinKeys(t)
	rsaPin, ecPin, edPin := testpki.KeyPin(t, k.rsa).String(), testpki.KeyPin(t, k.ec).String(), testpki.KeyPin(t, k.ed).String()
	rsaKey := k.rsa.(*rsa.PrivateKey)
	sec1 := mustDER(t)(x509.MarshalECPrivateKey(k.ec.(*ecdsa.PrivateKey)))
	ecParams := pemBytes("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
	bundle := append(append([]byte("leaf and intermediate, as a server sends them\n"), k.leaf.PEM()...), k.inter.PEM()...)

	tests := []struct {
		name string
		data []byte
		want []string // "PIN  LABEL" lines of `pin -v`
	}{
		{"certificate bundle in order", bundle, []string{
			k.leaf.Pin().String() + "  " + k.leaf.Cert.Subject.String(),
			k.inter.Pin().String() + "  " + k.inter.Cert.Subject.String()}},
		{"RSA certificate", k.root.PEM(), []string{k.root.Pin().String() + "  CN=pinwatchd test root,O=pinwatchd test"}},
		{"RSA PKCS#1 private key", pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), []string{rsaPin + "  RSA-2048 private key"}},
		{"RSA PKCS#8 private key", pemBytes("PRIVATE KEY", pkcs8DER(t, k.rsa)), []string{rsaPin + "  RSA-2048 private key"}},
		{"ECDSA SEC1 private key after EC PARAMETERS", append(ecParams, pemBytes("EC PRIVATE KEY", sec1)...), []string{ecPin + "  ECDSA P-256 private key"}},
		{"ECDSA PKCS#8 private key", pemBytes("PRIVATE KEY", pkcs8DER(t, k.ec)), []string{ecPin + "  ECDSA P-256 private key"}},
		{"Ed25519 PKCS#8 private key", pemBytes("PRIVATE KEY", pkcs8DER(t, k.ed)), []string{edPin + "  Ed25519 private key"}},
		{"RSA PKIX public key", pemBytes("PUBLIC KEY", pkixDER(t, k.rsa)), []string{rsaPin + "  RSA-2048 public key"}},
		{"ECDSA PKIX public key", pemBytes("PUBLIC KEY", pkixDER(t, k.ec)), []string{ecPin + "  ECDSA P-256 public key"}},
		{"Ed25519 PKIX public key", pemBytes("PUBLIC KEY", pkixDER(t, k.ed)), []string{edPin + "  Ed25519 public key"}},
		{"RSA PKCS#1 public key", pemBytes("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), []string{rsaPin + "  RSA-2048 public key"}},
		{"CSR", pemBytes("CERTIFICATE REQUEST", csrDER(t, k.ec, "csr.example")), []string{ecPin + "  CN=csr.example"}},
		{"old-style CSR", pemBytes("NEW CERTIFICATE REQUEST", csrDER(t, k.rsa, "old.example")), []string{rsaPin + "  CN=old.example"}},
		{"CSR with empty subject", pemBytes("CERTIFICATE REQUEST", csrDER(t, k.ed, "")), []string{edPin + "  Ed25519 CSR with an empty subject"}},
		{"key and certificate in one file", append(pemBytes("PRIVATE KEY", pkcs8DER(t, k.leaf.Key)), k.leaf.PEM()...), []string{
			k.leaf.Pin().String() + "  Ed25519 private key",
			k.leaf.Pin().String() + "  " + k.leaf.Cert.Subject.String()}},
		{"DER certificate", k.inter.Cert.Raw, []string{k.inter.Pin().String() + "  " + k.inter.Cert.Subject.String()}},
		{"DER certificate bundle", append(append([]byte{}, k.leaf.Cert.Raw...), k.root.Cert.Raw...), []string{
			k.leaf.Pin().String() + "  " + k.leaf.Cert.Subject.String(),
			k.root.Pin().String() + "  " + k.root.Cert.Subject.String()}},
		{"DER CSR", csrDER(t, k.rsa, "der.example"), []string{rsaPin + "  CN=der.example"}},
		{"DER PKIX public key", pkixDER(t, k.ed), []string{edPin + "  Ed25519 public key"}},
		{"DER PKCS#8 private key", pkcs8DER(t, k.ec), []string{ecPin + "  ECDSA P-256 private key"}},
		{"DER PKCS#1 private key", x509.MarshalPKCS1PrivateKey(rsaKey), []string{rsaPin + "  RSA-2048 private key"}},
		{"DER PKCS#1 public key", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey), []string{rsaPin + "  RSA-2048 public key"}},
		{"DER SEC1 private key", sec1, []string{ecPin + "  ECDSA P-256 private key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.Join(tt.want, "\n") + "\n"
			file := writeTemp(t, "input", tt.data)
			stdout, stderr, code := runCmd(t, "", nil, "pin", "-v", file)
			if code != exitOK || stdout != want {
				t.Errorf("pin -v FILE printed %q (exit %d, stderr %q), want %q", stdout, code, stderr, want)
			}
			stdout, stderr, code = runCmd(t, string(tt.data), nil, "pin", "-", "-v")
			if code != exitOK || stdout != want {
				t.Errorf("pin - -v (stdin) printed %q (exit %d, stderr %q), want %q", stdout, code, stderr, want)
			}
		})
	}
}

func TestPinSeveralFilesKeepOrder(t *testing.T) {
	k := newPinKeys(t)
	a := writeTemp(t, "a.pem", pemBytes("PUBLIC KEY", pkixDER(t, k.ec)))
	b := writeTemp(t, "b.pem", k.root.PEM())
	stdout, stderr, code := runCmd(t, string(pemBytes("PRIVATE KEY", pkcs8DER(t, k.ed))), nil, "pin", "--format=okhttp", b, "-", a)
	want := "sha256/" + k.root.Pin().String() + "\nsha256/" + testpki.KeyPin(t, k.ed).String() + "\nsha256/" + testpki.KeyPin(t, k.ec).String() + "\n"
	if code != exitOK || stdout != want {
		t.Errorf("printed %q (exit %d, stderr %q), want %q", stdout, code, stderr, want)
	}
}

func TestPinErrors(t *testing.T) {
	k := newPinKeys(t)
	good := writeTemp(t, "good.pem", k.leaf.PEM())
	crl := writeTemp(t, "crl.pem", append(k.leaf.PEM(), pemBytes("X509 CRL", []byte{0x30, 0x00})...))
	empty := writeTemp(t, "empty.pem", nil)
	text := writeTemp(t, "notes.txt", []byte("just some notes\n"))
	params := writeTemp(t, "params.pem", pemBytes("EC PARAMETERS", []byte{0x06, 0x03, 0x2b, 0x65, 0x70}))
	truncated := writeTemp(t, "truncated.pem", k.leaf.PEM()[:200])
	broken := writeTemp(t, "broken.pem", pemBytes("CERTIFICATE", []byte("not a certificate")))
	encrypted := writeTemp(t, "enc.pem", pemBytes("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}))
	missing := filepath.Join(t.TempDir(), "missing.pem")

	tests := []struct {
		name  string
		args  []string
		stdin string
		want  []string // substrings of stderr
	}{
		{"unknown format", []string{"--format", "jks", good}, "", []string{`unknown --format "jks"`, "base64, hpkp, okhttp, android, trustkit"}},
		{"no files", []string{"-v"}, "", []string{"pin needs at least one FILE"}},
		{"missing file", []string{missing}, "", []string{"read " + missing, "no such file"}},
		{"unsupported PEM block", []string{crl}, "", []string{crl + `: PEM block 2 has type "X509 CRL", which is not a certificate, public key, private key or CSR`}},
		{"empty file", []string{empty}, "", []string{empty + " holds no certificate, public key, private key or CSR"}},
		{"only EC parameters", []string{params}, "", []string{params + " holds no certificate"}},
		{"empty stdin", []string{"-"}, "", []string{"stdin holds no certificate"}},
		{"not a key", []string{text}, "", []string{text + ": not PEM, and not a DER certificate, CSR, public key or private key"}},
		{"truncated PEM", []string{truncated}, "", []string{truncated + ": truncated or malformed PEM block"}},
		{"broken certificate", []string{broken}, "", []string{broken + ": PEM block 1 (CERTIFICATE) does not parse: x509:"}},
		{"encrypted key", []string{encrypted}, "", []string{encrypted + ": PEM block 1 (ENCRYPTED PRIVATE KEY) is encrypted; decrypt it first"}},
		{"every bad file reported, nothing printed", []string{good, empty, text}, "", []string{empty + " holds", text + ": not PEM"}},
		{"unknown flag", []string{"--frobnicate", good}, "", []string{"frobnicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, tt.stdin, nil, append([]string{"pin"}, tt.args...)...)
			if code != exitError {
				t.Errorf("exit code = %d, want %d", code, exitError)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing on error", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, w)
				}
			}
		})
	}
}

// TestPinMatchesOpenSSL checks pin against the openssl pipelines it
// replaces.
func TestPinMatchesOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	const tail = " | openssl dgst -sha256 -binary | base64"
	pipelines := map[string]string{
		"cert": `openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der` + tail,
		"key":  `openssl pkey -in "$1" -pubout -outform der` + tail,
		"csr":  `openssl req -in "$1" -pubkey -noout | openssl pkey -pubin -outform der` + tail,
	}
	root := testpki.NewRoot(t, testpki.Options{})
	for _, kind := range []testpki.KeyKind{testpki.RSA2048, testpki.P256, testpki.P384, testpki.Ed25519} {
		key := testpki.NewKey(t, kind)
		leaf := root.Leaf(t, testpki.Options{Key: key})
		files := map[string][]byte{
			"cert": leaf.PEM(),
			"key":  pemBytes("PRIVATE KEY", pkcs8DER(t, key)),
			"csr":  pemBytes("CERTIFICATE REQUEST", csrDER(t, key, "openssl.example")),
		}
		switch k := key.(type) { // the pre-PKCS#8 forms openssl also reads
		case *rsa.PrivateKey:
			files["key-pkcs1"] = pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
		case *ecdsa.PrivateKey:
			files["key-sec1"] = pemBytes("EC PRIVATE KEY", mustDER(t)(x509.MarshalECPrivateKey(k)))
		}
		for what, data := range files {
			t.Run(string(kind)+" "+what, func(t *testing.T) {
				file := writeTemp(t, what+".pem", data)
				pipeline := pipelines[strings.SplitN(what, "-", 2)[0]]
				out, err := exec.CommandContext(t.Context(), "sh", "-c", pipeline, "sh", file).CombinedOutput()
				if err != nil {
					t.Fatalf("openssl pipeline: %v\n%s", err, out)
				}
				stdout, stderr, code := runCmd(t, "", nil, "pin", file)
				if code != exitOK || stdout != string(out) {
					t.Errorf("pin printed %q (exit %d, stderr %q), openssl %q", stdout, code, stderr, out)
				}
			})
		}
	}
}
