package monitor

import (
	"cmp"
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// UpdateAlerts is the alert lifecycle of SPEC §6 for one target, as a pure
// function. open holds the target's open alerts before this round; findings
// are the round's findings; failures holds, per address, the number of
// consecutive failed probes up to and including this round (0 or absent for
// an address that answered).
//
// It returns every alert whose state changed or that is still open (next,
// to be stored) and the changes to announce: opened, escalated (severity
// rose), reminder (still firing after RenotifyAfter) and resolved (when
// NotifyResolved). Only warning and critical findings open alerts;
// chain_changed is an event, never an alert; a connectivity finding opens
// one only once its address has failed FailureThreshold times in a row. An
// open alert about a chain or header whose every address failed this round
// stays open unchanged: a failed probe does not show the condition gone.
func UpdateAlerts(target string, open []pinwatchd.Alert, findings []pinwatchd.Finding, failures map[string]int, pol pinwatchd.AlertPolicy, now time.Time) (next []pinwatchd.Alert, changes []pinwatchd.AlertChange) {
	now = now.UTC()
	firing := groupFindings(target, findings, failures, pol.FailureThreshold)
	seen := make(map[pinwatchd.AlertKey]bool, len(open))
	for _, a := range open {
		key := a.Key()
		seen[key] = true
		g, still := firing[key]
		if !still && unprobed(&a, failures) {
			// Every address it is about failed this round, so nothing
			// says the condition is gone: keep it as it is.
			next = append(next, a)
			continue
		}
		if !still {
			a.State = pinwatchd.AlertResolved
			a.ResolvedAt = now
			a.ResolveReason = ResolveReason(a.Kind)
			if pol.NotifyResolved {
				a.LastNotifiedAt = now
				changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeResolved, Alert: a})
			}
			next = append(next, a)
			continue
		}
		prev := a.Severity
		a.Severity, a.Addresses, a.Message, a.Details = g.Severity, g.Addresses, g.Message, g.Details
		switch {
		case a.Severity > prev:
			a.LastNotifiedAt = now
			changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeEscalated, Alert: a, PrevSeverity: prev})
		case pol.RenotifyAfter > 0 && !now.Before(a.LastNotifiedAt.Add(pol.RenotifyAfter)):
			a.LastNotifiedAt = now
			changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeReminder, Alert: a})
		}
		next = append(next, a)
	}
	keys := make([]pinwatchd.AlertKey, 0, len(firing))
	for k := range firing {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		a := *firing[k]
		a.State = pinwatchd.AlertOpen
		a.OpenedAt = now
		a.LastNotifiedAt = now
		changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeOpened, Alert: a})
		next = append(next, a)
	}
	return next, changes
}

// unprobed reports whether a is about what a failed probe cannot see (a
// chain, a header) and every address it lists failed this round.
func unprobed(a *pinwatchd.Alert, failures map[string]int) bool {
	if a.Kind.IsConnectivity() || len(a.Addresses) == 0 {
		return false
	}
	for _, addr := range a.Addresses {
		if failures[addr] == 0 {
			return false
		}
	}
	return true
}

// ResolveAll resolves every open alert with the given reason, e.g. when a
// target is removed from the configuration.
func ResolveAll(open []pinwatchd.Alert, reason string, pol pinwatchd.AlertPolicy, now time.Time) (next []pinwatchd.Alert, changes []pinwatchd.AlertChange) {
	for _, a := range open {
		a.State = pinwatchd.AlertResolved
		a.ResolvedAt = now.UTC()
		a.ResolveReason = reason
		if pol.NotifyResolved {
			a.LastNotifiedAt = now.UTC()
			changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeResolved, Alert: a})
		}
		next = append(next, a)
	}
	return next, changes
}

// groupFindings folds the alertable findings into one alert per identity,
// with the worst severity, every affected address and the message and
// details of the first worst finding.
func groupFindings(target string, findings []pinwatchd.Finding, failures map[string]int, threshold int) map[pinwatchd.AlertKey]*pinwatchd.Alert {
	groups := map[pinwatchd.AlertKey]*pinwatchd.Alert{}
	for i := range findings {
		f := &findings[i]
		if f.Severity < pinwatchd.SeverityWarning || f.Kind == pinwatchd.KindChainChanged {
			continue
		}
		if f.Kind.IsConnectivity() && failures[f.Address] < max(threshold, 1) {
			continue
		}
		key := pinwatchd.AlertKey{Target: target, Kind: f.Kind, Subject: pinwatchd.AlertSubject(f)}
		g, ok := groups[key]
		if !ok {
			g = &pinwatchd.Alert{Target: target, Kind: f.Kind, Subject: key.Subject, Severity: f.Severity, Message: f.Message, Details: f.Details}
			groups[key] = g
		} else if f.Severity > g.Severity {
			g.Severity, g.Message, g.Details = f.Severity, f.Message, f.Details
		}
		if f.Address != "" && !slices.Contains(g.Addresses, f.Address) {
			g.Addresses = append(g.Addresses, f.Address)
		}
	}
	for _, g := range groups {
		slices.Sort(g.Addresses)
		if g.Addresses == nil {
			g.Addresses = []string{}
		}
	}
	return groups
}

func compareKeys(a, b pinwatchd.AlertKey) int {
	if c := cmp.Compare(a.Target, b.Target); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return cmp.Compare(a.Subject, b.Subject)
}

// ResolveReason says in words why an alert of kind k resolved: its
// condition is gone from the latest probe of every affected address.
func ResolveReason(k pinwatchd.Kind) string {
	switch k {
	case pinwatchd.KindPinMismatch:
		return "a pin of the set matches the served chain again"
	case pinwatchd.KindMissingBackupPin:
		return "the pin-set has a backup pin again"
	case pinwatchd.KindPinSetExpiring, pinwatchd.KindPinSetExpired:
		return "the pin-set's expiry date is no longer near"
	case pinwatchd.KindCertExpiring, pinwatchd.KindCertExpired:
		return "the certificate is no longer served (renewed or replaced)"
	case pinwatchd.KindChainUntrusted:
		return "the chain verifies again"
	case pinwatchd.KindHostnameMismatch:
		return "the certificate is valid for the host name again"
	case pinwatchd.KindDNSFailed:
		return "the name resolves again"
	case pinwatchd.KindConnectFailed, pinwatchd.KindHandshakeFailed, pinwatchd.KindTimeout:
		return "the address answers again"
	case pinwatchd.KindHeaderMalformed:
		return "the header is well-formed again or no longer sent"
	case pinwatchd.KindHSTSMissing, pinwatchd.KindHSTSMalformed:
		return "a valid Strict-Transport-Security header is sent again"
	case pinwatchd.KindIPInconsistent:
		return "every address serves the same key again"
	}
	return "the condition is gone"
}
