package metrics

import (
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// Probed feeds one round of a target into the metrics: a probe count and
// duration per address, the earliest leaf and chain NotAfter over its
// addresses, and per pin-set whether it matched and holds a backup pin.
func (m *Metrics) Probed(t *pinwatchd.Target, obs []pinwatchd.Observation, findings []pinwatchd.Finding) {
	if m == nil {
		return
	}
	var leafNA, chainNA time.Time
	for i := range obs {
		o := &obs[i]
		result := "ok"
		if o.Error != nil {
			result = string(o.Error.Kind)
		}
		m.observeProbe(t.Name, result, o.Duration)
		if leaf := o.Leaf(); leaf != nil && (leafNA.IsZero() || leaf.NotAfter.Before(leafNA)) {
			leafNA = leaf.NotAfter
		}
		for _, c := range o.Chain() {
			if chainNA.IsZero() || c.NotAfter.Before(chainNA) {
				chainNA = c.NotAfter
			}
		}
	}
	if !leafNA.IsZero() {
		m.setLeafNotAfter(t.Name, leafNA)
		m.setChainNotAfter(t.Name, chainNA)
	}
	mismatch, noBackup := map[string]bool{}, map[string]bool{}
	for _, f := range findings {
		switch f.Kind {
		case pinwatchd.KindPinMismatch:
			mismatch[f.PinSet] = true
		case pinwatchd.KindMissingBackupPin:
			noBackup[f.PinSet] = true
		}
	}
	sets := map[string]bool{}
	for i := range obs {
		if len(obs[i].Chain()) == 0 {
			continue
		}
		for _, ps := range monitor.PinSetsFor(t, &obs[i]) {
			sets[ps.Name] = true
		}
	}
	for name := range sets {
		m.setPinMatch(t.Name, name, !mismatch[name])
		m.setBackupPresent(t.Name, name, !noBackup[name])
	}
	m.tlsa.observe(t, obs, findings)
}
