package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to age the recorded spans, as if recorded days ago

	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// TestPreflightHeaderSeenDaysAgo: a Public-Key-Pins header with max-age 10
// days, last seen 3 days ago, is still enforced by the clients that saw it
// for 7 more days: a key it does not pin breaks until then (exit 1, the
// date printed), SPEC §13. The database is filled by `check --record`;
// only the times of its spans are moved back 3 days.
func TestPreflightHeaderSeenDaysAgo(t *testing.T) {
	t.Parallel()
	pinwatchdBinary(t)
	f := newFleet(t)
	p := f.pki
	spare := testpki.KeyPin(t, p.Spare)
	srv := f.serve(t, map[string]string{"Public-Key-Pins": fmt.Sprintf(`max-age=864000; pin-sha256="%s"; pin-sha256="%s"`, p.Leaf.Pin(), spare)})
	db, cfgPath := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	e2eConfig{db: db, targets: []config.TargetConfig{f.target(t, "legacy", srv)}}.write(t, cfgPath)
	if _, stderr, code := cliRun(t, "check", "--record", "--config", cfgPath); code == exitError {
		t.Fatalf("check --record could not run: %s", stderr)
	}

	const threeDays = 3 * 24 * 60 * 60
	sqlDB, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sqlDB.Exec(`UPDATE spans SET first_seen = first_seen - ?, last_seen = last_seen - ?`, threeDays, threeDays)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("aged %d spans, want the 1 that check --record wrote", n)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}

	rekeyed := writePEM(t, t.TempDir(), "rekeyed.pem", "CERTIFICATE", p.Intermediate.Leaf(t, testpki.Options{}).Cert.Raw)
	before := time.Now().UTC()
	doc := preflight(t, exitWarning, "--config="+cfgPath, "--target", "legacy", rekeyed)
	v := doc.Targets[0].Verdicts
	if len(v) != 1 || v[0].Source != "header" || v[0].Verdict != "breaks_until" || v[0].Until == nil {
		t.Fatalf("verdicts = %+v, want header breaks_until", v)
	}
	if want := before.Add(7 * 24 * time.Hour); v[0].Until.Before(want.Add(-time.Minute)) || v[0].Until.After(want.Add(time.Minute)) {
		t.Errorf("until %v, want 7 days from now (seen 3 days ago + max-age 10 days), about %v", v[0].Until, want)
	}
	stdout, _, code := cliRun(t, "preflight", "--config="+cfgPath, "--target", "legacy", rekeyed)
	if code != exitWarning || !strings.Contains(stdout, "breaks until "+v[0].Until.Format("2006-01-02")) {
		t.Errorf("preflight exited %d, want 1 printing the date %s:\n%s", code, v[0].Until.Format("2006-01-02"), stdout)
	}
}
