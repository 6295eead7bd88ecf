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
