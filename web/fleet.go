package web

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Target statuses: the worst open alert's severity, else ok, or not probed
// yet for a target the database has never seen.
const (
	statusCritical  = "critical"
	statusWarning   = "warning"
	statusOK        = "ok"
	statusNotProbed = "not_probed"
)

// statuses lists the statuses worst first, as the fleet filter offers them.
var statuses = []string{statusCritical, statusWarning, statusOK, statusNotProbed}

// statusRank orders statuses worst first.
func statusRank(s string) int {
	switch s {
	case statusCritical:
		return 0
	case statusWarning:
		return 1
	case statusOK:
		return 2
	}
	return 3
}

// FleetPage is the data of / : one row per configured target.
type FleetPage struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Query and Status are the filter: a case-insensitive part of the name
	// or host, and a status; empty for none.
	Query  string `json:"query"`
	Status string `json:"status"`
	// Counts are the number of configured targets per status, before the
	// filter.
	Counts  map[string]int `json:"counts"`
	Total   int            `json:"total"`
	Targets []FleetRow     `json:"targets"`
}

// FleetRow is one target of the fleet page.
type FleetRow struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int    `json:"port"`
	// Status is the worst open alert's severity (critical, warning), ok
	// when none is open, or not_probed.
	Status     string `json:"status"`
	OpenAlerts int    `json:"open_alerts"`
	// Kinds are the kinds of the open alerts, worst first.
	Kinds   []string        `json:"open_alert_kinds"`
	PinSets []PinSetSummary `json:"pinsets"`
	// LeafNotAfter and ChainNotAfter are the earliest over the target's
	// addresses (the last chain each served); DaysLeft counts to the leaf's.
	LeafNotAfter  *time.Time `json:"leaf_not_after"`
	DaysLeft      *int       `json:"days_left"`
	ChainNotAfter *time.Time `json:"chain_not_after"`
	// LeafLevel and ChainLevel place those dates in the expiry windows.
	LeafLevel  string     `json:"leaf_level,omitempty"`
	ChainLevel string     `json:"chain_level,omitempty"`
	LastProbe  *time.Time `json:"last_probe"`
	// LastProbes is the latest probe from each vantage point, by vantage
	// (SPEC §14, §15); [] when not probed yet.
	LastProbes []VantageProbe `json:"last_probes"`
	Addresses  int            `json:"addresses"`
	// Failing lists the error kinds of the addresses whose latest probe
	// failed, one per address.
	Failing []string `json:"failing"`
	// Cells is the row as the table shows it.
	Cells FleetCells `json:"-"`
}

// FleetCells is a fleet row as the table shows it, cell by cell, worked
// out in Go: each template action costs a reflective call, and the page
// of 1,000 rows has a time budget (SPEC §11). html/template still escapes
// every value.
type FleetCells struct {
	Row, Href, Name, Status, Kinds string
	PinSets                        []PinSetCell
	Days, DaysClass                string
	Chain, ChainClass, Probe, Fail string
}

// PinSetCell is one pin-set in a fleet row: its class (empty for ok) and
// its symbol and name.
type PinSetCell struct{ Class, Text string }

// fillCells works out the cells of every row, linking with l.
func (p *FleetPage) fillCells(l links) {
	for i := range p.Targets {
		r := &p.Targets[i]
		c := FleetCells{Row: "s-" + r.Status, Href: l.Target(r.Name), Name: r.Name, Status: r.StatusLabel(),
			Kinds: strings.Join(r.Kinds, ", "), Days: "–", Chain: "–", Probe: "not probed yet",
			Fail: strings.Join(r.Failing, " "), PinSets: make([]PinSetCell, 0, len(r.PinSets))}
		for _, s := range r.PinSets {
			pc := PinSetCell{Class: s.Level(), Text: s.Symbol() + " " + s.Name}
			if pc.Class == "ok" {
				pc.Class = ""
			}
			c.PinSets = append(c.PinSets, pc)
		}
		if r.DaysLeft != nil {
			c.Days, c.Chain = strconv.Itoa(*r.DaysLeft), r.ChainNotAfter.Format("2006-01-02")
			c.DaysClass, c.ChainClass = notOK(r.LeafLevel), notOK(r.ChainLevel)
		}
		switch {
		case len(r.LastProbes) > 1:
			probes := make([]string, 0, len(r.LastProbes))
			for _, p := range r.LastProbes {
				probes = append(probes, p.Vantage+" "+p.Time.Format("2006-01-02 15:04"))
			}
			c.Probe = strings.Join(probes, " · ")
		case r.LastProbe != nil:
			c.Probe = r.LastProbe.Format("2006-01-02 15:04")
		}
		r.Cells = c
	}
}

// notOK is the class of a level that deserves colour: empty for ok.
func notOK(level string) string {
	if level == "ok" {
		return ""
	}
	return level
}

// StatusLabel is the status as the page shows it.
func (r FleetRow) StatusLabel() string {
	switch r.Status {
	case statusCritical:
		return "CRITICAL"
	case statusNotProbed:
		return "not probed"
	}
	return r.Status
}

// fleetPage builds the fleet page, filtered by query and status.
func fleetPage(ctx context.Context, o *Options, query, status string) (*FleetPage, error) {
	obs, err := o.Store.RecentObservations(ctx, "")
	if err != nil {
		return nil, err
	}
	open, err := o.Store.Alerts(ctx, false)
	if err != nil {
		return nil, err
	}
	return buildFleetPage(o.Fleet(), groupRecent(obs), open, o.now(), query, status), nil
}

// buildFleetPage builds the fleet page from what the store returned: the
// recent observations by target and the open alerts.
func buildFleetPage(f Fleet, recent map[string][]addressState, open []pinwatchd.Alert, now time.Time, query, status string) *FleetPage {
	rows := fleetRows(f, recent, open, now)
	page := &FleetPage{GeneratedAt: now, Query: query, Status: status, Total: len(rows),
		Counts: map[string]int{statusCritical: 0, statusWarning: 0, statusOK: 0, statusNotProbed: 0}}
	q := strings.ToLower(strings.TrimSpace(query))
	page.Targets = make([]FleetRow, 0, len(rows))
	for _, r := range rows {
		page.Counts[r.Status]++
		if status != "" && r.Status != status {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(r.Name), q) && !strings.Contains(strings.ToLower(r.Host), q) {
			continue
		}
		page.Targets = append(page.Targets, r)
	}
	return page
}

// fleetRows builds one row per configured target, sorted worst open
// severity first, then fewest days left (unknown last), then name.
func fleetRows(f Fleet, recent map[string][]addressState, open []pinwatchd.Alert, now time.Time) []FleetRow {
	worst := map[string]pinwatchd.Severity{}
	count := map[string]int{}
	kinds := map[string][]string{}
	for _, a := range alertViews(open) { // worst first
		if count[a.Target] == 0 {
			worst[a.Target], _ = pinwatchd.ParseSeverity(a.Severity)
		}
		count[a.Target]++
		if !slices.Contains(kinds[a.Target], a.Kind) {
			kinds[a.Target] = append(kinds[a.Target], a.Kind)
		}
	}
	rows := make([]FleetRow, 0, len(f.Targets))
	for i := range f.Targets {
		t := &f.Targets[i]
		addrs := recent[t.Name]
		r := FleetRow{Name: t.Name, Host: t.Host, Port: t.Port, Status: statusOK, OpenAlerts: count[t.Name],
			Kinds: kinds[t.Name], Addresses: distinctAddresses(addrs), Failing: []string{}, LastProbes: lastProbes(addrs)}
		if r.LastProbes == nil {
			r.LastProbes = []VantageProbe{}
		}
		if r.Kinds == nil {
			r.Kinds = []string{}
		}
		switch {
		case count[t.Name] > 0 && worst[t.Name] == pinwatchd.SeverityCritical:
			r.Status = statusCritical
		case count[t.Name] > 0 && worst[t.Name] == pinwatchd.SeverityWarning:
			r.Status = statusWarning
		case len(addrs) == 0:
			r.Status = statusNotProbed
		}
		perAddress := make([][]PinSetView, 0, len(addrs))
		for j := range addrs {
			a := &addrs[j]
			if a.failed() {
				r.Failing = append(r.Failing, string(a.latest.Error.Kind))
			}
			if a.chain != nil {
				perAddress = append(perAddress, checkPinSets(t, a.chain))
			}
		}
		r.PinSets = summarisePinSets(perAddress)
		if r.PinSets == nil {
			r.PinSets = []PinSetSummary{}
		}
		if leaf, chain := expiry(addrs); !leaf.IsZero() {
			d := daysLeft(leaf, now)
			r.LeafNotAfter, r.DaysLeft, r.ChainNotAfter = &leaf, &d, &chain
			r.LeafLevel, r.ChainLevel = level(leaf, now, f.Thresholds), level(chain, now, f.Thresholds)
		}
		r.LastProbe = pinwatchd.NullTime(lastProbe(addrs))
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, compareRows)
	return rows
}

// compareRows orders the fleet: worst status, fewest days left (a target
// with no chain seen after those with one), then name.
func compareRows(a, b FleetRow) int {
	if c := cmp.Compare(statusRank(a.Status), statusRank(b.Status)); c != 0 {
		return c
	}
	switch {
	case a.LeafNotAfter != nil && b.LeafNotAfter == nil:
		return -1
	case a.LeafNotAfter == nil && b.LeafNotAfter != nil:
		return 1
	case a.LeafNotAfter != nil:
		if c := a.LeafNotAfter.Compare(*b.LeafNotAfter); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.Name, b.Name)
}
