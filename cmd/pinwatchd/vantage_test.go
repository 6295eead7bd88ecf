package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/storage"
)

// atVantage writes a copy of the config file cfg naming the node's vantage
// point, and returns its path.
func atVantage(t *testing.T, cfg, vantage string) string {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(cfg), vantage+".toml")
	if err := os.WriteFile(path, append([]byte("vantage = \""+vantage+"\"\n"), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Two nodes recording into one database (SPEC §14): history and certs
// name the vantage of each row, in JSON always and in the tables when
// more than one appears, and --vantage keeps one node's rows.
func TestQueriesByVantage(t *testing.T) {
	f := newFleet(t)
	s := f.serve(t, nil)
	cfg := f.config(t, f.target(t, "api", s))
	db := filepath.Join(f.dir, "pinwatchd.db")
	for _, v := range []string{"eu-west-1", "us-east-1"} {
		if _, stderr, code := runCmd(t, "", nil, "check", "--config", atVantage(t, cfg, v), "--record"); code != exitOK {
			t.Fatalf("check --record at %s: exit %d: %s", v, code, stderr)
		}
	}
	query := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runCmd(t, "", nil, append(args, "--database", db)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return stdout
	}
	vantages := func(doc, list string) []string {
		t.Helper()
		var d map[string][]struct {
			Vantage *string `json:"vantage"`
			Address string  `json:"address"`
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, doc)
		}
		var out []string
		for _, r := range d[list] {
			if r.Vantage == nil || r.Address != s.Addr {
				t.Fatalf("%s row without a vantage or of another address:\n%s", list, doc)
			}
			out = append(out, *r.Vantage)
		}
		return out
	}

	if got, want := vantages(query("history", "--json"), "events"), []string{"eu-west-1", "us-east-1"}; !slices.Equal(got, want) {
		t.Errorf("history --json vantages = %v, want %v (a first_seen each)", got, want)
	}
	if got, want := vantages(query("history", "--json", "--vantage", "us-east-1"), "events"), []string{"us-east-1"}; !slices.Equal(got, want) {
		t.Errorf("history --vantage us-east-1 vantages = %v, want %v", got, want)
	}
	if got, want := vantages(query("certs", "--json"), "certs"), []string{"eu-west-1", "us-east-1"}; !slices.Equal(got, want) {
		t.Errorf("certs --json vantages = %v, want %v (a row per vantage)", got, want)
	}
	if got, want := vantages(query("certs", "--json", "--vantage", "eu-west-1"), "certs"), []string{"eu-west-1"}; !slices.Equal(got, want) {
		t.Errorf("certs --vantage eu-west-1 vantages = %v, want %v", got, want)
	}

	out := query("history")
	for _, want := range []string{"  api  " + s.Addr + "  eu-west-1  first_seen\n", "  api  " + s.Addr + "  us-east-1  first_seen\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("history from two vantages lacks %q:\n%s", want, out)
		}
	}
	if out := query("history", "--vantage", "eu-west-1"); strings.Contains(out, "eu-west-1") || !strings.Contains(out, s.Addr+"  first_seen") {
		t.Errorf("history of one vantage should not repeat its name on every line:\n%s", out)
	}
	if out := query("certs"); !strings.HasPrefix(out, "TARGET  ADDRESS") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "  VANTAGE  ") ||
		!strings.Contains(out, "  eu-west-1  ") || !strings.Contains(out, "  us-east-1  ") {
		t.Errorf("certs from two vantages should have a VANTAGE column:\n%s", out)
	}
	if out := query("certs", "--vantage", "us-east-1"); strings.Contains(out, "VANTAGE") || strings.Count(out, s.Addr) != 1 {
		t.Errorf("certs --vantage us-east-1 should show one row and no VANTAGE column:\n%s", out)
	}
}

// `pinwatchd nodes` lists the heartbeat rows (SPEC §5, §14): JSON with
// every field, a table with the age of each node's last report.
func TestNodesCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pinwatchd.db")
	s, err := storage.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if stdout, _, code := runCmd(t, "", nil, "nodes", "--database", db); code != exitOK || !strings.HasPrefix(stdout, "no node has reported yet") {
		t.Errorf("nodes of a new database: exit %d:\n%s", code, stdout)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, n := range []pinwatchd.Node{
		{Vantage: "us-east-1", Host: "probe-us", Version: "v1.4.0", StartedAt: now.Add(-48 * time.Hour), LastSeen: now.Add(-20 * time.Minute)},
		{Vantage: "eu-west-1", Host: "probe-eu", Version: "v1.5.0", StartedAt: now.Add(-time.Hour), LastSeen: now},
	} {
		if err := s.Heartbeat(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := runCmd(t, "", nil, "nodes", "--database", db, "--json")
	if code != exitOK {
		t.Fatalf("nodes --json: exit %d: %s", code, stderr)
	}
	var doc struct {
		Nodes []map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	want := []map[string]any{
		{"vantage": "eu-west-1", "host": "probe-eu", "version": "v1.5.0", "started_at": now.Add(-time.Hour).Format(time.RFC3339), "last_seen": now.Format(time.RFC3339)},
		{"vantage": "us-east-1", "host": "probe-us", "version": "v1.4.0", "started_at": now.Add(-48 * time.Hour).Format(time.RFC3339), "last_seen": now.Add(-20 * time.Minute).Format(time.RFC3339)},
	}
	if len(doc.Nodes) != len(want) {
		t.Fatalf("nodes --json = %v, want %v", doc.Nodes, want)
	}
	for i := range want {
		if !maps.Equal(doc.Nodes[i], want[i]) {
			t.Errorf("node %d = %v, want %v", i, doc.Nodes[i], want[i])
		}
	}
	stdout, _, _ = runCmd(t, "", nil, "nodes", "--database", db)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "VANTAGE ") || !strings.HasPrefix(lines[1], "eu-west-1  probe-eu  v1.5.0") ||
		!strings.HasPrefix(lines[2], "us-east-1  probe-us  v1.4.0") || !strings.HasSuffix(lines[2], "(20m ago)") {
		t.Errorf("nodes table:\n%s", stdout)
	}
}

// `nodes --forget NAME` removes a node gone for good: its row, and its
// sites on the open alerts; a running node and an unknown name are
// refused, each with one clear sentence.
func TestNodesForget(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pinwatchd.db")
	if _, stderr, code := runCmd(t, "", nil, "nodes", "--forget", "old", "--database", db); code == exitOK || !strings.Contains(stderr, "does not exist yet") {
		t.Errorf("forgetting in a missing database: exit %d, %q", code, stderr)
	}
	s, err := storage.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, n := range []pinwatchd.Node{
		{Vantage: "old", Host: "probe-old", StartedAt: now.Add(-48 * time.Hour), LastSeen: now.Add(-2 * time.Hour)},
		{Vantage: "eu", Host: "probe-eu", StartedAt: now.Add(-time.Hour), LastSeen: now},
	} {
		if err := s.Heartbeat(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	sites := []pinwatchd.Site{{Vantage: "old", Address: "192.0.2.1:443"}}
	if err := s.SaveAlerts(t.Context(), []pinwatchd.Alert{{Target: "api", Kind: pinwatchd.KindPinMismatch, Subject: "inline",
		Severity: pinwatchd.SeverityCritical, State: pinwatchd.AlertOpen, OpenedAt: now.Add(-time.Hour), Message: "pin mismatch",
		Sites: sites, Addresses: pinwatchd.SiteAddresses(sites)}}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	if _, stderr, code := runCmd(t, "", nil, "nodes", "--forget", "eu", "--database", db); code == exitOK || !strings.Contains(stderr, `node "eu" reported`) {
		t.Errorf("forgetting a running node: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runCmd(t, "", nil, "nodes", "--forget", "nowhere", "--database", db); code == exitOK || !strings.Contains(stderr, `no node "nowhere"`) {
		t.Errorf("forgetting an unknown node: exit %d, %q", code, stderr)
	}
	stdout, stderr, code := runCmd(t, "", nil, "nodes", "--forget", "old", "--database", db)
	if code != exitOK || !strings.Contains(stdout, "forgot node old: taken off 1 open alert, 1 of them resolved") {
		t.Fatalf("nodes --forget old: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, _, _ = runCmd(t, "", nil, "nodes", "--database", db)
	if strings.Contains(stdout, "old") || !strings.Contains(stdout, "eu") {
		t.Errorf("nodes after forgetting old:\n%s", stdout)
	}
	stdout, _, _ = runCmd(t, "", nil, "alerts", "--all", "--json", "--database", db)
	if !strings.Contains(stdout, `"state": "resolved"`) || !strings.Contains(stdout, "node old was forgotten") || !strings.Contains(stdout, `"notifications_pending": 1`) {
		t.Errorf("alerts after forgetting old, want api's resolved with its notification waiting:\n%s", stdout)
	}
}
