package metrics

import (
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// targetMetrics is the collector of the per-target series
// (pinwatchd_probes_total, the not-after timestamps, pinwatchd_pin_match and
// pinwatchd_backup_pin_present). It keeps one small record per target and
// builds the series at scrape time: prometheus' own vectors hold several
// hundred bytes per series, which for 10,000 targets of five series each was
// most of the daemon's memory (SPEC §11: under 64 MiB). Safe for concurrent
// use.
type targetMetrics struct {
	probes, leafNotAfter, chainNotAfter, pinMatch, backupPresent *prometheus.Desc

	mu      sync.Mutex
	targets map[string]*targetState
}

// targetState is what the series of one target report.
type targetState struct {
	probes            []resultCount // in order of first occurrence
	leafNA, chainNA   float64       // Unix seconds
	hasLeaf, hasChain bool
	pinsets           []pinsetState // in order of first occurrence
}

type resultCount struct {
	result string
	n      float64
}

// pinsetState is one pin-set of a target; a series exists once its value
// was set.
type pinsetState struct {
	name                    string
	match, backup           bool
	matchKnown, backupKnown bool
}

func newTargetMetrics() *targetMetrics {
	return &targetMetrics{
		probes: prometheus.NewDesc("pinwatchd_probes_total",
			"Probes of a target's addresses, by target and result (ok or the error kind).",
			[]string{labelTarget, labelResult}, nil),
		leafNotAfter: prometheus.NewDesc("pinwatchd_leaf_not_after_timestamp_seconds",
			"NotAfter of the leaf certificate a target serves (the earliest over its addresses), as a Unix time.",
			[]string{labelTarget}, nil),
		chainNotAfter: prometheus.NewDesc("pinwatchd_chain_not_after_timestamp_seconds",
			"Earliest NotAfter of any certificate in the chains a target serves, as a Unix time.",
			[]string{labelTarget}, nil),
		pinMatch: prometheus.NewDesc("pinwatchd_pin_match",
			"1 when every address of the target serves a chain matching the pin-set, else 0.",
			[]string{labelTarget, labelPinset}, nil),
		backupPresent: prometheus.NewDesc("pinwatchd_backup_pin_present",
			"1 when the pin-set holds a pin for a key outside the served chain (a backup pin), else 0.",
			[]string{labelTarget, labelPinset}, nil),
		targets: map[string]*targetState{},
	}
}

// state returns the record of target, creating it; the caller holds mu.
func (c *targetMetrics) state(target string) *targetState {
	s, ok := c.targets[target]
	if !ok {
		s = &targetState{}
		c.targets[target] = s
	}
	return s
}

// pinset returns the record of a pin-set of s, creating it.
func (s *targetState) pinset(name string) *pinsetState {
	for i := range s.pinsets {
		if s.pinsets[i].name == name {
			return &s.pinsets[i]
		}
	}
	s.pinsets = append(s.pinsets, pinsetState{name: name})
	return &s.pinsets[len(s.pinsets)-1]
}

func (c *targetMetrics) incProbe(target, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.state(target)
	for i := range s.probes {
		if s.probes[i].result == result {
			s.probes[i].n++
			return
		}
	}
	s.probes = append(s.probes, resultCount{result: result, n: 1})
}

func (c *targetMetrics) setLeafNotAfter(target string, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.state(target)
	s.leafNA, s.hasLeaf = v, true
}

func (c *targetMetrics) setChainNotAfter(target string, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.state(target)
	s.chainNA, s.hasChain = v, true
}

func (c *targetMetrics) setPinMatch(target, pinset string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.state(target).pinset(pinset)
	p.match, p.matchKnown = ok, true
}

func (c *targetMetrics) setBackupPresent(target, pinset string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.state(target).pinset(pinset)
	p.backup, p.backupKnown = ok, true
}

// forget drops every series of target.
func (c *targetMetrics) forget(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.targets, target)
}

// names adds to seen every target with a record whose name starts with
// prefix.
func (c *targetMetrics) names(prefix string, seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := range c.targets {
		if strings.HasPrefix(n, prefix) {
			seen[n] = true
		}
	}
}

// Describe implements prometheus.Collector.
func (c *targetMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.probes, c.leafNotAfter, c.chainNotAfter, c.pinMatch, c.backupPresent} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it copies the records under the
// lock and builds the series outside it, so probes are not held up by a
// scrape.
func (c *targetMetrics) Collect(ch chan<- prometheus.Metric) {
	type entry struct {
		name string
		s    targetState
	}
	c.mu.Lock()
	snap := make([]entry, 0, len(c.targets))
	for name, s := range c.targets {
		e := entry{name: name, s: *s}
		e.s.probes = append([]resultCount(nil), s.probes...)
		e.s.pinsets = append([]pinsetState(nil), s.pinsets...)
		snap = append(snap, e)
	}
	c.mu.Unlock()
	sort.Slice(snap, func(i, j int) bool { return snap[i].name < snap[j].name })
	for _, e := range snap {
		for _, p := range e.s.probes {
			ch <- prometheus.MustNewConstMetric(c.probes, prometheus.CounterValue, p.n, e.name, p.result)
		}
		if e.s.hasLeaf {
			ch <- prometheus.MustNewConstMetric(c.leafNotAfter, prometheus.GaugeValue, e.s.leafNA, e.name)
		}
		if e.s.hasChain {
			ch <- prometheus.MustNewConstMetric(c.chainNotAfter, prometheus.GaugeValue, e.s.chainNA, e.name)
		}
		for _, p := range e.s.pinsets {
			if p.matchKnown {
				ch <- prometheus.MustNewConstMetric(c.pinMatch, prometheus.GaugeValue, boolValue(p.match), e.name, p.name)
			}
			if p.backupKnown {
				ch <- prometheus.MustNewConstMetric(c.backupPresent, prometheus.GaugeValue, boolValue(p.backup), e.name, p.name)
			}
		}
	}
}
