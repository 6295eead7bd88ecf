package textreport

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
)

func TestPreflight(t *testing.T) {
	until := time.Date(2026, 6, 8, 12, 0, 0, 0, time.UTC)
	r := &monitor.PreflightReport{Exit: 2, Targets: []monitor.PreflightTarget{{
		Name: "api\x1b[2J", Host: "localhost", Port: 443,
		Verdicts: []monitor.PreflightVerdict{
			{Source: "pinset app", Verdict: monitor.VerdictBreaks, Message: "no pin matches"},
			{Source: "header", Verdict: monitor.VerdictBreaksUntil, Until: &until, Message: "cached"},
		},
		Warnings: []monitor.PreflightWarning{{Kind: monitor.WarnNoBackupLeft, Message: "ship a backup"}},
	}}}
	r.Candidate.Keys = []monitor.PreflightKey{{Pin: pinwatchd.Pin{1}, File: "new.pem", Position: "leaf"},
		{Pin: pinwatchd.Pin{2}, File: "served at 127.0.0.1:443", Position: "intermediate 1", Assumed: true}}
	var b bytes.Buffer
	Preflight(&b, r, false)
	out := b.String()
	for _, want := range []string{"leaf", "new.pem", "assumed to stay: served at 127.0.0.1:443", "[BREAKS]  pinset app: breaks — no pin matches",
		"header: breaks until 2026-06-08 12:00 UTC — cached", "[warn]    no backup left: ship a backup", "breaks pinned clients with no end in sight"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a terminal escape reached the output:\n%q", out)
	}
	b.Reset()
	Preflight(&b, r, true)
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc["exit"] != 2.0 || doc["candidate"] == nil {
		t.Errorf("JSON = %v (%v):\n%s", doc, err, b.String())
	}
}
