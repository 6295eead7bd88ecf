package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestProbeCutsLongHeaders probes a hostile server sending a ~900 KB
// Strict-Transport-Security: the human report shows its first 8 KiB and says
// it was cut; the JSON keeps the value exact.
func TestProbeCutsLongHeaders(t *testing.T) {
	f := newFleet(t)
	value := "max-age=31536000; x=" + strings.Repeat("a", 900_000)
	s := f.serve(t, map[string]string{"Strict-Transport-Security": value})
	port := s.Addr[strings.LastIndex(s.Addr, ":")+1:]
	args := []string{"probe", "localhost:" + port, "--connect", "127.0.0.1", "--ca-file", f.caFile}

	stdout, stderr, code := runCmd(t, "", nil, args...)
	if code != exitOK {
		t.Fatalf("exit %d\n%.2000s\n%s", code, stdout, stderr)
	}
	want := fmt.Sprintf("Strict-Transport-Security: %s… [cut: the first 8192 of %d bytes shown] (valid)", value[:8192], len(value))
	if !strings.Contains(stdout, want) || len(stdout) > 16<<10 {
		t.Errorf("report of %d bytes lacks the value cut at 8 KiB and marked cut:\n%.3000s", len(stdout), stdout)
	}

	stdout, _, _ = runCmd(t, "", nil, append(args, "--json")...)
	var doc struct {
		Targets []struct {
			Addresses []struct {
				HSTS map[string]any `json:"strict_transport_security"`
			} `json:"addresses"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Targets) != 1 || len(doc.Targets[0].Addresses) != 1 {
		t.Fatalf("JSON %.500s: %v", stdout, err)
	}
	h := doc.Targets[0].Addresses[0].HSTS
	if h["raw"] != value || h["cut"] != nil {
		t.Errorf("JSON raw is %d bytes, cut %v; want the whole value, not marked cut", len(fmt.Sprint(h["raw"])), h["cut"])
	}
}
