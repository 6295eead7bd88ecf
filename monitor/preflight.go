package monitor

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Verdicts and warnings of the rotation preflight (SPEC §13).
const (
	VerdictOK          = "ok"
	VerdictBreaks      = "breaks"
	VerdictBreaksUntil = "breaks_until"

	WarnNoBackupLeft = "no_backup_left"
	WarnExpiring     = "expiring"
	WarnNameMismatch = "name_mismatch"
	WarnUntrusted    = "untrusted"
)

// maxHeaderAge is the longest max-age browsers kept a Public-Key-Pins
// header for (SPEC §4).
const maxHeaderAge = 60 * 24 * time.Hour

// PreflightKey is one key of a candidate chain (SPEC §13 JSON).
type PreflightKey struct {
	Pin pinwatchd.Pin `json:"pin"`
	// File is the file the key came from, else where it was assumed from.
	File string `json:"file"`
	// Position is "leaf", "intermediate N" (N from 1 above the leaf) or
	// "root".
	Position string `json:"position"`
	// Assumed marks a key of the chain the target serves now, assumed to
	// stay because the files hold only a leaf, key or CSR.
	Assumed bool `json:"assumed"`
	// Cert is the certificate; nil for a key or CSR.
	Cert *pinwatchd.Cert `json:"-"`
	// Anchor marks the trust anchor verification added: pins match it,
	// but servers do not send it, so TLSA records do not.
	Anchor bool `json:"-"`
}

// PreflightVerdict is what one pin source of a target makes of the
// candidate.
type PreflightVerdict struct {
	Source     string     `json:"source"` // "pinset NAME", "inline", "header" or "tlsa"
	Verdict    string     `json:"verdict"`
	Until      *time.Time `json:"until"`
	MatchedPin *string    `json:"matched_pin"`
	Position   *string    `json:"position"`
	Message    string     `json:"message"`
}

// PreflightWarning is something to fix that does not break pinned
// clients by itself.
type PreflightWarning struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// PreflightTarget is the preflight of one target.
type PreflightTarget struct {
	Name     string             `json:"name"`
	Host     string             `json:"host"`
	Port     int                `json:"port"`
	Keys     []PreflightKey     `json:"keys"` // the candidate chain checked for this target
	Verdicts []PreflightVerdict `json:"verdicts"`
	Warnings []PreflightWarning `json:"warnings"`
	Exit     int                `json:"exit"`
}

// PreflightInput is what the preflight of one target judges.
type PreflightInput struct {
	Target *pinwatchd.Target
	// Chain is the candidate chain, leaf first: the files' keys, the keys
	// assumed to stay and the trust anchor.
	Chain []PreflightKey
	// Verification of the candidate chain for the target; nil when the
	// leaf is a key or CSR, which cannot be verified.
	Verification *pinwatchd.Verification
	// Current is the chain the target serves now (verified when known);
	// empty when never recorded.
	Current []pinwatchd.Cert
	// Headers are the enforcing Public-Key-Pins values recorded.
	Headers []pinwatchd.SeenPinHeader
	// TLSA is the RRset published; nil when the target is no DANE target.
	TLSA       *pinwatchd.TLSAResult
	Thresholds pinwatchd.Thresholds
}

// Preflight judges a candidate chain against every pin source of one
// target at now (SPEC §13): configured pin-sets not past their expiry,
// headers still cached by clients, the TLSA RRset; then the warnings.
// Exit is 2 when a source breaks with no end, 1 when one breaks until a
// date or a warning stands, else 0. Preflight is pure.
func Preflight(in PreflightInput, now time.Time) PreflightTarget {
	t := in.Target
	out := PreflightTarget{Name: t.Name, Host: t.Host, Port: t.Port, Keys: in.Chain,
		Verdicts: []PreflightVerdict{}, Warnings: []PreflightWarning{}}
	for _, ps := range t.PinSets {
		if ps.ReportOnly || (!ps.Expires.IsZero() && !now.Before(ps.Expires)) {
			continue
		}
		v, backup := pinSetVerdict(ps, in.Chain, in.Current)
		out.Verdicts = append(out.Verdicts, v)
		if backup != "" {
			out.Warnings = append(out.Warnings, PreflightWarning{WarnNoBackupLeft, backup})
		}
	}
	for _, h := range in.Headers {
		if v, ok := headerVerdict(h, in.Chain, now); ok {
			out.Verdicts = append(out.Verdicts, v)
		}
	}
	if v, ok := tlsaVerdict(in, t); ok {
		out.Verdicts = append(out.Verdicts, v)
	}
	out.Warnings = append(out.Warnings, certWarnings(in, now)...)
	for _, v := range out.Verdicts {
		switch {
		case v.Verdict == VerdictBreaks:
			out.Exit = 2
		case v.Verdict == VerdictBreaksUntil:
			out.Exit = max(out.Exit, 1)
		}
	}
	if len(out.Warnings) > 0 {
		out.Exit = max(out.Exit, 1)
	}
	return out
}

// sourceName names a pin-set as a preflight source.
func sourceName(ps pinwatchd.PinSet) string {
	if ps.Name == pinwatchd.PinSetInline {
		return ps.Name
	}
	return "pinset " + ps.Name
}

// matchKey returns the first key of chain, leaf first, whose pin is in
// pins.
func matchKey(chain []PreflightKey, pins []pinwatchd.Pin) (PreflightKey, bool) {
	for _, k := range chain {
		for _, p := range pins {
			if k.Pin == p {
				return k, true
			}
		}
	}
	return PreflightKey{}, false
}

// okVerdict is the verdict of a source whose pin matches key k.
func okVerdict(source string, k PreflightKey, msg string) PreflightVerdict {
	pin, pos := k.Pin.String(), k.Position
	return PreflightVerdict{Source: source, Verdict: VerdictOK, MatchedPin: &pin, Position: &pos, Message: msg}
}

// keyText describes a key of the candidate for a message.
func keyText(k PreflightKey) string {
	if k.Assumed {
		return fmt.Sprintf("the %s %s (served now, assumed to stay)", k.Position, k.Pin)
	}
	return fmt.Sprintf("the candidate's %s %s (%s)", k.Position, k.Pin, k.File)
}

// pinSetVerdict judges one configured pin-set; backup is the
// no_backup_left warning, empty for none.
func pinSetVerdict(ps pinwatchd.PinSet, chain []PreflightKey, current []pinwatchd.Cert) (v PreflightVerdict, backup string) {
	src := sourceName(ps)
	if k, ok := matchKey(chain, ps.Pins); ok {
		return okVerdict(src, k, fmt.Sprintf("%s pins %s", src, keyText(k))), backupWarning(ps, k, chain, current)
	}
	v = PreflightVerdict{Source: src, Verdict: VerdictBreaks, Message: fmt.Sprintf(
		"clients pinning %s refuse the candidate: none of its %d pins matches a key of the candidate chain (leaf %s); ship the new pin in the app first",
		src, len(ps.Pins), chain[0].Pin)}
	if !ps.Expires.IsZero() {
		until := ps.Expires.UTC()
		v.Verdict, v.Until = VerdictBreaksUntil, &until
		v.Message += fmt.Sprintf(", or wait until the pin-set expires on %s", until.Format(time.DateOnly))
	}
	return v, ""
}

// backupWarning is the no_backup_left warning when the matched key k was
// a backup of ps (absent from the chain served now) and, once the
// candidate serves it, no pin of ps is left that neither the old nor the
// new chain uses.
func backupWarning(ps pinwatchd.PinSet, k PreflightKey, chain []PreflightKey, current []pinwatchd.Cert) string {
	if len(current) == 0 {
		return ""
	}
	used := map[pinwatchd.Pin]bool{}
	for _, c := range current {
		used[c.Pin] = true
	}
	if used[k.Pin] {
		return ""
	}
	for _, c := range chain {
		used[c.Pin] = true
	}
	for _, p := range ps.Pins {
		if !used[p] {
			return ""
		}
	}
	return fmt.Sprintf("the candidate's key %s was the backup pin of %s; after the rotation %s has no backup left: add a new backup pin to it before you ship",
		k.Pin, sourceName(ps), sourceName(ps))
}

// headerVerdict judges one recorded Public-Key-Pins value; ok is false
// when no client can still enforce it.
func headerVerdict(h pinwatchd.SeenPinHeader, chain []PreflightKey, now time.Time) (PreflightVerdict, bool) {
	age := min(time.Duration(h.Header.MaxAge)*time.Second, maxHeaderAge)
	until := h.LastSeen.Add(age).UTC()
	if age <= 0 || !until.After(now) {
		return PreflightVerdict{}, false
	}
	seen := fmt.Sprintf("the Public-Key-Pins header last seen %s (max-age %s)", h.LastSeen.UTC().Format(time.RFC3339), ageText(age))
	if k, ok := matchKey(chain, h.Header.Pins); ok {
		return okVerdict(pinwatchd.PinSetHeader, k, seen+" pins "+keyText(k)), true
	}
	msg := fmt.Sprintf("browsers that cached %s refuse the candidate until %s: none of its %d pins matches a key of the candidate chain",
		seen, until.Format(time.RFC3339), len(h.Header.Pins))
	if h.Header.Cut {
		msg += "; the stored header was cut at 8 KiB, so its pin list is partial and a pin beyond the cut may still match"
	}
	return PreflightVerdict{Source: pinwatchd.PinSetHeader, Verdict: VerdictBreaksUntil, Until: &until, Message: msg}, true
}

// tlsaVerdict judges the TLSA RRset; ok is false when there is none to
// judge (no DANE target, a failed lookup, no records).
func tlsaVerdict(in PreflightInput, t *pinwatchd.Target) (PreflightVerdict, bool) {
	res := in.TLSA
	if res == nil || res.Error != "" || len(res.Records) == 0 {
		return PreflightVerdict{}, false
	}
	src := pinwatchd.PinSetTLSA
	if !res.Authenticated {
		return PreflightVerdict{Source: src, Verdict: VerdictOK, Message: fmt.Sprintf(
			"the TLSA records of %s are not DNSSEC-authenticated, so DANE clients ignore them", res.Name)}, true
	}
	o := candidateObservation(in)
	m := MatchTLSA(res, &o, t.STARTTLS == pinwatchd.ProtocolSMTP)
	var recs []string
	for _, r := range m.Records {
		recs = append(recs, shortRecord(r))
		if !r.Usable || r.Matches == "" {
			continue
		}
		i := 0
		fmt.Sscanf(r.Matches, "chain %d", &i)
		k := in.Chain[i]
		return okVerdict(src, k, fmt.Sprintf("TLSA record %s of %s matches %s", shortRecord(r), res.Name, keyText(k))), true
	}
	leaf := in.Chain[0].Pin
	return PreflightVerdict{Source: src, Verdict: VerdictBreaks, Message: fmt.Sprintf(
		"DANE clients refuse the candidate: no usable TLSA record of %s matches it (published: %s); publish 3 1 1 %s first",
		res.Name, strings.Join(recs, ", "), hex.EncodeToString(leaf[:]))}, true
}

// candidateObservation is the observation a server serving the candidate
// would give: the keys without a certificate (a key, a CSR) match by pin.
func candidateObservation(in PreflightInput) pinwatchd.Observation {
	var o pinwatchd.Observation
	for _, k := range in.Chain {
		c := pinwatchd.Cert{Pin: k.Pin, SHA256: "key " + k.Pin.String()}
		if k.Cert != nil {
			c = *k.Cert
		}
		if !k.Anchor {
			o.ServedChain = append(o.ServedChain, c)
		}
		o.VerifiedChain = append(o.VerifiedChain, c)
	}
	if in.Verification != nil {
		o.Verification = *in.Verification
	}
	return o
}

// certWarnings are the warnings about the candidate's own certificates:
// expiring, name_mismatch, untrusted.
func certWarnings(in PreflightInput, now time.Time) []PreflightWarning {
	var out []PreflightWarning
	for _, k := range in.Chain {
		if k.Cert == nil || k.Assumed || k.Anchor || now.Add(in.Thresholds.ExpiryWarning).Before(k.Cert.NotAfter) {
			continue
		}
		out = append(out, PreflightWarning{WarnExpiring, fmt.Sprintf("the candidate's %s %s expires on %s, within the %s warning window",
			k.Position, k.Cert.Label(), k.Cert.NotAfter.Format(time.DateOnly), in.Thresholds.ExpiryWarning)})
	}
	if v := in.Verification; v != nil {
		if !v.HostnameValid {
			out = append(out, PreflightWarning{WarnNameMismatch, fmt.Sprintf("the candidate leaf does not cover %s: %s", in.Target.Host, v.HostnameError)})
		}
		if !v.Trusted {
			out = append(out, PreflightWarning{WarnUntrusted, "the candidate chain does not verify against the system roots and the target's ca_file: " + v.UntrustedReason})
		}
	}
	return out
}

// ageText is a max-age for a message: whole days as "10d", else seconds.
func ageText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
