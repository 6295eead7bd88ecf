// Package metrics holds the daemon's Prometheus metrics and serves them with
// /healthz. It is the only package that imports client_golang.
package metrics

import (
	"io"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric label names. Labels carry names from the config and fixed
// vocabularies only, never pins, serials or certificate hashes, so the number
// of series is bounded by the config.
const (
	labelTarget   = "target"
	labelResult   = "result"
	labelPinset   = "pinset"
	labelKind     = "kind"
	labelSeverity = "severity"
)

// Metrics holds the daemon's Prometheus metrics on a registry of its own
// (never the global default one). All methods are safe for concurrent use;
// a nil *Metrics records nothing, for a daemon running without an [http] listener.
type Metrics struct {
	reg *prometheus.Registry

	targets            *targetMetrics // the per-target series
	tlsa               *tlsaMetrics   // pinwatchd_tlsa_match
	probeDuration      prometheus.Histogram
	alertsOpen         *prometheus.GaugeVec
	notifications      *prometheus.CounterVec
	notificationsQueue prometheus.Gauge
	undeliverable      prometheus.Gauge
	reloadOK           prometheus.Gauge

	mu        sync.Mutex
	alertSeen map[[2]string]bool // {kind, severity} pairs ever reported, kept at 0 when none are open
}

// New builds the metrics and their registry, with the Go runtime and
// process collectors and pinwatchd_build_info{version,commit,goversion} = 1.
// pinwatchd_config_last_reload_successful starts at 1: the daemon only gets
// this far with a valid config.
func New(buildVersion, commit string) *Metrics {
	m := &Metrics{
		reg:     prometheus.NewRegistry(),
		targets: newTargetMetrics(),
		tlsa:    newTLSAMetrics(),
		probeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pinwatchd_probe_duration_seconds",
			Help:    "Time taken by the probe of one address: connect, handshake and HTTP request.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
		alertsOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pinwatchd_alerts_open",
			Help: "Open alerts by finding kind and severity.",
		}, []string{labelKind, labelSeverity}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinwatchd_notifications_total",
			Help: "Attempts to deliver a notification, by result.",
		}, []string{labelResult}),
		notificationsQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pinwatchd_notifications_pending",
			Help: "Notifications in the outbox waiting to be delivered.",
		}),
		undeliverable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pinwatchd_notifications_undeliverable",
			Help: "Notifications Slack refused for good (channel_not_found, invalid_auth, …), kept in the outbox and tried again when pinwatchd starts or reloads.",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pinwatchd_config_last_reload_successful",
			Help: "1 when the last configuration load succeeded, 0 when it failed and the previous configuration is still in use.",
		}),
		alertSeen: map[[2]string]bool{},
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pinwatchd_build_info",
		Help: "Always 1; the labels give the version, commit and Go version of the running binary.",
		ConstLabels: prometheus.Labels{
			"version":   buildVersion,
			"commit":    commit,
			"goversion": runtime.Version(),
		},
	})
	buildInfo.Set(1)
	m.reloadOK.Set(1)
	m.reg.MustRegister(
		m.targets, m.tlsa, m.probeDuration, m.alertsOpen, m.notifications,
		m.notificationsQueue, m.undeliverable, m.reloadOK, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// observeProbe counts one probe of one of target's addresses and records
// how long it took. result is "ok" or the error kind.
func (m *Metrics) observeProbe(target, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.targets.incProbe(target, result)
	m.probeDuration.Observe(d.Seconds())
}

// setLeafNotAfter records the NotAfter of target's leaf certificate.
func (m *Metrics) setLeafNotAfter(target string, t time.Time) {
	if m == nil {
		return
	}
	m.targets.setLeafNotAfter(target, unixSeconds(t))
}

// setChainNotAfter records the earliest NotAfter in target's chain.
func (m *Metrics) setChainNotAfter(target string, t time.Time) {
	if m == nil {
		return
	}
	m.targets.setChainNotAfter(target, unixSeconds(t))
}

// setPinMatch records whether target matches the named pin-set.
func (m *Metrics) setPinMatch(target, pinset string, ok bool) {
	if m == nil {
		return
	}
	m.targets.setPinMatch(target, pinset, ok)
}

// setBackupPresent records whether the named pin-set holds a backup pin for
// target.
func (m *Metrics) setBackupPresent(target, pinset string, ok bool) {
	if m == nil {
		return
	}
	m.targets.setBackupPresent(target, pinset, ok)
}

// SetAlertsOpen replaces the open-alert counts, keyed by {kind, severity}.
// A pair reported before and missing now is set to 0 rather than dropped,
// so sums and rates over it stay continuous.
func (m *Metrics) SetAlertsOpen(counts map[[2]string]int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.alertSeen {
		if _, ok := counts[k]; !ok {
			m.alertsOpen.WithLabelValues(k[0], k[1]).Set(0)
		}
	}
	for k, n := range counts {
		m.alertSeen[k] = true
		m.alertsOpen.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
}

// NotificationResult counts one delivery attempt by its outcome, one of the
// notify.Result… values ("delivered", "retry", "rate_limited",
// "permanent" for a notification parked as undeliverable).
func (m *Metrics) NotificationResult(result string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(result).Inc()
}

// SetNotificationsPending records the size of the outbox.
func (m *Metrics) SetNotificationsPending(n int) {
	if m == nil {
		return
	}
	m.notificationsQueue.Set(float64(n))
}

// SetNotificationsUndeliverable records how many notifications the outbox
// keeps as undeliverable.
func (m *Metrics) SetNotificationsUndeliverable(n int) {
	if m == nil {
		return
	}
	m.undeliverable.Set(float64(n))
}

// ConfigReloaded records the outcome of a configuration reload.
func (m *Metrics) ConfigReloaded(ok bool) {
	if m == nil {
		return
	}
	m.reloadOK.Set(boolValue(ok))
}

// ForgetTarget drops every series labelled with target, for a target a
// reload removed.
func (m *Metrics) ForgetTarget(target string) {
	if m == nil {
		return
	}
	m.targets.forget(target)
	m.tlsa.forget(target)
}

// TargetsUnder lists, sorted, the targets whose names start with prefix
// and that have series: with prefix "NAME/", the exchanges of mx target
// NAME (sub-targets are named NAME/EXCHANGE). Empty on a nil Metrics.
func (m *Metrics) TargetsUnder(prefix string) []string {
	if m == nil {
		return nil
	}
	seen := map[string]bool{}
	m.targets.names(prefix, seen)
	m.tlsa.names(prefix, seen)
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler serves /metrics (the registry, in the exposition format the
// scraper asks for, as much of it as could be gathered) and /healthz: 200 "ok" while healthy reports true, 503
// "unhealthy" otherwise.
func (m *Metrics) Handler(healthy func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(m.reg,
		promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
			// A collector that fails (say, a /proc file hidden by the
			// sandbox) costs its own series, not the whole scrape; the
			// failures are counted in promhttp_metric_handler_errors_total.
			ErrorHandling: promhttp.ContinueOnError,
			Registry:      m.reg,
		})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !healthy() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "unhealthy\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}

// unixSeconds is t as a Unix time in seconds, with sub-second precision.
// Unlike UnixNano it holds for certificates valid until 9999.
func unixSeconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
