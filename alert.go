package pinwatchd

import (
	"cmp"
	"net"
	"slices"
	"time"
)

// AlertState is "open" or "resolved".
type AlertState string

// Alert states.
const (
	AlertOpen     AlertState = "open"
	AlertResolved AlertState = "resolved"
)

// Alert is a finding that persists across probes, identified by (Target,
// Kind, Subject) (SPEC §6). One alert lists every address it affects.
type Alert struct {
	ID        int64 // storage identity; 0 until stored
	Target    string
	Kind      Kind
	Severity  Severity
	Subject   string   // see AlertSubject
	Addresses []string // sorted, each once: the addresses of Sites
	// Sites are the (vantage, address) pairs the alert affects (SPEC §14),
	// sorted: one alert of several nodes lists what each of them sees. A
	// site without an address is a vantage that sees a condition about the
	// whole target; one without a vantage was recorded before vantages
	// existed and is taken over by the next node to judge it.
	Sites   []Site
	State   AlertState
	Message string // the latest finding's message
	// Details are those of the latest finding (see Finding.Details), for
	// the messages about the alert. They travel with its notifications and
	// are not kept in the alert's own row: an alert read back from storage
	// has none until a round sets them again.
	Details *Details
	// ResolveReason says why a resolved alert was resolved.
	ResolveReason  string
	OpenedAt       time.Time
	ResolvedAt     time.Time // zero while open
	LastNotifiedAt time.Time // zero if never announced
	// Slack thread of the opening message, for bot-token threading; empty
	// otherwise.
	Channel  string
	ThreadTS string
}

// Site is one (vantage, address) pair an alert affects.
type Site struct {
	Vantage string `json:"vantage"`
	Address string `json:"address"` // "ip:port"; empty for the target as a whole
}

// SiteAddresses returns the addresses of sites, sorted, each once, empty
// ones left out; never nil.
func SiteAddresses(sites []Site) []string {
	out := []string{}
	for _, s := range sites {
		if s.Address != "" {
			out = append(out, s.Address)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SiteVantages returns the vantages of sites, sorted, each once, empty
// ones left out; never nil.
func SiteVantages(sites []Site) []string {
	out := []string{}
	for _, s := range sites {
		if s.Vantage != "" {
			out = append(out, s.Vantage)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SortSites sorts sites by vantage, then address, and drops repeats.
func SortSites(sites []Site) []Site {
	slices.SortFunc(sites, func(a, b Site) int {
		if c := cmp.Compare(a.Vantage, b.Vantage); c != 0 {
			return c
		}
		return cmp.Compare(a.Address, b.Address)
	})
	return slices.Compact(sites)
}

// AlertKey is the identity of an alert.
type AlertKey struct {
	Target  string
	Kind    Kind
	Subject string
}

// Key returns the alert's identity.
func (a *Alert) Key() AlertKey { return AlertKey{a.Target, a.Kind, a.Subject} }

// AlertSubject returns what an alert of f's kind is about (SPEC §6): the
// pin-set name for pin_mismatch, missing_backup_pin and pinset_*; the
// certificate SHA-256 for cert_*; the address for connect_failed,
// handshake_failed and timeout; the host name for dns_failed (whose finding
// is about host:port); the header (as its pin-set name) for
// header_malformed; "hsts" for hsts_*; empty for kinds about the whole
// target.
//
// The TLSA kinds are about the pin-set "tlsa"; starttls_failed, like the
// other kinds about the target, has an empty subject and lists every address
// it affects. A finding's own Subject, when set, wins.
func AlertSubject(f *Finding) string {
	if f.Subject != "" {
		return f.Subject
	}
	switch f.Kind {
	case KindTLSAMismatch, KindTLSAMissingBackup, KindTLSAUnsigned, KindTLSAMalformed, KindTLSALookupFailed, KindNoTLSA:
		return PinSetTLSA
	case KindPinMismatch, KindMissingBackupPin, KindPinSetExpiring, KindPinSetExpired, KindHeaderMalformed:
		return f.PinSet
	case KindCertExpiring, KindCertExpired:
		return f.Cert
	case KindDNSFailed:
		if host, _, err := net.SplitHostPort(f.Address); err == nil {
			return host
		}
		return f.Address
	case KindConnectFailed, KindHandshakeFailed, KindTimeout:
		return f.Address
	case KindHSTSMissing, KindHSTSMalformed:
		return "hsts"
	}
	return ""
}

// NameState is what the alert rules remember between rounds about a
// target's name (SPEC §6), kept in the database so that a restart or a
// reload does not forget it. Each vantage (SPEC §14) keeps its own, as
// each resolves names from where it is. The zero value is a name that
// resolves and has no address of an open alert missing from its answers.
type NameState struct {
	// Unresolved counts the rounds in a row in which the name did not
	// resolve, up to the latest.
	Unresolved int
	// Absent counts, per address ("ip:port") of an open alert, the rounds
	// in a row in which the name resolved without that address.
	Absent map[string]int
}

// ChangeType is what happened to an alert in one evaluation.
type ChangeType string

// Alert changes that are announced.
const (
	ChangeOpened    ChangeType = "opened"
	ChangeReminder  ChangeType = "reminder"  // still firing after renotify_after
	ChangeEscalated ChangeType = "escalated" // severity rose
	ChangeResolved  ChangeType = "resolved"
)

// AlertChange is one announced change of an alert; Alert is its state after
// the change.
type AlertChange struct {
	Type  ChangeType
	Alert Alert
	// PrevSeverity is the severity before an escalation.
	PrevSeverity Severity
}

// AlertPolicy holds the alerting settings of the `[alerts]` section.
type AlertPolicy struct {
	FailureThreshold int           // consecutive failures of an address before a connectivity alert
	RenotifyAfter    time.Duration // reminder interval for an alert still firing; 0 disables reminders
	NotifyResolved   bool
	NotifyChanges    bool
}

// ChangeChainChanged is the notification type of a chain_changed event.
const ChangeChainChanged ChangeType = "chain_changed"

// Notification is one message to deliver: an alert change or a
// chain_changed event. It is written to the outbox in the same transaction
// as the change that causes it and removed once delivered.
type Notification struct {
	ID      int64  // outbox identity; 0 until stored
	Channel string // destination channel; empty for the default one
	Type    ChangeType
	Alert   *Alert // set for alert changes
	Event   *Event // set for chain_changed
	// PrevSeverity is the severity before an escalation.
	PrevSeverity Severity
	CreatedAt    time.Time
	Attempts     int       // failed delivery attempts so far
	NextAttempt  time.Time // not before this time
	LastError    string    // why the last attempt failed, secrets removed
}

// Target returns the target the notification is about.
func (n *Notification) Target() string {
	switch {
	case n.Alert != nil:
		return n.Alert.Target
	case n.Event != nil:
		return n.Event.Target
	}
	return ""
}

// Undeliverable sums up the notifications Slack refused for good, which the
// outbox keeps parked (SPEC §8): shown by `pinwatchd alerts`, the
// dashboard's /alerts and the metrics.
type Undeliverable struct {
	Count int // parked notifications
	// Alerts are the IDs of the alerts a parked notification is about,
	// ascending.
	Alerts []int64
	// LastError is why the most recently parked notification was refused
	// (free of secrets); empty when none is parked.
	LastError string
}
