package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// checkEvents is the part of `check --json` about recorded events: per
// target, its "events" (nil when the field is absent).
func checkEvents(t *testing.T, stdout string) map[string]*[]e2eEvent {
	t.Helper()
	var doc struct {
		Targets []struct {
			Name   string      `json:"name"`
			Events *[]e2eEvent `json:"events"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("check --json printed invalid JSON: %v\n%s", err, stdout)
	}
	out := map[string]*[]e2eEvent{}
	for _, tg := range doc.Targets {
		out[tg.Name] = tg.Events
	}
	return out
}

// `check --record` prints the chain changes it recorded (SPEC §5): a
// section of the text report, and "events" on each target of the JSON.
func TestCheckRecordPrintsChanges(t *testing.T) {
	f := newFleet(t)
	api, www := f.serve(t, hstsHeaders), f.serve(t, hstsHeaders)
	cfg := f.config(t, f.target(t, "api", api), f.target(t, "www", www))
	check := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runCmd(t, "", nil, append([]string{"check", "--config", cfg}, args...)...)
		if code != exitOK {
			t.Fatalf("check %v: exit %d: %s\n%s", args, code, stderr, stdout)
		}
		return stdout
	}

	if out := check("--record"); !strings.Contains(out, "recorded: no chain changes") {
		t.Errorf("first check --record (first_seen only):\n%s", out)
	}

	first, second := f.pki.Intermediate.Leaf(t, testpki.Options{}), f.pki.Intermediate.Leaf(t, testpki.Options{})
	api.SetCertificate(testpki.Chain(first, f.pki.Intermediate))
	out := check("--record")
	section := out[strings.Index(out, "recorded 1 chain change:"):]
	for _, want := range []string{
		"recorded 1 chain change:\n",
		"  api  " + api.Addr + "  chain_changed (key_rotated)\n",
		"    leaf key " + f.pki.Leaf.Pin().String() + " -> " + first.Pin().String() + "\n",
		"    issuer pinwatchd test intermediate, expires ",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("check --record after a rotation lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(section, "www") || !strings.Contains(section, "\n2 targets: ") {
		t.Errorf("the section should name only api's change and come before the summary:\n%s", out)
	}

	api.SetCertificate(testpki.Chain(second, f.pki.Intermediate))
	events := checkEvents(t, check("--record", "--json"))
	if got := events["api"]; got == nil || len(*got) != 1 {
		t.Fatalf("check --record --json: api events = %v, want the one rotation", got)
	}
	ev := (*events["api"])[0]
	if ev.Event != "chain_changed" || deref(ev.Class) != "key_rotated" || ev.Address != api.Addr ||
		deref(ev.OldLeafPin) != first.Pin().String() || deref(ev.NewLeafPin) != second.Pin().String() || ev.Time.IsZero() {
		t.Errorf("api event = %+v, want key_rotated %s -> %s at %s", ev, first.Pin(), second.Pin(), api.Addr)
	}
	if got := events["www"]; got == nil || len(*got) != 0 {
		t.Errorf("www events = %v, want [] (recorded, unchanged)", got)
	}

	// Without --record nothing is recorded and no events are claimed.
	stdout := check("--json")
	if events := checkEvents(t, stdout); events["api"] != nil || events["www"] != nil {
		t.Errorf("check --json without --record has events: %s", stdout)
	}
	if out := check(); strings.Contains(out, "recorded") {
		t.Errorf("check without --record mentions recording:\n%s", out)
	}
}
