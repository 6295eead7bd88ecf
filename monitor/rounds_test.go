package monitor

import (
	"maps"
	"slices"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

const (
	rdA, rdB = "10.0.0.1:443", "10.0.0.2:443"
	rdName   = "api.example.com:443"
)

func okAt(addr string) pinwatchd.Observation { return pinwatchd.Observation{Address: addr} }

func failAt(addr string, k pinwatchd.Kind) pinwatchd.Observation {
	return pinwatchd.Observation{Address: addr, Error: &pinwatchd.ProbeError{Kind: k, Message: "failed"}}
}

func openAt(k pinwatchd.Kind, addrs ...string) pinwatchd.Alert {
	return pinwatchd.Alert{Target: "api", Kind: k, Addresses: addrs, State: pinwatchd.AlertOpen}
}

func TestMemoryAdvance(t *testing.T) {
	noName := failAt(rdName, pinwatchd.KindDNSFailed)
	mismatchAB := openAt(pinwatchd.KindPinMismatch, rdA, rdB)
	tests := []struct {
		name      string
		before    Memory
		obs       []pinwatchd.Observation
		open      []pinwatchd.Alert
		threshold int
		failures  map[string]int
		absent    map[string]int
		gone      []string
	}{
		{
			name:     "failures count up per address; an answer ends the run",
			before:   Memory{Failures: map[string]int{rdA: 2, rdB: 1}},
			obs:      []pinwatchd.Observation{okAt(rdA), failAt(rdB, pinwatchd.KindTimeout)},
			failures: map[string]int{rdB: 2},
		},
		{
			name:     "a name that does not resolve counts under host:port and keeps the addresses' counts",
			before:   Memory{Failures: map[string]int{rdA: 1, rdName: 1}, Absent: map[string]int{rdB: 1}},
			obs:      []pinwatchd.Observation{noName},
			open:     []pinwatchd.Alert{mismatchAB},
			failures: map[string]int{rdA: 1, rdName: 2},
			absent:   map[string]int{rdB: 1},
		},
		{
			name:   "the name resolving ends its run; an alerted address missing from the answer counts",
			before: Memory{Failures: map[string]int{rdName: 3}},
			obs:    []pinwatchd.Observation{okAt(rdA)},
			open:   []pinwatchd.Alert{mismatchAB, openAt(pinwatchd.KindChainUntrusted, rdB)},
			absent: map[string]int{rdB: 1},
		},
		{
			name:      "absent for threshold resolved rounds: gone",
			before:    Memory{Absent: map[string]int{rdB: 1}},
			obs:       []pinwatchd.Observation{okAt(rdA)},
			open:      []pinwatchd.Alert{mismatchAB, openAt(pinwatchd.KindChainUntrusted, rdB)},
			threshold: 2,
			gone:      []string{rdB},
		},
		{
			name:      "back in the answer: the count starts again",
			before:    Memory{Absent: map[string]int{rdB: 1}},
			obs:       []pinwatchd.Observation{okAt(rdA), failAt(rdB, pinwatchd.KindConnectFailed)},
			open:      []pinwatchd.Alert{mismatchAB},
			threshold: 2,
			failures:  map[string]int{rdB: 1},
		},
		{
			name:   "addresses of no open alert are not watched, nor dns_failed's host:port",
			before: Memory{Absent: map[string]int{"10.0.0.9:443": 1}},
			obs:    []pinwatchd.Observation{okAt(rdA)},
			open:   []pinwatchd.Alert{openAt(pinwatchd.KindDNSFailed, rdName)},
		},
		{
			name:      "a threshold of 1 clears at the first resolved round without it",
			obs:       []pinwatchd.Observation{okAt(rdA)},
			open:      []pinwatchd.Alert{mismatchAB},
			threshold: 1,
			gone:      []string{rdB},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := tt.threshold
			if th == 0 {
				th = 3
			}
			next, gone := tt.before.Advance(tt.obs, tt.open, th)
			if !maps.Equal(next.Failures, tt.failures) || !maps.Equal(next.Absent, tt.absent) || !slices.Equal(gone, tt.gone) {
				t.Errorf("Advance = failures %v absent %v gone %v; want %v %v %v", next.Failures, next.Absent, gone, tt.failures, tt.absent, tt.gone)
			}
		})
	}
}

// TestMemoryAdvanceDoesNotShare: the memory after a round never aliases the
// one before, which the Runner compares it with.
func TestMemoryAdvanceDoesNotShare(t *testing.T) {
	before := Memory{Failures: map[string]int{rdA: 1}, Absent: map[string]int{rdB: 1}}
	next, _ := before.Advance([]pinwatchd.Observation{failAt(rdName, pinwatchd.KindDNSFailed)}, nil, 3)
	next.Failures[rdA] = 7
	next.Absent[rdB] = 7
	if before.Failures[rdA] != 1 || before.Absent[rdB] != 1 {
		t.Errorf("changing the next memory changed the one before: %+v", before)
	}
}

func TestSeedMemory(t *testing.T) {
	stored := map[string]int{rdA: 3, rdB: 1, rdName: 9, "old.example.com:443": 4}
	name := pinwatchd.NameState{Unresolved: 1, Absent: map[string]int{rdB: 1}}

	// The store counts the round just recorded: the memory before it does not.
	m := seedMemory(stored, name, []pinwatchd.Observation{okAt(rdA), failAt(rdB, pinwatchd.KindTimeout)}, rdName)
	if want := map[string]int{rdA: 3, rdName: 1}; !maps.Equal(m.Failures, want) || !maps.Equal(m.Absent, name.Absent) {
		t.Errorf("seed = %+v, want failures %v (the spans' count at host:port is not trusted) and absent %v", m, want, name.Absent)
	}
	m = seedMemory(stored, pinwatchd.NameState{}, []pinwatchd.Observation{failAt(rdName, pinwatchd.KindDNSFailed)}, rdName)
	if want := map[string]int{rdA: 3, rdB: 1}; !maps.Equal(m.Failures, want) {
		t.Errorf("seed in a failed round = %v, want %v: the name's run comes from its state only", m.Failures, want)
	}
	if got := m.nameState(rdName); got.Unresolved != 0 || got.Absent != nil {
		t.Errorf("nameState = %+v, want zero", got)
	}
	// After the round, the state to store counts it.
	after, _ := m.Advance([]pinwatchd.Observation{failAt(rdName, pinwatchd.KindDNSFailed)}, nil, 2)
	if got := after.nameState(rdName); got.Unresolved != 1 {
		t.Errorf("after one failed round nameState = %+v, want unresolved 1", got)
	}
	if got := after.nameState(""); got.Unresolved != 0 {
		t.Errorf("a target without a name stores unresolved %d, want 0", got.Unresolved)
	}
}

func TestNameAddress(t *testing.T) {
	for _, tc := range []struct {
		t    pinwatchd.Target
		want string
	}{
		{pinwatchd.Target{Host: "api.example.com", Port: 443}, "api.example.com:443"},
		{pinwatchd.Target{Host: "api.example.com", Port: 443, Addresses: []string{rdA}}, ""},
		{pinwatchd.Target{Host: "127.0.0.1", Port: 443}, ""},
		{pinwatchd.Target{Host: "::1", Port: 443}, ""},
	} {
		if got := nameAddress(&tc.t); got != tc.want {
			t.Errorf("nameAddress(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestNewRound(t *testing.T) {
	chainOnly := failAt(rdB, pinwatchd.KindTimeout)
	chainOnly.ServedChain = []pinwatchd.Cert{{SHA256: "leaf"}}
	r := NewRound([]pinwatchd.Observation{okAt(rdA), chainOnly, failAt("10.0.0.3:443", pinwatchd.KindConnectFailed)}, nil, Memory{}, nil)
	want := map[string]Seen{rdA: SeenAll, rdB: SeenChain, "10.0.0.3:443": SeenFailed}
	if !r.Resolved || !maps.Equal(r.Seen, want) {
		t.Errorf("NewRound = resolved %v seen %v, want resolved and %v", r.Resolved, r.Seen, want)
	}
	if r := NewRound([]pinwatchd.Observation{failAt(rdName, pinwatchd.KindDNSFailed)}, nil, Memory{}, nil); r.Resolved {
		t.Error("a round with only the name's dns_failed counts as resolved")
	}
	if r := NewRound([]pinwatchd.Observation{failAt("[::1]:443", pinwatchd.KindTimeout)}, nil, Memory{}, nil); !r.Resolved {
		t.Error("a round with a failed IPv6 address does not count as resolved")
	}
}
