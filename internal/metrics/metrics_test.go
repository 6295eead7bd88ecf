package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pinwatchd/pinwatchd"
)

// exercise records one of everything, as a daemon round would.
func exercise(m *Metrics) {
	m.observeProbe("api", "ok", 40*time.Millisecond)
	m.observeProbe("api", "ok", 300*time.Millisecond)
	m.observeProbe("api", "timeout", 10*time.Second)
	m.observeProbe("www", "ok", 20*time.Millisecond)
	m.setLeafNotAfter("api", time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC))
	m.setChainNotAfter("api", time.Date(2026, 12, 1, 0, 0, 0, 500_000_000, time.UTC))
	m.setLeafNotAfter("www", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))
	m.setChainNotAfter("www", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))
	m.setPinMatch("api", "ios-app-5", true)
	m.setPinMatch("api", "header", false)
	m.setBackupPresent("api", "ios-app-5", false)
	m.setPinMatch("www", "inline", true)
	m.setBackupPresent("www", "inline", true)
	m.SetAlertsOpen(map[[2]string]int{{"pin_mismatch", "critical"}: 1, {"missing_backup_pin", "warning"}: 2})
	m.NotificationResult("delivered")
	m.NotificationResult("delivered")
	m.NotificationResult("retry")
	m.SetNotificationsPending(3)
	m.SetNotificationsUndeliverable(600)
	m.ConfigReloaded(false)
}

func TestMetricsLint(t *testing.T) {
	m := New("v1.2.3", "abc123")
	exercise(m)
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestMetricsValues(t *testing.T) {
	m := New("v1.2.3", "abc123")
	exercise(m)
	want := `
# HELP pinwatchd_alerts_open Open alerts by finding kind and severity.
# TYPE pinwatchd_alerts_open gauge
pinwatchd_alerts_open{kind="missing_backup_pin",severity="warning"} 2
pinwatchd_alerts_open{kind="pin_mismatch",severity="critical"} 1
# HELP pinwatchd_backup_pin_present 1 when the pin-set holds a pin for a key outside the served chain (a backup pin), else 0.
# TYPE pinwatchd_backup_pin_present gauge
pinwatchd_backup_pin_present{pinset="inline",target="www"} 1
pinwatchd_backup_pin_present{pinset="ios-app-5",target="api"} 0
# HELP pinwatchd_build_info Always 1; the labels give the version, commit and Go version of the running binary.
# TYPE pinwatchd_build_info gauge
pinwatchd_build_info{commit="abc123",goversion="` + runtime.Version() + `",version="v1.2.3"} 1
# HELP pinwatchd_chain_not_after_timestamp_seconds Earliest NotAfter of any certificate in the chains a target serves, as a Unix time.
# TYPE pinwatchd_chain_not_after_timestamp_seconds gauge
pinwatchd_chain_not_after_timestamp_seconds{target="api"} 1.7960832005e+09
pinwatchd_chain_not_after_timestamp_seconds{target="www"} 2.53402300799e+11
# HELP pinwatchd_config_last_reload_successful 1 when the last configuration load succeeded, 0 when it failed and the previous configuration is still in use.
# TYPE pinwatchd_config_last_reload_successful gauge
pinwatchd_config_last_reload_successful 0
# HELP pinwatchd_leaf_not_after_timestamp_seconds NotAfter of the leaf certificate a target serves (the earliest over its addresses), as a Unix time.
# TYPE pinwatchd_leaf_not_after_timestamp_seconds gauge
pinwatchd_leaf_not_after_timestamp_seconds{target="api"} 1.798859045e+09
pinwatchd_leaf_not_after_timestamp_seconds{target="www"} 2.53402300799e+11
# HELP pinwatchd_notifications_pending Notifications in the outbox waiting to be delivered.
# TYPE pinwatchd_notifications_pending gauge
pinwatchd_notifications_pending 3
# HELP pinwatchd_notifications_total Attempts to deliver a notification, by result.
# TYPE pinwatchd_notifications_total counter
pinwatchd_notifications_total{result="retry"} 1
pinwatchd_notifications_total{result="delivered"} 2
# HELP pinwatchd_notifications_undeliverable Notifications Slack refused for good (channel_not_found, invalid_auth, …), kept in the outbox and tried again when pinwatchd starts or reloads.
# TYPE pinwatchd_notifications_undeliverable gauge
pinwatchd_notifications_undeliverable 600
# HELP pinwatchd_pin_match 1 when every address of the target serves a chain matching the pin-set, else 0.
# TYPE pinwatchd_pin_match gauge
pinwatchd_pin_match{pinset="header",target="api"} 0
pinwatchd_pin_match{pinset="inline",target="www"} 1
pinwatchd_pin_match{pinset="ios-app-5",target="api"} 1
# HELP pinwatchd_probe_duration_seconds Time taken by the probe of one address: connect, handshake and HTTP request.
# TYPE pinwatchd_probe_duration_seconds histogram
pinwatchd_probe_duration_seconds_bucket{le="0.01"} 0
pinwatchd_probe_duration_seconds_bucket{le="0.025"} 1
pinwatchd_probe_duration_seconds_bucket{le="0.05"} 2
pinwatchd_probe_duration_seconds_bucket{le="0.1"} 2
pinwatchd_probe_duration_seconds_bucket{le="0.25"} 2
pinwatchd_probe_duration_seconds_bucket{le="0.5"} 3
pinwatchd_probe_duration_seconds_bucket{le="1"} 3
pinwatchd_probe_duration_seconds_bucket{le="2.5"} 3
pinwatchd_probe_duration_seconds_bucket{le="5"} 3
pinwatchd_probe_duration_seconds_bucket{le="10"} 4
pinwatchd_probe_duration_seconds_bucket{le="30"} 4
pinwatchd_probe_duration_seconds_bucket{le="+Inf"} 4
pinwatchd_probe_duration_seconds_sum 10.36
pinwatchd_probe_duration_seconds_count 4
# HELP pinwatchd_probes_total Probes of a target's addresses, by target and result (ok or the error kind).
# TYPE pinwatchd_probes_total counter
pinwatchd_probes_total{result="ok",target="api"} 2
pinwatchd_probes_total{result="ok",target="www"} 1
pinwatchd_probes_total{result="timeout",target="api"} 1
`
	names := []string{
		"pinwatchd_alerts_open", "pinwatchd_backup_pin_present", "pinwatchd_build_info",
		"pinwatchd_chain_not_after_timestamp_seconds", "pinwatchd_config_last_reload_successful",
		"pinwatchd_leaf_not_after_timestamp_seconds", "pinwatchd_notifications_pending",
		"pinwatchd_notifications_total", "pinwatchd_notifications_undeliverable", "pinwatchd_pin_match", "pinwatchd_probe_duration_seconds",
		"pinwatchd_probes_total",
	}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestMetricsReloadStartsSuccessful(t *testing.T) {
	m := New("dev", "unknown")
	if got := testutil.ToFloat64(m.reloadOK); got != 1 {
		t.Errorf("pinwatchd_config_last_reload_successful at start = %v, want 1", got)
	}
	m.ConfigReloaded(false)
	m.ConfigReloaded(true)
	if got := testutil.ToFloat64(m.reloadOK); got != 1 {
		t.Errorf("after a failed then a good reload = %v, want 1", got)
	}
}

func TestMetricsAlertsOpenKeepsZeroes(t *testing.T) {
	m := New("dev", "unknown")
	m.SetAlertsOpen(map[[2]string]int{{"pin_mismatch", "critical"}: 2, {"cert_expiring", "warning"}: 1})
	m.SetAlertsOpen(map[[2]string]int{{"cert_expiring", "critical"}: 1})
	want := `
# HELP pinwatchd_alerts_open Open alerts by finding kind and severity.
# TYPE pinwatchd_alerts_open gauge
pinwatchd_alerts_open{kind="cert_expiring",severity="critical"} 1
pinwatchd_alerts_open{kind="cert_expiring",severity="warning"} 0
pinwatchd_alerts_open{kind="pin_mismatch",severity="critical"} 0
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "pinwatchd_alerts_open"); err != nil {
		t.Error(err)
	}
}

func TestMetricsForgetTarget(t *testing.T) {
	m := New("dev", "unknown")
	exercise(m)
	m.ForgetTarget("api")
	for _, name := range []string{
		"pinwatchd_probes_total", "pinwatchd_leaf_not_after_timestamp_seconds",
		"pinwatchd_chain_not_after_timestamp_seconds", "pinwatchd_pin_match", "pinwatchd_backup_pin_present",
	} {
		mfs, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, metric := range mf.GetMetric() {
				for _, l := range metric.GetLabel() {
					if l.GetName() == labelTarget {
						targets = append(targets, l.GetValue())
					}
				}
			}
		}
		if strings.Join(targets, ",") != "www" {
			t.Errorf("%s after forgetting api has series for targets %q, want only www", name, targets)
		}
	}
	// Series not about targets stay.
	if got := testutil.ToFloat64(m.notificationsQueue); got != 3 {
		t.Errorf("pinwatchd_notifications_pending = %v after ForgetTarget, want 3", got)
	}
}

func TestMetricsNil(t *testing.T) {
	var m *Metrics
	exercise(m) // must not panic
	m.ForgetTarget("api")
}

func TestMetricsHandler(t *testing.T) {
	m := New("v1.2.3", "abc123")
	exercise(m)
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(m.Handler(healthy.Load))
	defer srv.Close()

	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: read body: %v", path, err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}

	code, ctype, body := get("/metrics")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("GET /metrics: %d %q, want 200 text/plain", code, ctype)
	}
	for _, line := range []string{
		`pinwatchd_probes_total{result="timeout",target="api"} 1`,
		`pinwatchd_build_info{commit="abc123",goversion="` + runtime.Version() + `",version="v1.2.3"} 1`,
		`pinwatchd_notifications_pending 3`,
		`go_goroutines `,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(body, "\n"+line) {
			t.Errorf("GET /metrics lacks a line starting %q", line)
		}
	}

	if code, _, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz while healthy: %d %q, want 200 \"ok\\n\"", code, body)
	}
	healthy.Store(false)
	if code, _, body := get("/healthz"); code != http.StatusServiceUnavailable || body != "unhealthy\n" {
		t.Errorf("GET /healthz while unhealthy: %d %q, want 503 \"unhealthy\\n\"", code, body)
	}
	if code, _, _ := get("/nothing"); code != http.StatusNotFound {
		t.Errorf("GET /nothing: %d, want 404", code)
	}
}

func TestMetricsTargetsUnder(t *testing.T) {
	m := New("dev", "unknown")
	exercise(m)
	m.observeProbe("mail/mx1.example", "ok", time.Millisecond)
	m.tlsa.observe(&pinwatchd.Target{Name: "mail/mx2.example", DANE: true},
		[]pinwatchd.Observation{{ServedChain: []pinwatchd.Cert{{SHA256: "a"}}, TLSA: &pinwatchd.TLSAResult{Authenticated: true, Records: []pinwatchd.TLSARecord{{Usage: 3}}}}}, nil)
	m.observeProbe("mailroom", "ok", time.Millisecond)
	if got, want := strings.Join(m.TargetsUnder("mail/"), ","), "mail/mx1.example,mail/mx2.example"; got != want {
		t.Errorf("TargetsUnder(mail/) = %q, want %q", got, want)
	}
	if got := m.TargetsUnder("nothing/"); len(got) != 0 {
		t.Errorf("TargetsUnder(nothing/) = %q, want none", got)
	}
	if got := (*Metrics)(nil).TargetsUnder("mail/"); got != nil {
		t.Errorf("TargetsUnder on nil Metrics = %q, want nil", got)
	}
}
