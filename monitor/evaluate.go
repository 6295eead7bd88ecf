package monitor

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Evaluate returns the findings of one round of observations of target t
// (SPEC §3): every kind one round can show, that is all but chain_changed,
// which needs the previous observation. obs holds one observation per
// address; th gives the expiry windows and now the time they are measured
// from.
//
// Evaluate is pure: no I/O, no clock. The result is deduplicated and sorted
// by severity (highest first), then kind in pinwatchd.Kinds order, then
// address, pin-set and certificate. It is never nil.
func Evaluate(t *pinwatchd.Target, obs []pinwatchd.Observation, th pinwatchd.Thresholds, now time.Time) []pinwatchd.Finding {
	var fs []pinwatchd.Finding
	fs = append(fs, pinSetExpiryFindings(t, th, now)...)
	for i := range obs {
		o := &obs[i]
		fs = append(fs, evaluateObservation(t, o, th, now)...)
	}
	if f, ok := ipInconsistent(obs); ok {
		fs = append(fs, f)
	}
	fs = append(fs, tlsaFindings(t, obs)...)
	return sortFindings(fs)
}

// PinSetsFor returns the pin-sets evaluated for one observation: t.PinSets
// plus the observation's valid header pin-sets, "header" for an enforcing
// Public-Key-Pins header and "header-report-only" (with ReportOnly set) for
// a Public-Key-Pins-Report-Only header. A malformed header adds no pin-set.
// The result does not share its backing array with t.PinSets.
func PinSetsFor(t *pinwatchd.Target, o *pinwatchd.Observation) []pinwatchd.PinSet {
	sets := make([]pinwatchd.PinSet, 0, len(t.PinSets)+2)
	sets = append(sets, t.PinSets...)
	if h := o.PublicKeyPins; h != nil && h.Valid {
		sets = append(sets, pinwatchd.PinSet{Name: pinwatchd.PinSetHeader, Pins: h.Pins})
	}
	if h := o.PublicKeyPinsReportOnly; h != nil && h.Valid {
		sets = append(sets, pinwatchd.PinSet{Name: pinwatchd.PinSetHeaderReportOnly, Pins: h.Pins, ReportOnly: true})
	}
	return sets
}

// evaluateObservation returns the findings about one address.
func evaluateObservation(t *pinwatchd.Target, o *pinwatchd.Observation, th pinwatchd.Thresholds, now time.Time) []pinwatchd.Finding {
	var fs []pinwatchd.Finding
	if o.Error != nil {
		fs = append(fs, pinwatchd.Finding{
			Kind: o.Error.Kind, Severity: pinwatchd.SeverityWarning, Address: o.Address,
			Message: connectivityMessage(o),
		})
	}
	if chain := o.Chain(); len(chain) > 0 {
		for _, s := range PinSetsFor(t, o) {
			fs = append(fs, evaluatePinSet(s, o, chain)...)
		}
		fs = append(fs, certExpiryFindings(o, chain, th, now)...)
	}
	if len(o.ServedChain) > 0 {
		fs = append(fs, verificationFindings(t, o)...)
	}
	fs = append(fs, headerFindings(t, o)...)
	return fs
}

// evaluatePinSet checks one pin-set against the chain served at one
// address: pin_mismatch and missing_backup_pin.
func evaluatePinSet(s pinwatchd.PinSet, o *pinwatchd.Observation, chain []pinwatchd.Cert) []pinwatchd.Finding {
	mismatch, backup := pinwatchd.SeverityCritical, pinwatchd.SeverityWarning
	if s.ReportOnly {
		mismatch, backup = pinwatchd.SeverityInfo, pinwatchd.SeverityInfo
	}
	pins := distinctPins(s.Pins)
	matched := 0
	for _, p := range pins {
		if chainHasPin(chain, p) {
			matched++
		}
	}
	var fs []pinwatchd.Finding
	if matched == 0 {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindPinMismatch, Severity: mismatch, Address: o.Address, PinSet: s.Name,
			Message: pinMismatchMessage(s, o.Address, chain[0].Pin, pins),
			Details: &pinwatchd.Details{Cert: pinwatchd.Summarize(chain[0], "leaf"), ExpectedPins: pins},
		})
	}
	if len(pins) < 2 || matched == len(pins) {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindMissingBackupPin, Severity: backup, Address: o.Address, PinSet: s.Name,
			Message: missingBackupMessage(s, o.Address, pins),
		})
	}
	return fs
}

// distinctPins returns pins without repeats, in their first order.
func distinctPins(pins []pinwatchd.Pin) []pinwatchd.Pin {
	out := make([]pinwatchd.Pin, 0, len(pins))
	for _, p := range pins {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func chainHasPin(chain []pinwatchd.Cert, p pinwatchd.Pin) bool {
	for i := range chain {
		if chain[i].Pin == p {
			return true
		}
	}
	return false
}

// pinSetExpiryFindings reports configured pin-sets whose expires date is
// near or past, once per set.
func pinSetExpiryFindings(t *pinwatchd.Target, th pinwatchd.Thresholds, now time.Time) []pinwatchd.Finding {
	var fs []pinwatchd.Finding
	for _, s := range t.PinSets {
		if s.Expires.IsZero() || s.ReportOnly {
			continue
		}
		switch {
		case now.After(s.Expires):
			fs = append(fs, pinwatchd.Finding{
				Kind: pinwatchd.KindPinSetExpired, Severity: pinwatchd.SeverityWarning, PinSet: s.Name,
				Message: pinSetExpiredMessage(s, now),
			})
		case s.Expires.Sub(now) <= th.ExpiryWarning:
			fs = append(fs, pinwatchd.Finding{
				Kind: pinwatchd.KindPinSetExpiring, Severity: pinwatchd.SeverityWarning, PinSet: s.Name,
				Message: pinSetExpiringMessage(s, now),
			})
		}
	}
	return fs
}

// certExpiryFindings reports every certificate of the chain at one address
// that has expired or expires inside the thresholds.
func certExpiryFindings(o *pinwatchd.Observation, chain []pinwatchd.Cert, th pinwatchd.Thresholds, now time.Time) []pinwatchd.Finding {
	var fs []pinwatchd.Finding
	for i, c := range chain {
		f := pinwatchd.Finding{Address: o.Address, Cert: c.SHA256}
		left := c.NotAfter.Sub(now)
		switch {
		case now.After(c.NotAfter):
			f.Kind, f.Severity = pinwatchd.KindCertExpired, pinwatchd.SeverityCritical
		case left <= th.ExpiryCritical:
			f.Kind, f.Severity = pinwatchd.KindCertExpiring, pinwatchd.SeverityCritical
		case left <= th.ExpiryWarning:
			f.Kind, f.Severity = pinwatchd.KindCertExpiring, pinwatchd.SeverityWarning
		default:
			continue
		}
		pos := certPosition(chain, i)
		f.Message = certExpiryMessage(c, pos, o.Address, now)
		f.Details = &pinwatchd.Details{Cert: pinwatchd.Summarize(c, pos)}
		fs = append(fs, f)
	}
	return fs
}

// certPosition names the place of chain[i]: "leaf", "intermediate N" or
// "root". The root is a self-issued CA certificate at the end of the chain,
// as verification appends it and as some servers send it; an anchor that is
// not self-issued (an intermediate trusted through ca_file) keeps its
// intermediate position.
func certPosition(chain []pinwatchd.Cert, i int) string {
	switch {
	case i == 0:
		return "leaf"
	case i == len(chain)-1 && chain[i].IsCA && chain[i].Subject == chain[i].Issuer:
		return "root"
	}
	return "intermediate " + strconv.Itoa(i)
}

// verificationFindings reports chain_untrusted and hostname_mismatch for an
// address that served a chain.
func verificationFindings(t *pinwatchd.Target, o *pinwatchd.Observation) []pinwatchd.Finding {
	if o.Verification.Trusted && o.Verification.HostnameValid {
		return nil
	}
	var fs []pinwatchd.Finding
	leaf := &pinwatchd.Details{Cert: pinwatchd.Summarize(o.ServedChain[0], "leaf")}
	if !o.Verification.Trusted {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindChainUntrusted, Severity: pinwatchd.SeverityCritical, Address: o.Address,
			Message: untrustedMessage(o), Details: leaf,
		})
	}
	if !o.Verification.HostnameValid {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindHostnameMismatch, Severity: pinwatchd.SeverityCritical, Address: o.Address,
			Message: hostnameMessage(t, o), Details: leaf,
		})
	}
	return fs
}

// headerFindings reports the HPKP and HSTS findings of one address.
func headerFindings(t *pinwatchd.Target, o *pinwatchd.Observation) []pinwatchd.Finding {
	var fs []pinwatchd.Finding
	pkp, ro := o.PublicKeyPins, o.PublicKeyPinsReportOnly
	if pkp != nil && !pkp.Valid {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindHeaderMalformed, Severity: pinwatchd.SeverityWarning, Address: o.Address,
			PinSet: pinwatchd.PinSetHeader, Message: headerMalformedMessage(pkpHeaderName, pkp, o.Address),
		})
	}
	if ro != nil && !ro.Valid {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindHeaderMalformed, Severity: pinwatchd.SeverityWarning, Address: o.Address,
			PinSet: pinwatchd.PinSetHeaderReportOnly, Message: headerMalformedMessage(pkpROHeaderName, ro, o.Address),
		})
	}
	if ro != nil && pkp == nil {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindHeaderReportOnly, Severity: pinwatchd.SeverityInfo, Address: o.Address,
			PinSet: pinwatchd.PinSetHeaderReportOnly, Message: reportOnlyMessage(ro, o),
		})
	}
	if hsts := o.StrictTransportSecurity; hsts != nil && !hsts.Valid {
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindHSTSMalformed, Severity: pinwatchd.SeverityWarning, Address: o.Address,
			Message: hstsMalformedMessage(hsts, o.Address),
		})
	}
	// Absent headers count only when a response was looked for: the
	// target is HTTP-probed, the handshake gave a chain and nothing
	// failed (after a timeout the headers are unknown).
	if !t.HTTP || len(o.ServedChain) == 0 || o.Error != nil {
		return fs
	}
	if pkp == nil && ro == nil {
		sev := pinwatchd.SeverityInfo
		if t.RequireHeader {
			sev = pinwatchd.SeverityWarning
		}
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindNoPinHeader, Severity: sev, Address: o.Address,
			Message: noPinHeaderMessage(o),
		})
	}
	if o.StrictTransportSecurity == nil {
		sev := pinwatchd.SeverityInfo
		if t.RequireHSTS {
			sev = pinwatchd.SeverityWarning
		}
		fs = append(fs, pinwatchd.Finding{
			Kind: pinwatchd.KindHSTSMissing, Severity: sev, Address: o.Address,
			Message: hstsMissingMessage(o),
		})
	}
	return fs
}

// ipInconsistent reports a target whose addresses serve different leaf
// keys. Every address that served a chain counts, including one whose header
// read timed out after the handshake.
func ipInconsistent(obs []pinwatchd.Observation) (pinwatchd.Finding, bool) {
	byPin := map[pinwatchd.Pin][]string{}
	for i := range obs {
		leaf := obs[i].Leaf()
		if leaf == nil {
			continue
		}
		if !slices.Contains(byPin[leaf.Pin], obs[i].Address) {
			byPin[leaf.Pin] = append(byPin[leaf.Pin], obs[i].Address)
		}
	}
	if len(byPin) < 2 {
		return pinwatchd.Finding{}, false
	}
	return pinwatchd.Finding{
		Kind: pinwatchd.KindIPInconsistent, Severity: pinwatchd.SeverityWarning,
		Message: ipInconsistentMessage(byPin),
	}, true
}

// kindRank orders kinds as pinwatchd.Kinds lists them; unknown kinds last.
func kindRank(k pinwatchd.Kind) int {
	if i := slices.Index(pinwatchd.Kinds, k); i >= 0 {
		return i
	}
	return len(pinwatchd.Kinds)
}

// sortFindings drops repeated findings and sorts the rest: severity
// descending, then kind, address, pin-set, certificate and message. Two
// findings that differ only in their Details pointers are repeats: the
// message says everything the details hold.
func sortFindings(fs []pinwatchd.Finding) []pinwatchd.Finding {
	out := make([]pinwatchd.Finding, 0, len(fs))
	seen := make(map[pinwatchd.Finding]bool, len(fs))
	for _, f := range fs {
		key := f
		key.Details = nil
		if !seen[key] {
			seen[key] = true
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b pinwatchd.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
			cmp.Compare(a.Address, b.Address),
			cmp.Compare(a.PinSet, b.PinSet),
			cmp.Compare(a.Cert, b.Cert),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return out
}
