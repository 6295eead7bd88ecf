package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/logkey"
)

// NewHandler returns the dashboard: GET / (the fleet, filtered by the query
// parameters q and status), /target/NAME (history since the parameter
// since, a duration such as 30d or a date), /alerts and /expiry. Each
// answers HTML, or JSON when the request's Accept header prefers
// application/json. An unknown target or path is 404; the pages are
// read-only, so other methods are 405. It panics when o.Store or o.Fleet is
// nil.
func NewHandler(o Options) http.Handler {
	if o.Store == nil || o.Fleet == nil {
		panic("web.NewHandler: Options.Store and Options.Fleet are required")
	}
	h := &handler{o: &o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.fleet)
	mux.HandleFunc("GET /target/{name...}", h.target)
	mux.HandleFunc("GET /alerts", h.alerts)
	mux.HandleFunc("GET /expiry", h.expiry)
	mux.HandleFunc("/", h.notFound)
	return securityHeaders(mux)
}

type handler struct{ o *Options }

func (h *handler) fleet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && !slices.Contains(statuses, status) {
		h.fail(w, r, http.StatusBadRequest, fmt.Sprintf("The status filter %q is none of critical, warning, ok and not_probed.", status))
		return
	}
	p, err := fleetPage(r.Context(), h.o, q.Get("q"), status)
	h.answer(w, r, err, func() page {
		p.fillCells(links{})
		return page{Title: "Fleet", Nav: "fleet", Body: p}
	}, p)
}

func (h *handler) target(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	since, err := config.ParseSince(r.URL.Query().Get("since"), h.o.now())
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p, err := targetPage(r.Context(), h.o, name, since)
	if errors.Is(err, errUnknownTarget) {
		h.fail(w, r, http.StatusNotFound, fmt.Sprintf("No target named %q is configured.", name))
		return
	}
	h.answer(w, r, err, func() page { return page{Title: name, Nav: "target", Body: p} }, p)
}

func (h *handler) alerts(w http.ResponseWriter, r *http.Request) {
	p, err := alertsPage(r.Context(), h.o, time.Time{})
	h.answer(w, r, err, func() page { return page{Title: "Alerts", Nav: "alerts", Body: p} }, p)
}

func (h *handler) expiry(w http.ResponseWriter, r *http.Request) {
	p, err := expiryPage(r.Context(), h.o)
	h.answer(w, r, err, func() page { return page{Title: "Expiry", Nav: "expiry", Body: p} }, p)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, r, http.StatusMethodNotAllowed, "The dashboard is read-only: only GET and HEAD are answered.")
		return
	}
	h.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
}

// answer writes data as JSON or the page pg() as HTML, or a 500 when err
// (a database that cannot be read) is set.
func (h *handler) answer(w http.ResponseWriter, r *http.Request, err error, pg func() page, data any) {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return // the client went away
		}
		h.o.log().Error("dashboard", "path", r.URL.Path, logkey.Err, err)
		h.fail(w, r, http.StatusInternalServerError, "The database could not be read; the daemon's log says why.")
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, data)
		return
	}
	p := pg()
	p.CSS, p.Generated = pageCSS(), h.o.now()
	h.writeHTML(w, r, http.StatusOK, p)
}

// fail answers status with one sentence, as JSON {"error": …} or a page.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	p := page{Title: http.StatusText(status), Nav: "error", Body: msg, CSS: pageCSS(), Generated: h.o.now()}
	h.writeHTML(w, r, status, p)
}

func (h *handler) writeHTML(w http.ResponseWriter, r *http.Request, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	b := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= 4<<20 { // keep no giant buffer around
			b.Reset()
			bufPool.Put(b)
		}
	}()
	if err := render(b, "page", p); err != nil {
		h.o.log().Error("dashboard", "path", r.URL.Path, logkey.Err, err)
		http.Error(w, "The page could not be rendered; the daemon's log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// securityHeaders adds the headers every answer carries: the content
// security policy (no script, nothing from elsewhere), no sniffing, no
// referrer, no caching, and Vary: Accept for the two representations.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Add("Vary", "Accept")
		next.ServeHTTP(w, r)
	})
}

// wantsJSON reports whether the Accept header ranks application/json above
// text/html: browsers get HTML, curl -H 'Accept: application/json' gets
// JSON, and so does "application/json, */*".
func wantsJSON(r *http.Request) bool {
	var jsonQ, htmlQ float64 = -1, -1
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "application/json":
			jsonQ = max(jsonQ, q)
		case "text/html":
			htmlQ = max(htmlQ, q)
		case "text/*", "*/*":
			// A wildcard as good as an explicit application/json loses
			// to it ("application/json, */*").
			htmlQ = max(htmlQ, q-0.001)
		}
	}
	return jsonQ > 0 && jsonQ > htmlQ
}
