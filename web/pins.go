package web

import (
	"slices"
	"strconv"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// PinMark is one pin of a pin-set as the target page shows it.
type PinMark struct {
	Pin string `json:"pin"` // base64
	// Matches is the position in the chain of the key the pin matches
	// ("leaf", "intermediate N", "root"); empty when it matches none.
	Matches string `json:"matches,omitempty"`
	// Backup is set for a pin that matches no key of the chain in a
	// pin-set that does match it: the key to rotate to.
	Backup bool `json:"backup"`
}

// Mark is the pin's state in words: "leaf", "backup" or "no match".
func (m PinMark) Mark() string {
	switch {
	case m.Matches != "":
		return m.Matches
	case m.Backup:
		return "backup"
	}
	return "no match"
}

// PinSetView is one pin-set checked against the chain of one address.
type PinSetView struct {
	Name string `json:"name"`
	// Matched is true when a pin matches a key of the chain; false is
	// pin_mismatch, a client enforcing the set refuses the server.
	Matched bool `json:"matched"`
	// Backup is true when the set has two distinct pins or more and one
	// matches no key of the chain; false is missing_backup_pin.
	Backup     bool       `json:"backup"`
	ReportOnly bool       `json:"report_only"`
	Expires    *time.Time `json:"expires"`
	Pins       []PinMark  `json:"pins"`
}

// Level is the pin-set's state as a CSS class: ok, warning or critical
// (info for a Report-Only header, whose findings are informational).
func (p PinSetView) Level() string {
	switch {
	case p.Matched && p.Backup:
		return "ok"
	case p.ReportOnly:
		return "info"
	case !p.Matched:
		return "critical"
	}
	return "warning"
}

// checkPinSets checks every pin-set of t (configured, inline and the
// observation's headers) against the chain of o.
func checkPinSets(t *pinwatchd.Target, o *pinwatchd.Observation) []PinSetView {
	chain := o.Chain()
	if len(chain) == 0 {
		return nil
	}
	sets := monitor.PinSetsFor(t, o)
	out := make([]PinSetView, 0, len(sets))
	for _, s := range sets {
		out = append(out, checkPinSet(s, chain))
	}
	return out
}

// checkPinSet marks every pin of s by the chain position it matches, or as
// the backup, by the rules of SPEC §3 (pin_mismatch, missing_backup_pin).
func checkPinSet(s pinwatchd.PinSet, chain []pinwatchd.Cert) PinSetView {
	v := PinSetView{Name: s.Name, ReportOnly: s.ReportOnly, Expires: pinwatchd.NullTime(s.Expires)}
	var distinct []pinwatchd.Pin
	unmatched := 0
	for _, p := range s.Pins {
		m := PinMark{Pin: p.String()}
		for i := range chain {
			if chain[i].Pin == p {
				m.Matches = position(chain, i)
				break
			}
		}
		if !slices.Contains(distinct, p) {
			distinct = append(distinct, p)
			if m.Matches == "" {
				unmatched++
			}
		}
		v.Pins = append(v.Pins, m)
	}
	v.Matched = unmatched < len(distinct)
	v.Backup = len(distinct) >= 2 && unmatched > 0
	if v.Matched {
		for i := range v.Pins {
			v.Pins[i].Backup = v.Pins[i].Matches == ""
		}
	}
	return v
}

// position names the place of chain[i] as the findings do: "leaf",
// "intermediate N" or "root" (a self-issued CA certificate at the end).
func position(chain []pinwatchd.Cert, i int) string {
	switch {
	case i == 0:
		return "leaf"
	case i == len(chain)-1 && chain[i].IsCA && chain[i].Subject == chain[i].Issuer:
		return "root"
	}
	return "intermediate " + strconv.Itoa(i)
}

// PinSetSummary is one pin-set of a fleet row: whether it matches the chain
// of every address that served one, and has a backup pin for each.
type PinSetSummary struct {
	Name    string `json:"name"`
	Matched bool   `json:"matched"`
	Backup  bool   `json:"backup"`
	// ReportOnly marks the Public-Key-Pins-Report-Only header's set.
	ReportOnly bool `json:"report_only"`
}

// Level is the summary's state as a CSS class, as PinSetView.Level.
func (p PinSetSummary) Level() string {
	return PinSetView{Matched: p.Matched, Backup: p.Backup, ReportOnly: p.ReportOnly}.Level()
}

// Symbol is the summary's state in one character: ✓ matched with a
// backup, ! matched without one, ✗ no pin matches.
func (p PinSetSummary) Symbol() string {
	switch {
	case !p.Matched:
		return "✗"
	case !p.Backup:
		return "!"
	}
	return "✓"
}

// summarisePinSets folds the per-address pin-set checks of a target into
// one entry per pin-set name, in first-seen order: matched and backup hold
// only when they hold at every address.
func summarisePinSets(perAddress [][]PinSetView) []PinSetSummary {
	var out []PinSetSummary
	for _, sets := range perAddress {
		for _, s := range sets {
			i := slices.IndexFunc(out, func(x PinSetSummary) bool { return x.Name == s.Name })
			if i < 0 {
				out = append(out, PinSetSummary{Name: s.Name, Matched: s.Matched, Backup: s.Backup, ReportOnly: s.ReportOnly})
				continue
			}
			out[i].Matched = out[i].Matched && s.Matched
			out[i].Backup = out[i].Backup && s.Backup
		}
	}
	return out
}
