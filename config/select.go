package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// SelectTargets keeps the targets named in only (all when only is empty);
// an unknown name is an error listing the configured ones.
func SelectTargets(all []pinwatchd.Target, only []string) ([]pinwatchd.Target, error) {
	if len(only) == 0 {
		return all, nil
	}
	byName := make(map[string]pinwatchd.Target, len(all))
	names := make([]string, 0, len(all))
	for _, t := range all {
		byName[t.Name] = t
		names = append(names, t.Name)
	}
	var out []pinwatchd.Target
	for _, n := range only {
		t, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("--target %q: no such target in the config; configured: %s", n, strings.Join(names, ", "))
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseSince reads a --since value: a duration back from now ("7d", "36h") or a
// date or time ("2026-11-01", RFC 3339).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	d, err := ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--since %q is neither a duration (7d, 36h) nor a date (2026-11-01)", s)
	}
	return now.Add(-d).UTC(), nil
}
