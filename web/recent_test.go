package web

import (
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestGroupRecent(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	chain := chainOf()
	fail := &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout}
	obs := []pinwatchd.Observation{
		{Target: "api", Address: "a:1", Time: t0.Add(time.Hour), ServedChain: chain},
		{Target: "api", Address: "a:2", Time: t0.Add(time.Hour), Error: fail}, // failing now
		{Target: "api", Address: "a:2", Time: t0, ServedChain: chain[:1]},     // its last chain
		{Target: "api", Address: "a:3", Time: t0.Add(time.Hour), Error: fail}, // never served one
		{Target: "www", Address: "a:3", Time: t0, ServedChain: chain},
	}
	got := groupRecent(obs)
	api := got["api"]
	if len(api) != 3 || len(got["www"]) != 1 {
		t.Fatalf("groupRecent = %+v", got)
	}
	if api[0].chain != &obs[0] || api[0].failed() {
		t.Errorf("a:1 = %+v, want its latest observation as its chain", api[0])
	}
	if !api[1].failed() || api[1].chain != &obs[2] {
		t.Errorf("a:2 = %+v, want failing with the older chain", api[1])
	}
	if !api[2].failed() || api[2].chain != nil {
		t.Errorf("a:3 of api = %+v, want failing with no chain (www's a:3 is another address)", api[2])
	}
	leaf, min := expiry(api)
	if !leaf.Equal(chain[0].NotAfter) || !min.Equal(chain[0].NotAfter) {
		t.Errorf("expiry = %v, %v", leaf, min)
	}
	if lp := lastProbe(api); !lp.Equal(t0.Add(time.Hour)) {
		t.Errorf("lastProbe = %v", lp)
	}
}

func TestLevel(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	th := pinwatchd.DefaultThresholds
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "expired"}, {0, "critical"}, {7 * day, "critical"}, {7*day + time.Second, "warning"},
		{30 * day, "warning"}, {31 * day, "ok"},
	} {
		if got := level(now.Add(tc.in), now, th); got != tc.want {
			t.Errorf("level(now%+v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
