package daemon

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/config"
)

// TestDashboardMounted checks that the listener's handler sends /metrics
// and /healthz to the metrics handler and every other path to the
// dashboard, which shows the daemon's configured targets.
func TestDashboardMounted(t *testing.T) {
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "pinwatchd.db")
	port := 8443
	cfg.TargetConfigs = []config.TargetConfig{{Name: "api", Host: "api.example.test", Port: &port}}
	d, err := New(t.Context(), cfg, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	metricsH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics handler: "+r.URL.Path) })
	h := withDashboard(metricsH, d.dashboard())

	get := func(path, accept string) (int, string) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	for _, p := range []string{"/metrics", "/healthz"} {
		if code, body := get(p, "*/*"); code != http.StatusOK || body != "metrics handler: "+p {
			t.Errorf("GET %s = %d %q, want the metrics handler", p, code, body)
		}
	}
	code, body := get("/", "application/json")
	var fleet struct {
		Targets []struct {
			Name   string `json:"name"`
			Host   string `json:"host"`
			Status string `json:"status"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(body), &fleet); err != nil || code != http.StatusOK {
		t.Fatalf("GET / (JSON) = %d %q (%v)", code, body, err)
	}
	if len(fleet.Targets) != 1 || fleet.Targets[0].Name != "api" || fleet.Targets[0].Host != "api.example.test" || fleet.Targets[0].Status != "not_probed" {
		t.Errorf("fleet = %+v, want the configured api, not probed yet", fleet.Targets)
	}
	if code, body := get("/target/api", "text/html"); code != http.StatusOK || !strings.Contains(body, "api.example.test:8443") {
		t.Errorf("GET /target/api = %d, want 200 naming api.example.test:8443:\n%s", code, body)
	}
	if code, _ := get("/target/other", "text/html"); code != http.StatusNotFound {
		t.Errorf("GET /target/other = %d, want 404", code)
	}
}
