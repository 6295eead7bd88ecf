package web

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// errUnknownTarget is the answer for a name that is not configured.
var errUnknownTarget = errors.New("no target of that name is configured")

// TargetPage is the data of /target/NAME.
type TargetPage struct {
	GeneratedAt time.Time `json:"generated_at"`
	Name        string    `json:"name"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	SNI         string    `json:"sni"`
	// STARTTLS is the plaintext protocol spoken before TLS (mail
	// targets), null for TLS from the first byte; DANE says whether the
	// TLSA records are looked up.
	STARTTLS pinwatchd.Protocol `json:"starttls"`
	DANE     bool               `json:"dane"`
	Status   string             `json:"status"`
	// PinSets are the configured pin-sets (named and inline) with their
	// pins; each address shows them checked against its chain.
	PinSets []ConfiguredPinSet `json:"configured_pinsets"`
	// Addresses are per (address, vantage), grouped by vantage; Vantages
	// lists the vantage points that probed the target (SPEC §14).
	Addresses []AddressView `json:"addresses"`
	Vantages  []string      `json:"vantages"`
	Alerts    []AlertView   `json:"alerts"`
	// Since is the start of History; null for the whole retained history.
	Since    *time.Time  `json:"since"`
	History  []EventView `json:"history"`
	Timeline *Timeline   `json:"-"`
}

// StatusLabel is the status as the page shows it.
func (p *TargetPage) StatusLabel() string { return FleetRow{Status: p.Status}.StatusLabel() }

// ConfiguredPinSet is a pin-set of the configuration.
type ConfiguredPinSet struct {
	Name    string     `json:"name"`
	Pins    []string   `json:"pins"`
	Expires *time.Time `json:"expires"`
}

// AddressView is one address of a target.
type AddressView struct {
	Address string `json:"address"`
	// Vantage names the node whose probes these are (SPEC §14).
	Vantage string `json:"vantage"`
	// From is set on the first address of each vantage when the target
	// is probed from several: the page groups its addresses per vantage.
	From string `json:"-"`
	SNI  string `json:"sni"`
	// LastProbe is the time of the latest probe; Error why it failed.
	LastProbe time.Time             `json:"last_probe"`
	Error     *pinwatchd.ProbeError `json:"error"`
	// ChainSeen is when the chain below was last served: set when the
	// latest probe failed and the chain is an older one.
	ChainSeen    *time.Time             `json:"chain_seen"`
	TLSVersion   string                 `json:"tls_version"`
	Verification pinwatchd.Verification `json:"verification"`
	// Chain is the verified chain when there is one, else the served
	// chain, with each certificate marked as served or not.
	Chain   []CertView            `json:"chain"`
	PinSets []PinSetView          `json:"pinsets"`
	HTTP    *pinwatchd.HTTPResult `json:"http"`

	PublicKeyPins           *pinwatchd.PinHeader  `json:"public_key_pins"`
	PublicKeyPinsReportOnly *pinwatchd.PinHeader  `json:"public_key_pins_report_only"`
	StrictTransportSecurity *pinwatchd.HSTSHeader `json:"strict_transport_security"`
	// TLSA is the TLSA RRset of a DANE target, each record matched against
	// Chain (usable, matches, note); null when none was looked up.
	TLSA *pinwatchd.TLSAResult `json:"tlsa"`
}

// CertView is one certificate of a chain.
type CertView struct {
	Position  string    `json:"position"` // leaf, intermediate N, root
	Served    bool      `json:"served"`   // sent by the server, not only added by verification
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	SHA256    string    `json:"sha256"`
	Pin       string    `json:"pin_sha256"`
	KeyType   string    `json:"key_type"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	Level     string    `json:"level"` // expired, critical, warning, ok
}

// targetPage builds the page of the configured target name; history
// starts at since (zero: all of it).
func targetPage(ctx context.Context, o *Options, name string, since time.Time) (*TargetPage, error) {
	f := o.Fleet()
	t := findTarget(f.Targets, name)
	if t == nil {
		return nil, errUnknownTarget
	}
	obs, err := o.Store.RecentObservations(ctx, name)
	if err != nil {
		return nil, err
	}
	open, err := o.Store.Alerts(ctx, false)
	if err != nil {
		return nil, err
	}
	events, err := o.Store.History(ctx, name, since)
	if err != nil {
		return nil, err
	}
	u, err := o.Store.Undeliverable(ctx)
	if err != nil {
		return nil, err
	}
	p := buildTargetPage(f, t, groupRecent(obs)[name], open, events, since, o.now())
	markUndeliverable(p.Alerts, u)
	return p, nil
}

func findTarget(targets []pinwatchd.Target, name string) *pinwatchd.Target {
	for i := range targets {
		if targets[i].Name == name {
			return &targets[i]
		}
	}
	return nil
}

// buildTargetPage builds the page of t from what the store returned: the
// state of its addresses, the open alerts (of any target) and its events
// since since.
func buildTargetPage(f Fleet, t *pinwatchd.Target, addrs []addressState, open []pinwatchd.Alert, events []pinwatchd.Event,
	since, now time.Time) *TargetPage {
	var mine []pinwatchd.Alert
	for _, a := range open {
		if a.Target == t.Name && a.State == pinwatchd.AlertOpen {
			mine = append(mine, a)
		}
	}
	row := fleetRows(Fleet{Targets: []pinwatchd.Target{*t}, Thresholds: f.Thresholds},
		map[string][]addressState{t.Name: addrs}, mine, now)[0]
	p := &TargetPage{
		GeneratedAt: now, Name: t.Name, Host: t.Host, Port: t.Port, SNI: t.ServerName(), Status: row.Status,
		STARTTLS: t.STARTTLS, DANE: t.DANE,
		PinSets: configuredPinSets(t), Addresses: make([]AddressView, 0, len(addrs)),
		Alerts: alertViews(mine), Since: pinwatchd.NullTime(since), History: eventViews(events),
	}
	for i := range addrs {
		p.Addresses = append(p.Addresses, addressView(t, &addrs[i], now, f.Thresholds))
	}
	p.Vantages = groupByVantage(p.Addresses)
	start := since
	if start.IsZero() && len(events) > 0 {
		start = events[0].Time
	}
	p.Timeline = historyTimeline(events, addressNames(addrs), start, now)
	return p
}

func configuredPinSets(t *pinwatchd.Target) []ConfiguredPinSet {
	out := make([]ConfiguredPinSet, 0, len(t.PinSets))
	for _, s := range t.PinSets {
		c := ConfiguredPinSet{Name: s.Name, Expires: pinwatchd.NullTime(s.Expires), Pins: make([]string, 0, len(s.Pins))}
		for _, p := range s.Pins {
			c.Pins = append(c.Pins, p.String())
		}
		out = append(out, c)
	}
	return out
}

// addressNames lists the addresses of addrs, each once.
func addressNames(addrs []addressState) []string {
	out := make([]string, 0, len(addrs))
	for i := range addrs {
		if a := addrs[i].latest.Address; !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// groupByVantage orders views by vantage then address and, when they come
// from more than one vantage, marks the first of each vantage (From). It
// returns the vantages, in order.
func groupByVantage(views []AddressView) []string {
	slices.SortStableFunc(views, func(a, b AddressView) int {
		if c := strings.Compare(a.Vantage, b.Vantage); c != 0 {
			return c
		}
		return strings.Compare(a.Address, b.Address)
	})
	vantages := []string{}
	for i := range views {
		if i == 0 || views[i].Vantage != views[i-1].Vantage {
			vantages = append(vantages, views[i].Vantage)
		}
	}
	if len(vantages) < 2 {
		return vantages
	}
	for i := range views {
		if i == 0 || views[i].Vantage != views[i-1].Vantage {
			views[i].From = views[i].Vantage
			if views[i].From == "" {
				views[i].From = "before vantage points"
			}
		}
	}
	return vantages
}

func certView(c pinwatchd.Cert, pos string, served bool, now time.Time, th pinwatchd.Thresholds) CertView {
	return CertView{
		Position: pos, Served: served, Subject: c.Subject, Issuer: c.Issuer, Serial: c.Serial,
		SHA256: c.SHA256, Pin: c.Pin.String(), KeyType: c.KeyType, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		DaysLeft: c.DaysLeft(now), Level: level(c.NotAfter, now, th),
	}
}

// addressView shows the latest probe of one address and the last chain it
// served.
func addressView(t *pinwatchd.Target, a *addressState, now time.Time, th pinwatchd.Thresholds) AddressView {
	v := AddressView{Address: a.latest.Address, Vantage: a.latest.Vantage, SNI: a.latest.SNI, LastProbe: a.latest.Time, Error: a.latest.Error,
		Chain: []CertView{}, PinSets: []PinSetView{}, TLSA: addressTLSA(t, a)}
	o := a.chain
	if o == nil {
		return v
	}
	if a.failed() {
		v.ChainSeen = &o.Time
	}
	v.TLSVersion, v.Verification, v.HTTP = o.TLSVersion, o.Verification, o.HTTP
	v.PublicKeyPins, v.PublicKeyPinsReportOnly, v.StrictTransportSecurity = o.PublicKeyPins, o.PublicKeyPinsReportOnly, o.StrictTransportSecurity
	chain := o.Chain()
	inChain := func(certs []pinwatchd.Cert, sha string) bool {
		return slices.ContainsFunc(certs, func(c pinwatchd.Cert) bool { return c.SHA256 == sha })
	}
	for i, c := range chain {
		v.Chain = append(v.Chain, certView(c, position(chain, i), inChain(o.ServedChain, c.SHA256), now, th))
	}
	// Certificates the server sent that the verified chain does not use
	// (a cross-signed or stray intermediate) are shown after it.
	for _, c := range o.ServedChain {
		if !inChain(chain, c.SHA256) {
			v.Chain = append(v.Chain, certView(c, "not in the verified chain", true, now, th))
		}
	}
	if sets := checkPinSets(t, o); sets != nil {
		v.PinSets = sets
	}
	return v
}
