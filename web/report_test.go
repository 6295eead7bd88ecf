package web_test

import (
	"bytes"
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
