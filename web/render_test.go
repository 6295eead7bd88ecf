package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLinks(t *testing.T) {
	page, report := links{}, links{report: true}
	for _, tc := range []struct{ name, path, anchor string }{
		{"api", "/target/api", "#target-api"},
		{"mail/mx1.example.com", "/target/mail%2Fmx1.example.com", "#target-mail_2Fmx1_2Eexample_2Ecom"},
		{"a b_c", "/target/a%20b_c", "#target-a_20b_5Fc"},
	} {
		if got := page.Target(tc.name); got != tc.path {
			t.Errorf("Target(%q) = %s, want %s", tc.name, got, tc.path)
		}
		if got := report.Target(tc.name); got != tc.anchor {
			t.Errorf("report Target(%q) = %s, want %s", tc.name, got, tc.anchor)
		}
	}
	if page.Fleet() != "/" || report.Fleet() != "#fleet" || page.Alerts() != "/alerts" || report.Expiry() != "#expiry" {
		t.Error("page links")
	}
}

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                  false,
		"*/*":                               false, // curl
		"application/json":                  true,
		"application/json, text/plain, */*": true,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": false, // a browser
		"text/html;q=0.5, application/json":                               true,
		"application/json;q=0.5, text/html":                               false,
		"application/json;q=0":                                            false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsJSON(r); got != want {
			t.Errorf("Accept %q: JSON %v, want %v", accept, got, want)
		}
	}
}

func TestWords(t *testing.T) {
	for d, want := range map[int]string{89: "89 days left", 1: "1 day left", 0: "less than a day left", -1: "expired 1 day ago", -4: "expired 4 days ago"} {
		if got := daysWords(d); got != want {
			t.Errorf("daysWords(%d) = %q, want %q", d, got, want)
		}
	}
	sha := strings.Repeat("ab", 32)
	if got := shortDigest(sha); got != "sha256:abababababababab…" {
		t.Errorf("shortDigest(sha) = %q", got)
	}
	if got := shortDigest("127.0.0.1:443"); got != "127.0.0.1:443" {
		t.Errorf("shortDigest(address) = %q", got)
	}
	at := time.Date(2026, 12, 2, 5, 48, 30, 0, time.FixedZone("X", 3600))
	if formatDate(at) != "2026-12-02" || formatDateTime(&at) != "2026-12-02 04:48 UTC" || formatDate((*time.Time)(nil)) != "" {
		t.Errorf("formatDate/formatDateTime: %q %q", formatDate(at), formatDateTime(&at))
	}
}

func TestStyleHash(t *testing.T) {
	// The policy allows the embedded stylesheet by its hash: the page must
	// carry it byte for byte.
	var b strings.Builder
	if err := render(&b, "page", page{Title: "t", Nav: "error", Body: "x", CSS: pageCSS()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<style>"+styleCSS+"</style>") {
		t.Error("the page's <style> differs from the embedded stylesheet, so the policy's hash would block it")
	}
	if !strings.HasPrefix(styleHash, "'sha256-") || !strings.Contains(contentSecurityPolicy, styleHash) {
		t.Errorf("policy %q", contentSecurityPolicy)
	}
}
