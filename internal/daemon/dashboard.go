package daemon

import (
	"net/http"

	"github.com/pinwatchd/pinwatchd/web"
)

// withDashboard serves /metrics and /healthz from metricsH and the
// read-only dashboard (package web) at every other path of the HTTP
// listener.
func withDashboard(metricsH, dashboard http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metricsH)
	mux.Handle("/healthz", metricsH)
	mux.Handle("/", dashboard)
	return mux
}

// dashboard is the web handler over the daemon's database and the
// configuration in force (a reload shows at the next request).
func (d *Daemon) dashboard() http.Handler {
	return web.NewHandler(web.Options{
		Store: d.db,
		Fleet: func() web.Fleet {
			d.mu.Lock()
			defer d.mu.Unlock()
			targets := d.targetList
			if targets == nil { // not started yet: the config still holds them
				targets = d.cfg.Targets()
			}
			return web.Fleet{Targets: targets, Thresholds: d.cfg.Thresholds()}
		},
		Now: d.opts.Now,
		Log: d.log,
	})
}
