package web_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/web"
)

func TestWriteReport(t *testing.T) {
	f := newFixture(t)
	var b bytes.Buffer
	sum, err := web.WriteReport(t.Context(), &b, f.options(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if sum.Targets != 7 || sum.OpenAlerts != 5 || sum.Bytes != int64(b.Len()) {
		t.Errorf("summary = %+v (wrote %d bytes)", sum, b.Len())
	}
	// One section per page, then the targets in fleet order, each linked
	// from the fleet table by an anchor.
	var order []string
	for _, m := range regexp.MustCompile(`<h1 id="target-([a-z]+)">`).FindAllStringSubmatch(doc, -1) {
		order = append(order, m[1])
	}
	if strings.Join(order, " ") != "drifted billing hostile legacy down api unprobed" {
		t.Errorf("target sections in order %v", order)
	}
	for _, want := range []string{`<section id="fleet">`, `<section id="alerts">`, `<section id="expiry">`,
		`<tr class=s-critical><td><a href="#target-drifted">drifted</a>`, "billing.example.test"} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(doc, `<form`) || strings.Contains(doc, `href="/`) {
		t.Error("the report has a form or a link to the dashboard's paths; it must stand alone")
	}
	if strings.Count(doc, "<style>") != 1 || strings.Count(doc, "<html") != 1 {
		t.Error("the report is not one document with one stylesheet")
	}

	b.Reset()
	if _, err := web.WriteReport(t.Context(), &b, f.options(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `<td class="ev-key_rotated">`) || !strings.Contains(b.String(), "No history since") {
		t.Error("history before --since is in the report")
	}
}

func TestWriteReportFile(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := web.WriteReportFile(t.Context(), path, f.options(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != sum.Bytes || st.Mode().Perm() != 0o644 {
		t.Errorf("report file: %v, %v; want %d bytes, mode 0644", st, err, sum.Bytes)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the report alone", len(entries))
	}
	missing := filepath.Join(dir, "no-such-dir", "r.html")
	if _, err := web.WriteReportFile(t.Context(), missing, f.options(), time.Time{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("WriteReportFile into a missing directory: %v, want an error naming %s", err, missing)
	}
}
