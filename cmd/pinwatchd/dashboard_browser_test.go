package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/config"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestDashboardInBrowser runs the daemon with its HTTP listener on a fleet
// of loopback servers, rotates one server's key to an unpinned one, and
// loads every page in headless Chromium: the content a user looks for is
// there, the page logs no error, and the browser asks nothing of anyone
// but the listener. A screenshot of each page is saved in the test's
// artifact directory (go test -artifacts), or in $PINWATCHD_SCREENSHOTS.
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("headless Chromium is missing at %s (%v); CI must install it: apt-get install chromium", chromiumPath, err)
		}
		t.Skipf("headless Chromium is missing at %s; install it with: apt-get install chromium", chromiumPath)
	}
	pinwatchdBinary(t)
	f := newFleet(t)
	spare := testpki.KeyPin(t, f.pki.Spare)
	api := f.serve(t, map[string]string{"Strict-Transport-Security": "max-age=31536000",
		"Public-Key-Pins": fmt.Sprintf(`max-age=600; pin-sha256="%s"; pin-sha256="%s"`, f.pki.Leaf.Pin(), spare)})
	drifted := f.serve(t, hstsHeaders)
	billingLeaf := f.pki.Intermediate.Leaf(t, testpki.Options{CommonName: "billing.example.test", DNSNames: []string{"localhost"},
		NotAfter: time.Now().Add(20 * 24 * time.Hour)})
	billing := testpki.Serve(t, testpki.Chain(billingLeaf, f.pki.Intermediate), testpki.HeaderHandler(hstsHeaders))
	legacy := f.serve(t, hstsHeaders)

	listen := closedPort(t)
	db, cfgPath := filepath.Join(f.dir, "pinwatchd.db"), filepath.Join(f.dir, "config.toml")
	cfg := config.Default()
	cfg.Database = db
	cfg.Schedule = mustSchedule(t, "@every 1s")
	cfg.Timeout = config.Duration{Duration: 2 * time.Second}
	cfg.Alerts.FailureThreshold = 1
	cfg.HTTP.Listen = listen
	expires := time.Now().UTC().AddDate(0, 0, 60).Truncate(24 * time.Hour)
	cfg.PinSets = []config.PinSetConfig{{Name: "mobile-app", Pins: []pinwatchd.Pin{f.pki.Leaf.Pin(), spare}, Expires: config.Date{Time: expires}}}
	apiTarget := f.target(t, "api", api)
	apiTarget.PinSets = []string{"mobile-app"}
	cfg.TargetConfigs = []config.TargetConfig{
		apiTarget,
		f.target(t, "billing", billing, withPins(billingLeaf.Pin(), spare)),
		f.addrTarget(t, "down", closedPort(t)),
		f.target(t, "drifted", drifted, withPins(f.pki.Leaf.Pin(), spare)),
		f.target(t, "legacy", legacy, withPins(f.pki.Leaf.Pin())),
	}
	var b bytes.Buffer
	if err := config.Encode(&b, cfg); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, b.String())
	startDaemon(t, cfgPath)

	waitFor(t, "the first round's alerts", func() bool {
		a := queryAlerts(t, db, false)
		return openAlert(a, "billing", "cert_expiring") && openAlert(a, "legacy", "missing_backup_pin") && openAlert(a, "down", "connect_failed")
	})
	rotated := f.pki.Intermediate.Leaf(t, testpki.Options{})
	drifted.SetCertificate(testpki.Chain(rotated, f.pki.Intermediate))
	waitFor(t, "pin_mismatch on drifted", func() bool { return openAlert(queryAlerts(t, db, false), "drifted", "pin_mismatch") })

	br := newBrowser(t, "http://"+listen)
	br.visit(t, "/", "fleet", func(ctx context.Context) error {
		first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.fleet tbody tr:first-child`)))
		if err != nil {
			return err
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.fleet tbody tr")].map(r => r.innerText)`))
		if err != nil {
			return err
		}
		if !strings.HasPrefix(first, "drifted") || !strings.Contains(first, "CRITICAL") || !strings.Contains(first, "✗ inline") {
			t.Errorf("first fleet row = %q, want drifted, CRITICAL, its pin-set marked ✗", first)
		}
		if len(rows) != 5 {
			t.Errorf("the fleet shows %d rows, want the 5 targets: %q", len(rows), rows)
		}
		for _, r := range rows {
			if strings.HasPrefix(r, "billing") && !strings.Contains(r, "\t19\t") && !strings.Contains(r, "\t20\t") {
				t.Errorf("billing row = %q, want 19 or 20 days left", r)
			}
		}
		return nil
	})
	br.visit(t, "/", "fleet-filtered", func(ctx context.Context) error {
		// The filter is a plain GET form: type, press the button, no
		// script in the page.
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[name=q]`), "leg")); err != nil {
			return err
		}
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form.filter button`)))
		if err != nil {
			return err
		}
		if resp.Status != 200 || !strings.HasSuffix(resp.URL, "/?q=leg&status=") {
			t.Errorf("the filter form loaded %s (%d), want /?q=leg&status=", resp.URL, resp.Status)
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.fleet tbody tr td:first-child")].map(r => r.innerText)`))
		if err != nil {
			return err
		}
		if strings.Join(rows, ",") != "legacy" {
			t.Errorf("the fleet filtered on \"leg\" shows %q, want legacy alone", rows)
		}
		return nil
	})
	br.visit(t, "/target/drifted", "target-drifted", func(ctx context.Context) error {
		pinset, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`div.pinset`)))
		if err != nil {
			return err
		}
		marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("div.pinset .mark")].map(e => e.className + ": " + e.innerText)`))
		if err != nil {
			return err
		}
		chain, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.chain`)))
		if err != nil {
			return err
		}
		rotations, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart g.m.key_rotated").length`))
		if err != nil {
			return err
		}
		if !strings.Contains(pinset, "no pin matches the chain") || strings.Join(marks, ",") != "mark nomatch: no match,mark nomatch: no match" {
			t.Errorf("drifted's pin-set = %q, marks %q: want both pins marked as not matching", pinset, marks)
		}
		if !strings.Contains(chain, rotated.Pin().String()) {
			t.Errorf("drifted's chain does not show the rotated key %s:\n%s", rotated.Pin(), chain)
		}
		if rotations != 1 {
			t.Errorf("the history timeline shows %d key rotations, want 1", rotations)
		}
		return nil
	})
	br.visit(t, "/target/api", "target-api", func(ctx context.Context) error {
		marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("div.pinset .mark")].map(e => e.innerText)`))
		if err != nil {
			return err
		}
		// mobile-app and the header, each: the leaf's pin and the backup.
		if strings.Join(marks, ",") != "leaf,backup,leaf,backup" {
			t.Errorf("api's pin marks = %q, want leaf and backup for mobile-app and for the header", marks)
		}
		return nil
	})
	br.visit(t, "/alerts", "alerts", func(ctx context.Context) error {
		open, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.alerts`)))
		if err != nil {
			return err
		}
		for _, want := range []string{"pin_mismatch", "cert_expiring", "missing_backup_pin", "connect_failed"} {
			if !strings.Contains(open, want) {
				t.Errorf("the open alerts lack %s:\n%s", want, open)
			}
		}
		return nil
	})
	br.visit(t, "/expiry", "expiry", func(ctx context.Context) error {
		// Each lane of the chart has its mark, in the same order.
		lanes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg.chart text.lane")].map(e => e.textContent)`))
		if err != nil {
			return err
		}
		marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg.chart g.m")].map(e => e.getAttribute("class") + (e.querySelector("polygon") ? " diamond" : ""))`))
		if err != nil {
			return err
		}
		if len(lanes) < 2 || len(marks) != len(lanes) {
			t.Fatalf("expiry chart: lanes %q, marks %q", lanes, marks)
		}
		if !strings.Contains(lanes[0], "billing.example.test") || marks[0] != "m warning" {
			t.Errorf("first on the expiry chart: %q (%s), want billing.example.test in the warning window", lanes[0], marks[0])
		}
		if !strings.Contains(lanes[1], "pin-set mobile-app") || marks[1] != "m ok diamond" {
			t.Errorf("second on the expiry chart: %q (%s), want the pin-set mobile-app as an ok diamond", lanes[1], marks[1])
		}
		return nil
	})
}

// browser is one headless Chromium for a test, which records what every
// page asks of the network and logs.
type browser struct {
	base string // http://HOST:PORT of the listener
	ctx  context.Context
	dir  string // screenshots

	mu       sync.Mutex
	requests []string // every URL requested
	problems []string // console errors, exceptions, failed loads
}

// newBrowser starts Chromium with no network of its own: no first-run,
// sync, component update or background requests, a fresh profile.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 720),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{base: base, ctx: ctx, dir: os.Getenv("PINWATCHD_SCREENSHOTS")}
	if b.dir == "" {
		b.dir = t.ArtifactDir()
	}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *network.EventLoadingFailed:
			b.problems = append(b.problems, "load failed: "+ev.ErrorText)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				b.problems = append(b.problems, "console: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				b.problems = append(b.problems, "console."+string(ev.Type))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
		}
	})
	if err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return b
}

// visit loads path, lets check read the page, saves a screenshot as
// shot.png and fails the test for any console error and any request to
// anything but the listener.
func (b *browser) visit(t *testing.T, path, shot string, check func(ctx context.Context) error) {
	t.Helper()
	b.mu.Lock()
	fromReq, fromProb := len(b.requests), len(b.problems)
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, e2eWait)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if resp.Status != 200 {
		t.Errorf("%s answered %d, want 200", path, resp.Status)
	}
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || !strings.HasSuffix(title, " · pinwatchd") {
		t.Errorf("%s: title %q (%v)", path, title, err)
	}
	if err := check(ctx); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", path, err)
	}
	file := filepath.Join(b.dir, shot+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: screenshot %s", path, file)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems[fromProb:] {
		t.Errorf("%s: %s", path, p)
	}
	if !slices.Contains(b.requests[fromReq:], b.base+path) {
		t.Errorf("%s: the browser's requests %q lack the page itself: the network is not watched", path, b.requests[fromReq:])
	}
	for _, u := range b.requests[fromReq:] {
		if !strings.HasPrefix(u, b.base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("%s: the page requested %s, which is not the listener", path, u)
		}
	}
}
