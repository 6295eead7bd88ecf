package web

import (
	"testing"
	"time"
)

func TestAxis(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ax := newAxis(from, from.Add(90*24*time.Hour), 100, 1000)
	for _, tc := range []struct {
		at   time.Time
		want float64
	}{
		{from, 100}, {from.Add(45 * 24 * time.Hour), 550}, {from.Add(90 * 24 * time.Hour), 1000},
		{from.Add(-time.Hour), 100}, {from.Add(200 * 24 * time.Hour), 1000}, // clamped
	} {
		if got := ax.x(tc.at); got != tc.want {
			t.Errorf("x(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if got := newAxis(from, from, 5, 9).x(from); got != 5 {
		t.Errorf("x on an empty axis = %v", got)
	}
}

func TestTicks(t *testing.T) {
	now := time.Date(2026, 12, 2, 5, 48, 0, 0, time.UTC)
	for _, tc := range []struct {
		span  time.Duration
		max   int
		first string
	}{
		{time.Hour, 8, "Dec 2 04:50"},      // every 10 minutes
		{90 * 24 * time.Hour, 13, "Dec 9"}, // weeks from the first midnight
		{400 * 24 * time.Hour, 8, ""},
		{time.Duration(1<<63 - 1), 8, ""}, // from the zero time: a few ticks, not thousands
	} {
		from := now.Add(-tc.span)
		if tc.span == time.Duration(1<<63-1) {
			from = time.Time{}
		}
		ax := newAxis(from, now, 0, 100)
		if tc.span == 90*24*time.Hour {
			ax = newAxis(now, now.Add(tc.span), 0, 100)
		}
		ticks := ax.ticks(tc.max)
		if len(ticks) == 0 || len(ticks) > 2*tc.max+1 {
			t.Errorf("span %v: %d ticks, want 1 to %d", tc.span, len(ticks), 2*tc.max+1)
			continue
		}
		for i := 1; i < len(ticks); i++ {
			if ticks[i].X <= ticks[i-1].X {
				t.Errorf("span %v: ticks not increasing: %+v", tc.span, ticks)
			}
		}
		if tc.first != "" && ticks[0].Label != tc.first {
			t.Errorf("span %v: ticks %+v, want %q first", tc.span, ticks, tc.first)
		}
	}
}

func TestShapes(t *testing.T) {
	if got := diamond(10, 20, 5); got != "10,15 15,20 10,25 5,20" {
		t.Errorf("diamond = %q", got)
	}
	if got := cut("127.0.0.1:443", 24); got != "127.0.0.1:443" {
		t.Errorf("cut short = %q", got)
	}
	if got := cut("éééééééééé", 5); got != "éééé…" {
		t.Errorf("cut = %q, want 4 runes and …", got)
	}
}
