package metrics

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestTargetMetricsManyTargets records a fleet's worth of targets while
// scraping and checks every series is there once, with its last value.
func TestTargetMetricsManyTargets(t *testing.T) {
	m := New("dev", "unknown")
	const targets = 500
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < targets; i += 4 {
				name := fmt.Sprintf("t%04d", i)
				m.observeProbe(name, "success", time.Millisecond)
				m.observeProbe(name, "success", time.Millisecond)
				m.setLeafNotAfter(name, time.Unix(int64(i), 0))
				m.setChainNotAfter(name, time.Unix(int64(i), 0))
				m.setPinMatch(name, "inline", i%2 == 0)
				m.setBackupPresent(name, "inline", true)
			}
		})
	}
	wg.Go(func() { // a scrape while the round runs
		if _, err := m.reg.Gather(); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, mf := range mfs {
		counts[mf.GetName()] = len(mf.GetMetric())
		if mf.GetName() == "pinwatchd_probes_total" {
			for _, s := range mf.GetMetric() {
				if v := s.GetCounter().GetValue(); v != 2 {
					t.Fatalf("probes_total%v = %v, want 2", s.GetLabel(), v)
				}
			}
		}
		if mf.GetName() == "pinwatchd_pin_match" {
			for i, s := range mf.GetMetric() { // sorted by target
				if want := float64(1 - i%2); s.GetGauge().GetValue() != want {
					t.Fatalf("pin_match%v = %v, want %v", s.GetLabel(), s.GetGauge().GetValue(), want)
				}
			}
		}
	}
	for _, name := range []string{"pinwatchd_probes_total", "pinwatchd_leaf_not_after_timestamp_seconds",
		"pinwatchd_chain_not_after_timestamp_seconds", "pinwatchd_pin_match", "pinwatchd_backup_pin_present"} {
		if counts[name] != targets {
			t.Errorf("%s has %d series, want %d", name, counts[name], targets)
		}
	}
}
