package web

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Two vantage points probing one target (SPEC §14, §15): each (address,
// vantage) keeps its own state, the fleet row shows the last probe from
// each, and the target page groups the addresses per vantage.
func TestPagesPerVantage(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	chain := chainOf()
	fail := &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout}
	// As RecentObservations returns them: by address, then vantage, newest first.
	obs := []pinwatchd.Observation{
		{Target: "api", Address: "a:1", Vantage: "eu", Time: t0.Add(time.Hour), Error: fail}, // eu never got a chain
		{Target: "api", Address: "a:1", Vantage: "us", Time: t0.Add(2 * time.Hour), ServedChain: chain},
		{Target: "api", Address: "a:2", Vantage: "eu", Time: t0.Add(time.Hour), ServedChain: chain},
	}
	addrs := groupRecent(obs)["api"]
	if len(addrs) != 3 || addrs[0].chain != nil || addrs[1].chain != &obs[1] {
		t.Fatalf("groupRecent = %+v; want eu's a:1 without a chain (us's is another vantage's)", addrs)
	}

	tgt := pinwatchd.Target{Name: "api", Host: "api.example.test", Port: 443}
	f := Fleet{Targets: []pinwatchd.Target{tgt}}
	row := fleetRows(f, map[string][]addressState{"api": addrs}, nil, t0.Add(3*time.Hour))[0]
	want := []VantageProbe{{"eu", t0.Add(time.Hour)}, {"us", t0.Add(2 * time.Hour)}}
	if !slices.Equal(row.LastProbes, want) || row.Addresses != 2 {
		t.Errorf("fleet row: last probes %+v, %d addresses; want %+v and 2", row.LastProbes, row.Addresses, want)
	}
	fleet := FleetPage{Targets: []FleetRow{row}}
	fleet.fillCells(links{})
	if got := fleet.Targets[0].Cells.Probe; got != "eu 2026-12-01 01:00 · us 2026-12-01 02:00" {
		t.Errorf("last probe cell = %q, want one time per vantage", got)
	}

	p := buildTargetPage(f, &tgt, addrs, nil, nil, time.Time{}, t0.Add(3*time.Hour))
	var got []string
	for _, a := range p.Addresses {
		got = append(got, a.Vantage+" "+a.Address+" from="+a.From)
	}
	if w := []string{"eu a:1 from=eu", "eu a:2 from=", "us a:1 from=us"}; !slices.Equal(got, w) || !slices.Equal(p.Vantages, []string{"eu", "us"}) {
		t.Errorf("target page addresses = %q, vantages %q; want %q grouped by vantage", got, p.Vantages, w)
	}
	if p.Timeline == nil || len(p.Timeline.Lanes) != 2 {
		t.Errorf("timeline lanes = %+v, want one per address", p.Timeline)
	}

	var html strings.Builder
	if err := render(&html, "page", page{Title: "api", Nav: "target", Body: p}); err != nil {
		t.Fatal(err)
	}
	if out := html.String(); strings.Count(out, `<h3 class="vantage">Seen from `) != 2 ||
		strings.Index(out, "Seen from eu") > strings.Index(out, "Seen from us") {
		t.Errorf("the target page should head the addresses of eu, then of us:\n%s", out)
	}

	// One vantage: no groups.
	single := buildTargetPage(f, &tgt, addrs[2:], nil, nil, time.Time{}, t0.Add(3*time.Hour))
	if single.Addresses[0].From != "" || !slices.Equal(single.Vantages, []string{"eu"}) {
		t.Errorf("one vantage: %+v, vantages %q; want no group heading", single.Addresses[0], single.Vantages)
	}
	one := FleetPage{Targets: fleetRows(f, map[string][]addressState{"api": addrs[2:]}, nil, t0)}
	one.fillCells(links{})
	if c := one.Targets[0].Cells.Probe; strings.Contains(c, "eu") {
		t.Errorf("last probe cell of one vantage = %q, want the time alone", c)
	}
}
