package storagetest

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

var batchChecks = []check{
	{"RecordManyInOneCallAsOneByOne", checkRecordBatchedAsSingle},
}

// batchHistory is a varied history of rounds: eight addresses of four
// targets seen from two vantages, with extensions, failures, recoveries,
// rotations, header changes, an address first seen late and one probed
// twice in a round.
func batchHistory(t *testing.T) [][]pinwatchd.Observation {
	p := testpki.New(t)
	a := pkiChain(p.Leaf, p.Intermediate, p.Root)
	b := pkiChain(p.Intermediate.Leaf(t, testpki.Options{}), p.Intermediate, p.Root)
	hsts := &pinwatchd.HSTSHeader{Raw: "max-age=600", MaxAge: 600, Valid: true}
	var rounds [][]pinwatchd.Observation
	for i := range 12 {
		at := t0.Add(time.Duration(i) * time.Minute)
		var round []pinwatchd.Observation
		for n := range 8 {
			target, addr := fmt.Sprintf("t%d", n%4), fmt.Sprintf("127.0.0.%d:443", 1+n/4)
			if n == 7 && i < 5 {
				continue // first seen in round 5
			}
			o := okObs(target, addr, at, a)
			switch {
			case n == 1 && i >= 6:
				o = okObs(target, addr, at, b) // rotates
			case n == 2 && i%4 == 3:
				o = failObs(target, addr, at, pinwatchd.KindTimeout, fmt.Sprintf("timed out %d", i))
			case n == 3 && i >= 8:
				o.StrictTransportSecurity = hsts
			case n == 5 && i == 4:
				o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Status: 503}
			}
			for _, v := range []string{"a", "b"} {
				round = append(round, fromVantage(v, o))
			}
			if n == 0 && i == 9 {
				// The same address twice in one round: rotated, then back.
				again := okObs(target, addr, at.Add(time.Second), b)
				round = append(round, fromVantage("a", again))
			}
		}
		rounds = append(rounds, round)
	}
	return rounds
}

// storedState is what a database holds of a history, without its ids
// (chains and header values by their rank: a PostgreSQL sequence may skip
// numbers), in the order of the addresses' names.
func storedState(t *testing.T, db Database) ([][]int64, [][]int64) {
	spans := db.Ints(t, `SELECT s.first_seen, s.last_seen, s.last_round, s.probe_count,
		(SELECT count(*) FROM chains c WHERE c.id <= s.served_chain_id),
		(SELECT count(*) FROM header_values h WHERE h.id <= s.hsts_id), coalesce(s.http_status, 0)
		FROM spans s JOIN addresses a ON a.id = s.address_id ORDER BY a.target, a.address, a.vantage, s.id`)
	events := db.Ints(t, `SELECT e.time, length(e.event), length(e.class), CASE WHEN e.notified THEN 1 ELSE 0 END
		FROM events e JOIN addresses a ON a.id = e.address_id ORDER BY a.target, a.address, a.vantage, e.id`)
	return spans, events
}

// A call of many targets' rounds stores exactly what recording each
// target's round in a call of its own stores: the same spans, counts and events (a backend that reads
// ahead or writes extensions at the end of a call must not change
// anything).
func checkRecordBatchedAsSingle(t *testing.T, newDB Factory) {
	history := batchHistory(t)
	single, batched := newDB(t), newDB(t)
	var singleEvents, batchedEvents []eventSummary
	for _, round := range history {
		// One call per target and round, in the round's order.
		var order []string
		byTarget := map[string][]pinwatchd.Observation{}
		for _, o := range round {
			if byTarget[o.Target] == nil {
				order = append(order, o.Target)
			}
			byTarget[o.Target] = append(byTarget[o.Target], o)
		}
		for _, target := range order {
			singleEvents = append(singleEvents, summarize(record(t, single.Store, byTarget[target]...))...)
		}
	}
	// Batched: one call per round of every target (a call holds one
	// round of each target it names, as a group commit does). Fresh: the
	// same, each call through a handle of its own, as `check --record`
	// runs (nothing remembered from an earlier call).
	fresh := newDB(t)
	var freshEvents []eventSummary
	for _, round := range history {
		batchedEvents = append(batchedEvents, summarize(record(t, batched.Store, round...))...)
		h := reopen(t, fresh)
		freshEvents = append(freshEvents, summarize(record(t, h, round...))...)
		h.Close()
	}
	// The order of events within a call is that of its observations.
	for _, evs := range [][]eventSummary{singleEvents, batchedEvents, freshEvents} {
		sort.SliceStable(evs, func(i, j int) bool { return fmt.Sprint(evs[i]) < fmt.Sprint(evs[j]) })
	}
	if !reflect.DeepEqual(batchedEvents, singleEvents) {
		t.Errorf("events recorded in large calls:\n%+v\none per call:\n%+v", batchedEvents, singleEvents)
	}
	if !reflect.DeepEqual(freshEvents, singleEvents) {
		t.Errorf("events recorded in large calls, each by a new handle:\n%+v\none per call:\n%+v", freshEvents, singleEvents)
	}
	sSpans, sEvents := storedState(t, single)
	bSpans, bEvents := storedState(t, batched)
	if fSpans, fEvents := storedState(t, fresh); !reflect.DeepEqual(fSpans, sSpans) || !reflect.DeepEqual(fEvents, sEvents) {
		t.Errorf("spans and events recorded in large calls, each by a new handle:\n%v\n%v\none per call:\n%v\n%v", fSpans, fEvents, sSpans, sEvents)
	}
	if !reflect.DeepEqual(bSpans, sSpans) {
		t.Errorf("spans recorded in large calls:\n%v\none per call:\n%v", bSpans, sSpans)
	}
	if !reflect.DeepEqual(bEvents, sEvents) {
		t.Errorf("stored events recorded in large calls:\n%v\none per call:\n%v", bEvents, sEvents)
	}
	if len(sSpans) < 20 || len(sEvents) < 20 {
		t.Fatalf("the history stored only %d spans and %d events: it tests too little", len(sSpans), len(sEvents))
	}
}
