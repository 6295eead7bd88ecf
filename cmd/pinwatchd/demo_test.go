package main

import (
	"strings"
	"testing"
)

// TestDemo runs the tour as a user would and checks that it shows every
// alert it promises, the key rotation in the history, and exits 0.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes several seconds")
	}
	stdout, stderr, code := runCmd(t, "", nil, "demo")
	if code != exitOK {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"opened    api      pin_mismatch",
		"opened    legacy   missing_backup_pin",
		"opened    billing  cert_expiring",
		"opened    partner  chain_untrusted",
		"opened    mail     tlsa_mismatch",
		"chain_changed      key_rotated",
		"resolved  billing  cert_expiring",
		"chain_changed (key_rotated)",
		"==> pinwatchd alerts",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
}
