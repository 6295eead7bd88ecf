package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// rrset is an authenticated TLSA result holding records in presentation
// form.
func rrset(records ...string) *pinwatchd.TLSAResult {
	res := &pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example", Authenticated: true}
	for _, r := range records {
		var rec pinwatchd.TLSARecord
		if _, err := fmt.Sscan(r, &rec.Usage, &rec.Selector, &rec.MatchingType, &rec.Data); err != nil {
			panic(err)
		}
		res.Records = append(res.Records, rec)
	}
	return res
}

const (
	recA = "3 1 1 0000000000000000000000000000000000000000000000000000000000000001"
	recB = "3 1 1 0000000000000000000000000000000000000000000000000000000000000002"
)

func withTLSA(o pinwatchd.Observation, res *pinwatchd.TLSAResult) pinwatchd.Observation {
	o.STARTTLS, o.HTTP, o.TLSA = pinwatchd.ProtocolSMTP, nil, res
	return o
}

// A database of the schema before the TLSA tables keeps its events (and
// their notified mark) when it gains them, and its foreign keys still hold.
func TestMigrateTLSAKeepsHistory(t *testing.T) {
	path, raw := openBefore(t, "_tlsa.sql")
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO addresses (id, target, address) VALUES (1, 'api', '127.0.0.1:443')`,
		`INSERT INTO events (time, address_id, event, class, old_leaf_pin, new_leaf_pin, old_leaf_sha256,
			new_leaf_sha256, issuer, not_after, error_kind, error_message, notified)
			VALUES (100, 1, 'first_seen', '', '', 'pin', '', 'sha', 'CA', 200, '', '', 1),
			       (101, 1, 'chain_changed', 'key_rotated', 'pin', 'pin2', 'sha', 'sha2', 'CA', 200, '', '', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer db.Close()
	ev, err := db.History(ctx, "api", time.Time{})
	if err != nil || len(ev) != 2 || ev[0].Event != pinwatchd.EventFirstSeen || ev[0].NewLeafPin != "pin" {
		t.Fatalf("history after the migration: %+v, %v; want the first_seen and chain_changed kept", ev, err)
	}
	var unnotified int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE notified = 0`).Scan(&unnotified); err != nil || unnotified != 1 {
		t.Errorf("%d events still to announce after the migration (%v), want the chain_changed's 1", unnotified, err)
	}
	rows, err := db.read.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("foreign_key_check reports a violation after the migration")
	}
}
