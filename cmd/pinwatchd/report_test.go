package main

import (
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// TestReport records two rounds with `check --record` around a key
// rotation and writes the report: one self-contained file with a section
// per page and per target, linked by anchors.
func TestReport(t *testing.T) {
	f := newFleet(t)
	s := f.serve(t, hstsHeaders)
	expLeaf := f.pki.Intermediate.Leaf(t, testpki.Options{CommonName: "billing.example.test", DNSNames: []string{"localhost"},
		NotAfter: time.Now().Add(10 * 24 * time.Hour)})
	soon := testpki.Serve(t, testpki.Chain(expLeaf, f.pki.Intermediate), nil)
	spare := testpki.KeyPin(t, f.pki.Spare)
	cfg := f.config(t, f.target(t, "api", s, withPins(f.pki.Leaf.Pin(), spare)),
		f.target(t, "billing", soon, noHTTP, withPins(expLeaf.Pin(), spare)))
	db := filepath.Join(f.dir, "pinwatchd.db")
	if _, stderr, code := runCmd(t, "", nil, "check", "--config", cfg, "--record"); code != exitWarning {
		t.Fatalf("first check: exit %d: %s", code, stderr)
	}
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	s.SetCertificate(testpki.Chain(rotated, f.pki.Intermediate))
	if _, stderr, code := runCmd(t, "", nil, "check", "--config", cfg, "--record"); code != exitCritical {
		t.Fatalf("second check: exit %d: %s", code, stderr)
	}

	out := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code := runCmd(t, "", nil, "report", "--config", cfg, "--html", out)
	if code != exitOK || !strings.HasPrefix(stdout, "wrote "+out+": 2 targets, 0 open alerts, ") {
		t.Fatalf("report: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{
		`<section id="fleet">`, `<section id="alerts">`, `<section id="expiry">`,
		`<h1 id="target-api">api`, `<h1 id="target-billing">billing`,
		`<a href="#target-api">api</a>`, // the fleet links the target's section
		"billing.example.test",          // the expiring leaf, on the expiry timeline
		`no pin matches the chain (pin_mismatch)`,
		`<td class="ev-key_rotated">key rotated`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// api's pins no longer match: both are marked so.
	if n := strings.Count(doc, `<span class="mark nomatch">no match</span>`); n != 2 {
		t.Errorf("report marks %d pins as not matching, want api's 2", n)
	}
	if !strings.Contains(html.UnescapeString(doc), rotated.Pin().String()) {
		t.Errorf("report does not show the rotated leaf key %s", rotated.Pin())
	}
	// Self-contained: nothing is loaded from anywhere, every link stays in
	// the page.
	if m := regexp.MustCompile(`(?i)(src|href|action)="[^"#][^"]*"`).FindAllString(doc, -1); len(m) > 1 || len(m) == 1 && m[0] != `href="data:,"` {
		t.Errorf("report refers outside itself: %v", m)
	}
	if strings.Contains(doc, "<script") {
		t.Error("report contains a script")
	}

	// --json, --database and --since.
	stdout, stderr, code = runCmd(t, "", nil, "report", "--config", cfg, "--database", db, "--html", out, "--since", "2999-01-01", "--json")
	var sum struct {
		File    string `json:"file"`
		Targets int    `json:"targets"`
		Bytes   int64  `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != exitOK || sum.File != out || sum.Targets != 2 || sum.Bytes == 0 {
		t.Fatalf("report --json: exit %d, %q (%v), stderr %q", code, stdout, err, stderr)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "No history since 2999-01-01") {
		t.Error("report --since 2999-01-01 still shows history")
	}
}

func TestReportErrors(t *testing.T) {
	f := newFleet(t)
	s := f.serve(t, nil)
	cfg := f.config(t, f.target(t, "api", s))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--config", cfg}, "report needs --html FILE"},
		{[]string{"report", "--config", cfg, "--html", filepath.Join(f.dir, "r.html")}, "does not exist yet"},
		{[]string{"report", "--config", cfg, "--html", "x.html", "--since", "soon"}, `--since "soon" is neither`},
		{[]string{"report", "--config", filepath.Join(f.dir, "none.toml"), "--html", "x.html"}, "none.toml"},
		{[]string{"report", "--config", cfg, "extra"}, `report takes no arguments, got "extra"`},
	} {
		_, stderr, code := runCmd(t, "", nil, tc.args...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 3 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(f.dir, "r.html")); err == nil {
		t.Error("a failed report left a file behind")
	}
}
