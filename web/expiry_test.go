package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestExpiryPage(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	inter := pinwatchd.Cert{SHA256: "i", Subject: "CN=inter", Issuer: "CN=root", IsCA: true, NotAfter: now.Add(60 * day)}
	leaf := func(sha string, days int) pinwatchd.Cert {
		return pinwatchd.Cert{SHA256: sha, Subject: "CN=" + sha, Issuer: "CN=inter", NotAfter: now.Add(time.Duration(days) * day)}
	}
	state := func(target, addr string, chain ...pinwatchd.Cert) addressState {
		o := pinwatchd.Observation{Target: target, Address: addr, ServedChain: chain}
		return addressState{latest: o, chain: &o}
	}
	appSet := pinwatchd.PinSet{Name: "app", Expires: now.Add(20 * day)}
	f := Fleet{Thresholds: pinwatchd.DefaultThresholds, Targets: []pinwatchd.Target{
		{Name: "api", PinSets: []pinwatchd.PinSet{appSet}},
		{Name: "www", PinSets: []pinwatchd.PinSet{appSet, {Name: "inline"}}},
	}}
	recent := map[string][]addressState{
		"api":     {state("api", "a:1", leaf("soon", 3), inter), state("api", "a:2", leaf("soon", 3), inter)},
		"www":     {state("www", "b:1", leaf("later", 200), inter), state("www", "b:2", leaf("gone", -2), inter)},
		"removed": {state("removed", "c:1", leaf("unconfigured", 10))},
	}
	p := buildExpiryPage(f, recent, now)
	var got []string
	for _, it := range p.Items {
		got = append(got, fmt.Sprintf("%s:%s:%d:%s:%s", it.Kind, it.Label, it.DaysLeft, it.Level, strings.Join(it.Targets, "+")))
	}
	want := "certificate:gone:-2:expired:www certificate:soon:3:critical:api pinset:app:20:warning:api+www certificate:inter:60:ok:api+www"
	if strings.Join(got, " ") != want {
		t.Errorf("expiry items:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if p.Later != 1 {
		t.Errorf("later = %d, want 1 (the leaf of 200 days)", p.Later)
	}
	if w := strings.Join(p.Items[1].Where, ","); w != "api a:1,api a:2" {
		t.Errorf("the expiring leaf is served at %q, want both addresses of api", w)
	}
	c := p.Chart
	if len(c.Lanes) != 4 || len(c.Marks) != 4 || c.Omitted != 0 {
		t.Fatalf("chart: %d lanes, %d marks", len(c.Lanes), len(c.Marks))
	}
	if c.Marks[0].X != exLeft || c.Marks[0].Class != "expired" || c.Marks[2].Shape != "diamond" || c.Marks[2].Class != "warning" {
		t.Errorf("marks = %+v", c.Marks)
	}
	if c.Lanes[3].Label != "api: inter (intermediate 1) +1" {
		t.Errorf("shared intermediate's lane = %q", c.Lanes[3].Label)
	}
	crit, warn := c.Bands[0], c.Bands[1]
	if crit.X != exLeft || warn.X != crit.X+crit.Width || warn.X+warn.Width <= warn.X || warn.X+warn.Width >= exRight {
		t.Errorf("bands = %+v", c.Bands)
	}
}

func TestExpiryChartRowLimit(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &ExpiryPage{Until: now.Add(expiryHorizon)}
	for i := range exMaxRows + 5 {
		p.Items = append(p.Items, ExpiryItem{When: now.Add(time.Duration(i) * time.Hour), Kind: "certificate", Label: "c", Position: "leaf"})
	}
	c := expiryChart(p, pinwatchd.DefaultThresholds, now)
	if len(c.Lanes) != exMaxRows || c.Omitted != 5 {
		t.Errorf("chart of %d items: %d lanes, %d omitted", len(p.Items), len(c.Lanes), c.Omitted)
	}
}
