package web

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The SVG charts are laid out here, in Go, from the page data; the
// templates only write the shapes out (html/template escapes every text and
// attribute on the way). Coordinates are user units of the chart's viewBox,
// rounded to a tenth.

// Tick is a labelled position on a time axis.
type Tick struct {
	X     float64
	Label string
}

// Band is a shaded stretch of a time axis (an expiry window).
type Band struct {
	X, Width float64
	Class    string
	Label    string
	// LabelX and Anchor place the label: at the band's start ("start") or
	// its end ("end").
	LabelX float64
	Anchor string
}

// Mark is one dated point of a chart, with its tooltip.
type Mark struct {
	X, Y  float64
	Class string
	// Shape is "circle" or "diamond"; Points holds the diamond's corners.
	Shape  string
	Points string
	Title  string
}

// Bar is a stretch of time on one lane (a failure, from probe_failed to
// recovered).
type Bar struct {
	X, Y, Width, Height float64
	Class               string
	Title               string
}

// Lane is one labelled row of a chart.
type Lane struct {
	Y     float64 // centre line
	Label string
	Title string // the whole label, when Label is cut
}

// axis maps times in [from, until] to x in [x0, x1].
type axis struct {
	from, until time.Time
	x0, x1      float64
}

// maxSpan bounds an axis: longer spans (from the zero time) do not fit in
// a time.Duration.
const maxSpan = 100 * 365 * 24 * time.Hour

// newAxis maps [from, until] to [x0, x1], starting no earlier than maxSpan
// before until.
func newAxis(from, until time.Time, x0, x1 float64) axis {
	if until.Sub(from) > maxSpan {
		from = until.Add(-maxSpan)
	}
	return axis{from: from, until: until, x0: x0, x1: x1}
}

func (a axis) x(t time.Time) float64 {
	span := a.until.Sub(a.from)
	if span <= 0 {
		return a.x0
	}
	f := float64(t.Sub(a.from)) / float64(span)
	f = math.Max(0, math.Min(1, f))
	return round1(a.x0 + f*(a.x1-a.x0))
}

// ticks returns about max labelled ticks (never more than 2×max+1) on nice
// boundaries: minutes, hours, days, weeks, months, years.
func (a axis) ticks(max int) []Tick {
	span := a.until.Sub(a.from)
	steps := []time.Duration{10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
		2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour, 91 * 24 * time.Hour, 365 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(max) {
			step = s
			break
		}
	}
	if span/step > time.Duration(max) { // decades: whole years, about max of them
		step = (span/time.Duration(max) + 365*24*time.Hour - 1) / (365 * 24 * time.Hour) * (365 * 24 * time.Hour)
	}
	layout := "Jan 2"
	switch {
	case step < 24*time.Hour:
		layout = "Jan 2 15:04"
	case span > 300*24*time.Hour:
		layout = "2006-01-02"
	}
	var out []Tick
	var t time.Time
	if step < 24*time.Hour {
		t = a.from.Truncate(step)
	} else {
		t = time.Date(a.from.Year(), a.from.Month(), a.from.Day(), 0, 0, 0, 0, time.UTC)
	}
	for ; !t.After(a.until) && len(out) <= 2*max; t = t.Add(step) {
		if t.Before(a.from) {
			continue
		}
		out = append(out, Tick{X: a.x(t), Label: t.Format(layout)})
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// diamond returns the corners of a diamond of half-width r around (x, y).
func diamond(x, y, r float64) string {
	f := func(v float64) string { return strconv.FormatFloat(round1(v), 'f', -1, 64) }
	return strings.Join([]string{
		f(x) + "," + f(y-r), f(x+r) + "," + f(y), f(x) + "," + f(y+r), f(x-r) + "," + f(y),
	}, " ")
}

// cut shortens s to at most n runes, ending it with … when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
