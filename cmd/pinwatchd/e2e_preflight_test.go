package main

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// preflightDoc is the part of `preflight --json` the tests read.
type preflightDoc struct {
	Candidate struct {
		Keys []struct {
			Pin      string `json:"pin"`
			File     string `json:"file"`
			Position string `json:"position"`
			Assumed  bool   `json:"assumed"`
		} `json:"keys"`
	} `json:"candidate"`
	Targets []struct {
		Name     string `json:"name"`
		Verdicts []struct {
			Source     string     `json:"source"`
			Verdict    string     `json:"verdict"`
			Until      *time.Time `json:"until"`
			MatchedPin *string    `json:"matched_pin"`
			Position   *string    `json:"position"`
			Message    string     `json:"message"`
		} `json:"verdicts"`
		Warnings []struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"warnings"`
	} `json:"targets"`
	Exit int `json:"exit"`
}

// writePEM writes one PEM block to a file of dir and returns its path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
	return path
}

func keyPEM(t *testing.T, dir, name string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "PRIVATE KEY", der)
}

// preflight runs `pinwatchd preflight --json` and decodes its document.
func preflight(t *testing.T, wantCode int, args ...string) preflightDoc {
	t.Helper()
	stdout, stderr, code := cliRun(t, append([]string{"preflight", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("preflight %v exited %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout, stderr)
	}
	var doc preflightDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("preflight --json printed invalid JSON: %v\n%s", err, stdout)
	}
	if doc.Exit != wantCode || len(doc.Targets) == 0 {
		t.Errorf("document exit %d with %d targets, want exit %d and targets", doc.Exit, len(doc.Targets), wantCode)
	}
	return doc
}

// TestPreflight checks candidates against pin-sets, a recorded HPKP
// header and TLSA records, with a database filled by `check --record`
// against loopback servers (SPEC §13).
func TestPreflight(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	p := f.pki
	dir := t.TempDir()
	spare := testpki.KeyPin(t, p.Spare)

	web := f.serve(t, nil)
	hpkp := f.serve(t, map[string]string{"Public-Key-Pins": fmt.Sprintf(`max-age=864000; pin-sha256="%s"; pin-sha256="%s"`, p.Leaf.Pin(), spare)})
	mx1 := "mx1." + mailDomain
	current, next := f.mailLeaf(t, mx1), f.mailLeaf(t, mx1)
	mail := testpki.ServeMail(t, "smtp", testpki.Chain(current, p.Intermediate))
	port := portOf(t, mail.Addr)
	tlsaName := pinwatchd.TLSAName(mx1, port)
	dns := pinwatchdtest.NewDNS(t)
	dns.SetTLSA(tlsaName, true, daneEE(current))

	hp, err := config.ParseHostPort(mail.Addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Database = filepath.Join(f.dir, "pinwatchd.db")
	cfg.Timeout = config.Duration{Duration: 5 * time.Second}
	if err := cfg.Resolver.UnmarshalText([]byte(dns.Addr)); err != nil {
		t.Fatal(err)
	}
	cfg.PinSets = []config.PinSetConfig{{Name: "ios-app", Pins: []pinwatchd.Pin{p.Leaf.Pin(), spare}}}
	cfg.TargetConfigs = []config.TargetConfig{
		f.target(t, "api", web, func(tc *config.TargetConfig) { tc.PinSets = []string{"ios-app"} }),
		f.target(t, "cdn", web, withPins(p.Intermediate.Pin(), spare)),
		f.target(t, "legacy", hpkp),
		{Name: "mail", Host: mx1, Port: &port, Addresses: []config.HostPort{hp}, STARTTLS: "smtp", CAFile: f.caFile},
	}
	cfgPath := filepath.Join(f.dir, "config.toml")
	var b strings.Builder
	if err := config.Encode(&b, cfg); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, b.String())
	record := func() {
		t.Helper()
		if _, stderr, code := cliRun(t, "check", "--record", "--config", cfgPath); code == exitError {
			t.Fatalf("check --record could not run: %s", stderr)
		}
	}
	record()

	renewed := writePEM(t, dir, "renewed.pem", "CERTIFICATE", p.Intermediate.Leaf(t, testpki.Options{Key: p.Leaf.Key}).Cert.Raw)
	rekeyed := writePEM(t, dir, "rekeyed.pem", "CERTIFICATE", p.Intermediate.Leaf(t, testpki.Options{}).Cert.Raw)
	backup := writePEM(t, dir, "backup.pem", "CERTIFICATE", p.Intermediate.Leaf(t, testpki.Options{Key: p.Spare}).Cert.Raw)
	other := writePEM(t, dir, "other.pem", "CERTIFICATE", p.Intermediate.Leaf(t, testpki.Options{DNSNames: []string{"other.example"}}).Cert.Raw)
	newKey := testpki.NewKey(t, testpki.P256)
	keyFile := keyPEM(t, dir, "new.key", newKey)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "localhost"}}, newKey)
	if err != nil {
		t.Fatal(err)
	}
	csr := writePEM(t, dir, "new.csr", "CERTIFICATE REQUEST", csrDER)
	nextFile := writePEM(t, dir, "next.pem", "CERTIFICATE", next.Cert.Raw)
	c := "--config=" + cfgPath

	t.Run("leaf pin", func(t *testing.T) {
		doc := preflight(t, exitOK, c, "--target", "api", renewed)
		v := doc.Targets[0].Verdicts
		if len(v) != 1 || v[0].Source != "pinset ios-app" || v[0].Verdict != "ok" || deref(v[0].Position) != "leaf" || deref(v[0].MatchedPin) != p.Leaf.Pin().String() {
			t.Errorf("verdicts = %+v, want pinset ios-app ok on the leaf pin", v)
		}
		k := doc.Candidate.Keys
		if len(k) < 2 || k[0].Position != "leaf" || k[0].Assumed || k[1].Position != "intermediate 1" || !k[1].Assumed || k[1].Pin != p.Intermediate.Pin().String() {
			t.Errorf("candidate keys = %+v, want the leaf and the intermediate served now, assumed", k)
		}
	})
	t.Run("intermediate pin", func(t *testing.T) {
		stdout, stderr, code := cliRun(t, "preflight", c, "--target", "cdn", rekeyed)
		if code != exitOK || !strings.Contains(stdout, "[ok]") || !strings.Contains(stdout, "inline: ok — inline pins the intermediate 1") ||
			!strings.Contains(stdout, "assumed to stay") || !strings.Contains(stdout, "Safe to deploy now.") {
			t.Errorf("preflight exited %d:\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("backup key", func(t *testing.T) {
		stdout, _, code := cliRun(t, "preflight", c, "--target", "api", backup)
		if code != exitWarning || !strings.Contains(stdout, "no backup left") || !strings.Contains(stdout, "pinset ios-app: ok") {
			t.Errorf("preflight exited %d, want 1 with no backup left:\n%s", code, stdout)
		}
	})
	t.Run("unpinned key", func(t *testing.T) {
		doc := preflight(t, exitCritical, c, "--target", "api", rekeyed)
		v := doc.Targets[0].Verdicts
		if len(v) != 1 || v[0].Verdict != "breaks" || v[0].Until != nil || !strings.Contains(v[0].Message, "pinset ios-app") {
			t.Errorf("verdicts = %+v, want pinset ios-app breaks", v)
		}
		stdout, _, _ := cliRun(t, "preflight", c, "--target", "api", keyFile)
		if !strings.Contains(stdout, "[BREAKS]  pinset ios-app: breaks") {
			t.Errorf("human output of a key alone:\n%s", stdout)
		}
	})
	t.Run("HPKP header within max-age", func(t *testing.T) {
		before := time.Now().UTC()
		doc := preflight(t, exitWarning, c, "--target", "legacy", rekeyed)
		v := doc.Targets[0].Verdicts
		if len(v) != 1 || v[0].Source != "header" || v[0].Verdict != "breaks_until" || v[0].Until == nil {
			t.Fatalf("verdicts = %+v, want header breaks_until", v)
		}
		if want := before.Add(10 * 24 * time.Hour); v[0].Until.Before(want.Add(-time.Minute)) || v[0].Until.After(want.Add(time.Minute)) {
			t.Errorf("until %v, want last seen + max-age, about %v", v[0].Until, want)
		}
		stdout, _, _ := cliRun(t, "preflight", c, "--target", "legacy", rekeyed)
		if !strings.Contains(stdout, "breaks until "+v[0].Until.Format("2006-01-02")) {
			t.Errorf("human output does not print the date:\n%s", stdout)
		}
		preflight(t, exitOK, c, "--target", "legacy", renewed) // the pinned key, renewed
	})
	t.Run("TLSA", func(t *testing.T) {
		doc := preflight(t, exitCritical, c, "--target", "mail", nextFile)
		v := doc.Targets[0].Verdicts
		if len(v) != 1 || v[0].Source != "tlsa" || v[0].Verdict != "breaks" || !strings.Contains(v[0].Message, tlsaName) {
			t.Errorf("verdicts = %+v, want tlsa breaks", v)
		}
		dns.SetTLSA(tlsaName, true, daneEE(current), daneEE(next))
		doc = preflight(t, exitOK, c, "--target", "mail", nextFile)
		if v := doc.Targets[0].Verdicts; len(v) != 1 || v[0].Verdict != "ok" || deref(v[0].Position) != "leaf" {
			t.Errorf("verdicts = %+v, want tlsa ok on the leaf", v)
		}
		preflight(t, exitCritical, c, "--no-dns", "--target", "mail", nextFile) // the recorded RRset lacks it
		record()
		preflight(t, exitOK, c, "--no-dns", "--target", "mail", nextFile)
	})
	t.Run("CSR with --target", func(t *testing.T) {
		doc := preflight(t, exitOK, c, "--target", "cdn", csr)
		if v := doc.Targets[0].Verdicts; len(v) != 1 || v[0].Verdict != "ok" || deref(v[0].Position) != "intermediate 1" {
			t.Errorf("verdicts = %+v, want inline ok on the intermediate", v)
		}
	})
	t.Run("targets by name", func(t *testing.T) {
		doc := preflight(t, exitCritical, c, rekeyed)
		var names []string
		for _, x := range doc.Targets {
			names = append(names, x.Name)
		}
		if strings.Join(names, ",") != "api,cdn,legacy" {
			t.Errorf("targets %v, want the three whose host localhost the leaf covers", names)
		}
	})
	t.Run("does not cover the host", func(t *testing.T) {
		doc := preflight(t, exitWarning, c, "--target", "cdn", other)
		w := doc.Targets[0].Warnings
		if len(w) != 1 || w[0].Kind != "name_mismatch" || !strings.Contains(w[0].Message, "localhost") {
			t.Errorf("warnings = %+v, want name_mismatch", w)
		}
	})
	t.Run("could not run", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{keyFile}, "--target"},
			{[]string{"--target", "api", filepath.Join(dir, "missing.pem")}, "missing.pem"},
			{[]string{"--target", "nope", renewed}, `"nope"`},
			{[]string{other}, "other.example"},
		} {
			stdout, stderr, code := cliRun(t, append([]string{"preflight", c}, tc.args...)...)
			if code != exitError || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("preflight %v exited %d, want 3 naming %s\nstdout: %s\nstderr: %s", tc.args, code, tc.want, stdout, stderr)
			}
		}
	})
}
