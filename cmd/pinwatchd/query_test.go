package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// TestRecordThenQuery records two rounds with `check --record` around a key
// rotation and reads them back with history, certs and alerts.
func TestRecordThenQuery(t *testing.T) {
	f := newFleet(t)
	s := f.serve(t, nil)
	expLeaf := f.pki.Intermediate.Leaf(t, testpki.Options{NotBefore: time.Now().Add(-80 * 24 * time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour)})
	soon := testpki.Serve(t, testpki.Chain(expLeaf, f.pki.Intermediate), nil)
	cfg := f.config(t, f.target(t, "api", s, withPins(f.pki.Leaf.Pin(), testpki.KeyPin(t, f.pki.Spare))), f.target(t, "billing", soon, noHTTP, withPins(expLeaf.Pin(), testpki.KeyPin(t, f.pki.Spare))))
	db := filepath.Join(f.dir, "pinwatchd.db")

	if _, stderr, code := runCmd(t, "", nil, "check", "--config", cfg, "--record"); code != exitWarning {
		t.Fatalf("first check: exit %d (want 1: billing expires in 10 days): %s", code, stderr)
	}
	oldPin := f.pki.Leaf.Pin().String()
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	s.SetCertificate(testpki.Chain(rotated, f.pki.Intermediate))
	if _, stderr, code := runCmd(t, "", nil, "check", "--config", cfg, "--record"); code != exitCritical {
		t.Fatalf("second check: exit %d, want 2 (pin_mismatch): %s", code, stderr)
	}

	t.Run("history json", func(t *testing.T) {
		stdout, stderr, code := runCmd(t, "", nil, "history", "api", "--config", cfg, "--json")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var doc struct {
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		if len(doc.Events) != 2 {
			t.Fatalf("events = %v, want first_seen then chain_changed", doc.Events)
		}
		first, change := doc.Events[0], doc.Events[1]
		if first["event"] != "first_seen" || first["target"] != "api" || first["address"] != s.Addr || first["class"] != nil {
			t.Errorf("first event = %v", first)
		}
		if change["event"] != "chain_changed" || change["class"] != "key_rotated" || change["old_leaf_pin"] != oldPin || change["new_leaf_pin"] != rotated.Pin().String() {
			t.Errorf("change event = %v, want key_rotated %s -> %s", change, oldPin, rotated.Pin())
		}
		for _, k := range []string{"time", "old_leaf_sha256", "new_leaf_sha256", "issuer", "not_after", "error_kind"} {
			if _, ok := change[k]; !ok {
				t.Errorf("change event lacks %q", k)
			}
		}
	})
	t.Run("history text and since", func(t *testing.T) {
		stdout, _, code := runCmd(t, "", nil, "history", "--database", db)
		if code != exitOK || !strings.Contains(stdout, "chain_changed (key_rotated)") || !strings.Contains(stdout, oldPin+" -> "+rotated.Pin().String()) {
			t.Errorf("history (exit %d):\n%s", code, stdout)
		}
		stdout, _, _ = runCmd(t, "", nil, "history", "--database", db, "--since", "2999-01-01")
		if !strings.Contains(stdout, "no history yet") {
			t.Errorf("history since the future = %q", stdout)
		}
		_, stderr, code := runCmd(t, "", nil, "history", "--database", db, "--since", "last tuesday")
		if code != exitError || !strings.Contains(stderr, `--since "last tuesday" is neither a duration`) {
			t.Errorf("bad --since: exit %d, %q", code, stderr)
		}
	})
	t.Run("certs", func(t *testing.T) {
		stdout, _, code := runCmd(t, "", nil, "certs", "--database", db, "--json")
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
		var doc struct {
			Certs []struct {
				Target, Address string
				LeafPin         string  `json:"leaf_pin"`
				DaysLeft        int     `json:"days_left"`
				ErrorKind       *string `json:"error_kind"`
			} `json:"certs"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Certs) != 2 {
			t.Fatalf("certs = %s (%v)", stdout, err)
		}
		for _, c := range doc.Certs {
			switch c.Target {
			case "api":
				if c.LeafPin != rotated.Pin().String() || c.ErrorKind != nil {
					t.Errorf("api serves %+v, want the rotated key", c)
				}
			case "billing":
				if c.DaysLeft < 9 || c.DaysLeft > 10 {
					t.Errorf("billing days left = %d, want 9 or 10", c.DaysLeft)
				}
			}
		}
		stdout, _, _ = runCmd(t, "", nil, "certs", "--database", db, "--expiring-within", "30d")
		if !strings.Contains(stdout, "billing") || strings.Contains(stdout, "api ") {
			t.Errorf("certs --expiring-within 30d:\n%s", stdout)
		}
	})
	t.Run("alerts are the daemon's", func(t *testing.T) {
		stdout, _, code := runCmd(t, "", nil, "alerts", "--database", db)
		if code != exitOK || !strings.Contains(stdout, "no open alerts") {
			t.Errorf("check --record must open no alerts; alerts printed (exit %d):\n%s", code, stdout)
		}
	})
}

func TestQueryWithoutDatabase(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, c := range []string{"history", "certs", "alerts"} {
		_, stderr, code := runCmd(t, "", nil, c, "--database", missing)
		if code != exitError || !strings.Contains(stderr, "database "+missing+" does not exist yet") {
			t.Errorf("%s: exit %d, stderr %q", c, code, stderr)
		}
	}
}
