package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

//go:embed assets/style.css
var styleCSS string

// styleHash is the Content-Security-Policy source of the embedded
// stylesheet: the pages allow that one inline style and nothing else.
var styleHash = func() string {
	sum := sha256.Sum256([]byte(styleCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// contentSecurityPolicy forbids every script, every resource from anywhere
// (the favicon is a data: URL) and any style but the embedded one.
var contentSecurityPolicy = "default-src 'none'; style-src " + styleHash +
	"; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// templates are parsed on first use, not when the package initialises:
// every command of the binary links the dashboard, and parsing was its
// largest start-up cost (0.8 ms of a `check` run).
var templates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("pages").Funcs(template.FuncMap{
		"date":       formatDate,
		"datetime":   formatDateTime,
		"shorttime":  func(t any) string { return formatTime(t, "2006-01-02 15:04") },
		"days":       daysWords,
		"join":       strings.Join,
		"statuses":   func() []string { return statuses },
		"statusWord": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"markClass":  markClass,
		"deref":      deref,
		"short":      shortDigest,
		"tlsaUsage":  tlsaUsage,
		"tlsaSel":    tlsaSelector,
		"tlsaMatch":  tlsaMatching,
		"abbrev":     abbrevData,
		"alertTable": func(l links, alerts []AlertView, resolved bool) alertTable {
			return alertTable{L: l, Alerts: alerts, Resolved: resolved}
		},
	}).ParseFS(templateFS, "templates/*.tmpl"))
})

// pageCSS is the embedded stylesheet, for the page's <style> element.
func pageCSS() template.CSS { return template.CSS(styleCSS) }

// page is what the "page" template renders: one page of the dashboard, or
// one section of the report.
type page struct {
	Title     string
	Nav       string // fleet, target, alerts, expiry; anything else is an error page
	L         links
	Report    bool
	CSS       template.CSS // the embedded stylesheet, never data
	Generated time.Time
	Body      any // *FleetPage, *TargetPage, *AlertsPage, *ExpiryPage, or an error sentence
}

// alertTable is the data of the "alerttable" template.
type alertTable struct {
	L        links
	Alerts   []AlertView
	Resolved bool
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes the template name with data into w.
func render(w io.Writer, name string, data any) error {
	if err := templates().ExecuteTemplate(w, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}

// links are the addresses the pages link to: paths of the dashboard, or
// anchors inside the one-file report.
type links struct{ report bool }

// Fleet links the fleet page.
func (l links) Fleet() string { return l.pick("/", "#fleet") }

// Alerts links the alerts page.
func (l links) Alerts() string { return l.pick("/alerts", "#alerts") }

// Expiry links the expiry page.
func (l links) Expiry() string { return l.pick("/expiry", "#expiry") }

// Target links the page of target name.
func (l links) Target(name string) string {
	if l.report {
		return "#" + l.TargetID(name)
	}
	return "/target/" + url.PathEscape(name)
}

// TargetID is the id of a target's heading: "target-" and the name with
// every byte but letters, digits and '-' written as _XX.
func (l links) TargetID(name string) string {
	var b strings.Builder
	b.WriteString("target-")
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	return b.String()
}

func (l links) pick(path, anchor string) string {
	if l.report {
		return anchor
	}
	return path
}

// formatDate writes a date as 2006-01-02 (UTC); it takes a time or a
// pointer to one (nil writes nothing).
func formatDate(t any) string { return formatTime(t, "2006-01-02") }

// formatDateTime writes a time to the minute, UTC.
func formatDateTime(t any) string { return formatTime(t, minuteLayout) }

func formatTime(v any, layout string) string {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(layout)
	case *time.Time:
		if t != nil {
			return t.UTC().Format(layout)
		}
	}
	return ""
}

// daysWords says how many days are left: "89 days left", "less than a day left",
// "expired 3 days ago".
func daysWords(d int) string {
	switch {
	case d == 0:
		return "less than a day left"
	case d == 1:
		return "1 day left"
	case d > 1:
		return strconv.Itoa(d) + " days left"
	case d == -1:
		return "expired 1 day ago"
	}
	return "expired " + strconv.Itoa(-d) + " days ago"
}

// markClass is the CSS class of a pin's mark.
func markClass(m PinMark) string {
	switch {
	case m.Matches != "":
		return "matches"
	case m.Backup:
		return "backup"
	}
	return "nomatch"
}

// shortDigest abbreviates a hex SHA-256 (an alert's subject for a
// certificate) to its first 16 digits; other text is left whole.
func shortDigest(s string) string {
	if len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "" {
		return "sha256:" + s[:16] + "…"
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
