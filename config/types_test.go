package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"400d":   400 * 24 * time.Hour,
		"90s":    90 * time.Second,
		"1h30m":  90 * time.Minute,
		"36h":    36 * time.Hour,
		"1d12h":  36 * time.Hour,
		"1.5d":   36 * time.Hour,
		"0":      0,
		"0s":     0,
		" 7d ":   7 * 24 * time.Hour,
		"-1d":    -24 * time.Hour,
		"250ms":  250 * time.Millisecond,
		"2d0h1m": 48*time.Hour + time.Minute,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":           "duration is empty",
		"10":         `duration "10" has no unit`,
		"10x":        `duration "10x" is not valid`,
		"d":          `duration "d" is not valid`,
		"1d-5h":      `duration "1d-5h" is not valid: a sign may only lead the value`,
		"1w":         `duration "1w" is not valid`,
		"5d5d":       `duration "5d5d" is not valid`,
		"999999999d": `duration "999999999d" is too long`,
		"106751d24h": `duration "106751d24h" is too long`,
	}
	for in, want := range bad {
		_, err := ParseDuration(in)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseDuration(%q) error = %v, want it to start with %q", in, err, want)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{400 * 24 * time.Hour: "400d", 36 * time.Hour: "36h0m0s", 0: "0s"} {
		if got := (Duration{d}).String(); got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	for _, s := range []string{"*/15 * * * *", "@hourly", "@daily", "@every 5m", "0 9 * * 1-5", "CRON_TZ=UTC @every 1h", "TZ=Europe/Berlin 0 9 * * *"} {
		if _, err := ParseSchedule(s); err != nil {
			t.Errorf("ParseSchedule(%q): %v", s, err)
		}
	}
	bad := map[string]string{
		"":                        "schedule is empty",
		"TZ=":                     `schedule "TZ=": a TZ= or CRON_TZ= prefix needs a zone`,
		"TZ=UTC":                  `schedule "TZ=UTC": a TZ= or CRON_TZ= prefix needs a zone`,
		"CRON_TZ=":                `schedule "CRON_TZ=": a TZ= or CRON_TZ= prefix needs a zone`,
		"CRON_TZ= * * * * *":      `schedule "CRON_TZ= * * * * *": a TZ= or CRON_TZ= prefix needs a zone`,
		"TZ=Mars/Olympus @hourly": `schedule "TZ=Mars/Olympus @hourly": unknown time zone "Mars/Olympus"`,
		"@every 1d":               `schedule "@every 1d": @every takes a duration in s, m or h`,
		"@every 0s":               `schedule "@every 0s": @every needs a duration of at least 1s`,
		"@every -5m":              `schedule "@every -5m": @every needs a duration of at least 1s`,
		"@fortnightly":            `schedule "@fortnightly": unrecognized descriptor`,
		"*/15 * * *":              `schedule "*/15 * * *": expected exactly 5 fields, found 4`,
		"61 * * * *":              `schedule "61 * * * *": end of range (61) above maximum (59)`,
		"* * * * * *":             `schedule "* * * * * *": expected exactly 5 fields, found 6`,
	}
	for in, want := range bad {
		_, err := ParseSchedule(in)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseSchedule(%q) error = %v, want it to start with %q", in, err, want)
		}
	}
}

func TestParseHostPort(t *testing.T) {
	good := map[string]string{ // input → Resolve(443)
		"192.0.2.10:8443":   "192.0.2.10:8443",
		"192.0.2.10":        "192.0.2.10:443",
		"[2001:db8::1]:853": "[2001:db8::1]:853",
		"[2001:db8::1]":     "[2001:db8::1]:443",
		"2001:db8::1":       "[2001:db8::1]:443",
		"::1":               "[::1]:443",
	}
	for in, want := range good {
		h, err := ParseHostPort(in)
		if err != nil || h.Resolve(443) != want {
			t.Errorf("ParseHostPort(%q) = %v, %v; want %s", in, h.Resolve(443), err, want)
		}
	}
	for _, in := range []string{"", "api.example.com", "api.example.com:443", "192.0.2.10:0", "192.0.2.10:70000", "192.0.2.300", "[::1]:x"} {
		if _, err := ParseHostPort(in); err == nil || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseHostPort(%q) error = %v, want one naming the value", in, err)
		}
	}
}
