package querydoc

import (
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Event is one entry of `history --json`, and of the "events" that
// `check --record --json` adds to a target.
type Event struct {
	Time          time.Time  `json:"time"`
	Target        string     `json:"target"`
	Address       string     `json:"address"`
	Vantage       string     `json:"vantage"` // "" for events from before vantage points
	Event         string     `json:"event"`
	Class         *string    `json:"class"`
	OldLeafPin    *string    `json:"old_leaf_pin"`
	NewLeafPin    *string    `json:"new_leaf_pin"`
	OldLeafSHA256 *string    `json:"old_leaf_sha256"`
	NewLeafSHA256 *string    `json:"new_leaf_sha256"`
	Issuer        *string    `json:"issuer"`
	NotAfter      *time.Time `json:"not_after"`
	ErrorKind     *string    `json:"error_kind"`
	ErrorMessage  *string    `json:"error_message"`
	OldTLSA       []string   `json:"old_tlsa"` // tlsa_changed only, else null
	NewTLSA       []string   `json:"new_tlsa"`
}

// Events returns events in the shape of `history --json`, with empty
// strings and zero times as null; [] for none.
func Events(events []pinwatchd.Event) []Event {
	out := make([]Event, 0, len(events))
	for _, ev := range events {
		out = append(out, Event{
			Time: ev.Time.UTC(), Target: ev.Target, Address: ev.Address, Vantage: ev.Vantage, Event: string(ev.Event),
			Class: pinwatchd.NullString(string(ev.Class)), OldLeafPin: pinwatchd.NullString(ev.OldLeafPin), NewLeafPin: pinwatchd.NullString(ev.NewLeafPin),
			OldLeafSHA256: pinwatchd.NullString(ev.OldLeafSHA256), NewLeafSHA256: pinwatchd.NullString(ev.NewLeafSHA256),
			Issuer: pinwatchd.NullString(ev.Issuer), NotAfter: pinwatchd.NullTime(ev.NotAfter), ErrorKind: pinwatchd.NullString(string(ev.ErrorKind)),
			ErrorMessage: pinwatchd.NullString(ev.ErrorMessage),
			OldTLSA:      tlsaLines(ev, ev.OldTLSA), NewTLSA: tlsaLines(ev, ev.NewTLSA),
		})
	}
	return out
}

// tlsaLines is a tlsa_changed event's records: a list of lines (empty when
// none) for that event, null for the others.
func tlsaLines(ev pinwatchd.Event, lines string) []string {
	if ev.Event != pinwatchd.EventTLSAChanged {
		return nil
	}
	if lines == "" {
		return []string{}
	}
	return strings.Split(lines, "\n")
}

// EventsAt keeps the events recorded from vantage, all of them when
// vantage is "" (the --vantage flag not given). It reuses events.
func EventsAt(events []pinwatchd.Event, vantage string) []pinwatchd.Event {
	return keep(events, vantage, func(e pinwatchd.Event) string { return e.Vantage })
}

// keep keeps the rows whose vantage (as of returns it) is vantage, every
// row when vantage is "", in place.
func keep[T any](rows []T, vantage string, of func(T) string) []T {
	if vantage == "" {
		return rows
	}
	out := rows[:0]
	for _, r := range rows {
		if of(r) == vantage {
			out = append(out, r)
		}
	}
	return out
}
