package web

import (
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// chainOf is a leaf → intermediate → root chain whose keys have the pins
// {1}, {2} and {3}.
func chainOf() []pinwatchd.Cert {
	return []pinwatchd.Cert{
		{Subject: "CN=leaf", Issuer: "CN=inter", Pin: pinwatchd.Pin{1}},
		{Subject: "CN=inter", Issuer: "CN=root", Pin: pinwatchd.Pin{2}, IsCA: true},
		{Subject: "CN=root", Issuer: "CN=root", Pin: pinwatchd.Pin{3}, IsCA: true},
	}
}

func TestCheckPinSet(t *testing.T) {
	other, spare := pinwatchd.Pin{8}, pinwatchd.Pin{9}
	for _, tc := range []struct {
		name            string
		pins            []pinwatchd.Pin
		reportOnly      bool
		matched, backup bool
		marks           string
		level           string
	}{
		{"leaf and a backup", []pinwatchd.Pin{{1}, spare}, false, true, true, "leaf backup", "ok"},
		{"intermediate and root", []pinwatchd.Pin{{2}, {3}}, false, true, false, "intermediate-1 root", "warning"},
		{"root and a backup", []pinwatchd.Pin{spare, {3}}, false, true, true, "backup root", "ok"},
		{"one pin only", []pinwatchd.Pin{{1}}, false, true, false, "leaf", "warning"},
		{"the same pin twice", []pinwatchd.Pin{{1}, {1}}, false, true, false, "leaf leaf", "warning"},
		{"drifted: nothing matches", []pinwatchd.Pin{other, spare}, false, false, true, "no-match no-match", "critical"},
		{"report only, nothing matches", []pinwatchd.Pin{other, spare}, true, false, true, "no-match no-match", "info"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkPinSet(pinwatchd.PinSet{Name: "s", Pins: tc.pins, ReportOnly: tc.reportOnly}, chainOf())
			var marks []string
			for _, m := range v.Pins {
				marks = append(marks, strings.ReplaceAll(m.Mark(), " ", "-"))
			}
			if v.Matched != tc.matched || v.Backup != tc.backup || strings.Join(marks, " ") != tc.marks || v.Level() != tc.level {
				t.Errorf("matched %v backup %v marks %q level %s; want %v %v %q %s",
					v.Matched, v.Backup, marks, v.Level(), tc.matched, tc.backup, tc.marks, tc.level)
			}
		})
	}
}

func TestCheckPinSetsIncludesHeaders(t *testing.T) {
	tgt := &pinwatchd.Target{PinSets: []pinwatchd.PinSet{{Name: "app", Pins: []pinwatchd.Pin{{1}, {9}}}}}
	o := &pinwatchd.Observation{ServedChain: chainOf()[:2], VerifiedChain: chainOf(),
		PublicKeyPins:           &pinwatchd.PinHeader{Valid: true, Pins: []pinwatchd.Pin{{3}, {9}}},
		PublicKeyPinsReportOnly: &pinwatchd.PinHeader{Valid: false, Pins: []pinwatchd.Pin{{7}}}, // malformed: no pin-set
	}
	got := checkPinSets(tgt, o)
	if len(got) != 2 || got[0].Name != "app" || got[1].Name != pinwatchd.PinSetHeader || got[1].Pins[0].Matches != "root" {
		t.Errorf("checkPinSets = %+v, want app and the header (matching the root)", got)
	}
	if checkPinSets(tgt, &pinwatchd.Observation{}) != nil {
		t.Error("an observation with no chain has pin-sets checked")
	}
}

func TestSummarisePinSets(t *testing.T) {
	addr1 := []PinSetView{{Name: "app", Matched: true, Backup: true}, {Name: pinwatchd.PinSetHeader, Matched: true, Backup: true}}
	addr2 := []PinSetView{{Name: "app", Matched: false, Backup: true}}
	got := summarisePinSets([][]PinSetView{addr1, addr2})
	if len(got) != 2 || got[0] != (PinSetSummary{Name: "app", Matched: false, Backup: true}) ||
		got[1] != (PinSetSummary{Name: pinwatchd.PinSetHeader, Matched: true, Backup: true}) {
		t.Errorf("summarisePinSets = %+v: app must fail where one address fails", got)
	}
	for _, tc := range []struct {
		s      PinSetSummary
		symbol string
	}{
		{PinSetSummary{Matched: true, Backup: true}, "✓"},
		{PinSetSummary{Matched: true}, "!"},
		{PinSetSummary{Backup: true}, "✗"},
	} {
		if got := tc.s.Symbol(); got != tc.symbol {
			t.Errorf("%+v.Symbol() = %s, want %s", tc.s, got, tc.symbol)
		}
	}
}

func TestPosition(t *testing.T) {
	c := chainOf()
	if got := []string{position(c, 0), position(c, 1), position(c, 2)}; strings.Join(got, ",") != "leaf,intermediate 1,root" {
		t.Errorf("positions = %v", got)
	}
	// An anchor that is not self-issued (trusted through ca_file) keeps its
	// intermediate position.
	if got := position(c[:2], 1); got != "intermediate 1" {
		t.Errorf("position of a non-root anchor = %s", got)
	}
}
