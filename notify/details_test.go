package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Sample details, as monitor.Evaluate fills them in.

var (
	servedLeaf = &pinwatchd.CertSummary{Subject: "CN=api.example.com,O=Example", Issuer: "CN=Example Intermediate CA,O=Example",
		NotAfter: fixedNow.Add(70*24*time.Hour + 3*time.Hour), Position: "leaf",
		SHA256: "bb22", Pin: mustPin("n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=")}
	expectedPins = []pinwatchd.Pin{mustPin("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="), mustPin("mCc1m4GSr8SsZBLQs3aSPF1ZQqoe7fRtSK1x1MWDaUQ=")}
	shopLeaf     = &pinwatchd.CertSummary{Subject: "CN=shop.example.com", Issuer: "CN=R11,O=Let's Encrypt,C=US",
		NotAfter: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), Position: "leaf",
		SHA256: "3f1d1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0918273645546372819a0b1c2", Pin: mustPin("Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=")}
)

func mustPin(s string) pinwatchd.Pin {
	p, err := pinwatchd.ParsePin(s)
	if err != nil {
		panic(err)
	}
	return p
}

// detailedPinMismatch is pinMismatchAlert with the served leaf and the
// expected pins.
func detailedPinMismatch() pinwatchd.Alert {
	a := pinMismatchAlert()
	a.Details = &pinwatchd.Details{Cert: servedLeaf, ExpectedPins: expectedPins}
	return a
}

// detailedCertExpiring is certExpiringAlert with its certificate.
func detailedCertExpiring() pinwatchd.Alert {
	a := certExpiringAlert()
	a.Details = &pinwatchd.Details{Cert: shopLeaf}
	return a
}

// A mail exchange's TLSA RRset and served leaf, as monitor's TLSA rules
// fill them in: the current key's record (3 1 1 of mailLeaf's key) and a
// DANE-TA record for another CA.
var (
	mailLeaf = &pinwatchd.CertSummary{Subject: "CN=mx1.example.com", Issuer: "CN=R11,O=Let's Encrypt,C=US",
		NotAfter: time.Date(2027, 1, 10, 8, 0, 0, 0, time.UTC), Position: "leaf",
		SHA256: "9a8b", Pin: mustPin("Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=")}
	mailLeafRecord = "3 1 1 563b3caf8cfef34c2335caf560a7a95906e8488462eb75ac59784830df9e5b2b"
	otherCARecord  = pinwatchd.TLSARecord{Usage: 2, Selector: 1, MatchingType: 1, Usable: true,
		Data: "8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d"}
)

// tlsaMismatchAlert is a tlsa_mismatch of mx target mail's exchange: the
// RRset holds only the next key's record and another CA's.
func tlsaMismatchAlert() pinwatchd.Alert {
	next := pinwatchd.TLSARecord{Usage: 3, Selector: 1, MatchingType: 1, Usable: true,
		Data: "47e0c345a8fc1c1496bbf3b2266fb9242e79116499ba4d3324959c61b8545540"}
	return pinwatchd.Alert{ID: 21, Target: "mail/mx1.example.com", Kind: pinwatchd.KindTLSAMismatch, Severity: pinwatchd.SeverityCritical,
		Subject: pinwatchd.PinSetTLSA, Addresses: []string{"192.0.2.25:25"}, State: pinwatchd.AlertOpen,
		Message: "no TLSA record of _25._tcp.mx1.example.com matches the chain served at 192.0.2.25:25: DANE clients refuse it " +
			"(leaf key Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=, DANE-EE data 3 1 1 563b3caf8cfef34c2335caf560a7a95906e8488462eb75ac59784830df9e5b2b; " +
			"published: 2 1 1 8d02536c887482bc…, 3 1 1 47e0c345a8fc1c14…)",
		Details: &pinwatchd.Details{Cert: mailLeaf, TLSA: &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example.com", Authenticated: true,
			Records: []pinwatchd.TLSARecord{otherCARecord, next}}},
		OpenedAt: fixedNow.Add(-10 * time.Minute)}
}

// tlsaMissingBackupAlert is a tlsa_missing_backup of the same exchange: the
// RRset holds the current key's record only.
func tlsaMissingBackupAlert() pinwatchd.Alert {
	cur := pinwatchd.TLSARecord{Usage: 3, Selector: 1, MatchingType: 1, Usable: true, Matches: "leaf",
		Data: strings.Fields(mailLeafRecord)[3]}
	return pinwatchd.Alert{ID: 22, Target: "mail/mx1.example.com", Kind: pinwatchd.KindTLSAMissingBackup, Severity: pinwatchd.SeverityWarning,
		Subject: pinwatchd.PinSetTLSA, Addresses: []string{"192.0.2.25:25"}, State: pinwatchd.AlertOpen,
		Message: "every usable TLSA record of _25._tcp.mx1.example.com matches the chain served at 192.0.2.25:25 now " +
			"(3 1 1 563b3caf8cfef34c… (leaf)): publish the next key's record before the rotation",
		Details: &pinwatchd.Details{Cert: mailLeaf, TLSA: &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example.com", Authenticated: true,
			Records: []pinwatchd.TLSARecord{cur}}},
		OpenedAt: fixedNow.Add(-10 * time.Minute)}
}

// The Block Kit message and its plain-text fallback both carry the facts of
// the details (SPEC §8).
func TestRenderDetails(t *testing.T) {
	cases := []struct {
		name string
		note pinwatchd.Notification
		want []string // in the fallback text and in the blocks
	}{
		{"pin_mismatch", alertNote(pinwatchd.ChangeOpened, detailedPinMismatch()), []string{
			"Served leaf", "CN=api.example.com,O=Example", "CN=Example Intermediate CA,O=Example",
			"NotAfter 2027-02-01 21:00 UTC (70 days left)", "n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=",
			`Expected pins (pin-set `, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "mCc1m4GSr8SsZBLQs3aSPF1ZQqoe7fRtSK1x1MWDaUQ=",
		}},
		{"cert_expiring", alertNote(pinwatchd.ChangeOpened, detailedCertExpiring()), []string{
			"Certificate (leaf)", "CN=shop.example.com", "CN=R11,O=Let's Encrypt,C=US", "NotAfter 2026-12-05 12:00 UTC (11 days left)",
		}},
		{"tlsa_mismatch", alertNote(pinwatchd.ChangeOpened, tlsaMismatchAlert()), []string{
			"Served leaf", "CN=mx1.example.com", "key pin", mailLeaf.Pin.String(), "DANE-EE record", mailLeafRecord,
			"Published TLSA records at ", "_25._tcp.mx1.example.com",
			"2 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d", " → no match",
			"3 1 1 47e0c345a8fc1c1496bbf3b2266fb9242e79116499ba4d3324959c61b8545540",
		}},
		{"tlsa_missing_backup", alertNote(pinwatchd.ChangeOpened, tlsaMissingBackupAlert()), []string{
			"Served leaf", mailLeaf.Pin.String(), mailLeafRecord, " → leaf",
		}},
		{"reminder", alertNote(pinwatchd.ChangeReminder, detailedCertExpiring()), []string{
			"CN=R11,O=Let's Encrypt,C=US", "(11 days left)",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(&tc.note, fixedNow)
			checkLimits(t, m)
			blocks := strings.Join(blockTexts(t, m), "\n")
			for _, s := range tc.want {
				if !strings.Contains(m.Text, esc(s)) {
					t.Errorf("fallback text lacks %q:\n%s", s, m.Text)
				}
				if !strings.Contains(blocks, esc(s)) {
					t.Errorf("blocks lack %q:\n%s", s, blocks)
				}
			}
		})
	}
	t.Run("a certificate's key pin only for pin_mismatch", func(t *testing.T) {
		m := Render(new(alertNote(pinwatchd.ChangeOpened, detailedCertExpiring())), fixedNow)
		if all := m.Text + strings.Join(blockTexts(t, m), "\n"); strings.Contains(all, shopLeaf.Pin.String()) || strings.Contains(all, "Expected pins") {
			t.Errorf("cert_expiring shows pins:\n%s", all)
		}
	})
	t.Run("resolve", func(t *testing.T) {
		a := detailedPinMismatch()
		a.State, a.ResolveReason, a.ResolvedAt = pinwatchd.AlertResolved, "a pin of the set matches the served chain again", fixedNow
		m := Render(new(alertNote(pinwatchd.ChangeResolved, a)), fixedNow)
		if all := m.Text + strings.Join(blockTexts(t, m), "\n"); strings.Contains(all, "Served leaf") || !strings.HasPrefix(m.Text, "Resolved") {
			t.Errorf("a resolve shows the details of what is gone:\n%s", all)
		}
	})
	t.Run("many expected pins", func(t *testing.T) {
		a := detailedPinMismatch()
		var pins []pinwatchd.Pin
		for i := range 25 {
			pins = append(pins, pinwatchd.Pin{byte(i + 1)})
		}
		a.Details = &pinwatchd.Details{Cert: servedLeaf, ExpectedPins: pins}
		m := Render(new(alertNote(pinwatchd.ChangeOpened, a)), fixedNow)
		checkLimits(t, m)
		for _, s := range []string{m.Text, strings.Join(blockTexts(t, m), "\n")} {
			if !strings.Contains(s, pins[9].String()) || strings.Contains(s, pins[10].String()) || !strings.Contains(s, "and 15 more") {
				t.Errorf("25 pins not summarised as the first 10 and 15 more:\n%s", s)
			}
		}
	})
	t.Run("host text is escaped", func(t *testing.T) {
		a := detailedCertExpiring()
		a.Details = &pinwatchd.Details{Cert: &pinwatchd.CertSummary{Subject: "CN=<!channel>", Issuer: "O=a&b<http://x|y>", NotAfter: fixedNow}}
		m := Render(new(alertNote(pinwatchd.ChangeOpened, a)), fixedNow)
		for _, s := range append(blockTexts(t, m), m.Text) {
			if strings.ContainsAny(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s), "<>&") {
				t.Errorf("unescaped markup in %q", s)
			}
		}
	})
}

// Every TLSA kind names its target, its kind and the RRset it is about
// (SPEC §8, §12), with or without details; without them (an alert read back
// from storage) the subject falls back to the pin-set name "tlsa".
func TestRenderTLSAKinds(t *testing.T) {
	for _, k := range []pinwatchd.Kind{pinwatchd.KindTLSAMismatch, pinwatchd.KindTLSAMissingBackup, pinwatchd.KindTLSAUnsigned,
		pinwatchd.KindTLSAMalformed, pinwatchd.KindTLSALookupFailed, pinwatchd.KindNoTLSA} {
		for _, typ := range []pinwatchd.ChangeType{pinwatchd.ChangeOpened, pinwatchd.ChangeReminder, pinwatchd.ChangeEscalated, pinwatchd.ChangeResolved} {
			a := tlsaMismatchAlert()
			a.Kind, a.ResolveReason = k, "the RRset is fine again"
			if k != pinwatchd.KindTLSAMismatch && k != pinwatchd.KindTLSAMissingBackup {
				a.Addresses = nil
				a.Details = &pinwatchd.Details{TLSA: &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example.com"}}
			}
			bare := a
			bare.Details = nil
			for name, a := range map[string]pinwatchd.Alert{"details": a, "no details": bare} {
				n := alertNote(typ, a)
				m := Render(&n, fixedNow)
				checkLimits(t, m)
				blocks := strings.Join(blockTexts(t, m), "\n")
				for _, s := range []string{string(k), a.Target} {
					if !strings.Contains(m.Text, s) || !strings.Contains(blocks, s) {
						t.Errorf("%s %s (%s) does not name %q:\ntext %s\nblocks %s", typ, k, name, s, m.Text, blocks)
					}
				}
				subject := "*TLSA*\n`_25._tcp.mx1.example.com`"
				if a.Details == nil {
					subject = "*TLSA*\n`tlsa`"
				}
				if !strings.Contains(blocks, subject) || strings.Contains(blocks, "*Subject*") {
					t.Errorf("%s %s (%s): want the subject field %q:\n%s", typ, k, name, subject, blocks)
				}
				if d := RenderDigest([]pinwatchd.Notification{n, n}, fixedNow); !strings.Contains(d.Text, string(k)+" on "+a.Target) {
					t.Errorf("digest entry of %s %s does not name kind and target:\n%s", typ, k, d.Text)
				}
			}
		}
	}
	t.Run("unauthenticated RRset", func(t *testing.T) {
		a := tlsaMismatchAlert()
		a.Kind, a.Addresses = pinwatchd.KindTLSAUnsigned, nil
		a.Details = &pinwatchd.Details{TLSA: &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example.com", Records: a.Details.TLSA.Records}}
		m := Render(new(alertNote(pinwatchd.ChangeOpened, a)), fixedNow)
		all := m.Text + strings.Join(blockTexts(t, m), "\n")
		if !strings.Contains(all, "(not DNSSEC-authenticated)") || strings.Contains(all, "→") || strings.Contains(all, "Served leaf") {
			t.Errorf("an unsigned RRset should list its records, unmatched, as not authenticated:\n%s", all)
		}
	})
}
