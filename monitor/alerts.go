package monitor

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// UpdateAlerts is the alert lifecycle of SPEC §6 for one target, as a pure
// function. open holds the target's open alerts before this round and r
// the round (NewRound).
//
// It returns every alert whose state changed or that is still open (next,
// to be stored) and the changes to announce: opened, escalated (severity
// rose), reminder (still firing after RenotifyAfter) and resolved (when
// NotifyResolved). Only warning and critical findings open alerts;
// chain_changed is an event, never an alert; a connectivity finding opens
// one only once its address has failed FailureThreshold times in a row
// (and keeps an open one firing whatever the count).
//
// Only an address the round saw enough of can clear an alert there: a
// successful probe, or for the kinds about the chain a probe that got the
// chain; dns_failed clears when the name resolves. An address the round
// did not see (the name did not resolve, the probe failed) stays on its
// alerts exactly as it is, so a DNS blip neither resolves nor re-notifies
// anything. An address in r.Gone left DNS for good: it is cleared from its
// alerts, and an alert left with no address resolves saying "no longer
// served at ADDRESS". Changes of an alert's addresses alone are not
// announced.
//
// Alerts are shared by the nodes of one database (SPEC §14): an alert
// lists the (vantage, address) sites it affects, and the round, of
// r.Vantage, judges and changes that vantage's sites only. An alert the
// round clears stays open while another vantage's site remains, silently;
// it resolves when the last site is cleared.
func UpdateAlerts(target string, open []pinwatchd.Alert, r Round, pol pinwatchd.AlertPolicy, now time.Time) (next []pinwatchd.Alert, changes []pinwatchd.AlertChange) {
	now = now.UTC()
	seen := make(map[pinwatchd.AlertKey]bool, len(open))
	for i := range open {
		seen[open[i].Key()] = true
	}
	firing := groupFindings(target, &r, seen, pol.FailureThreshold)
	for _, shared := range open {
		// The round judges this vantage's sites only (the view); the
		// other vantages' stay exactly as they are.
		a, others := r.view(shared)
		g, still := firing[a.Key()]
		kept, left, hold := r.judge(&a)
		if still {
			prev := a.Severity
			a.Severity, a.Message, a.Details = g.Severity, g.Message, g.Details
			if len(others) > 0 {
				// Another vantage may see it worse: the shared alert
				// does not fall below what it was, so that two nodes
				// seeing different severities do not escalate it by
				// turns.
				a.Severity = max(a.Severity, prev)
			}
			a.Addresses = mergeAddresses(g.Addresses, kept)
			r.share(&a, others, true)
			switch {
			case a.Severity > prev:
				a.LastNotifiedAt = now
				changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeEscalated, Alert: a, PrevSeverity: prev})
			case pol.RenotifyAfter > 0 && !now.Before(a.LastNotifiedAt.Add(pol.RenotifyAfter)):
				a.LastNotifiedAt = now
				changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeReminder, Alert: a})
			}
			next = append(next, a)
			continue
		}
		if hold || len(kept) > 0 {
			// Nothing says the condition is gone from the addresses the
			// round did not see: the alert stays open on those.
			if hold {
				a.Sites, a.Addresses = shared.Sites, shared.Addresses
			} else {
				a.Addresses = kept
				r.share(&a, others, false)
			}
			next = append(next, a)
			continue
		}
		if len(others) > 0 {
			// The condition is gone from this vantage's latest probes;
			// other vantages still see it.
			a.Sites, a.Addresses = others, pinwatchd.SiteAddresses(others)
			next = append(next, a)
			continue
		}
		a.Sites = shared.Sites
		a.State = pinwatchd.AlertResolved
		a.ResolvedAt = now
		a.ResolveReason = resolveReason(a.Kind, len(a.Addresses) == 0 || len(left) < len(a.Addresses), left)
		a.Addresses = shared.Addresses
		if pol.NotifyResolved {
			a.LastNotifiedAt = now
			changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeResolved, Alert: a})
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
		r.share(&a, nil, true)
		changes = append(changes, pinwatchd.AlertChange{Type: pinwatchd.ChangeOpened, Alert: a})
		next = append(next, a)
	}
	return next, changes
}

// view returns open alert a as this round's vantage sees it, its
// Addresses those of its own sites (a site without a vantage counts as
// its own: it was recorded before vantages existed), and the sites of the
// other vantages.
func (r *Round) view(a pinwatchd.Alert) (mine pinwatchd.Alert, others []pinwatchd.Site) {
	if len(a.Sites) == 0 {
		return a, nil // stored by code that knows no vantage
	}
	var own []string
	for _, s := range a.Sites {
		switch {
		case s.Vantage != "" && s.Vantage != r.Vantage:
			others = append(others, s)
		case s.Address != "":
			own = append(own, s.Address)
		}
	}
	slices.Sort(own)
	a.Addresses = slices.Compact(own)
	if a.Addresses == nil {
		a.Addresses = []string{}
	}
	return a, others
}

// share sets the sites of a from its Addresses as seen by this round's
// vantage and the other vantages' sites, and its Addresses to those of
// every site. A firing alert about the target as a whole (no address)
// gets a site without an address, so that it stays listed under this
// vantage.
func (r *Round) share(a *pinwatchd.Alert, others []pinwatchd.Site, firing bool) {
	sites := slices.Clone(others)
	for _, addr := range a.Addresses {
		sites = append(sites, pinwatchd.Site{Vantage: r.Vantage, Address: addr})
	}
	if firing && len(a.Addresses) == 0 {
		sites = append(sites, pinwatchd.Site{Vantage: r.Vantage})
	}
	a.Sites = pinwatchd.SortSites(sites)
	a.Addresses = pinwatchd.SiteAddresses(a.Sites)
}

// ViewOf returns the open alerts as a node of vantage sees them: each
// with the addresses of its own sites only (see UpdateAlerts), for
// Memory.Advance.
func ViewOf(open []pinwatchd.Alert, vantage string) []pinwatchd.Alert {
	r := Round{Vantage: vantage}
	out := make([]pinwatchd.Alert, len(open))
	for i := range open {
		out[i], _ = r.view(open[i])
	}
	return out
}

// judge sorts the addresses of open alert a by what the round can say
// about them: kept are those it did not see enough of to clear (sorted),
// left those that left DNS for good. hold is set when the round says
// nothing about an alert that lists no address.
func (r *Round) judge(a *pinwatchd.Alert) (kept, left []string, hold bool) {
	if len(a.Addresses) == 0 {
		return nil, nil, !r.judgesTarget(a.Kind)
	}
	for _, addr := range a.Addresses {
		switch {
		case slices.Contains(r.Gone, addr):
			left = append(left, addr)
		case !r.judges(a, addr):
			kept = append(kept, addr)
		}
	}
	return kept, left, false
}

// judges reports whether the round saw enough of addr to clear alert a
// there.
func (r *Round) judges(a *pinwatchd.Alert, addr string) bool {
	switch {
	case a.Kind == pinwatchd.KindDNSFailed:
		return r.Resolved
	case a.Kind.IsConnectivity() || needsHeaders(a):
		return r.Seen[addr] == SeenAll
	case a.Kind == pinwatchd.KindTLSAMismatch || a.Kind == pinwatchd.KindTLSAMissingBackup:
		return r.TLSA && r.Seen[addr] >= SeenChain
	}
	return r.Seen[addr] >= SeenChain
}

// judgesTarget reports whether the round can clear an alert of kind k that
// lists no address: the pin-set expiry kinds depend on the clock alone, a
// failed TLSA lookup on the latest lookup, the kinds about the TLSA RRset on
// a lookup that answered; any other needs every address of a resolved round
// to have served a chain.
func (r *Round) judgesTarget(k pinwatchd.Kind) bool {
	switch k {
	case pinwatchd.KindPinSetExpiring, pinwatchd.KindPinSetExpired, pinwatchd.KindTLSALookupFailed:
		return true
	case pinwatchd.KindTLSAUnsigned, pinwatchd.KindTLSAMalformed, pinwatchd.KindNoTLSA:
		return r.TLSA // about the RRset alone
	}
	if !r.Resolved {
		return false
	}
	for _, s := range r.Seen {
		if s < SeenChain {
			return false
		}
	}
	return true
}

// needsHeaders reports whether alert a is about what the HTTP response
// says, which a probe that timed out after the handshake does not know.
func needsHeaders(a *pinwatchd.Alert) bool {
	switch a.Kind {
	case pinwatchd.KindHeaderMalformed, pinwatchd.KindHeaderReportOnly, pinwatchd.KindNoPinHeader,
		pinwatchd.KindHSTSMissing, pinwatchd.KindHSTSMalformed:
		return true
	case pinwatchd.KindPinMismatch, pinwatchd.KindMissingBackupPin:
		return a.Subject == pinwatchd.PinSetHeader || a.Subject == pinwatchd.PinSetHeaderReportOnly
	}
	return false
}

// resolveReason says why an alert of kind k resolved: its condition is
// gone (cleared), and addresses left DNS (left).
func resolveReason(k pinwatchd.Kind, cleared bool, left []string) string {
	if len(left) == 0 {
		return ResolveReason(k)
	}
	gone := "no longer served at " + strings.Join(left, ", ")
	if !cleared {
		return gone
	}
	return ResolveReason(k) + "; " + gone
}

// mergeAddresses returns the sorted union of a and b.
func mergeAddresses(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Withdraw takes vantage's sites (and those without a vantage) off the
// open alerts, e.g. when a target is removed from that node's
// configuration, and resolves with reason every alert no other vantage
// lists (SPEC §14). next holds every alert it changed.
func Withdraw(open []pinwatchd.Alert, vantage, reason string, pol pinwatchd.AlertPolicy, now time.Time) (next []pinwatchd.Alert, changes []pinwatchd.AlertChange) {
	r := Round{Vantage: vantage}
	for _, a := range open {
		if _, others := r.view(a); len(others) > 0 {
			if len(others) < len(a.Sites) {
				a.Sites, a.Addresses = others, pinwatchd.SiteAddresses(others)
				next = append(next, a)
			}
			continue
		}
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

// groupFindings folds the alertable findings of round r into one alert per
// identity, with the worst severity, every affected address and the message
// of the first worst finding. open holds the identities of the open alerts.
// An ip_inconsistent finding, about the whole target, lists every address
// that served a chain.
func groupFindings(target string, r *Round, open map[pinwatchd.AlertKey]bool, threshold int) map[pinwatchd.AlertKey]*pinwatchd.Alert {
	groups := map[pinwatchd.AlertKey]*pinwatchd.Alert{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Severity < pinwatchd.SeverityWarning || f.Kind == pinwatchd.KindChainChanged {
			continue
		}
		key := pinwatchd.AlertKey{Target: target, Kind: f.Kind, Subject: pinwatchd.AlertSubject(f)}
		if f.Kind.IsConnectivity() && r.Failures[f.Address] < max(threshold, 1) && !open[key] {
			continue
		}
		g, ok := groups[key]
		if !ok {
			g = &pinwatchd.Alert{Target: target, Kind: f.Kind, Subject: key.Subject, Severity: f.Severity, Message: f.Message, Details: f.Details}
			groups[key] = g
		} else if f.Severity > g.Severity {
			g.Severity, g.Message, g.Details = f.Severity, f.Message, f.Details
		}
		switch {
		case f.Address != "":
			g.Addresses = append(g.Addresses, f.Address)
		case f.Kind == pinwatchd.KindIPInconsistent:
			for addr, s := range r.Seen {
				if s >= SeenChain {
					g.Addresses = append(g.Addresses, addr)
				}
			}
		}
	}
	for _, g := range groups {
		slices.Sort(g.Addresses)
		g.Addresses = slices.Compact(g.Addresses)
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
	case pinwatchd.KindTLSAMismatch:
		return "a TLSA record matches the served chain again"
	case pinwatchd.KindTLSAMissingBackup:
		return "a TLSA record for the next key or CA is published"
	case pinwatchd.KindTLSAUnsigned:
		return "the TLSA records are DNSSEC-authenticated or gone"
	case pinwatchd.KindTLSAMalformed:
		return "no malformed TLSA record is published any more"
	case pinwatchd.KindTLSALookupFailed:
		return "the TLSA lookup answers again"
	case pinwatchd.KindNoTLSA:
		return "TLSA records are published"
	case pinwatchd.KindSTARTTLSFailed:
		return "the server offers and accepts STARTTLS again"
	case pinwatchd.KindVantageSilent:
		return "the node reports again"
	case pinwatchd.KindVantageInconsistent:
		return "every vantage point sees the same key again"
	}
	return "the condition is gone"
}
