package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/terminal"
)

const pinUsage = "pin [--format base64|hpkp|okhttp|android|trustkit|tlsa] [-v] [--json] FILE…"

// pinFormats renders a key as one output line, by --format value.
var pinFormats = map[string]func(pinwatchd.PublicKey) string{
	"base64":   func(k pinwatchd.PublicKey) string { return k.Pin.String() },
	"hpkp":     func(k pinwatchd.PublicKey) string { return `pin-sha256="` + k.Pin.String() + `";` },
	"okhttp":   func(k pinwatchd.PublicKey) string { return "sha256/" + k.Pin.String() },
	"android":  func(k pinwatchd.PublicKey) string { return `<pin digest="SHA-256">` + k.Pin.String() + `</pin>` },
	"trustkit": func(k pinwatchd.PublicKey) string { return `"` + k.Pin.String() + `",` },
	"tlsa":     tlsaLine,
}

// pinFormatNames lists the --format values in the order the usage shows.
const pinFormatNames = "base64, hpkp, okhttp, android, trustkit, tlsa"

// tlsaLine is the TLSA record data of a key (SPEC §5): "3 1 1 HEX", DANE-EE,
// the SPKI's SHA-256 in lower-case hex (which is what the pin holds), or
// "2 1 1 HEX", DANE-TA, for the key of a CA certificate.
func tlsaLine(k pinwatchd.PublicKey) string {
	usage := "3"
	if k.CA {
		usage = "2"
	}
	return usage + " 1 1 " + hex.EncodeToString(k.Pin[:])
}

func runPin(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "pin", pinUsage)
	format := fs.String("format", "base64", "output format: "+pinFormatNames)
	verbose := fs.Bool("v", false, "append the certificate subject or the key type to each line")
	jsonOut := fs.Bool("json", false, "print JSON: every key with its file, pin, formatted line and label")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	render, ok := pinFormats[*format]
	if !ok {
		return fail(e.stderr, "unknown --format %q; valid formats are %s", *format, pinFormatNames)
	}
	if len(files) == 0 {
		return fail(e.stderr, "pin needs at least one FILE (a certificate, key or CSR; - for stdin)")
	}

	// Read everything before printing, so a bad file leaves no partial list
	// to be pasted into a pin-set.
	var keys []pinwatchd.PublicKey
	var doc pinsJSON
	failed := false
	for _, f := range files {
		ks, err := pinsOfFile(e, f)
		if err != nil {
			fail(e.stderr, "%v", err)
			failed = true
			continue
		}
		keys = append(keys, ks...)
		for _, k := range ks {
			doc.Keys = append(doc.Keys, pinJSON{File: f, Pin: k.Pin, Line: render(k), Label: k.Label})
		}
	}
	if failed {
		return exitError
	}
	if *jsonOut {
		if err := writeJSON(e.stdout, doc); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	var out strings.Builder
	for _, k := range keys {
		out.WriteString(render(k))
		if *verbose {
			out.WriteString("  " + terminal.Escape(k.Label))
		}
		out.WriteByte('\n')
	}
	io.WriteString(e.stdout, out.String())
	return exitOK
}

// pinsJSON is the document `pin --json` prints.
type pinsJSON struct {
	Keys []pinJSON `json:"keys"`
}

// pinJSON is one key: the file it came from ("-" for stdin), its pin, the
// line --format renders, and the certificate subject or key type.
type pinJSON struct {
	File  string        `json:"file"`
	Pin   pinwatchd.Pin `json:"pin"`
	Line  string        `json:"line"`
	Label string        `json:"label"`
}

// pinsOfFile reads one FILE argument ("-" is stdin) and returns the pins of
// every key in it, in order. The error names the file.
func pinsOfFile(e *env, name string) ([]pinwatchd.PublicKey, error) {
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
	keys, err := pinwatchd.ParsePublicKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no certificate, public key, private key or CSR", name)
	}
	return keys, nil
}
