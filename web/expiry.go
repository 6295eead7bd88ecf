package web

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// ExpiryPage is the data of /expiry: every certificate served by a
// configured target and every configured pin-set whose NotAfter or
// expires falls in the next 90 days (or has passed), soonest first,
// placed in the expiry windows.
type ExpiryPage struct {
	GeneratedAt  time.Time    `json:"generated_at"`
	Until        time.Time    `json:"until"`
	WarningDays  int          `json:"warning_days"`
	CriticalDays int          `json:"critical_days"`
	Items        []ExpiryItem `json:"items"`
	// Later counts the certificates and pin-sets that expire after Until.
	Later int          `json:"later"`
	Chart *ExpiryChart `json:"-"`
}

// ExpiryItem is one date of the expiry timeline.
type ExpiryItem struct {
	When     time.Time `json:"when"`
	DaysLeft int       `json:"days_left"`
	// Level places When in the windows: expired, critical, warning, ok.
	Level string `json:"level"`
	// Kind is "certificate" or "pinset".
	Kind string `json:"kind"`
	// Label is the certificate's common name, or the pin-set's name.
	Label    string `json:"label"`
	Subject  string `json:"subject,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Position string `json:"position,omitempty"` // of a certificate, where first seen
	// Targets use the certificate or the pin-set; Where lists "TARGET
	// ADDRESS" for every address serving the certificate.
	Targets []string `json:"targets"`
	Where   []string `json:"where,omitempty"`
}

// Description is the item in words, for the chart's tooltips and labels.
func (i ExpiryItem) Description() string {
	if i.Kind == "pinset" {
		return "pin-set " + i.Label
	}
	return i.Label + " (" + i.Position + ")"
}

// expiryPage builds /expiry.
func expiryPage(ctx context.Context, o *Options) (*ExpiryPage, error) {
	obs, err := o.Store.RecentObservations(ctx, "")
	if err != nil {
		return nil, err
	}
	return buildExpiryPage(o.Fleet(), groupRecent(obs), o.now()), nil
}

// buildExpiryPage builds /expiry from the recent observations by target.
func buildExpiryPage(f Fleet, recent map[string][]addressState, now time.Time) *ExpiryPage {
	p := &ExpiryPage{GeneratedAt: now, Until: now.Add(expiryHorizon),
		WarningDays:  int(f.Thresholds.ExpiryWarning / (24 * time.Hour)),
		CriticalDays: int(f.Thresholds.ExpiryCritical / (24 * time.Hour)),
		Items:        []ExpiryItem{}}
	for _, it := range expiryItems(f, recent, now) {
		if it.When.After(p.Until) {
			p.Later++
			continue
		}
		p.Items = append(p.Items, it)
	}
	p.Chart = expiryChart(p, f.Thresholds, now)
	return p
}

// expiryItems lists every certificate of the last chain each address of a
// configured target served, once per certificate, and every configured
// pin-set with an expires date, once per name, soonest first.
func expiryItems(f Fleet, recent map[string][]addressState, now time.Time) []ExpiryItem {
	var items []ExpiryItem
	byCert := map[string]int{}
	byPinSet := map[string]int{}
	addTarget := func(it *ExpiryItem, name string) {
		if !slices.Contains(it.Targets, name) {
			it.Targets = append(it.Targets, name)
		}
	}
	for ti := range f.Targets {
		t := &f.Targets[ti]
		for _, s := range t.PinSets {
			if s.Expires.IsZero() {
				continue
			}
			i, ok := byPinSet[s.Name]
			if !ok {
				i = len(items)
				byPinSet[s.Name] = i
				items = append(items, ExpiryItem{When: s.Expires, DaysLeft: daysLeft(s.Expires, now),
					Level: level(s.Expires, now, f.Thresholds), Kind: "pinset", Label: s.Name})
			}
			addTarget(&items[i], t.Name)
		}
		for _, a := range recent[t.Name] {
			if a.chain == nil {
				continue
			}
			chain := a.chain.Chain()
			for ci, c := range chain {
				i, ok := byCert[c.SHA256]
				if !ok {
					i = len(items)
					byCert[c.SHA256] = i
					items = append(items, ExpiryItem{When: c.NotAfter, DaysLeft: c.DaysLeft(now),
						Level: level(c.NotAfter, now, f.Thresholds), Kind: "certificate", Label: c.Label(),
						Subject: c.Subject, Issuer: c.Issuer, SHA256: c.SHA256, Position: position(chain, ci)})
				}
				addTarget(&items[i], t.Name)
				items[i].Where = append(items[i].Where, t.Name+" "+a.latest.Address)
			}
		}
	}
	slices.SortStableFunc(items, func(a, b ExpiryItem) int {
		if c := a.When.Compare(b.When); c != 0 {
			return c
		}
		return cmp.Compare(a.Description(), b.Description())
	})
	return items
}

// ExpiryChart is the SVG chart of /expiry: the next 90 days, the critical
// and warning windows shaded, one row per item.
type ExpiryChart struct {
	Width, Height float64
	AxisY         float64
	Left, Right   float64
	Bands         []Band
	Ticks         []Tick
	Lanes         []Lane
	Marks         []Mark
	// Omitted counts the items beyond the chart's row limit (they are in
	// the table below it).
	Omitted int
}

// Geometry of the expiry chart.
const (
	exWidth   = 960.0
	exLeft    = 320.0 // room for the item labels
	exRight   = 940.0
	exTop     = 40.0
	exRow     = 20.0
	exBottom  = 10.0
	exMaxRows = 60
)

func expiryChart(p *ExpiryPage, th pinwatchd.Thresholds, now time.Time) *ExpiryChart {
	ax := newAxis(now, p.Until, exLeft, exRight)
	rows := min(len(p.Items), exMaxRows)
	c := &ExpiryChart{Width: exWidth, AxisY: exTop - 6, Left: exLeft, Right: exRight,
		Height: exTop + float64(max(rows, 1))*exRow + exBottom, Ticks: ax.ticks(13), Omitted: len(p.Items) - rows}
	crit, warn := ax.x(now.Add(th.ExpiryCritical)), ax.x(now.Add(th.ExpiryWarning))
	c.Bands = []Band{
		{X: exLeft, Width: round1(crit - exLeft), Class: "critical", Label: "critical ≤ " + strconv.Itoa(p.CriticalDays) + " d",
			LabelX: exLeft, Anchor: "start"},
		{X: crit, Width: round1(warn - crit), Class: "warning", Label: "warning ≤ " + strconv.Itoa(p.WarningDays) + " d",
			LabelX: warn, Anchor: "end"},
	}
	for i, it := range p.Items[:rows] {
		y := round1(exTop + float64(i)*exRow + exRow/2)
		label := it.Description()
		if len(it.Targets) > 0 {
			label = it.Targets[0] + ": " + label
			if len(it.Targets) > 1 {
				label += " +" + strconv.Itoa(len(it.Targets)-1)
			}
		}
		title := it.When.Format(minuteLayout) + " (" + daysPhrase(it.DaysLeft) + "): " + label
		c.Lanes = append(c.Lanes, Lane{Y: y, Label: cut(label, 46), Title: title})
		m := Mark{X: ax.x(it.When), Y: y, Class: it.Level, Shape: "circle", Title: title}
		if it.Kind == "pinset" {
			m.Shape, m.Points = "diamond", diamond(m.X, y, 7)
		}
		c.Marks = append(c.Marks, m)
	}
	return c
}

// daysPhrase says how far a date is: "in 5 days", "today", "3 days ago".
func daysPhrase(d int) string {
	switch {
	case d == 0:
		return "today"
	case d == 1:
		return "in 1 day"
	case d > 1:
		return "in " + strconv.Itoa(d) + " days"
	case d == -1:
		return "1 day ago"
	}
	return strconv.Itoa(-d) + " days ago"
}
