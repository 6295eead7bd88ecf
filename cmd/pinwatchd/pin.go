package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

const pinUsage = "pin [--format base64|hpkp|okhttp|android|trustkit] [-v] FILE…"

func init() {
	register(command{name: "pin", usage: "pin [flags] FILE…", summary: "print the pins of certificates, keys and CSRs", run: runPin})
}

// pinFormats renders a pin as one output line, by --format value.
var pinFormats = map[string]func(string) string{
	"base64":   func(p string) string { return p },
	"hpkp":     func(p string) string { return `pin-sha256="` + p + `";` },
	"okhttp":   func(p string) string { return "sha256/" + p },
	"android":  func(p string) string { return `<pin digest="SHA-256">` + p + `</pin>` },
	"trustkit": func(p string) string { return `"` + p + `",` },
}

// pinFormatNames lists the --format values in the order the usage shows.
const pinFormatNames = "base64, hpkp, okhttp, android, trustkit"

// pinnedKey is one public key found in an input, with what -v prints.
type pinnedKey struct {
	pin   pinwatchd.Pin
	label string // certificate subject, or key type and kind
}

func runPin(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "pin", pinUsage)
	format := fs.String("format", "base64", "output format: "+pinFormatNames)
	verbose := fs.Bool("v", false, "append the certificate subject or the key type to each line")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	render, ok := pinFormats[*format]
	if !ok {
		return usageError(e.stderr, "unknown --format %q; valid formats are %s", *format, pinFormatNames)
	}
	if len(files) == 0 {
		return usageError(e.stderr, "pin needs at least one FILE (a certificate, key or CSR; - for stdin)")
	}

	// Read everything before printing, so a bad file leaves no partial list
	// to be pasted into a pin-set.
	var keys []pinnedKey
	failed := false
	for _, f := range files {
		ks, err := pinsOfFile(e, f)
		if err != nil {
			usageError(e.stderr, "%v", err)
			failed = true
			continue
		}
		keys = append(keys, ks...)
	}
	if failed {
		return exitError
	}
	var out strings.Builder
	for _, k := range keys {
		out.WriteString(render(k.pin.String()))
		if *verbose {
			out.WriteString("  " + k.label)
		}
		out.WriteByte('\n')
	}
	io.WriteString(e.stdout, out.String())
	return exitOK
}

// pinsOfFile reads one FILE argument ("-" is stdin) and returns the pins of
// every key in it, in order. The error names the file.
func pinsOfFile(e *env, name string) ([]pinnedKey, error) {
	var (
		data []byte
		err  error
	)
	if name == "-" {
		data, err = io.ReadAll(e.stdin)
		name = "stdin"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	keys, err := pinsOfData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no certificate, public key, private key or CSR", name)
	}
	return keys, nil
}

var pemStart = []byte("-----BEGIN ")

// pinsOfData returns the pins of every key in PEM data (all blocks, in
// order) or in one DER structure.
func pinsOfData(data []byte) ([]pinnedKey, error) {
	if !bytes.Contains(data, pemStart) {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil
		}
		return pinsOfDER(data)
	}
	var keys []pinnedKey
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		ks, err := pinsOfPEMBlock(block)
		switch {
		case errors.Is(err, errUnsupported):
			return nil, fmt.Errorf("PEM block %d has type %q, which is not a certificate, public key, private key or CSR", n, block.Type)
		case errors.Is(err, errEncrypted):
			return nil, fmt.Errorf("PEM block %d (%s) is encrypted; decrypt it first (openssl pkey -in FILE)", n, block.Type)
		case err != nil:
			return nil, fmt.Errorf("PEM block %d (%s) does not parse: %w", n, block.Type, err)
		}
		keys = append(keys, ks...)
	}
	if bytes.Contains(rest, pemStart) {
		return nil, errors.New("truncated or malformed PEM block")
	}
	return keys, nil
}

// Conditions of a PEM block that pinsOfPEMBlock cannot use.
var (
	errUnsupported = errors.New("unsupported PEM block type")
	errEncrypted   = errors.New("encrypted PEM block")
)

func pinsOfPEMBlock(b *pem.Block) ([]pinnedKey, error) {
	if _, encrypted := b.Headers["Proc-Type"]; encrypted || b.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errEncrypted
	}
	switch b.Type {
	case "CERTIFICATE":
		return pinsOfCerts(x509.ParseCertificates(b.Bytes))
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		return pinOfCSR(x509.ParseCertificateRequest(b.Bytes))
	case "PUBLIC KEY":
		return pinOfPublic(x509.ParsePKIXPublicKey(b.Bytes))
	case "RSA PUBLIC KEY":
		return pinOfPublic(x509.ParsePKCS1PublicKey(b.Bytes))
	case "PRIVATE KEY":
		return pinOfPrivate(x509.ParsePKCS8PrivateKey(b.Bytes))
	case "RSA PRIVATE KEY":
		return pinOfPrivate(x509.ParsePKCS1PrivateKey(b.Bytes))
	case "EC PRIVATE KEY":
		return pinOfPrivate(x509.ParseECPrivateKey(b.Bytes))
	case "EC PARAMETERS":
		// `openssl ecparam -genkey` writes the curve before the key.
		return nil, nil
	}
	return nil, errUnsupported
}

// pinsOfDER tries each structure a DER file may hold, in turn.
func pinsOfDER(der []byte) ([]pinnedKey, error) {
	if certs, err := x509.ParseCertificates(der); err == nil && len(certs) > 0 {
		return pinsOfCerts(certs, nil)
	}
	if csr, err := x509.ParseCertificateRequest(der); err == nil {
		return pinOfCSR(csr, nil)
	}
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		return pinOfPublic(pub, nil)
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return pinOfPrivate(k, nil)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return pinOfPrivate(k, nil)
	}
	if pub, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return pinOfPublic(pub, nil)
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return pinOfPrivate(k, nil)
	}
	return nil, errors.New("not PEM, and not a DER certificate, CSR, public key or private key")
}

func pinsOfCerts(certs []*x509.Certificate, err error) ([]pinnedKey, error) {
	if err != nil {
		return nil, err
	}
	keys := make([]pinnedKey, 0, len(certs))
	for _, c := range certs {
		keys = append(keys, pinnedKey{pin: pinwatchd.PinOf(c.RawSubjectPublicKeyInfo), label: subjectLabel(c.Subject.String(), c.PublicKey, "certificate")})
	}
	return keys, nil
}

func pinOfCSR(csr *x509.CertificateRequest, err error) ([]pinnedKey, error) {
	if err != nil {
		return nil, err
	}
	return []pinnedKey{{pin: pinwatchd.PinOf(csr.RawSubjectPublicKeyInfo), label: subjectLabel(csr.Subject.String(), csr.PublicKey, "CSR")}}, nil
}

// subjectLabel is the -v text of a certificate or CSR: its subject, or the
// key type when the subject is empty.
func subjectLabel(subject string, pub any, what string) string {
	if subject != "" {
		return subject
	}
	return pinwatchd.KeyType(pub) + " " + what + " with an empty subject"
}

func pinOfPublic(pub any, err error) ([]pinnedKey, error) {
	if err != nil {
		return nil, err
	}
	return keyPin(pub, "public key")
}

func pinOfPrivate(priv any, err error) ([]pinnedKey, error) {
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(interface{ Public() crypto.PublicKey })
	if !ok {
		return nil, fmt.Errorf("private key of type %T has no public half", priv)
	}
	return keyPin(signer.Public(), "private key")
}

// keyPin pins a public key by its canonical DER SubjectPublicKeyInfo, the
// bytes a certificate for it would carry.
func keyPin(pub any, what string) ([]pinnedKey, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return []pinnedKey{{pin: pinwatchd.PinOf(spki), label: pinwatchd.KeyType(pub) + " " + what}}, nil
}
