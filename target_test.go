package pinwatchd_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestTargetServerNameAndHostPort(t *testing.T) {
	tests := []struct {
		name         string
		target       pinwatchd.Target
		wantSNI      string
		wantHostPort string
	}{
		{"host name", pinwatchd.Target{Host: "api.example.com", Port: 443}, "api.example.com", "api.example.com:443"},
		{"sni overrides", pinwatchd.Target{Host: "api.example.com", Port: 8443, SNI: "edge.example.net"}, "edge.example.net", "api.example.com:8443"},
		{"IPv4 literal", pinwatchd.Target{Host: "192.0.2.10", Port: 443}, "192.0.2.10", "192.0.2.10:443"},
		{"IPv6 literal", pinwatchd.Target{Host: "2001:db8::1", Port: 993}, "2001:db8::1", "[2001:db8::1]:993"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.target.ServerName(); got != tt.wantSNI {
				t.Errorf("ServerName() = %q, want %q", got, tt.wantSNI)
			}
			if got := tt.target.HostPort(); got != tt.wantHostPort {
				t.Errorf("HostPort() = %q, want %q", got, tt.wantHostPort)
			}
		})
	}
}

// The `[alerts]` defaults of SPEC §10: expiry_warning 30d, expiry_critical 7d.
func TestDefaultThresholds(t *testing.T) {
	day := 24 * time.Hour
	if got := pinwatchd.DefaultThresholds; got.ExpiryWarning != 30*day || got.ExpiryCritical != 7*day {
		t.Errorf("DefaultThresholds = %v, %v; want 30 and 7 days", got.ExpiryWarning, got.ExpiryCritical)
	}
}

// TestReportJSON checks the per-target object of the probe and check JSON
// (SPEC §5).
func TestReportJSON(t *testing.T) {
	r := pinwatchd.Report{
		Name: "api", Host: "api.example.com", Port: 443,
		ProbedAt:  time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Addresses: []pinwatchd.Observation{{Address: "192.0.2.10:443"}},
		Findings: []pinwatchd.Finding{{
			Kind: pinwatchd.KindHSTSMissing, Address: "192.0.2.10:443", Message: "no HSTS",
		}},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	checkJSONFields(t, string(b), got, map[string]any{
		"name": "api", "host": "api.example.com", "port": 443.0, "probed_at": "2026-03-04T05:06:07Z",
		"addresses": []any{}, "findings": []any{},
	})
	var back pinwatchd.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != 1 || back.Findings[0] != r.Findings[0] {
		t.Errorf("findings round trip = %+v, want %+v", back.Findings, r.Findings)
	}
}
