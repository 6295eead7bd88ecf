package monitor

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// Seen is how much of one address a round's probe saw.
type Seen uint8

// How much of an address a round saw, from nothing to everything.
const (
	// SeenNothing: the address was not probed this round (the name did
	// not resolve, or its answer did not hold the address).
	SeenNothing Seen = iota
	// SeenFailed: the probe failed before a chain was served.
	SeenFailed
	// SeenChain: a chain was served, then the probe failed (the header
	// read timed out): the chain is known, the headers are not.
	SeenChain
	// SeenAll: the probe succeeded.
	SeenAll
)

// Round is one round of a target as the alert rules (UpdateAlerts) see it.
type Round struct {
	// Findings are the round's findings (Evaluate).
	Findings []pinwatchd.Finding
	// Resolved is false when the target's name did not resolve, so that no
	// address was probed; always true for explicit addresses and IP hosts.
	Resolved bool
	// Seen says how much the round saw of each address it probed;
	// addresses not probed are absent.
	Seen map[string]Seen
	// Failures counts, per address, the probes in a row that failed up to
	// and including this round (Memory.Failures after the round).
	Failures map[string]int
	// Gone lists the addresses that left DNS for good with this round
	// (Memory.Advance), sorted.
	Gone []string
	// TLSA is set when the round's TLSA lookup answered (an RRset, maybe
	// empty): only then can it clear the TLSA alerts.
	TLSA bool
	// Vantage is the node that probed (SPEC §14): the round judges the
	// sites of its vantage only.
	Vantage string
}

// NewRound describes the round of observations obs for UpdateAlerts: its
// findings, the memory after it and the addresses that left DNS with it
// (both from Memory.Advance).
func NewRound(obs []pinwatchd.Observation, findings []pinwatchd.Finding, after Memory, gone []string) Round {
	r := Round{Findings: findings, Resolved: resolved(obs), Seen: make(map[string]Seen, len(obs)),
		Failures: after.Failures, Gone: gone}
	for i := range obs {
		o := &obs[i]
		if o.TLSA != nil && o.TLSA.Error == "" {
			r.TLSA = true
		}
		switch {
		case o.Error == nil:
			r.Seen[o.Address] = SeenAll
		case len(o.ServedChain) > 0:
			r.Seen[o.Address] = SeenChain
		default:
			r.Seen[o.Address] = SeenFailed
		}
	}
	return r
}

// resolved reports whether the target's addresses were known in the round
// obs: at least one observation is of an "ip:port". A name that did not
// resolve has a single observation of "host:port".
func resolved(obs []pinwatchd.Observation) bool {
	for i := range obs {
		if _, err := netip.ParseAddrPort(obs[i].Address); err == nil {
			return true
		}
	}
	return false
}

// Memory is what the alert rules carry from one round of a target to the
// next. The zero Memory is a target with nothing to remember.
type Memory struct {
	// Failures counts, per address, the probes in a row that failed up to
	// the latest round; an address that answered is absent. The rounds in
	// a row in which the name did not resolve count under the target's
	// host:port, the address of its dns_failed observation.
	Failures map[string]int
	// Absent counts, per address of an open alert, the rounds in a row in
	// which the name resolved without that address.
	Absent map[string]int
}

// Advance returns the memory after the round obs, given the target's
// alerts open before it, and the addresses that left DNS for good with
// this round: addresses of open alerts missing from threshold resolved
// rounds in a row (SPEC §6). A round in which the name did not resolve
// says nothing about the addresses, so their counts stay as they are;
// only the name's own failures count up. Advance is pure.
func (m Memory) Advance(obs []pinwatchd.Observation, open []pinwatchd.Alert, threshold int) (next Memory, gone []string) {
	inRound := func(addr string) bool {
		for i := range obs {
			if obs[i].Address == addr {
				return true
			}
		}
		return false
	}
	for i := range obs {
		o := &obs[i]
		if o.Error != nil {
			if next.Failures == nil {
				next.Failures = make(map[string]int, len(obs))
			}
			next.Failures[o.Address] = m.Failures[o.Address] + 1
		}
	}
	if !resolved(obs) {
		for addr, n := range m.Failures {
			if !inRound(addr) {
				if next.Failures == nil {
					next.Failures = make(map[string]int, len(m.Failures))
				}
				next.Failures[addr] = n
			}
		}
		next.Absent = maps.Clone(m.Absent)
		return next, nil
	}
	for i := range open {
		a := &open[i]
		if a.Kind == pinwatchd.KindDNSFailed {
			continue // about the name, not an address of it
		}
		for _, addr := range a.Addresses {
			if inRound(addr) || next.Absent[addr] > 0 || slices.Contains(gone, addr) {
				continue
			}
			n := m.Absent[addr] + 1
			if n >= max(threshold, 1) {
				gone = append(gone, addr)
				continue
			}
			if next.Absent == nil {
				next.Absent = map[string]int{}
			}
			next.Absent[addr] = n
		}
	}
	slices.Sort(gone)
	return next, gone
}

// nameAddress returns the address under which Memory counts the rounds in
// which t's name did not resolve, its host:port; "" for a target that
// resolves no name (explicit addresses, an IP host).
func nameAddress(t *pinwatchd.Target) string {
	if len(t.Addresses) > 0 {
		return ""
	}
	if _, err := netip.ParseAddr(strings.Trim(t.Host, "[]")); err == nil {
		return ""
	}
	return t.HostPort()
}

// nameState returns what of m is kept in the store for the name at
// nameAddr (see nameAddress).
func (m Memory) nameState(nameAddr string) pinwatchd.NameState {
	s := pinwatchd.NameState{Absent: m.Absent}
	if nameAddr != "" {
		s.Unresolved = m.Failures[nameAddr]
	}
	return s
}

// seedMemory rebuilds the memory of a target as it was before the round
// obs, from what a store holds once obs is recorded: failures, the
// failure counts derived from its observation spans (which count obs
// already), and the name's state. The spans cannot say how many rounds in
// a row the name failed (the rounds it resolved leave no trace at its
// host:port), so that count comes from the name's state only.
func seedMemory(failures map[string]int, name pinwatchd.NameState, obs []pinwatchd.Observation, nameAddr string) Memory {
	m := Memory{Absent: maps.Clone(name.Absent)}
	for addr, n := range failures {
		if addr == nameAddr || isHostPort(addr) {
			continue
		}
		m.set(addr, n)
	}
	for i := range obs {
		if o := &obs[i]; o.Error != nil && o.Address != nameAddr {
			m.set(o.Address, m.Failures[o.Address]-1)
		}
	}
	if nameAddr != "" {
		m.set(nameAddr, name.Unresolved)
	}
	return m
}

// set stores a failure count, dropping counts of 0 or less.
func (m *Memory) set(addr string, n int) {
	if n <= 0 {
		delete(m.Failures, addr)
		return
	}
	if m.Failures == nil {
		m.Failures = map[string]int{}
	}
	m.Failures[addr] = n
}

// isHostPort reports whether addr is a name's "host:port" rather than an
// "ip:port".
func isHostPort(addr string) bool {
	if _, err := netip.ParseAddrPort(addr); err == nil {
		return false
	}
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}

// sameNameState reports whether a and b hold the same counts.
func sameNameState(a, b pinwatchd.NameState) bool {
	return a.Unresolved == b.Unresolved && maps.Equal(a.Absent, b.Absent)
}
