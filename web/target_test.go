package web

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestAddressView(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	chain := chainOf()
	for i := range chain {
		chain[i].SHA256 = string(rune('a' + i))
		chain[i].NotAfter = now.Add(time.Duration(i+1) * 24 * time.Hour)
	}
	stray := pinwatchd.Cert{SHA256: "x", Subject: "CN=cross-signed", Pin: pinwatchd.Pin{5}, NotAfter: now.Add(40 * 24 * time.Hour)}
	older := pinwatchd.Observation{Address: "a:1", Time: now.Add(-time.Hour), TLSVersion: "TLS 1.3",
		ServedChain: []pinwatchd.Cert{chain[0], chain[1], stray}, VerifiedChain: chain,
		Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true}}
	latest := pinwatchd.Observation{Address: "a:1", Time: now, Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "slow"}}
	tgt := &pinwatchd.Target{Name: "api", PinSets: []pinwatchd.PinSet{{Name: "app", Pins: []pinwatchd.Pin{{2}, {9}}}}}
	v := addressView(tgt, &addressState{latest: latest, chain: &older}, now, pinwatchd.DefaultThresholds)
	if v.Error == nil || !v.LastProbe.Equal(now) || v.ChainSeen == nil || !v.ChainSeen.Equal(older.Time) {
		t.Errorf("a failing address shows its error %v, last probe %v and when its chain was seen %v", v.Error, v.LastProbe, v.ChainSeen)
	}
	var rows []string
	for _, c := range v.Chain {
		served := "served"
		if !c.Served {
			served = "not served"
		}
		rows = append(rows, c.Position+"/"+served+"/"+c.Level)
	}
	want := "leaf/served/critical,intermediate 1/served/critical,root/not served/critical,not in the verified chain/served/ok"
	if strings.Join(rows, ",") != want {
		t.Errorf("chain rows:\n got %s\nwant %s", strings.Join(rows, ","), want)
	}
	if len(v.PinSets) != 1 || !v.PinSets[0].Matched || v.PinSets[0].Pins[0].Matches != "intermediate 1" || !v.PinSets[0].Pins[1].Backup {
		t.Errorf("pin-sets = %+v", v.PinSets)
	}

	never := addressView(tgt, &addressState{latest: latest}, now, pinwatchd.DefaultThresholds)
	if len(never.Chain) != 0 || never.ChainSeen != nil || never.PinSets == nil {
		t.Errorf("an address that never served a chain = %+v", never)
	}
}

func TestBuildTargetPage(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tgt := pinwatchd.Target{Name: "api", Host: "api.example.test", Port: 443, SNI: "edge.example.test",
		PinSets: []pinwatchd.PinSet{{Name: "app", Pins: []pinwatchd.Pin{{1}}, Expires: now.Add(24 * time.Hour)}}}
	open := []pinwatchd.Alert{
		{Target: "api", Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning, State: pinwatchd.AlertOpen},
		{Target: "www", Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen},
	}
	p := buildTargetPage(Fleet{Targets: []pinwatchd.Target{tgt}}, &tgt, nil, open, nil, time.Time{}, now)
	if p.Status != "warning" || len(p.Alerts) != 1 || p.SNI != "edge.example.test" || p.Since != nil {
		t.Errorf("page = %+v", p)
	}
	if len(p.PinSets) != 1 || p.PinSets[0].Pins[0] != (pinwatchd.Pin{1}).String() || p.PinSets[0].Expires == nil {
		t.Errorf("configured pin-sets = %+v", p.PinSets)
	}
	if p.Timeline == nil || len(p.Timeline.Lanes) != 0 {
		t.Errorf("timeline of a target never probed = %+v", p.Timeline)
	}
	if findTarget([]pinwatchd.Target{tgt}, "nope") != nil {
		t.Error("findTarget found a target that is not configured")
	}
}
