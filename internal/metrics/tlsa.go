package metrics

import (
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinwatchd/pinwatchd"
)

// tlsaMetrics is the collector of pinwatchd_tlsa_match{target}: one number
// per DANE target, built into a series at scrape time as targetMetrics
// does. Safe for concurrent use.
type tlsaMetrics struct {
	match *prometheus.Desc

	mu      sync.Mutex
	targets map[string]bool
}

func newTLSAMetrics() *tlsaMetrics {
	return &tlsaMetrics{
		match: prometheus.NewDesc("pinwatchd_tlsa_match",
			"1 when an authenticated TLSA record matches the chain every address of the DANE target serves, else 0.",
			[]string{labelTarget}, nil),
		targets: map[string]bool{},
	}
}

// observe sets the series of DANE target t from one round: 0 when the
// RRset is missing or not authenticated or an address serves a chain no
// record matches (tlsa_mismatch), 1 otherwise. A round whose TLSA lookup
// failed, or that got no chain, leaves it as it was.
func (c *tlsaMetrics) observe(t *pinwatchd.Target, obs []pinwatchd.Observation, findings []pinwatchd.Finding) {
	if !t.DANE {
		return
	}
	var res *pinwatchd.TLSAResult
	chains := false
	for i := range obs {
		if obs[i].TLSA != nil {
			res = obs[i].TLSA
		}
		chains = chains || len(obs[i].ServedChain) > 0
	}
	if res == nil || res.Error != "" || !chains {
		return
	}
	ok := res.Authenticated && len(res.Records) > 0
	for _, f := range findings {
		if f.Kind == pinwatchd.KindTLSAMismatch {
			ok = false
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.targets[t.Name] = ok
}

func (c *tlsaMetrics) forget(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.targets, target)
}

// names adds to seen every target with a series whose name starts with
// prefix.
func (c *tlsaMetrics) names(prefix string, seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := range c.targets {
		if strings.HasPrefix(n, prefix) {
			seen[n] = true
		}
	}
}

// Describe implements prometheus.Collector.
func (c *tlsaMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- c.match }

// Collect implements prometheus.Collector.
func (c *tlsaMetrics) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	names := make([]string, 0, len(c.targets))
	values := make(map[string]bool, len(c.targets))
	for n, v := range c.targets {
		names = append(names, n)
		values[n] = v
	}
	c.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		ch <- prometheus.MustNewConstMetric(c.match, prometheus.GaugeValue, boolValue(values[n]), n)
	}
}
