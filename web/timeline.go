package web

import (
	"slices"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Timeline is the SVG chart of a target's history: one lane per address,
// a mark per event (renewals, key rotations, issuer changes, first
// sightings, failures and recoveries) and a bar over each failure.
type Timeline struct {
	Width, Height float64
	AxisY         float64
	Left, Right   float64
	Ticks         []Tick
	Lanes         []Lane
	Bars          []Bar
	Marks         []Mark
}

// Geometry of the history timeline.
const (
	tlWidth  = 960.0
	tlLeft   = 170.0 // room for the address labels
	tlRight  = 940.0
	tlTop    = 34.0 // below the axis labels
	tlLane   = 30.0
	tlBottom = 10.0
	tlMarkR  = 6.0
)

// historyTimeline lays out events (oldest first) on lanes for addrs (and
// any other address the events name) from start to now, over an hour at
// least.
func historyTimeline(events []pinwatchd.Event, addrs []string, start, now time.Time) *Timeline {
	lanes := slices.Clone(addrs)
	for _, e := range events {
		if !slices.Contains(lanes, e.Address) {
			lanes = append(lanes, e.Address)
		}
	}
	if start.IsZero() || now.Sub(start) < time.Hour {
		start = now.Add(-time.Hour)
	}
	ax := newAxis(start, now, tlLeft, tlRight)
	tl := &Timeline{Width: tlWidth, AxisY: tlTop - 6, Left: tlLeft, Right: tlRight,
		Height: tlTop + float64(max(len(lanes), 1))*tlLane + tlBottom, Ticks: ax.ticks(8)}
	laneY := map[string]float64{}
	for i, a := range lanes {
		y := round1(tlTop + float64(i)*tlLane + tlLane/2)
		laneY[a] = y
		tl.Lanes = append(tl.Lanes, Lane{Y: y, Label: cut(a, 24), Title: a})
	}
	failedAt := map[string]time.Time{}
	closeBar := func(addr string, until time.Time, open bool) {
		from, ok := failedAt[addr]
		if !ok {
			return
		}
		delete(failedAt, addr)
		x0, x1 := ax.x(from), ax.x(until)
		title := "failing from " + from.Format(minuteLayout) + " until " + until.Format(minuteLayout)
		if open {
			title = "failing since " + from.Format(minuteLayout)
		}
		tl.Bars = append(tl.Bars, Bar{X: x0, Y: laneY[addr] - 4, Width: round1(max(x1-x0, 2)), Height: 8,
			Class: "fail", Title: addr + ": " + title})
	}
	for _, e := range events {
		switch e.Event {
		case pinwatchd.EventProbeFailed:
			failedAt[e.Address] = e.Time
		case pinwatchd.EventRecovered, pinwatchd.EventChainChanged, pinwatchd.EventFirstSeen:
			closeBar(e.Address, e.Time, false)
		}
		tl.Marks = append(tl.Marks, eventMark(e, ax.x(e.Time), laneY[e.Address]))
	}
	for _, a := range lanes {
		closeBar(a, now, true)
	}
	return tl
}

// minuteLayout is how the pages write a time.
const minuteLayout = "2006-01-02 15:04 UTC"

// eventMark draws one event: a diamond for a key rotation (the change
// that breaks pinned clients), a circle otherwise, coloured by its class.
func eventMark(e pinwatchd.Event, x, y float64) Mark {
	class := string(e.Event)
	if e.Class != "" {
		class = string(e.Class)
	}
	v := eventViews([]pinwatchd.Event{e})[0]
	title := e.Time.UTC().Format(minuteLayout) + " " + e.Address + ": " + v.What()
	switch {
	case e.Event == pinwatchd.EventChainChanged && e.OldLeafPin != e.NewLeafPin:
		title += ", leaf key " + e.OldLeafPin + " → " + e.NewLeafPin
	case e.Event == pinwatchd.EventChainChanged:
		title += ", issuer " + e.Issuer
	case e.Event == pinwatchd.EventProbeFailed:
		title += ": " + e.ErrorMessage
	case e.Event == pinwatchd.EventFirstSeen:
		title += ", leaf key " + e.NewLeafPin
	}
	m := Mark{X: x, Y: y, Class: class, Shape: "circle", Title: title}
	if e.Class == pinwatchd.ChangeKeyRotated {
		m.Shape, m.Points = "diamond", diamond(x, y, tlMarkR+2)
	}
	return m
}
