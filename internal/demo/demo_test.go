package demo_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/demo"
	"github.com/pinwatchd/pinwatchd/storage"
)

// TestRun plays the tour in-process and checks what it promises: the
// alerts as they fire, the key rotation and the renewal, a database that
// the queries can read afterwards and the config it ran with.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes several seconds")
	}
	dir := t.TempDir()
	var out, errs bytes.Buffer
	dbPath, err := demo.Run(t.Context(), &out, &errs, dir, "test")
	if err != nil {
		t.Fatalf("demo.Run: %v\noutput:\n%s\nerrors:\n%s", err, out.String(), errs.String())
	}
	if want := filepath.Join(dir, "pinwatchd.db"); dbPath != want {
		t.Errorf("demo.Run returned the database %q, want %q", dbPath, want)
	}
	if errs.Len() > 0 {
		t.Errorf("the daemon logged errors during the demo:\n%s", errs.String())
	}

	stdout := out.String()
	for _, want := range []string{
		"pinwatchd demo: five loopback TLS endpoints",
		"opened    legacy   missing_backup_pin",
		"opened    billing  cert_expiring",
		"opened    partner  chain_untrusted",
		"==> Rotating the key of \"api\"",
		"opened    api      pin_mismatch",
		"event     api      chain_changed      key_rotated",
		"==> Renewing the certificate of \"billing\"",
		"resolved  billing  cert_expiring",
		"event     billing  chain_changed      renewed",
		"SMTP STARTTLS + DANE",
		"==> Rotating the key of the mail server without publishing a TLSA record for it",
		"opened    mail     tlsa_mismatch      CRITICAL",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// The rotation comes after the first alerts, the renewal after it.
	if i, j, k := strings.Index(stdout, "opened    legacy"), strings.Index(stdout, "opened    api"), strings.Index(stdout, "resolved  billing"); i < 0 || j < i || k < j {
		t.Errorf("the tour's steps are out of order:\n%s", stdout)
	}

	db, err := storage.OpenReadOnly(t.Context(), dbPath)
	if err != nil {
		t.Fatalf("open the demo's database: %v", err)
	}
	defer db.Close()
	as, err := db.Alerts(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]pinwatchd.AlertState{}
	for _, a := range as {
		state[a.Target+" "+string(a.Kind)] = a.State
	}
	for key, want := range map[string]pinwatchd.AlertState{
		"api pin_mismatch":          pinwatchd.AlertOpen,
		"legacy missing_backup_pin": pinwatchd.AlertOpen,
		"partner chain_untrusted":   pinwatchd.AlertOpen,
		"billing cert_expiring":     pinwatchd.AlertResolved,
		"mail tlsa_mismatch":        pinwatchd.AlertOpen,
	} {
		if state[key] != want {
			t.Errorf("alert %s is %q in the database, want %q (all: %v)", key, state[key], want, state)
		}
	}
	evs, err := db.History(t.Context(), "api", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rotated := false
	for _, e := range evs {
		rotated = rotated || (e.Event == pinwatchd.EventChainChanged && e.Class == pinwatchd.ChangeKeyRotated)
	}
	if !rotated {
		t.Errorf("the history of api lacks chain_changed (key_rotated): %+v", evs)
	}

	cfg, err := config.Load(filepath.Join(dir, "config.toml"), config.Options{})
	if err != nil {
		t.Fatalf("load the demo's config.toml: %v", err)
	}
	var names []string
	for _, tg := range cfg.Targets() {
		names = append(names, tg.Name)
	}
	if got := strings.Join(names, " "); got != "api www legacy billing partner mail" {
		t.Errorf("config.toml has the targets %q, want api www legacy billing partner mail", got)
	}
	if cfg.Database != dbPath {
		t.Errorf("config.toml records into %q, want %q", cfg.Database, dbPath)
	}
}
