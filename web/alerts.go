package web

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/querydoc"
)

// AlertsPage is the data of /alerts: the open alerts, those resolved since
// ResolvedSince, and the notifications waiting to be delivered.
type AlertsPage struct {
	GeneratedAt   time.Time   `json:"generated_at"`
	Open          []AlertView `json:"open"`
	Resolved      []AlertView `json:"resolved"`
	ResolvedSince time.Time   `json:"resolved_since"`
	// NotificationsPending counts the outbox; MaxAttempts is the most
	// failed delivery attempts of one of them (0: none failed yet).
	NotificationsPending int `json:"notifications_pending"`
	MaxAttempts          int `json:"notifications_max_attempts"`
	// NotificationsUndeliverable counts the notifications Slack refused for
	// good; LastRefusal is why the latest was refused.
	NotificationsUndeliverable int    `json:"notifications_undeliverable"`
	LastRefusal                string `json:"last_refusal,omitempty"`
}

// AlertView is one alert, in the shape of `pinwatchd alerts --json`.
type AlertView struct {
	querydoc.Alert
	// Configured is false for an alert of a target that is no longer in
	// the configuration (it has no page to link to).
	Configured bool `json:"-"`
}

// SeverityLabel is the severity as the pages show it (CRITICAL in
// capitals).
func (a AlertView) SeverityLabel() string {
	if a.Severity == pinwatchd.SeverityCritical.String() {
		return "CRITICAL"
	}
	return a.Severity
}

// alertsPage builds /alerts, listing the alerts resolved at or after since
// (zero: the last recentlyResolved).
func alertsPage(ctx context.Context, o *Options, since time.Time) (*AlertsPage, error) {
	all, err := o.Store.Alerts(ctx, true)
	if err != nil {
		return nil, err
	}
	n, attempts, err := o.Store.PendingCount(ctx)
	if err != nil {
		return nil, err
	}
	u, err := o.Store.Undeliverable(ctx)
	if err != nil {
		return nil, err
	}
	p := buildAlertsPage(o.Fleet(), all, n, attempts, since, o.now())
	p.markUndeliverable(u)
	return p, nil
}

// markUndeliverable marks the alerts whose notifications Slack refused for
// good, and counts those notifications.
func (p *AlertsPage) markUndeliverable(u pinwatchd.Undeliverable) {
	p.NotificationsUndeliverable, p.LastRefusal = u.Count, u.LastError
	markUndeliverable(p.Open, u)
	markUndeliverable(p.Resolved, u)
}

// markUndeliverable marks the views of the alerts u names.
func markUndeliverable(views []AlertView, u pinwatchd.Undeliverable) {
	for i := range views {
		views[i].Undeliverable = slices.Contains(u.Alerts, views[i].ID)
	}
}

// buildAlertsPage builds /alerts from every retained alert and the outbox
// counts.
func buildAlertsPage(f Fleet, all []pinwatchd.Alert, pending, attempts int, since, now time.Time) *AlertsPage {
	if since.IsZero() {
		since = now.Add(-recentlyResolved)
	}
	configured := map[string]bool{}
	for _, t := range f.Targets {
		configured[t.Name] = true
	}
	p := &AlertsPage{GeneratedAt: now, ResolvedSince: since, NotificationsPending: pending, MaxAttempts: attempts,
		Open: []AlertView{}, Resolved: []AlertView{}}
	var open []pinwatchd.Alert
	for _, a := range all {
		switch {
		case a.State == pinwatchd.AlertOpen:
			open = append(open, a)
		case !a.ResolvedAt.Before(since):
			v := alertView(a, pinwatchd.Undeliverable{})
			v.Configured = configured[a.Target]
			p.Resolved = append(p.Resolved, v)
		}
	}
	for _, v := range alertViews(open) {
		v.Configured = configured[v.Target]
		p.Open = append(p.Open, v)
	}
	return p
}

// alertViews returns the alerts worst first, then oldest first.
func alertViews(alerts []pinwatchd.Alert) []AlertView {
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b pinwatchd.Alert) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	out := make([]AlertView, 0, len(sorted))
	for _, a := range sorted {
		v := alertView(a, pinwatchd.Undeliverable{})
		v.Configured = true
		out = append(out, v)
	}
	return out
}

func alertView(a pinwatchd.Alert, u pinwatchd.Undeliverable) AlertView {
	return AlertView{Alert: querydoc.AlertOf(a, u)}
}

// EventView is one entry of a target's history, in the shape of
// `pinwatchd history --json`.
type EventView querydoc.Event

// What is the event in a few words: "key rotated", "probe failed
// (timeout)".
func (e EventView) What() string {
	switch {
	case e.Class != nil:
		return eventLabel(*e.Class)
	case e.ErrorKind != nil:
		return eventLabel(e.Event) + " (" + *e.ErrorKind + ")"
	}
	return eventLabel(e.Event)
}

// Tag is the event's class for a chain_changed, else its type: the CSS
// class of its colour.
func (e EventView) Tag() string {
	if e.Class != nil {
		return *e.Class
	}
	return e.Event
}

func eventViews(events []pinwatchd.Event) []EventView {
	docs := querydoc.Events(events)
	out := make([]EventView, len(docs))
	for i := range docs {
		out[i] = EventView(docs[i])
	}
	return out
}

// eventLabel turns an event or class identifier into words.
func eventLabel[S ~string](s S) string {
	switch string(s) {
	case "first_seen":
		return "first seen"
	case "probe_failed":
		return "probe failed"
	case "key_rotated":
		return "key rotated"
	case "issuer_changed":
		return "issuer changed"
	}
	return string(s)
}
