package pinwatchd_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// specKinds are the identifiers of SPEC §3 that this package defines, in the
// order of the SPEC's table. They appear in JSON, SQLite, metrics and Slack,
// so a rename breaks stored data and users' alert rules.
var specKinds = []struct {
	kind pinwatchd.Kind
	id   string
}{
	{pinwatchd.KindPinMismatch, "pin_mismatch"},
	{pinwatchd.KindMissingBackupPin, "missing_backup_pin"},
	{pinwatchd.KindPinSetExpiring, "pinset_expiring"},
	{pinwatchd.KindPinSetExpired, "pinset_expired"},
	{pinwatchd.KindCertExpiring, "cert_expiring"},
	{pinwatchd.KindCertExpired, "cert_expired"},
	{pinwatchd.KindChainUntrusted, "chain_untrusted"},
	{pinwatchd.KindHostnameMismatch, "hostname_mismatch"},
	{pinwatchd.KindDNSFailed, "dns_failed"},
	{pinwatchd.KindConnectFailed, "connect_failed"},
	{pinwatchd.KindHandshakeFailed, "handshake_failed"},
	{pinwatchd.KindTimeout, "timeout"},
	{pinwatchd.KindHeaderMalformed, "header_malformed"},
	{pinwatchd.KindHeaderReportOnly, "header_report_only"},
	{pinwatchd.KindNoPinHeader, "no_pin_header"},
	{pinwatchd.KindHSTSMissing, "hsts_missing"},
	{pinwatchd.KindHSTSMalformed, "hsts_malformed"},
	{pinwatchd.KindIPInconsistent, "ip_inconsistent"},
	{pinwatchd.KindTLSAMismatch, "tlsa_mismatch"},
	{pinwatchd.KindTLSAMissingBackup, "tlsa_missing_backup"},
	{pinwatchd.KindTLSAUnsigned, "tlsa_unsigned"},
	{pinwatchd.KindTLSAMalformed, "tlsa_malformed"},
	{pinwatchd.KindTLSALookupFailed, "tlsa_lookup_failed"},
	{pinwatchd.KindNoTLSA, "no_tlsa"},
	{pinwatchd.KindSTARTTLSFailed, "starttls_failed"},
	{pinwatchd.KindVantageInconsistent, "vantage_inconsistent"},
	{pinwatchd.KindVantageSilent, "vantage_silent"},
	{pinwatchd.KindChainChanged, "chain_changed"},
}

func TestKindIdentifiers(t *testing.T) {
	for _, k := range specKinds {
		if string(k.kind) != k.id {
			t.Errorf("kind %q, want the SPEC identifier %q", k.kind, k.id)
		}
	}
}

// Kinds is what reports sort by and metrics enumerate: every kind once, in
// SPEC order.
func TestKindsList(t *testing.T) {
	var want []pinwatchd.Kind
	for _, k := range specKinds {
		want = append(want, k.kind)
	}
	if !slices.Equal(pinwatchd.Kinds, want) {
		t.Errorf("Kinds = %v\nwant   %v", pinwatchd.Kinds, want)
	}
}

func TestKindIsConnectivity(t *testing.T) {
	connectivity := []pinwatchd.Kind{
		pinwatchd.KindDNSFailed, pinwatchd.KindConnectFailed,
		pinwatchd.KindHandshakeFailed, pinwatchd.KindTimeout,
	}
	for _, k := range specKinds {
		t.Run(k.id, func(t *testing.T) {
			want := slices.Contains(connectivity, k.kind)
			if got := k.kind.IsConnectivity(); got != want {
				t.Errorf("IsConnectivity() = %v, want %v", got, want)
			}
		})
	}
	if pinwatchd.Kind("").IsConnectivity() {
		t.Error(`Kind("").IsConnectivity() = true`)
	}
}

func TestChangeClassIdentifiers(t *testing.T) {
	tests := []struct {
		class pinwatchd.ChangeClass
		id    string
	}{
		{pinwatchd.ChangeKeyRotated, "key_rotated"},
		{pinwatchd.ChangeIssuerChanged, "issuer_changed"},
		{pinwatchd.ChangeRenewed, "renewed"},
	}
	for _, tt := range tests {
		if string(tt.class) != tt.id {
			t.Errorf("change class %q, want the SPEC identifier %q", tt.class, tt.id)
		}
	}
}

// TestFindingJSON checks the finding object of SPEC §5: every field present,
// severity as its name, empty address, pin-set and cert as null.
func TestFindingJSON(t *testing.T) {
	const certSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	tests := []struct {
		name string
		f    pinwatchd.Finding
		want map[string]any
	}{
		{
			name: "every field set",
			f: pinwatchd.Finding{
				Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical,
				Address: "192.0.2.10:443", PinSet: "ios-app-5", Cert: certSHA,
				Message: "no pin of ios-app-5 matches the chain served at 192.0.2.10:443",
			},
			want: map[string]any{
				"kind": "pin_mismatch", "severity": "critical", "address": "192.0.2.10:443",
				"pinset": "ios-app-5", "cert": certSHA,
				"message": "no pin of ios-app-5 matches the chain served at 192.0.2.10:443",
			},
		},
		{
			name: "with details",
			f: pinwatchd.Finding{
				Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical,
				Address: "192.0.2.10:443", PinSet: "ios-app-5", Message: "no pin matches",
				Details: &pinwatchd.Details{
					Cert: &pinwatchd.CertSummary{Subject: "CN=api.example.com", Issuer: "CN=Example CA",
						NotAfter: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), SHA256: certSHA, Pin: pinwatchd.Pin{7}, Position: "leaf"},
					ExpectedPins: []pinwatchd.Pin{{1}, {2}},
				},
			},
			want: map[string]any{
				"kind": "pin_mismatch", "pinset": "ios-app-5", "cert": nil,
				"certificate": map[string]any{"subject": "CN=api.example.com", "issuer": "CN=Example CA",
					"not_after": "2027-02-01T00:00:00Z", "sha256": certSHA, "pin_sha256": pinwatchd.Pin{7}.String(), "position": "leaf"},
				"expected_pins": []any{pinwatchd.Pin{1}.String(), pinwatchd.Pin{2}.String()},
			},
		},
		{
			name: "about the whole target",
			f: pinwatchd.Finding{
				Kind: pinwatchd.KindIPInconsistent, Severity: pinwatchd.SeverityWarning,
				Message: "the addresses serve different keys",
			},
			want: map[string]any{
				"kind": "ip_inconsistent", "severity": "warning", "address": nil,
				"pinset": nil, "cert": nil, "message": "the addresses serve different keys",
			},
		},
		{
			name: "certificate without pin-set",
			f: pinwatchd.Finding{
				Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityWarning,
				Address: "[2001:db8::1]:443", Cert: certSHA, Message: "expires in 12 days",
			},
			want: map[string]any{
				"kind": "cert_expiring", "severity": "warning", "address": "[2001:db8::1]:443",
				"pinset": nil, "cert": certSHA, "message": "expires in 12 days",
			},
		},
		{
			name: "info with empty message",
			f:    pinwatchd.Finding{Kind: pinwatchd.KindNoPinHeader, Address: "192.0.2.10:443"},
			want: map[string]any{
				"kind": "no_pin_header", "severity": "info", "address": "192.0.2.10:443",
				"pinset": nil, "cert": nil, "message": "",
			},
		},
		{
			name: "chain_changed carries its class",
			f: pinwatchd.Finding{
				Kind: pinwatchd.KindChainChanged, Severity: pinwatchd.SeverityInfo,
				Address: "192.0.2.10:443", Message: "the leaf key changed", Class: pinwatchd.ChangeKeyRotated,
			},
			want: map[string]any{
				"kind": "chain_changed", "severity": "info", "address": "192.0.2.10:443",
				"pinset": nil, "cert": nil, "message": "the leaf key changed", "class": "key_rotated",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				gv, ok := got[k]
				if !ok {
					t.Errorf("%s: no field %q", b, k)
				} else if !reflect.DeepEqual(gv, v) {
					t.Errorf("%s: %q = %#v, want %#v", b, k, gv, v)
				}
			}
			if _, ok := got["class"]; ok && tt.f.Class == "" {
				t.Errorf("%s: class present on a finding without one", b)
			}
			for _, k := range []string{"certificate", "expected_pins"} {
				if _, ok := got[k]; ok && tt.f.Details == nil {
					t.Errorf("%s: %s present on a finding without details", b, k)
				}
			}

			var back pinwatchd.Finding
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("json.Unmarshal(%s): %v", b, err)
			}
			if !reflect.DeepEqual(back, tt.f) {
				t.Errorf("round trip = %+v\nwant         %+v", back, tt.f)
			}
		})
	}
}

// A finding written by hand (or by an older pinwatchd) in the SPEC shape
// decodes, and a bad severity is refused.
func TestFindingUnmarshalJSON(t *testing.T) {
	const in = `{"kind": "missing_backup_pin", "severity": "warning", "address": null,
		"pinset": "header", "cert": null, "message": "no backup pin", "extra": 1}`
	var got pinwatchd.Finding
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := pinwatchd.Finding{
		Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning,
		PinSet: pinwatchd.PinSetHeader, Message: "no backup pin",
	}
	if got != want {
		t.Errorf("json.Unmarshal = %+v\nwant           %+v", got, want)
	}

	for _, bad := range []string{
		`{"kind": "pin_mismatch", "severity": "fatal"}`,
		`{"kind": "pin_mismatch", "severity": 2}`,
	} {
		var f pinwatchd.Finding
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("json.Unmarshal(%s) = %+v, want an error", bad, f)
		}
	}
}

// Worst decides the exit code of `check` and `probe` (SPEC §5): 0 when no
// finding is above info, 1 for a warning, 2 for a critical one.
func TestWorstExitCode(t *testing.T) {
	info := pinwatchd.Finding{Kind: pinwatchd.KindNoPinHeader, Severity: pinwatchd.SeverityInfo}
	warn := pinwatchd.Finding{Kind: pinwatchd.KindMissingBackupPin, Severity: pinwatchd.SeverityWarning}
	crit := pinwatchd.Finding{Kind: pinwatchd.KindPinMismatch, Severity: pinwatchd.SeverityCritical}
	tests := []struct {
		name  string
		fs    []pinwatchd.Finding
		worst pinwatchd.Severity
		exit  int
	}{
		{"no findings", nil, pinwatchd.SeverityInfo, 0},
		{"info only", []pinwatchd.Finding{info, info}, pinwatchd.SeverityInfo, 0},
		{"a warning", []pinwatchd.Finding{info, warn, info}, pinwatchd.SeverityWarning, 1},
		{"a critical first", []pinwatchd.Finding{crit, warn, info}, pinwatchd.SeverityCritical, 2},
		{"a critical last", []pinwatchd.Finding{info, warn, crit}, pinwatchd.SeverityCritical, 2},
		{"critical only", []pinwatchd.Finding{crit}, pinwatchd.SeverityCritical, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := pinwatchd.Worst(tt.fs)
			if w != tt.worst {
				t.Errorf("Worst = %v, want %v", w, tt.worst)
			}
			if got := w.ExitCode(); got != tt.exit {
				t.Errorf("exit code = %d, want %d", got, tt.exit)
			}
		})
	}
}
