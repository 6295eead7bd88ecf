package pinwatchd_test

import (
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

const testCertSHA = "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7"

// finding returns a finding of kind k with every field set, so a subject
// shows which field it was taken from.
func finding(k pinwatchd.Kind, addr string) pinwatchd.Finding {
	return pinwatchd.Finding{
		Kind: k, Severity: pinwatchd.SeverityWarning, Address: addr,
		PinSet: "ios-app-5", Cert: testCertSHA, Message: "something is wrong",
	}
}

// TestAlertSubject checks the subject of SPEC §6 for each kind: what an
// alert of that kind is about.
func TestAlertSubject(t *testing.T) {
	const addr = "192.0.2.10:443"
	tests := []struct {
		name string
		f    pinwatchd.Finding
		want string
	}{
		{"pin_mismatch: the pin-set", finding(pinwatchd.KindPinMismatch, addr), "ios-app-5"},
		{"missing_backup_pin: the pin-set", finding(pinwatchd.KindMissingBackupPin, addr), "ios-app-5"},
		{"pinset_expiring: the pin-set", finding(pinwatchd.KindPinSetExpiring, ""), "ios-app-5"},
		{"pinset_expired: the pin-set", finding(pinwatchd.KindPinSetExpired, ""), "ios-app-5"},
		{"pin_mismatch of an inline pin-set", withPinSet(finding(pinwatchd.KindPinMismatch, addr), pinwatchd.PinSetInline), "inline"},
		{"pin_mismatch of the header", withPinSet(finding(pinwatchd.KindPinMismatch, addr), pinwatchd.PinSetHeader), "header"},
		{"cert_expiring: the certificate", finding(pinwatchd.KindCertExpiring, addr), testCertSHA},
		{"cert_expired: the certificate", finding(pinwatchd.KindCertExpired, addr), testCertSHA},
		{"dns_failed: the host name", finding(pinwatchd.KindDNSFailed, "api.example.com:443"), "api.example.com"},
		{"dns_failed of an IPv6-bracketed host:port", finding(pinwatchd.KindDNSFailed, "[v6.example.com]:8443"), "v6.example.com"},
		{"connect_failed: the address", finding(pinwatchd.KindConnectFailed, addr), addr},
		{"handshake_failed: the address", finding(pinwatchd.KindHandshakeFailed, addr), addr},
		{"timeout: the address", finding(pinwatchd.KindTimeout, "[2001:db8::1]:443"), "[2001:db8::1]:443"},
		{"header_malformed: the enforcing header", withPinSet(finding(pinwatchd.KindHeaderMalformed, addr), pinwatchd.PinSetHeader), "header"},
		{"header_malformed: the Report-Only header", withPinSet(finding(pinwatchd.KindHeaderMalformed, addr), pinwatchd.PinSetHeaderReportOnly), "header-report-only"},
		{"hsts_missing: hsts", finding(pinwatchd.KindHSTSMissing, addr), "hsts"},
		{"hsts_malformed: hsts", finding(pinwatchd.KindHSTSMalformed, addr), "hsts"},
		{"chain_untrusted: the target", finding(pinwatchd.KindChainUntrusted, addr), ""},
		{"hostname_mismatch: the target", finding(pinwatchd.KindHostnameMismatch, addr), ""},
		{"ip_inconsistent: the target", finding(pinwatchd.KindIPInconsistent, ""), ""},
		{"no_pin_header: the target", finding(pinwatchd.KindNoPinHeader, addr), ""},
		{"header_report_only: the target", finding(pinwatchd.KindHeaderReportOnly, addr), ""},
		{"tlsa_mismatch: tlsa", finding(pinwatchd.KindTLSAMismatch, addr), "tlsa"},
		{"tlsa_missing_backup: tlsa", finding(pinwatchd.KindTLSAMissingBackup, addr), "tlsa"},
		{"tlsa_unsigned: tlsa", finding(pinwatchd.KindTLSAUnsigned, ""), "tlsa"},
		{"tlsa_malformed: tlsa", finding(pinwatchd.KindTLSAMalformed, ""), "tlsa"},
		{"tlsa_lookup_failed: tlsa", finding(pinwatchd.KindTLSALookupFailed, ""), "tlsa"},
		{"no_tlsa: tlsa", finding(pinwatchd.KindNoTLSA, ""), "tlsa"},
		{"starttls_failed: the target", finding(pinwatchd.KindSTARTTLSFailed, addr), ""},
		{"dns_failed of an mx target: mx", pinwatchd.Finding{Kind: pinwatchd.KindDNSFailed, Address: "example.com", Subject: "mx"}, "mx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pinwatchd.AlertSubject(&tt.f); got != tt.want {
				t.Errorf("AlertSubject(%+v) = %q, want %q", tt.f, got, tt.want)
			}
		})
	}
}

// One alert lists every address it affects (SPEC §6): the same condition at
// two addresses has one subject, except for the connectivity kinds, whose
// subject is the address that failed.
func TestAlertSubjectAcrossAddresses(t *testing.T) {
	for _, k := range pinwatchd.Kinds {
		t.Run(string(k), func(t *testing.T) {
			a, b := finding(k, "192.0.2.10:443"), finding(k, "192.0.2.11:443")
			sa, sb := pinwatchd.AlertSubject(&a), pinwatchd.AlertSubject(&b)
			switch {
			case k.IsConnectivity() && sa == sb:
				t.Errorf("failures at two addresses share the subject %q, want one alert per address", sa)
			case !k.IsConnectivity() && sa != sb:
				t.Errorf("subjects %q and %q at two addresses, want one alert listing both", sa, sb)
			}
		})
	}
}

// A target with a configured pin-set and an enforcing header gets one
// pin_mismatch per pin-set that fails (SPEC §6).
func TestAlertSubjectPerPinSet(t *testing.T) {
	f := finding(pinwatchd.KindPinMismatch, "192.0.2.10:443")
	configured, header := f, withPinSet(f, pinwatchd.PinSetHeader)
	if pinwatchd.AlertSubject(&configured) == pinwatchd.AlertSubject(&header) {
		t.Errorf("pin_mismatch of %q and of %q share the subject %q",
			configured.PinSet, header.PinSet, pinwatchd.AlertSubject(&header))
	}
}

func TestAlertKey(t *testing.T) {
	a := pinwatchd.Alert{
		ID: 7, Target: "api", Kind: pinwatchd.KindCertExpiring, Severity: pinwatchd.SeverityCritical,
		Subject: testCertSHA, Addresses: []string{"192.0.2.10:443"}, State: pinwatchd.AlertOpen,
		Message: "expires in 3 days",
	}
	want := pinwatchd.AlertKey{Target: "api", Kind: pinwatchd.KindCertExpiring, Subject: testCertSHA}
	if got := a.Key(); got != want {
		t.Errorf("Key() = %+v, want %+v", got, want)
	}
	// Severity, state, addresses and message change over an alert's life;
	// its identity does not.
	b := a
	b.ID, b.Severity, b.State, b.Addresses, b.Message = 8, pinwatchd.SeverityWarning, pinwatchd.AlertResolved, nil, "renewed"
	if a.Key() != b.Key() {
		t.Errorf("Key() changed with the alert's state: %+v, %+v", a.Key(), b.Key())
	}
}

func TestAlertStateIdentifiers(t *testing.T) {
	if pinwatchd.AlertOpen != "open" || pinwatchd.AlertResolved != "resolved" {
		t.Errorf("alert states %q, %q; want the SPEC §5 values open, resolved", pinwatchd.AlertOpen, pinwatchd.AlertResolved)
	}
}

func TestNotificationTarget(t *testing.T) {
	tests := []struct {
		name string
		n    pinwatchd.Notification
		want string
	}{
		{"alert change", pinwatchd.Notification{Type: pinwatchd.ChangeOpened, Alert: &pinwatchd.Alert{Target: "api"}}, "api"},
		{"chain_changed event", pinwatchd.Notification{Type: pinwatchd.ChangeChainChanged, Event: &pinwatchd.Event{Target: "mail"}}, "mail"},
		{"neither", pinwatchd.Notification{Type: pinwatchd.ChangeResolved}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.n.Target(); got != tt.want {
				t.Errorf("Target() = %q, want %q", got, tt.want)
			}
		})
	}
}

func withPinSet(f pinwatchd.Finding, name string) pinwatchd.Finding {
	f.PinSet = name
	return f
}
