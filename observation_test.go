package pinwatchd_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

func TestObservationLeafAndChain(t *testing.T) {
	leaf, inter, root := pinwatchd.Cert{SHA256: "leaf"}, pinwatchd.Cert{SHA256: "inter"}, pinwatchd.Cert{SHA256: "root"}
	tests := []struct {
		name      string
		served    []pinwatchd.Cert
		verified  []pinwatchd.Cert
		wantLeaf  string // SHA256 of Leaf(), "" for nil
		wantChain []string
	}{
		{"nothing served", nil, nil, "", nil},
		{"served, not verified", []pinwatchd.Cert{leaf, inter}, nil, "leaf", []string{"leaf", "inter"}},
		{"verified up to the root", []pinwatchd.Cert{leaf, inter}, []pinwatchd.Cert{leaf, inter, root}, "leaf", []string{"leaf", "inter", "root"}},
		{"verified through another path", []pinwatchd.Cert{leaf, inter, inter}, []pinwatchd.Cert{leaf, root}, "leaf", []string{"leaf", "root"}},
		{"leaf only", []pinwatchd.Cert{leaf}, nil, "leaf", []string{"leaf"}},
		{"leaf is the trust anchor", []pinwatchd.Cert{leaf, inter}, []pinwatchd.Cert{leaf}, "leaf", []string{"leaf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &pinwatchd.Observation{ServedChain: tt.served, VerifiedChain: tt.verified}
			gotLeaf := ""
			if l := o.Leaf(); l != nil {
				gotLeaf = l.SHA256
			}
			if gotLeaf != tt.wantLeaf {
				t.Errorf("Leaf() = %q, want %q", gotLeaf, tt.wantLeaf)
			}
			var gotChain []string
			for _, c := range o.Chain() {
				gotChain = append(gotChain, c.SHA256)
			}
			if !slices.Equal(gotChain, tt.wantChain) {
				t.Errorf("Chain() = %v, want %v", gotChain, tt.wantChain)
			}
		})
	}
}

// TestObservationJSON checks the field names of an address object of the
// probe and check JSON (SPEC §5): fields may be added, never renamed.
func TestObservationJSON(t *testing.T) {
	tests := []struct {
		name string
		o    pinwatchd.Observation
		want map[string]any // fields and, where not nil, their values
	}{
		{
			name: "failed probe",
			o: pinwatchd.Observation{
				Address: "192.0.2.10:443", SNI: "api.example.com",
				Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "handshake timed out after 10s"},
			},
			want: map[string]any{
				"address": "192.0.2.10:443", "sni": "api.example.com",
				"error":                       map[string]any{"kind": "timeout", "message": "handshake timed out after 10s"},
				"public_key_pins":             nil,
				"public_key_pins_report_only": nil,
				"strict_transport_security":   nil,
			},
		},
		{
			name: "served chain and headers",
			o: pinwatchd.Observation{
				Address: "192.0.2.10:443", SNI: "api.example.com", TLSVersion: "TLS 1.3",
				ServedChain: []pinwatchd.Cert{{SHA256: testCertSHA}}, VerifiedChain: []pinwatchd.Cert{{SHA256: testCertSHA}},
				PublicKeyPins: &pinwatchd.PinHeader{
					Raw: `pin-sha256="` + spkiPin + `"; max-age=600`, Pins: []pinwatchd.Pin{mustPin(t, spkiPin)},
					MaxAge: 600, Valid: true, Errors: []string{}, Notes: []string{},
				},
				StrictTransportSecurity: &pinwatchd.HSTSHeader{Raw: "max-age=31536000; preload", MaxAge: 31536000, Preload: true, Valid: true},
			},
			want: map[string]any{
				"address": "192.0.2.10:443", "sni": "api.example.com", "error": nil, "tls_version": "TLS 1.3",
				"served_chain": []any{}, "verified_chain": []any{},
				"public_key_pins": map[string]any{
					"raw": `pin-sha256="` + spkiPin + `"; max-age=600`, "pins": []any{spkiPin},
					"max_age": 600.0, "include_subdomains": false, "report_uri": "", "valid": true,
					"errors": []any{}, "notes": []any{},
				},
				"public_key_pins_report_only": nil,
				"strict_transport_security": map[string]any{
					"raw": "max-age=31536000; preload", "max_age": 31536000.0,
					"include_subdomains": false, "preload": true,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			checkJSONFields(t, string(b), got, tt.want)
		})
	}
}

// checkJSONFields reports every field of want missing from got, and every
// value that differs. A []any in want checks only that the value is a list;
// a map[string]any is checked the same way, field by field.
func checkJSONFields(t *testing.T, doc string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no field %q", doc, k)
			continue
		}
		switch w := w.(type) {
		case map[string]any:
			gm, ok := g.(map[string]any)
			if !ok {
				t.Errorf("%s: %q = %#v, want an object", doc, k, g)
				continue
			}
			checkJSONFields(t, doc, gm, w)
		case []any:
			gl, ok := g.([]any)
			if !ok {
				t.Errorf("%s: %q = %#v, want a list", doc, k, g)
				continue
			}
			if len(w) > 0 && !slices.Equal(gl, w) {
				t.Errorf("%s: %q = %v, want %v", doc, k, gl, w)
			}
		default:
			if g != w {
				t.Errorf("%s: %q = %#v, want %#v", doc, k, g, w)
			}
		}
	}
}
