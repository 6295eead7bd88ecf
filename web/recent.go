package web

import (
	"slices"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// addressState is what the pages know of one address of a target.
type addressState struct {
	latest pinwatchd.Observation
	// chain is the latest observation that carried a chain: latest itself,
	// an older one when the latest probe failed, or nil when the address
	// never served one.
	chain *pinwatchd.Observation
}

// failed reports whether the latest probe of the address failed.
func (a *addressState) failed() bool { return a.latest.Error != nil }

// groupRecent turns Store.RecentObservations (one or two observations per
// address and vantage, newest first) into the state of each address as
// each vantage saw it, by target, in address then vantage order.
func groupRecent(obs []pinwatchd.Observation) map[string][]addressState {
	out := map[string][]addressState{}
	for i := 0; i < len(obs); i++ {
		st := addressState{latest: obs[i]}
		if len(obs[i].Chain()) > 0 {
			st.chain = &obs[i]
		} else if i+1 < len(obs) && obs[i+1].Target == obs[i].Target && obs[i+1].Address == obs[i].Address &&
			obs[i+1].Vantage == obs[i].Vantage {
			i++
			st.chain = &obs[i]
		}
		out[st.latest.Target] = append(out[st.latest.Target], st)
	}
	return out
}

// expiry is the earliest leaf NotAfter and the earliest NotAfter of any
// certificate of the chains of addrs, zero when none served a chain.
func expiry(addrs []addressState) (leaf, chain time.Time) {
	for i := range addrs {
		o := addrs[i].chain
		if o == nil {
			continue
		}
		if l := o.Leaf(); l != nil && (leaf.IsZero() || l.NotAfter.Before(leaf)) {
			leaf = l.NotAfter
		}
		for _, c := range o.Chain() {
			if chain.IsZero() || c.NotAfter.Before(chain) {
				chain = c.NotAfter
			}
		}
	}
	return leaf, chain
}

// lastProbe is the time of the latest probe of any of addrs.
func lastProbe(addrs []addressState) time.Time {
	var t time.Time
	for i := range addrs {
		if addrs[i].latest.Time.After(t) {
			t = addrs[i].latest.Time
		}
	}
	return t
}

// VantageProbe is when one vantage point last probed a target (SPEC §14).
type VantageProbe struct {
	Vantage string    `json:"vantage"`
	Time    time.Time `json:"time"`
}

// lastProbes is the time of the latest probe of addrs from each vantage,
// by vantage; none when addrs is empty.
func lastProbes(addrs []addressState) []VantageProbe {
	var out []VantageProbe
	for i := range addrs {
		o := &addrs[i].latest
		j := slices.IndexFunc(out, func(p VantageProbe) bool { return p.Vantage == o.Vantage })
		switch {
		case j < 0:
			out = append(out, VantageProbe{o.Vantage, o.Time})
		case o.Time.After(out[j].Time):
			out[j].Time = o.Time
		}
	}
	slices.SortFunc(out, func(a, b VantageProbe) int { return strings.Compare(a.Vantage, b.Vantage) })
	return out
}

// distinctAddresses counts the addresses of addrs, each once whatever the
// vantages that probed it.
func distinctAddresses(addrs []addressState) int {
	seen := make(map[string]bool, len(addrs))
	for i := range addrs {
		seen[addrs[i].latest.Address] = true
	}
	return len(seen)
}

// daysLeft counts whole days from now to t, negative once past, as
// pinwatchd.Cert.DaysLeft does.
func daysLeft(t, now time.Time) int { return pinwatchd.Cert{NotAfter: t}.DaysLeft(now) }

// level classifies a date by the expiry windows: expired, critical,
// warning or ok.
func level(t, now time.Time, th pinwatchd.Thresholds) string {
	switch d := t.Sub(now); {
	case d < 0:
		return "expired"
	case d <= th.ExpiryCritical:
		return "critical"
	case d <= th.ExpiryWarning:
		return "warning"
	}
	return "ok"
}
