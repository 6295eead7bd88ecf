package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
)

func init() {
	register(command{name: "demo", usage: "demo [--keep]", summary: "offline tour: loopback endpoints, live alerts, a key rotation", run: runDemo})
}

// demoRound is the schedule of the demo's targets.
const demoRound = 3 * time.Second

// demoWait bounds each wait of the demo for something to happen.
const demoWait = 20 * time.Second

func runDemo(ctx context.Context, e *env, args []string) (code int) {
	fs := newFlagSet(e, "demo", "demo [--keep]")
	keep := fs.Bool("keep", false, "keep the temporary directory (config, database, CA) and print its path")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) > 0 {
		return usageError(e.stderr, "demo takes no arguments, got %q", pos[0])
	}
	dir, err := os.MkdirTemp("", "pinwatchd-demo-")
	if err != nil {
		return usageError(e.stderr, "create a temporary directory: %v", err)
	}
	tb := &testpki.Standalone{Dir: dir}
	defer func() {
		tb.Close()
		if *keep {
			fmt.Fprintf(e.stdout, "\nThe demo's config, database and CA are in %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
		if r := recover(); r != nil {
			if de, ok := r.(testpki.Failure); ok {
				fmt.Fprintf(e.stderr, "pinwatchd: demo: %s\n", string(de))
				code = exitError
				return
			}
			panic(r)
		}
	}()
	out := e.stdout
	fmt.Fprintln(out, "pinwatchd demo: five loopback TLS endpoints, watched by the real daemon code.")
	fmt.Fprintln(out)

	d := newDemoFleet(tb, time.Now())
	cfgPath := filepath.Join(dir, "config.toml")
	dbPath := filepath.Join(dir, "pinwatchd.db")
	if err := os.WriteFile(cfgPath, []byte(d.config(dbPath)), 0o600); err != nil {
		tb.Fatalf("write config: %v", err)
	}
	for _, line := range d.describe() {
		fmt.Fprintln(out, "  "+line)
	}
	fmt.Fprintf(out, "\nRunning the daemon (schedule @every %s, database %s). Alerts as they fire:\n\n", demoRound, dbPath)

	de := &env{stdin: e.stdin, stdout: out, stderr: e.stderr, now: e.now, getenv: func(string) string { return "" }}
	logger := slog.New(&demoHandler{w: out, start: time.Now()})
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() { done <- serveDaemon(context.WithoutCancel(ctx), de, logger, cfgPath, sigs) }()
	stop := func() int {
		sigs <- syscall.SIGTERM
		return <-done
	}

	wantOpen := []pinwatchd.Kind{pinwatchd.KindMissingBackupPin, pinwatchd.KindCertExpiring, pinwatchd.KindChainUntrusted}
	if err := waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return hasKinds(as, wantOpen...) }); err != nil {
		stop()
		tb.Fatalf("%v", err)
	}
	time.Sleep(demoRound / 2)
	fmt.Fprintf(out, "\n==> Rotating the key of %q to a key its pin-set does not list…\n\n", "api")
	d.rotate(tb)
	if err := waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return hasKinds(as, pinwatchd.KindPinMismatch) }); err != nil {
		stop()
		tb.Fatalf("%v", err)
	}
	time.Sleep(demoRound / 2)
	fmt.Fprintf(out, "\n==> Renewing the certificate of %q with the same key…\n\n", "billing")
	d.renew(tb)
	if err := waitForAlerts(ctx, dbPath, func(as []pinwatchd.Alert) bool { return !hasKinds(as, pinwatchd.KindCertExpiring) }); err != nil {
		stop()
		tb.Fatalf("%v", err)
	}
	time.Sleep(demoRound / 2) // let the sender print the last notifications
	if c := stop(); c != exitOK {
		tb.Fatalf("the daemon exited with status %d", c)
	}

	fmt.Fprintln(out, "\n==> pinwatchd history")
	if c := runHistory(ctx, de, []string{"--database", dbPath}); c != exitOK {
		return c
	}
	fmt.Fprintln(out, "\n==> pinwatchd alerts")
	if c := runAlerts(ctx, de, []string{"--database", dbPath}); c != exitOK {
		return c
	}
	fmt.Fprintln(out, "\nDone. Try 'pinwatchd probe', 'pinwatchd pin' and 'pinwatchd check' on your own endpoints.")
	return exitOK
}

// waitForAlerts polls the database until ok holds for the open alerts.
func waitForAlerts(ctx context.Context, dbPath string, ok func([]pinwatchd.Alert) bool) error {
	deadline := time.Now().Add(demoWait)
	for time.Now().Before(deadline) {
		if db, err := storage.OpenReadOnly(ctx, dbPath); err == nil {
			as, err := db.Alerts(ctx, false)
			db.Close()
			if err == nil && ok(as) {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the expected alerts did not open within %s", demoWait)
}

func hasKinds(as []pinwatchd.Alert, kinds ...pinwatchd.Kind) bool {
	for _, k := range kinds {
		found := false
		for _, a := range as {
			found = found || a.Kind == k
		}
		if !found {
			return false
		}
	}
	return true
}

// demoFleet is the demo's endpoints and their PKI.
type demoFleet struct {
	pki             *testpki.PKI
	caFile          string
	spare           pinwatchd.Pin
	api             *testpki.Server
	www, legacy     *testpki.Server
	expiring, rogue *testpki.Server
	expLeaf         *testpki.Cert
	rogueLeaf       *testpki.Cert
}

func newDemoFleet(tb *testpki.Standalone, now time.Time) *demoFleet {
	p := testpki.New(tb)
	d := &demoFleet{pki: p, caFile: p.WriteCAFile(tb), spare: testpki.KeyPin(tb, p.Spare)}
	hsts := map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
	d.api = testpki.Serve(tb, p.TLS(), testpki.HeaderHandler(hsts))
	d.www = testpki.Serve(tb, p.TLS(), testpki.HeaderHandler(map[string]string{
		"Strict-Transport-Security": "max-age=31536000",
		"Public-Key-Pins":           fmt.Sprintf(`pin-sha256="%s"; pin-sha256="%s"; max-age=5184000`, p.Leaf.Pin(), d.spare),
	}))
	d.legacy = testpki.Serve(tb, p.TLS(), testpki.HeaderHandler(hsts))
	d.expLeaf = p.Intermediate.Leaf(tb, testpki.Options{NotBefore: now.Add(-85 * 24 * time.Hour), NotAfter: now.Add(5*24*time.Hour + time.Hour)})
	d.expiring = testpki.Serve(tb, testpki.Chain(d.expLeaf, p.Intermediate), testpki.HeaderHandler(hsts))
	other := testpki.New(tb)
	d.rogueLeaf = other.Leaf
	d.rogue = testpki.Serve(tb, other.TLS(), testpki.HeaderHandler(hsts))
	return d
}

// rotate makes the api endpoint serve a new key that no pin-set lists.
func (d *demoFleet) rotate(tb *testpki.Standalone) {
	leaf := d.pki.Intermediate.Leaf(tb, testpki.Options{})
	d.api.SetCertificate(testpki.Chain(leaf, d.pki.Intermediate))
}

// renew makes the billing endpoint serve a fresh certificate for its key.
func (d *demoFleet) renew(tb *testpki.Standalone) {
	leaf := d.pki.Intermediate.Leaf(tb, testpki.Options{Key: d.expLeaf.Key})
	d.expiring.SetCertificate(testpki.Chain(leaf, d.pki.Intermediate))
}

func (d *demoFleet) describe() []string {
	return []string{
		fmt.Sprintf("api       %s  pinned by pin-set \"mobile-app\" (leaf key + a backup key)", d.api.Addr),
		fmt.Sprintf("www       %s  sends Public-Key-Pins with a backup pin", d.www.Addr),
		fmt.Sprintf("legacy    %s  pinned to one key only: no backup", d.legacy.Addr),
		fmt.Sprintf("billing   %s  leaf expires in 5 days", d.expiring.Addr),
		fmt.Sprintf("partner   %s  chain from a CA nobody trusts", d.rogue.Addr),
	}
}

// config renders the demo's configuration file.
func (d *demoFleet) config(dbPath string) string {
	target := func(name string, s *testpki.Server, extra string) string {
		port := s.Addr[strings.LastIndex(s.Addr, ":")+1:]
		return fmt.Sprintf("[[target]]\nname = %q\nhost = \"localhost\"\nport = %s\naddresses = [%q]\nca_file = %q\n%s\n\n",
			name, port, s.Addr, d.caFile, extra)
	}
	pins := func(ps ...pinwatchd.Pin) string {
		q := make([]string, len(ps))
		for i, p := range ps {
			q[i] = fmt.Sprintf("%q", "sha256/"+p.String())
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "database = %q\nschedule = \"@every %s\"\ntimeout = \"3s\"\n\n", dbPath, demoRound)
	b.WriteString("[alerts]\nexpiry_warning = \"30d\"\nexpiry_critical = \"7d\"\n\n")
	fmt.Fprintf(&b, "[[pinset]]\nname = \"mobile-app\"\npins = %s\n\n", pins(d.pki.Leaf.Pin(), d.spare))
	b.WriteString(target("api", d.api, `pinsets = ["mobile-app"]`))
	b.WriteString(target("www", d.www, ""))
	b.WriteString(target("legacy", d.legacy, "pins = "+pins(d.pki.Leaf.Pin())))
	b.WriteString(target("billing", d.expiring, "pins = "+pins(d.expLeaf.Pin(), d.spare)))
	b.WriteString(target("partner", d.rogue, "pins = "+pins(d.rogueLeaf.Pin(), d.spare)))
	return b.String()
}

// demoHandler prints notifications as readable lines and errors as they
// come; the rest of the daemon's log is left out of the tour.
type demoHandler struct {
	w     io.Writer
	mu    sync.Mutex
	start time.Time
	attrs []slog.Attr
}

func (h *demoHandler) Enabled(_ context.Context, l slog.Level) bool { return true }
func (h *demoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &demoHandler{w: h.w, start: h.start, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h *demoHandler) WithGroup(string) slog.Handler { return h }

func (h *demoHandler) Handle(_ context.Context, r slog.Record) error {
	vals := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		vals[a.Key] = a.Value.String()
		return true
	})
	var line string
	switch {
	case vals["change"] == string(pinwatchd.ChangeChainChanged):
		change := fmt.Sprintf("leaf key %s -> %s", vals["old_leaf_pin"], vals["new_leaf_pin"])
		if vals["old_leaf_pin"] == vals["new_leaf_pin"] {
			change = "new certificate, same leaf key " + vals["new_leaf_pin"]
		}
		line = fmt.Sprintf("%-9s %-8s %-18s %s at %s: %s", "event", vals["target"], "chain_changed", vals["class"], vals["address"], change)
	case vals["change"] == string(pinwatchd.ChangeResolved):
		line = fmt.Sprintf("%-9s %-8s %-18s %-8s  %s", "resolved", vals["target"], vals["kind"], "", vals["reason"])
	case vals["change"] != "":
		line = fmt.Sprintf("%-9s %-8s %-18s %-8s  %s", vals["change"], vals["target"], vals["kind"], severityLabel(parseSeverityOr(vals["severity"])), vals["message"])
	case r.Level >= slog.LevelError:
		line = "error     " + r.Message + " " + vals["err"]
	default:
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintf(h.w, "  +%4.1fs  %s\n", r.Time.Sub(h.start).Seconds(), line)
	return err
}

// parseSeverityOr parses a severity name, info when unknown.
func parseSeverityOr(s string) pinwatchd.Severity {
	v, _ := pinwatchd.ParseSeverity(s)
	return v
}
