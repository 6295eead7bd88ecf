package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pinwatchd/pinwatchd"
	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// blockTexts returns every text of m's blocks: section texts and fields and
// context elements.
func blockTexts(t *testing.T, m Message) []string {
	t.Helper()
	var out []string
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil {
				out = append(out, b.Text.Text)
			}
			for _, f := range b.Fields {
				out = append(out, f.Text)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if tb, ok := e.(*slack.TextBlockObject); ok {
					out = append(out, tb.Text)
				}
			}
		default:
			t.Fatalf("unexpected block type %T", b)
		}
	}
	return out
}

// checkLimits fails when m breaks one of Slack's limits or an invalid
// text object would be rejected.
func checkLimits(t *testing.T, m Message) {
	t.Helper()
	if len(m.Blocks) > maxBlocks {
		t.Errorf("%d blocks, Slack accepts %d", len(m.Blocks), maxBlocks)
	}
	limit := maxFallback
	if strings.Contains(strings.SplitN(m.Text, "\n", 2)[0], " pinwatchd notifications:") {
		limit = maxDigestText // a digest lists every entry, past Slack's advice of 4,000
	}
	if n := utf8.RuneCountInString(m.Text); n > limit || n == 0 {
		t.Errorf("fallback text has %d characters, want 1 to %d", n, limit)
	}
	for _, b := range m.Blocks {
		if sb, ok := b.(*slack.SectionBlock); ok {
			if sb.Text != nil {
				if err := sb.Text.Validate(); err != nil {
					t.Errorf("section text %.60q: %v", sb.Text.Text, err)
				}
			}
			for _, f := range sb.Fields {
				if n := utf8.RuneCountInString(f.Text); n > maxFieldText {
					t.Errorf("field has %d characters, Slack accepts %d", n, maxFieldText)
				}
			}
		}
	}
}

func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./notify -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

func TestRenderGolden(t *testing.T) {
	cases := []struct {
		name string
		note pinwatchd.Notification
		want []string // phrases the fallback text must hold
	}{
		{"pin_mismatch", alertNote(pinwatchd.ChangeOpened, detailedPinMismatch()),
			[]string{"CRITICAL", "192.0.2.10:443", "[2001:db8::10]:443", "has no pin matching",
				"Served leaf: CN=api.example.com,O=Example; issuer CN=Example Intermediate CA,O=Example; NotAfter 2027-02-01 21:00 UTC (70 days left); key pin n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM=.",
				`Expected pins (pin-set "ios-app-5"): 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, mCc1m4GSr8SsZBLQs3aSPF1ZQqoe7fRtSK1x1MWDaUQ=.`}},
		{"missing_backup_pin", alertNote(pinwatchd.ChangeOpened, missingBackupAlert()),
			[]string{"WARNING", "no backup pin"}},
		{"cert_expiring", alertNote(pinwatchd.ChangeOpened, detailedCertExpiring()),
			[]string{"WARNING", "11 days left", "198.51.100.9:443",
				"Certificate (leaf): CN=shop.example.com; issuer CN=R11,O=Let's Encrypt,C=US; NotAfter 2026-12-05 12:00 UTC (11 days left)."}},
		{"timeout", alertNote(pinwatchd.ChangeOpened, timeoutAlert()),
			[]string{"WARNING", "203.0.113.5:8443", "no TLS handshake"}},
		{"header_malformed", alertNote(pinwatchd.ChangeOpened, headerMalformedAlert()),
			[]string{"intranet&lt;&amp;&gt;", "&lt;!channel&gt;&amp;x"}},
		{"chain_changed_key_rotated", eventNote(chainChangedEvent()),
			[]string{"key_rotated", "n2b7PZ3KmWTYn0rOJ1rKa0bCHJ7Bmx0Ed3YXVjLqzsM= → Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=",
				"issuer CN=Example Intermediate CA,O=Example", "NotAfter 2027-02-01 21:00 UTC (70 days left)"}},
		{"tlsa_mismatch", alertNote(pinwatchd.ChangeOpened, tlsaMismatchAlert()),
			[]string{"CRITICAL", "192.0.2.25:25", "DANE clients refuse it",
				"Served leaf: CN=mx1.example.com; issuer CN=R11,O=Let's Encrypt,C=US; NotAfter 2027-01-10 08:00 UTC (47 days left); key pin Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys=; DANE-EE record " + mailLeafRecord + ".",
				"Published TLSA records at _25._tcp.mx1.example.com: 2 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d → no match, 3 1 1 47e0c345a8fc1c1496bbf3b2266fb9242e79116499ba4d3324959c61b8545540 → no match."}},
		{"tlsa_missing_backup", alertNote(pinwatchd.ChangeOpened, tlsaMissingBackupAlert()),
			[]string{"WARNING", "publish the next key's record", "Published TLSA records at _25._tcp.mx1.example.com: " + mailLeafRecord + " → leaf."}},
		{"reminder", reminderNote(), []string{"Still firing since 2026-11-20 18:00 UTC (3 days)"}},
		{"escalation", escalationNote(), []string{"escalated from warning to critical", "5 days left"}},
		{"resolve", resolveNote(), []string{"a pin of the set matches the served chain again", "(was critical)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(&tc.note, fixedNow)
			got, err := json.MarshalIndent(m.WebhookMessage(""), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			goldenCompare(t, tc.name, append(got, '\n'))
			checkLimits(t, m)
			kind, target := kindAndTarget(&tc.note)
			for _, s := range append([]string{kind, esc(target)}, tc.want...) {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, m.Text)
				}
			}
			all := strings.Join(blockTexts(t, m), "\n")
			for _, s := range []string{kind, esc(target)} {
				if !strings.Contains(all, s) {
					t.Errorf("blocks lack %q:\n%s", s, all)
				}
			}
			if tc.note.Type == pinwatchd.ChangeResolved {
				if !strings.HasPrefix(m.Text, "Resolved") || !strings.HasPrefix(blockTexts(t, m)[0], "*Resolved*") {
					t.Errorf("a resolve must start with Resolved; text %q, first block %q", m.Text, blockTexts(t, m)[0])
				}
			} else if strings.Contains(m.Text, "Resolved") {
				t.Errorf("text of a %s says Resolved: %q", tc.note.Type, m.Text)
			}
		})
	}
}

func TestRenderDigestGolden(t *testing.T) {
	ns := digestNotes()
	m := RenderBatch(ns, fixedNow)
	got, err := json.MarshalIndent(m.WebhookMessage("#api-team"), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	goldenCompare(t, "digest", append(got, '\n'))
	checkLimits(t, m)
	lines := strings.Split(m.Text, "\n")
	if lines[0] != "7 pinwatchd notifications:" || len(lines) != 8 {
		t.Fatalf("digest text should be a title and 7 entries, got:\n%s", m.Text)
	}
	for i := range ns {
		kind, target := kindAndTarget(&ns[i])
		if !strings.Contains(lines[i+1], kind) || !strings.Contains(lines[i+1], esc(target)) {
			t.Errorf("digest entry %d %q does not name %s and %s", i, lines[i+1], kind, target)
		}
	}
	if !strings.HasPrefix(lines[7], "• Resolved pin_mismatch on api") {
		t.Errorf("resolve entry = %q", lines[7])
	}
}

// Host-supplied strings must not become Slack markup: "<!channel>" would
// ping everyone, "<http://x|y>" would disguise a link.
func TestRenderEscapesHostStrings(t *testing.T) {
	a := pinMismatchAlert()
	a.Target = "evil<!channel>"
	a.Subject = "set<http://x|y>"
	a.Message = "a & b <!here> <@U123>"
	a.Addresses = []string{"<x>:443"}
	for _, n := range []pinwatchd.Notification{alertNote(pinwatchd.ChangeOpened, a), alertNote(pinwatchd.ChangeResolved, a)} {
		for _, m := range []Message{Render(&n, fixedNow), RenderDigest([]pinwatchd.Notification{n, n}, fixedNow)} {
			for _, s := range append(blockTexts(t, m), m.Text) {
				if strings.ContainsAny(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s), "<>&") {
					t.Errorf("unescaped markup in %q", s)
				}
			}
		}
	}
	m := Render(new(alertNote(pinwatchd.ChangeOpened, a)), fixedNow)
	if !strings.Contains(m.Text, "evil&lt;!channel&gt;") || !strings.Contains(m.Text, "a &amp; b &lt;!here&gt;") {
		t.Errorf("text = %q", m.Text)
	}
}

func TestRenderLimits(t *testing.T) {
	t.Run("many addresses", func(t *testing.T) {
		a := certExpiringAlert()
		a.Addresses = nil
		for i := range 500 {
			a.Addresses = append(a.Addresses, fmt.Sprintf("10.0.%d.%d:443", i/256, i%256))
		}
		m := Render(new(alertNote(pinwatchd.ChangeOpened, a)), fixedNow)
		checkLimits(t, m)
		all := strings.Join(blockTexts(t, m), "\n") + "\n" + m.Text
		if !strings.Contains(all, "10.0.0.9:443 and 490 more") {
			t.Errorf("addresses not summarised as the first 10 and 490 more:\n%s", all)
		}
		if strings.Contains(all, "10.0.0.10:443") {
			t.Errorf("the 11th address is listed")
		}
	})
	t.Run("long message", func(t *testing.T) {
		a := headerMalformedAlert()
		a.Message = strings.Repeat("&<", 6000)
		m := Render(new(alertNote(pinwatchd.ChangeOpened, a)), fixedNow)
		checkLimits(t, m)
		body := blockTexts(t, m)[1]
		if n := utf8.RuneCountInString(body); n > maxSectionText || n < maxSectionText-5 || !strings.HasSuffix(body, "…") {
			t.Errorf("message section has %d characters and ends %q; want about %d ending in …",
				utf8.RuneCountInString(body), body[len(body)-10:], maxSectionText)
		}
		for _, s := range []string{body, m.Text} {
			if rest := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(s); strings.ContainsAny(rest, "&<>") {
				t.Errorf("truncation cut an escape in half: ...%q", s[len(s)-20:])
			}
		}
		if !strings.HasSuffix(m.Text, "…") {
			t.Errorf("fallback text not truncated with …")
		}
	})
	t.Run("huge digest", func(t *testing.T) {
		var ns []pinwatchd.Notification
		for i := range 60 {
			a := timeoutAlert()
			a.Target = fmt.Sprintf("t%02d", i)
			ns = append(ns, alertNote(pinwatchd.ChangeOpened, a))
		}
		m := RenderDigest(ns, fixedNow)
		checkLimits(t, m)
		all := strings.Join(blockTexts(t, m), "\n")
		if len(m.Blocks) != maxBlocks || !strings.Contains(all, "… and 13 more") || !strings.Contains(all, "t46") || strings.Contains(all, "t47") {
			t.Errorf("%d blocks; want %d listing t00–t46 and '… and 13 more':\n%s", len(m.Blocks), maxBlocks, all)
		}
	})
	// The Sender never puts more than MaxDigest entries in one digest: all
	// of them must then fit the fallback text, names and kinds included.
	t.Run("full digest keeps every entry", func(t *testing.T) {
		var ns []pinwatchd.Notification
		for i := range MaxDigest {
			a := headerMalformedAlert()
			a.Target = fmt.Sprintf("%02d-%s", i, strings.Repeat("x", 200))
			a.Message = strings.Repeat("m", 1000)
			ns = append(ns, alertNote(pinwatchd.ChangeEscalated, a))
		}
		m := RenderDigest(ns, fixedNow)
		checkLimits(t, m)
		if strings.HasSuffix(m.Text, "…") && !strings.HasSuffix(m.Text, "m…") {
			t.Errorf("digest text was cut: ...%q", m.Text[len(m.Text)-40:])
		}
		for i := range ns {
			if !strings.Contains(m.Text, fmt.Sprintf("header_malformed on %02d-xxx", i)) {
				t.Errorf("entry %d missing from the text", i)
			}
		}
	})
}

func TestDaysLeftAndAgo(t *testing.T) {
	for _, tc := range []struct {
		notAfter time.Time
		want     string
	}{
		{fixedNow.Add(36 * time.Hour), "1 day left"},
		{fixedNow.Add(70 * 24 * time.Hour), "70 days left"},
		{fixedNow.Add(-49 * time.Hour), "expired 3 days ago"},
	} {
		if got := daysLeft(tc.notAfter, fixedNow); got != tc.want {
			t.Errorf("daysLeft(%s) = %q, want %q", tc.notAfter, got, tc.want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{5 * time.Minute, "5 min"}, {26 * time.Hour, "26 h"}, {72 * time.Hour, "3 days"}} {
		if got := ago(tc.d); got != tc.want {
			t.Errorf("ago(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
