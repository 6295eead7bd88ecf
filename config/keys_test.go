package config

import (
	"strings"
	"testing"
	"time"
)

// TestExpiresDateForms: a pin-set's expires is a TOML date or the same as a
// string (SPEC §10), both meaning midnight UTC of that day.
func TestExpiresDateForms(t *testing.T) {
	want := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	for name, value := range map[string]string{
		"TOML date":     `2027-06-01`,
		"string":        `"2027-06-01"`,
		"literal":       `'2027-06-01'`,
		"padded string": `" 2027-06-01 "`,
	} {
		t.Run(name, func(t *testing.T) {
			doc := "[[pinset]]\nname = \"app\"\npins = [\"" + pinA + "\", \"" + pinB + "\"]\nexpires = " + value +
				"\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\npinsets = [\"app\"]\n"
			c, err := Parse(strings.NewReader(doc), "date.toml", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Targets()[0].PinSets[0].Expires; !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("expires = %s, want %s", got, want)
			}
		})
	}
}

// TestRenotifyOff: renotify_after = "0s" is accepted and means no
// reminders (the policy's zero); a negative value is refused with its line.
func TestRenotifyOff(t *testing.T) {
	const target = "\n[[target]]\nname = \"api\"\nhost = \"api.example.com\"\n"
	c, err := Parse(strings.NewReader("[alerts]\nrenotify_after = \"0s\"\n"+target), "zero.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.RenotifyAfter.Duration != 0 {
		t.Errorf("renotify_after = %v, want 0", c.Alerts.RenotifyAfter)
	}
	_, err = Parse(strings.NewReader("[alerts]\nrenotify_after = \"-1h\"\n"+target), "neg.toml", Options{})
	want := `neg.toml:2: alerts.renotify_after: renotify_after = "-1h0m0s" must not be negative; "0s" turns reminders off`
	if err == nil || err.Error() != want {
		t.Errorf("negative renotify_after: %v, want %s", err, want)
	}
}
