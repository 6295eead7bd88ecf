package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/web"
)

// get requests path from h with the Accept header and returns the status,
// the content type and the body.
func get(t *testing.T, h http.Handler, path, accept string) (int, string, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// browserAccept is what Chromium sends for a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// fleetRowRE matches a row of the fleet table: its status class and target.
var fleetRowRE = regexp.MustCompile(`<tr class=s-([a-z_]+)><td><a href="/target/([^"]+)">`)

func TestPages(t *testing.T) {
	f := newFixture(t)
	h := web.NewHandler(f.options())

	t.Run("fleet", func(t *testing.T) {
		code, ctype, body := get(t, h, "/", browserAccept)
		if code != http.StatusOK || ctype != "text/html; charset=utf-8" {
			t.Fatalf("GET / = %d %s", code, ctype)
		}
		var got []string
		for _, m := range fleetRowRE.FindAllStringSubmatch(body, -1) {
			got = append(got, m[2]+":"+m[1])
		}
		// Worst open severity, then fewest days left (billing's 20 days,
		// then the 90 days of the others by name, then down, which never
		// served a chain), then name.
		want := "drifted:critical billing:warning hostile:warning legacy:warning down:warning api:ok unprobed:not_probed"
		if strings.Join(got, " ") != want {
			t.Errorf("fleet rows:\n got %s\nwant %s", strings.Join(got, " "), want)
		}
		row := func(name string) string {
			i := strings.Index(body, `<a href="/target/`+name+`">`)
			if i < 0 {
				t.Fatalf("no row for %s", name)
			}
			return body[i : i+strings.Index(body[i:], "\n")]
		}
		if r := row("drifted"); !strings.Contains(r, "CRITICAL") || !strings.Contains(r, `<span class="critical">✗ inline</span>`) || !strings.Contains(r, "pin_mismatch") {
			t.Errorf("drifted row: %s", r)
		}
		if r := row("legacy"); !strings.Contains(r, `<span class="warning">! inline</span>`) {
			t.Errorf("legacy row (no backup pin): %s", r)
		}
		if r := row("api"); !strings.Contains(r, `<td><span>✓ mobile-app</span><span>✓ header</span><td>`) {
			t.Errorf("api row: %s", r)
		}
		if r := row("billing"); !regexp.MustCompile(`<td class="warning">(19|20)<td class="warning">`).MatchString(r) {
			t.Errorf("billing row, want 19 or 20 days left in the warning window: %s", r)
		}
		if r := row("down"); !strings.Contains(r, "connect_failed") {
			t.Errorf("down row: %s", r)
		}
	})

	t.Run("fleet filter", func(t *testing.T) {
		for _, tc := range []struct{ query, want string }{
			{"?q=BILL", "billing"},
			{"?status=warning", "billing hostile legacy down"},
			{"?status=warning&q=e", "hostile legacy"},
			{"?q=localhost", "drifted billing hostile legacy down api unprobed"}, // the host matches too
			{"?q=nothing", ""},
		} {
			_, _, body := get(t, h, "/"+tc.query, "")
			var got []string
			for _, m := range fleetRowRE.FindAllStringSubmatch(body, -1) {
				got = append(got, m[2])
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("GET /%s shows %q, want %q", tc.query, got, tc.want)
			}
		}
		if code, _, body := get(t, h, "/?status=bad", ""); code != http.StatusBadRequest || !strings.Contains(body, "The status filter &#34;bad&#34; is none of") {
			t.Errorf("GET /?status=bad = %d:\n%s", code, body)
		}
		if _, _, body := get(t, h, "/?q=%22%3E%3Cscript%3E", ""); strings.Contains(body, `"><script>`) {
			t.Error("the filter text is written back unescaped")
		}
	})

	t.Run("target drifted", func(t *testing.T) {
		code, _, body := get(t, h, "/target/drifted", browserAccept)
		if code != http.StatusOK {
			t.Fatalf("GET /target/drifted = %d", code)
		}
		text := html.UnescapeString(body)
		pinset := text[strings.Index(text, `<div class="pinset`):]
		pinset = pinset[:strings.Index(pinset, "</div>")]
		for _, want := range []string{
			`<div class="pinset critical"><p><b>inline</b>: <span class="critical">no pin matches the chain (pin_mismatch)</span>`,
			"<code>" + f.oldLeafPin.String() + `</code><span class="mark nomatch">no match</span>`,
			"<code>" + f.spare.String() + `</code><span class="mark nomatch">no match</span>`,
		} {
			if !strings.Contains(pinset, want) {
				t.Errorf("drifted's pin-set lacks %q:\n%s", want, pinset)
			}
		}
		if !strings.Contains(text, "<td>leaf<td><div>CN=localhost") || !strings.Contains(text, "<code>"+f.newLeafPin.String()+"</code>") {
			t.Error("drifted's chain does not show the rotated leaf key")
		}
		if !strings.Contains(text, `<g class="m key_rotated"><title>`) || !strings.Contains(text, "key rotated, leaf key "+f.oldLeafPin.String()+" → "+f.newLeafPin.String()) {
			t.Error("drifted's history timeline lacks the key rotation")
		}
		if !strings.Contains(text, "<code>pin_mismatch</code>") {
			t.Error("drifted's open alerts lack pin_mismatch")
		}
	})

	t.Run("target history since", func(t *testing.T) {
		_, _, body := get(t, h, "/target/drifted?since=2999-01-01", "")
		if strings.Contains(body, `<g class="m key_rotated">`) || !strings.Contains(body, "No history since 2999-01-01.") {
			t.Error("?since=2999-01-01 still shows the key rotation")
		}
		if code, _, body := get(t, h, "/target/drifted?since=lately", ""); code != http.StatusBadRequest || !strings.Contains(body, "since &#34;lately&#34; is neither") {
			t.Errorf("?since=lately = %d:\n%s", code, body)
		}
	})

	t.Run("target api pins", func(t *testing.T) {
		_, _, body := get(t, h, "/target/api", "")
		marks := regexp.MustCompile(`<span class="mark [a-z]+">([^<]+)</span>`).FindAllStringSubmatch(body, -1)
		var got []string
		for _, m := range marks {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != "leaf,backup,leaf,backup" {
			t.Errorf("api's pin marks = %v, want leaf and backup for mobile-app and for the header", got)
		}
		if !strings.Contains(body, `max-age 600 s`) || !strings.Contains(body, "max-age=31536000</code> <span class=\"ok\">valid</span>") {
			t.Error("api's headers are not shown")
		}
	})

	t.Run("unknown target", func(t *testing.T) {
		code, _, body := get(t, h, "/target/nope", browserAccept)
		if code != http.StatusNotFound || !strings.Contains(body, "No target named &#34;nope&#34; is configured.") {
			t.Errorf("GET /target/nope = %d:\n%s", code, body)
		}
		code, ctype, body := get(t, h, "/target/nope", "application/json")
		var doc struct{ Error string }
		if err := json.Unmarshal([]byte(body), &doc); code != http.StatusNotFound || ctype != "application/json" || err != nil || doc.Error == "" {
			t.Errorf("GET /target/nope as JSON = %d %s %q", code, ctype, body)
		}
		for _, p := range []string{"/nope", "/target/", "/alerts/x"} {
			if code, _, _ := get(t, h, p, ""); code != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", p, code)
			}
		}
	})

	t.Run("read-only", func(t *testing.T) {
		for _, p := range []string{"/", "/alerts", "/target/api"} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, p, strings.NewReader("x=1")))
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("POST %s = %d, want 405", p, w.Code)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodHead, "/alerts", nil))
		if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
			t.Errorf("HEAD /alerts = %d with %d bytes", w.Code, w.Body.Len())
		}
	})

	t.Run("expiry", func(t *testing.T) {
		_, _, body := get(t, h, "/expiry", "")
		// The expiring leaf is the first lane of the chart, its mark in the
		// warning window.
		lane := regexp.MustCompile(`<text class="lane"[^>]*><title>[^<]*</title>([^<]*)</text>`).FindStringSubmatch(body)
		mark := regexp.MustCompile(`<g class="m ([a-z]+)">`).FindStringSubmatch(body)
		if lane == nil || lane[1] != "billing: billing.example.test (leaf)" || mark == nil || mark[1] != "warning" {
			t.Errorf("first expiry lane %q with mark %q, want billing.example.test in the warning window", lane, mark)
		}
		if !strings.Contains(body, `<rect class="band critical"`) || !strings.Contains(body, `<rect class="band warning"`) {
			t.Error("the expiry chart lacks the critical and warning windows")
		}
		if !strings.Contains(body, `<g class="m ok"><title>`) || !strings.Contains(body, "api: pin-set mobile-app</title><polygon") {
			t.Error("the expiry chart lacks the pin-set mobile-app")
		}
	})

	t.Run("alerts", func(t *testing.T) {
		_, _, body := get(t, h, "/alerts", "")
		open := body[strings.Index(body, `id="open"`):strings.Index(body, `id="resolved"`)]
		for _, want := range []string{"pin_mismatch", "cert_expiring", "missing_backup_pin", "connect_failed", "header_malformed"} {
			if !strings.Contains(open, "<code>"+want+"</code>") {
				t.Errorf("open alerts lack %s", want)
			}
		}
		if i, j := strings.Index(open, "pin_mismatch"), strings.Index(open, "cert_expiring"); i > j {
			t.Error("the critical alert is not listed first")
		}
		if !strings.Contains(body, "waiting to be delivered") {
			t.Error("the notification backlog is not shown (nothing delivers in this test)")
		}
	})

	t.Run("hostile text is escaped", func(t *testing.T) {
		for _, p := range []string{"/", "/target/hostile", "/alerts", "/expiry"} {
			_, _, body := get(t, h, p, "")
			if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
				t.Errorf("%s writes certificate or header text unescaped", p)
			}
		}
		_, _, body := get(t, h, "/target/hostile", "")
		if !strings.Contains(body, `\&lt;script\&gt;alert(\&#34;cn\&#34;)\&lt;/script\&gt;`) || !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Error("the hostile subject and header are not shown (escaped)")
		}
	})

	t.Run("headers", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "script-src") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Vary") != "Accept" {
			t.Errorf("headers = %v", w.Header())
		}
		if m := regexp.MustCompile(`(src|href|action)="(https?:)?//`).FindString(w.Body.String()); m != "" {
			t.Errorf("the page refers to another origin: %s", m)
		}
	})
}

func TestPagesJSON(t *testing.T) {
	f := newFixture(t)
	h := web.NewHandler(f.options())
	decode := func(path string, v any) {
		t.Helper()
		code, ctype, body := get(t, h, path, "application/json")
		if code != http.StatusOK || ctype != "application/json" {
			t.Fatalf("GET %s as JSON = %d %s", path, code, ctype)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}

	var fleet struct {
		Counts  map[string]int `json:"counts"`
		Targets []struct {
			Name     string `json:"name"`
			Status   string `json:"status"`
			DaysLeft *int   `json:"days_left"`
			PinSets  []struct {
				Name            string
				Matched, Backup bool
			} `json:"pinsets"`
			Failing []string `json:"failing"`
		} `json:"targets"`
	}
	decode("/", &fleet)
	if len(fleet.Targets) != 7 || fleet.Targets[0].Name != "drifted" || fleet.Targets[0].Status != "critical" ||
		len(fleet.Targets[0].PinSets) != 1 || fleet.Targets[0].PinSets[0].Matched {
		t.Errorf("fleet JSON = %+v", fleet.Targets)
	}
	if fleet.Counts["critical"] != 1 || fleet.Counts["warning"] != 4 || fleet.Counts["ok"] != 1 || fleet.Counts["not_probed"] != 1 {
		t.Errorf("fleet counts = %v", fleet.Counts)
	}

	var target struct {
		Name      string `json:"name"`
		Addresses []struct {
			Chain []struct {
				Position string `json:"position"`
				Pin      string `json:"pin_sha256"`
				Served   bool   `json:"served"`
			} `json:"chain"`
			PinSets []struct {
				Name    string `json:"name"`
				Matched bool   `json:"matched"`
				Pins    []struct {
					Pin     string `json:"pin"`
					Matches string `json:"matches"`
					Backup  bool   `json:"backup"`
				} `json:"pins"`
			} `json:"pinsets"`
		} `json:"addresses"`
		History []struct {
			Event string  `json:"event"`
			Class *string `json:"class"`
		} `json:"history"`
	}
	decode("/target/drifted", &target)
	if len(target.Addresses) != 1 || len(target.Addresses[0].Chain) != 3 || target.Addresses[0].Chain[0].Pin != f.newLeafPin.String() ||
		target.Addresses[0].Chain[2].Position != "root" || target.Addresses[0].Chain[2].Served {
		t.Fatalf("drifted JSON addresses = %+v", target.Addresses)
	}
	ps := target.Addresses[0].PinSets
	if len(ps) != 1 || ps[0].Matched || len(ps[0].Pins) != 2 || ps[0].Pins[0].Pin != f.oldLeafPin.String() || ps[0].Pins[0].Matches != "" || ps[0].Pins[0].Backup {
		t.Errorf("drifted JSON pin-sets = %+v", ps)
	}
	if len(target.History) != 2 || target.History[1].Event != "chain_changed" || target.History[1].Class == nil || *target.History[1].Class != "key_rotated" {
		t.Errorf("drifted JSON history = %+v", target.History)
	}

	var alerts struct {
		Open []struct {
			Target, Kind, Severity string
		} `json:"open"`
		Resolved []any `json:"resolved"`
		Pending  int   `json:"notifications_pending"`
	}
	decode("/alerts", &alerts)
	if len(alerts.Open) != 5 || alerts.Open[0].Target != "drifted" || alerts.Open[0].Kind != "pin_mismatch" || alerts.Open[0].Severity != "critical" || alerts.Pending == 0 {
		t.Errorf("alerts JSON = %+v", alerts)
	}

	var expiry struct {
		Items []struct {
			Kind, Label, Level string
			DaysLeft           int      `json:"days_left"`
			SHA256             string   `json:"sha256"`
			Targets            []string `json:"targets"`
		} `json:"items"`
		Later int `json:"later"`
	}
	decode("/expiry", &expiry)
	if len(expiry.Items) == 0 || expiry.Items[0].Label != "billing.example.test" || expiry.Items[0].Level != "warning" ||
		expiry.Items[0].DaysLeft < 19 || expiry.Items[0].DaysLeft > 20 || strings.Join(expiry.Items[0].Targets, ",") != "billing" {
		t.Errorf("expiry JSON = %+v", expiry.Items)
	}
	if expiry.Later != 2 { // the shared intermediate and root, years away
		t.Errorf("expiry JSON later = %d, want 2", expiry.Later)
	}
}

// TestDatabaseError checks that a database that cannot be read is a 500
// with one sentence, and its error goes to the log, not to the page.
func TestDatabaseError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pinwatchd.db")
	db, err := storage.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var logs bytes.Buffer
	h := web.NewHandler(web.Options{Store: db, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Fleet: func() web.Fleet { return web.Fleet{Targets: []pinwatchd.Target{{Name: "api"}}} }})
	for _, p := range []string{"/", "/target/api", "/alerts", "/expiry"} {
		code, _, body := get(t, h, p, "")
		if code != http.StatusInternalServerError || !strings.Contains(body, "The database could not be read") || strings.Contains(body, path) {
			t.Errorf("GET %s on a closed database = %d:\n%s", p, code, body)
		}
	}
	if !strings.Contains(logs.String(), "database is closed") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
}
