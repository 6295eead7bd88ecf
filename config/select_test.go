package config

import (
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":           {},
		"30d":        now.Add(-30 * 24 * time.Hour),
		"1.5d":       now.Add(-36 * time.Hour),
		"36h":        now.Add(-36 * time.Hour),
		"2026-11-01": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "-3d", "0h", "d"} {
		if _, err := ParseSince(in, now); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseSince(%q) = %v, want an error naming it", in, err)
		}
	}
}

func TestSelectTargets(t *testing.T) {
	all := []pinwatchd.Target{{Name: "api"}, {Name: "www"}, {Name: "mail"}}
	got, err := SelectTargets(all, []string{"mail", "api"})
	if err != nil || len(got) != 2 || got[0].Name != "mail" || got[1].Name != "api" {
		t.Errorf("SelectTargets(mail, api) = %v, %v; want mail then api", got, err)
	}
	if got, err := SelectTargets(all, nil); err != nil || len(got) != 3 {
		t.Errorf("SelectTargets() = %v, %v; want every target", got, err)
	}
	_, err = SelectTargets(all, []string{"nope"})
	if want := `--target "nope": no such target in the config; configured: api, www, mail`; err == nil || err.Error() != want {
		t.Errorf("unknown target: %v, want %s", err, want)
	}
}
