package storagetest

import "testing"

// Every check has a name of its own, so that -run selects one and a
// failure names it.
func TestCheckNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range checks {
		if c.name == "" || c.fn == nil {
			t.Errorf("check %q has no name or no function", c.name)
		}
		if seen[c.name] {
			t.Errorf("two checks are called %s", c.name)
		}
		seen[c.name] = true
	}
	if len(checks) < 30 {
		t.Errorf("the suite has %d checks; a list of checks is missing from checks", len(checks))
	}
}
