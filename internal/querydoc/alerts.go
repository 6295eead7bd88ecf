package querydoc

import (
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Alert is one entry of `alerts --json` (SPEC §5), and of the dashboard's
// /alerts in JSON.
type Alert struct {
	ID             int64            `json:"id"`
	Target         string           `json:"target"`
	Kind           string           `json:"kind"`
	Severity       string           `json:"severity"`
	Subject        string           `json:"subject"`
	Addresses      []string         `json:"addresses"`
	Sites          []pinwatchd.Site `json:"sites"` // the (vantage, address) pairs it affects (SPEC §14)
	State          string           `json:"state"`
	OpenedAt       time.Time        `json:"opened_at"`
	ResolvedAt     *time.Time       `json:"resolved_at"`
	LastNotifiedAt *time.Time       `json:"last_notified_at"`
	Message        string           `json:"message"`
	ResolveReason  *string          `json:"resolve_reason"`
	// Undeliverable is set when Slack refused a notification about the
	// alert for good (it is parked in the outbox).
	Undeliverable bool `json:"undeliverable"`
}

// AlertOf returns a in the shape of `alerts --json`, with empty lists as
// [] and unset times and reasons as null; u names the alerts whose
// notifications are undeliverable.
func AlertOf(a pinwatchd.Alert, u pinwatchd.Undeliverable) Alert {
	addrs := a.Addresses
	if addrs == nil {
		addrs = []string{}
	}
	return Alert{
		ID: a.ID, Target: a.Target, Kind: string(a.Kind), Severity: a.Severity.String(), Subject: a.Subject,
		Addresses: addrs, Sites: append([]pinwatchd.Site{}, a.Sites...), State: string(a.State),
		OpenedAt: a.OpenedAt.UTC(), ResolvedAt: pinwatchd.NullTime(a.ResolvedAt), LastNotifiedAt: pinwatchd.NullTime(a.LastNotifiedAt),
		Message: a.Message, ResolveReason: pinwatchd.NullString(a.ResolveReason),
		Undeliverable: slices.Contains(u.Alerts, a.ID),
	}
}
