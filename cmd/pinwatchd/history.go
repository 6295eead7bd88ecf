package main

import (
	"context"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/textreport"
)

const historyUsage = "history [TARGET] [--since D|DATE] [--json] [--config F] [--database F]"

// eventJSON is one entry of `history --json` (SPEC §5).
type eventJSON struct {
	Time          time.Time  `json:"time"`
	Target        string     `json:"target"`
	Address       string     `json:"address"`
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

// eventsJSON returns events in the shape of `history --json`, [] for none.
func eventsJSON(events []pinwatchd.Event) []eventJSON {
	out := make([]eventJSON, 0, len(events))
	for _, ev := range events {
		out = append(out, eventJSON{
			Time: ev.Time.UTC(), Target: ev.Target, Address: ev.Address, Event: string(ev.Event),
			Class: pinwatchd.NullString(string(ev.Class)), OldLeafPin: pinwatchd.NullString(ev.OldLeafPin), NewLeafPin: pinwatchd.NullString(ev.NewLeafPin),
			OldLeafSHA256: pinwatchd.NullString(ev.OldLeafSHA256), NewLeafSHA256: pinwatchd.NullString(ev.NewLeafSHA256),
			Issuer: pinwatchd.NullString(ev.Issuer), NotAfter: pinwatchd.NullTime(ev.NotAfter), ErrorKind: pinwatchd.NullString(string(ev.ErrorKind)),
			ErrorMessage: pinwatchd.NullString(ev.ErrorMessage),
			OldTLSA:      tlsaJSON(ev, ev.OldTLSA), NewTLSA: tlsaJSON(ev, ev.NewTLSA),
		})
	}
	return out
}

func runHistory(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "history", historyUsage)
	q := addQueryFlags(fs)
	since := fs.String("since", "", "only events since this duration ago (7d, 36h) or date (2026-11-01)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 1 {
		return fail(e.stderr, "history takes at most one TARGET, got %d; usage: pinwatchd %s", len(pos), historyUsage)
	}
	target := ""
	if len(pos) == 1 {
		target = pos[0]
	}
	from, err := config.ParseSince(*since, e.now())
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	db, err := openQueryDB(ctx, e, q)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	defer db.Close()
	events, err := db.History(ctx, target, from)
	if err != nil {
		return fail(e.stderr, "%v", err)
	}
	if *q.json {
		if err := writeJSON(e.stdout, map[string]any{"events": eventsJSON(events)}); err != nil {
			return fail(e.stderr, "write output: %v", err)
		}
		return exitOK
	}
	textreport.History(e.stdout, events, target)
	return exitOK
}
