package monitor

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

func TestPreflight(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	p := testpki.New(t)
	leaf, inter, root := pinwatchd.CertFromX509(p.Leaf.Cert), pinwatchd.CertFromX509(p.Intermediate.Cert), pinwatchd.CertFromX509(p.Root.Cert)
	next := pinwatchd.CertFromX509(p.Intermediate.Leaf(t, testpki.Options{}).Cert)
	spare := testpki.KeyPin(t, p.Spare)
	current := []pinwatchd.Cert{leaf, inter, root}
	chain := func(l pinwatchd.Cert) []PreflightKey {
		return []PreflightKey{
			{Pin: l.Pin, File: "new.pem", Position: "leaf", Cert: &l},
			{Pin: inter.Pin, File: "served", Position: "intermediate 1", Assumed: true, Cert: &inter},
			{Pin: root.Pin, File: "served", Position: "root", Assumed: true, Cert: &root, Anchor: true},
		}
	}
	ok := &pinwatchd.Verification{Trusted: true, HostnameValid: true}
	set := func(name string, exp time.Time, pins ...pinwatchd.Pin) pinwatchd.PinSet {
		return pinwatchd.PinSet{Name: name, Pins: pins, Expires: exp}
	}
	header := func(seen time.Time, maxAge int64, cut bool, pins ...pinwatchd.Pin) pinwatchd.SeenPinHeader {
		return pinwatchd.SeenPinHeader{Header: pinwatchd.PinHeader{Pins: pins, MaxAge: maxAge, Valid: true, Cut: cut}, LastSeen: seen}
	}
	ee := func(c pinwatchd.Cert) pinwatchd.TLSARecord {
		return pinwatchd.TLSARecord{Usage: 3, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(c.Pin[:])}
	}
	tlsa := func(auth bool, recs ...pinwatchd.TLSARecord) *pinwatchd.TLSAResult {
		return &pinwatchd.TLSAResult{Name: "_25._tcp.mx", Authenticated: auth, Records: recs}
	}
	type want struct {
		source, verdict, position, msg string
		until                          time.Time
	}
	for _, tc := range []struct {
		name     string
		sets     []pinwatchd.PinSet
		headers  []pinwatchd.SeenPinHeader
		tlsa     *pinwatchd.TLSAResult
		chain    []PreflightKey
		verif    *pinwatchd.Verification
		want     []want
		warnings []string
		exit     int
	}{
		{name: "leaf pin", sets: []pinwatchd.PinSet{set("app", time.Time{}, leaf.Pin, spare)}, chain: chain(leaf),
			want: []want{{source: "pinset app", verdict: "ok", position: "leaf"}}},
		{name: "intermediate pin, inline", sets: []pinwatchd.PinSet{set("inline", time.Time{}, inter.Pin, spare)}, chain: chain(next),
			want: []want{{source: "inline", verdict: "ok", position: "intermediate 1", msg: "assumed to stay"}}},
		{name: "root pin", sets: []pinwatchd.PinSet{set("app", time.Time{}, root.Pin, spare)}, chain: chain(next),
			want: []want{{source: "pinset app", verdict: "ok", position: "root"}}},
		{name: "backup used up", sets: []pinwatchd.PinSet{set("app", time.Time{}, leaf.Pin, next.Pin)}, chain: chain(next),
			want: []want{{source: "pinset app", verdict: "ok", position: "leaf"}}, warnings: []string{WarnNoBackupLeft}, exit: 1},
		{name: "backup used, another left", sets: []pinwatchd.PinSet{set("app", time.Time{}, leaf.Pin, next.Pin, spare)}, chain: chain(next),
			want: []want{{source: "pinset app", verdict: "ok", position: "leaf"}}},
		{name: "unpinned", sets: []pinwatchd.PinSet{set("app", time.Time{}, leaf.Pin, spare)}, chain: chain(next),
			want: []want{{source: "pinset app", verdict: "breaks", msg: "pinset app"}}, exit: 2},
		{name: "unpinned, the set expires", sets: []pinwatchd.PinSet{set("app", now.AddDate(0, 1, 0), leaf.Pin, spare)}, chain: chain(next),
			want: []want{{source: "pinset app", verdict: "breaks_until", until: now.AddDate(0, 1, 0)}}, exit: 1},
		{name: "expired set skipped", sets: []pinwatchd.PinSet{set("app", now.Add(-time.Hour), leaf.Pin, spare)}, chain: chain(next)},
		{name: "header seen 3 days ago, max-age 10 days", headers: []pinwatchd.SeenPinHeader{header(now.AddDate(0, 0, -3), 864000, false, leaf.Pin, spare)},
			chain: chain(next), want: []want{{source: "header", verdict: "breaks_until", until: now.AddDate(0, 0, 7), msg: "10d"}}, exit: 1},
		{name: "header max-age capped at 60 days", headers: []pinwatchd.SeenPinHeader{header(now.AddDate(0, 0, -3), 365*86400, false, spare)},
			chain: chain(next), want: []want{{source: "header", verdict: "breaks_until", until: now.AddDate(0, 0, 57)}}, exit: 1},
		{name: "cut header says its list is partial", headers: []pinwatchd.SeenPinHeader{header(now.Add(-time.Hour), 7200, true, spare)},
			chain: chain(next), want: []want{{source: "header", verdict: "breaks_until", until: now.Add(time.Hour), msg: "partial"}}, exit: 1},
		{name: "header no client caches any more", headers: []pinwatchd.SeenPinHeader{header(now.AddDate(0, 0, -11), 864000, false, spare)}, chain: chain(next)},
		{name: "header max-age 0", headers: []pinwatchd.SeenPinHeader{header(now.Add(-time.Hour), 0, false, spare)}, chain: chain(next)},
		{name: "header matches", headers: []pinwatchd.SeenPinHeader{header(now.Add(-time.Hour), 7200, false, spare, next.Pin)}, chain: chain(next),
			want: []want{{source: "header", verdict: "ok", position: "leaf"}}},
		{name: "TLSA without the candidate", tlsa: tlsa(true, ee(leaf)), chain: chain(next),
			want: []want{{source: "tlsa", verdict: "breaks", msg: "3 1 1 " + hex.EncodeToString(next.Pin[:])}}, exit: 2},
		{name: "TLSA with the candidate", tlsa: tlsa(true, ee(leaf), ee(next)), chain: chain(next),
			want: []want{{source: "tlsa", verdict: "ok", position: "leaf"}}},
		{name: "TLSA DANE-TA on the intermediate", tlsa: tlsa(true, pinwatchd.TLSARecord{Usage: 2, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(inter.Pin[:])}),
			chain: chain(next), want: []want{{source: "tlsa", verdict: "ok", position: "intermediate 1"}}},
		{name: "TLSA DANE-TA on the root is not served", tlsa: tlsa(true, pinwatchd.TLSARecord{Usage: 2, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(root.Pin[:])}),
			chain: chain(next), want: []want{{source: "tlsa", verdict: "breaks"}}, exit: 2},
		{name: "TLSA unsigned", tlsa: tlsa(false, ee(leaf)), chain: chain(next), want: []want{{source: "tlsa", verdict: "ok", msg: "not DNSSEC-authenticated"}}},
		{name: "TLSA for a key alone", tlsa: tlsa(true, ee(next)), verif: nil,
			chain: []PreflightKey{{Pin: next.Pin, File: "new.key", Position: "leaf"}}, want: []want{{source: "tlsa", verdict: "ok", position: "leaf"}}},
		{name: "name mismatch and untrusted", chain: chain(next), verif: &pinwatchd.Verification{HostnameError: "not valid for localhost", UntrustedReason: "unknown authority"},
			warnings: []string{WarnNameMismatch, WarnUntrusted}, exit: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verif := tc.verif
			if verif == nil && tc.chain[0].Cert != nil && tc.name != "TLSA for a key alone" {
				verif = ok
			}
			in := PreflightInput{Target: &pinwatchd.Target{Name: "api", Host: "localhost", Port: 443, PinSets: tc.sets}, Chain: tc.chain,
				Verification: verif, Current: current, Headers: tc.headers, TLSA: tc.tlsa, Thresholds: pinwatchd.DefaultThresholds}
			got := Preflight(in, now)
			if len(got.Verdicts) != len(tc.want) {
				t.Fatalf("verdicts = %+v, want %d", got.Verdicts, len(tc.want))
			}
			for i, w := range tc.want {
				v := got.Verdicts[i]
				pos := ""
				if v.Position != nil {
					pos = *v.Position
				}
				if v.Source != w.source || v.Verdict != w.verdict || pos != w.position || !strings.Contains(v.Message, w.msg) ||
					(v.Until == nil) != w.until.IsZero() || (v.Until != nil && !v.Until.Equal(w.until)) {
					t.Errorf("verdict %d = %+v (until %v), want %+v", i, v, v.Until, w)
				}
				if (v.Verdict == VerdictOK) != (v.MatchedPin != nil) && v.Position != nil {
					t.Errorf("verdict %d: matched pin %v with position %v", i, v.MatchedPin, v.Position)
				}
			}
			var kinds []string
			for _, w := range got.Warnings {
				kinds = append(kinds, w.Kind)
			}
			if strings.Join(kinds, ",") != strings.Join(tc.warnings, ",") {
				t.Errorf("warnings = %+v, want %v", got.Warnings, tc.warnings)
			}
			if got.Exit != tc.exit {
				t.Errorf("exit %d, want %d", got.Exit, tc.exit)
			}
		})
	}
}

func TestPreflightExpiring(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	p := testpki.New(t)
	soon := pinwatchd.CertFromX509(p.Intermediate.Leaf(t, testpki.Options{NotAfter: now.AddDate(0, 0, 10)}).Cert)
	in := PreflightInput{Target: &pinwatchd.Target{Name: "api", Host: "localhost"}, Thresholds: pinwatchd.DefaultThresholds,
		Chain: []PreflightKey{{Pin: soon.Pin, Position: "leaf", Cert: &soon}}, Verification: &pinwatchd.Verification{Trusted: true, HostnameValid: true}}
	got := Preflight(in, now)
	if len(got.Warnings) != 1 || got.Warnings[0].Kind != WarnExpiring || got.Exit != 1 {
		t.Errorf("warnings = %+v exit %d, want expiring and 1", got.Warnings, got.Exit)
	}
	if got := Preflight(in, now.AddDate(0, 0, -30)); len(got.Warnings) != 0 || got.Exit != 0 {
		t.Errorf("40 days before expiry: warnings = %+v exit %d, want none", got.Warnings, got.Exit)
	}
}
