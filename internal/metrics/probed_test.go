package metrics

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/monitor"
)

// probedNames are the series Probed sets.
var probedNames = []string{
	"pinwatchd_probes_total", "pinwatchd_leaf_not_after_timestamp_seconds",
	"pinwatchd_chain_not_after_timestamp_seconds", "pinwatchd_pin_match", "pinwatchd_backup_pin_present",
}

// probedHelp is the HELP and TYPE header of each of probedNames.
var probedHelp = map[string]string{
	"pinwatchd_probes_total": `# HELP pinwatchd_probes_total Probes of a target's addresses, by target and result (ok or the error kind).
# TYPE pinwatchd_probes_total counter`,
	"pinwatchd_leaf_not_after_timestamp_seconds": `# HELP pinwatchd_leaf_not_after_timestamp_seconds NotAfter of the leaf certificate a target serves (the earliest over its addresses), as a Unix time.
# TYPE pinwatchd_leaf_not_after_timestamp_seconds gauge`,
	"pinwatchd_chain_not_after_timestamp_seconds": `# HELP pinwatchd_chain_not_after_timestamp_seconds Earliest NotAfter of any certificate in the chains a target serves, as a Unix time.
# TYPE pinwatchd_chain_not_after_timestamp_seconds gauge`,
	"pinwatchd_pin_match": `# HELP pinwatchd_pin_match 1 when every address of the target serves a chain matching the pin-set, else 0.
# TYPE pinwatchd_pin_match gauge`,
	"pinwatchd_backup_pin_present": `# HELP pinwatchd_backup_pin_present 1 when the pin-set holds a pin for a key outside the served chain (a backup pin), else 0.
# TYPE pinwatchd_backup_pin_present gauge`,
}

// exposition builds the expected text of the given series: name → sample
// lines.
func exposition(series map[string][]string) string {
	var b strings.Builder
	for _, name := range probedNames {
		lines := series[name]
		if len(lines) == 0 {
			continue
		}
		b.WriteString(probedHelp[name] + "\n")
		for _, l := range lines {
			b.WriteString(name + l + "\n")
		}
	}
	return b.String()
}

// ts renders a certificate time as the exposition does.
func ts(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// probedFixture is a target's chains: two leaves under an intermediate that
// expires before either of them, so that leaf and chain not-after differ.
type probedFixture struct {
	now                time.Time
	root, inter        *testpki.Cert
	leafA, leafB       *testpki.Cert
	spare              pinwatchd.Pin
	chainA, chainB     []pinwatchd.Cert // served
	verifiedA          []pinwatchd.Cert // leafA → intermediate → root
	interPin, leafAPin pinwatchd.Pin
}

func newProbedFixture(t *testing.T) *probedFixture {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	root := testpki.NewRoot(t, testpki.Options{})
	inter := root.Intermediate(t, testpki.Options{NotAfter: now.Add(40 * 24 * time.Hour)})
	leafA := inter.Leaf(t, testpki.Options{NotAfter: now.Add(80 * 24 * time.Hour)})
	leafB := inter.Leaf(t, testpki.Options{NotAfter: now.Add(60 * 24 * time.Hour)})
	cert := pinwatchd.CertFromX509
	return &probedFixture{
		now: now, root: root, inter: inter, leafA: leafA, leafB: leafB,
		spare:     testpki.KeyPin(t, testpki.NewKey(t, testpki.P256)),
		chainA:    []pinwatchd.Cert{cert(leafA.Cert), cert(inter.Cert)},
		chainB:    []pinwatchd.Cert{cert(leafB.Cert), cert(inter.Cert)},
		verifiedA: []pinwatchd.Cert{cert(leafA.Cert), cert(inter.Cert), cert(root.Cert)},
		interPin:  inter.Pin(), leafAPin: leafA.Pin(),
	}
}

// ok is a successful observation of addr serving served (verified to
// verified, when given).
func (f *probedFixture) ok(addr string, served, verified []pinwatchd.Cert) pinwatchd.Observation {
	return pinwatchd.Observation{
		Target: "api", Address: addr, SNI: "localhost", Time: f.now, Duration: 31250 * time.Microsecond, // 1/32 s: sums stay exact
		TLSVersion: "TLS 1.3", ServedChain: served, VerifiedChain: verified,
		Verification: pinwatchd.Verification{Trusted: verified != nil, HostnameValid: true},
	}
}

// failed is an observation of addr that failed with kind.
func (f *probedFixture) failed(addr string, kind pinwatchd.Kind) pinwatchd.Observation {
	return pinwatchd.Observation{
		Target: "api", Address: addr, Time: f.now, Duration: 2 * time.Second,
		Error: &pinwatchd.ProbeError{Kind: kind, Message: "it failed"},
	}
}

// hasFinding reports whether fs holds a finding of kind about pin-set ps.
func hasFinding(fs []pinwatchd.Finding, kind pinwatchd.Kind, ps string) bool {
	for _, f := range fs {
		if f.Kind == kind && f.PinSet == ps {
			return true
		}
	}
	return false
}

func TestProbed(t *testing.T) {
	f := newProbedFixture(t)
	target := &pinwatchd.Target{
		Name: "api", Host: "localhost", Port: 443, HTTP: true, Path: "/",
		PinSets: []pinwatchd.PinSet{
			// The leaf key of A and a backup: B's address does not match.
			{Name: "mobile", Pins: []pinwatchd.Pin{f.leafAPin, f.spare}},
			// The intermediate only: matches everywhere, no backup.
			{Name: pinwatchd.PinSetInline, Pins: []pinwatchd.Pin{f.interPin}},
		},
	}
	a := f.ok("127.0.0.1:1001", f.chainA, f.verifiedA)
	a.PublicKeyPins = &pinwatchd.PinHeader{Raw: "…", Pins: []pinwatchd.Pin{f.leafAPin, f.spare}, MaxAge: 5184000, Valid: true}
	obs := []pinwatchd.Observation{
		a,
		f.ok("127.0.0.1:1002", f.chainB, nil),
		f.failed("127.0.0.1:1003", pinwatchd.KindTimeout),
	}
	findings := monitor.Evaluate(target, obs, pinwatchd.DefaultThresholds, f.now)
	// The evaluation behind the gauges, as the runner hands it over.
	if !hasFinding(findings, pinwatchd.KindPinMismatch, "mobile") || !hasFinding(findings, pinwatchd.KindMissingBackupPin, pinwatchd.PinSetInline) {
		t.Fatalf("findings lack pin_mismatch of mobile or missing_backup_pin of inline: %+v", findings)
	}
	if hasFinding(findings, pinwatchd.KindPinMismatch, pinwatchd.PinSetHeader) || hasFinding(findings, pinwatchd.KindMissingBackupPin, "mobile") {
		t.Fatalf("findings about a pin-set that matches and has a backup: %+v", findings)
	}

	m := New("dev", "unknown")
	m.Probed(target, obs, findings)
	// A target whose every address failed: counted, with no certificate
	// or pin-set series.
	down := &pinwatchd.Target{Name: "down", Host: "localhost", Port: 443, PinSets: target.PinSets}
	m.Probed(down, []pinwatchd.Observation{f.failed("127.0.0.1:1004", pinwatchd.KindConnectFailed)}, nil)

	want := map[string][]string{
		"pinwatchd_probes_total": {
			`{result="ok",target="api"} 2`,
			`{result="timeout",target="api"} 1`,
			`{result="connect_failed",target="down"} 1`,
		},
		// B's leaf expires first; the intermediate before any leaf.
		"pinwatchd_leaf_not_after_timestamp_seconds":  {`{target="api"} ` + ts(f.leafB.Cert.NotAfter)},
		"pinwatchd_chain_not_after_timestamp_seconds": {`{target="api"} ` + ts(f.inter.Cert.NotAfter)},
		"pinwatchd_pin_match": {
			`{pinset="header",target="api"} 1`,
			`{pinset="inline",target="api"} 1`,
			`{pinset="mobile",target="api"} 0`,
		},
		"pinwatchd_backup_pin_present": {
			`{pinset="header",target="api"} 1`,
			`{pinset="inline",target="api"} 0`,
			`{pinset="mobile",target="api"} 1`,
		},
	}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(exposition(want)), probedNames...); err != nil {
		t.Errorf("after the first round:\n%v", err)
	}
	if got := testutil.CollectAndCount(m.probeDuration); got != 1 {
		t.Errorf("probe duration histogram has %d series, want 1", got)
	}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(`
# HELP pinwatchd_probe_duration_seconds Time taken by the probe of one address: connect, handshake and HTTP request.
# TYPE pinwatchd_probe_duration_seconds histogram
pinwatchd_probe_duration_seconds_bucket{le="0.01"} 0
pinwatchd_probe_duration_seconds_bucket{le="0.025"} 0
pinwatchd_probe_duration_seconds_bucket{le="0.05"} 2
pinwatchd_probe_duration_seconds_bucket{le="0.1"} 2
pinwatchd_probe_duration_seconds_bucket{le="0.25"} 2
pinwatchd_probe_duration_seconds_bucket{le="0.5"} 2
pinwatchd_probe_duration_seconds_bucket{le="1"} 2
pinwatchd_probe_duration_seconds_bucket{le="2.5"} 4
pinwatchd_probe_duration_seconds_bucket{le="5"} 4
pinwatchd_probe_duration_seconds_bucket{le="10"} 4
pinwatchd_probe_duration_seconds_bucket{le="30"} 4
pinwatchd_probe_duration_seconds_bucket{le="+Inf"} 4
pinwatchd_probe_duration_seconds_sum 4.0625
pinwatchd_probe_duration_seconds_count 4
`), "pinwatchd_probe_duration_seconds"); err != nil {
		t.Errorf("probe durations:\n%v", err)
	}

	// Next round: B's address serves A's chain again, so mobile matches;
	// the header is gone, so its series keeps its last value.
	obs2 := []pinwatchd.Observation{
		f.ok("127.0.0.1:1001", f.chainA, f.verifiedA),
		f.ok("127.0.0.1:1002", f.chainA, f.verifiedA),
		f.ok("127.0.0.1:1003", f.chainA, f.verifiedA),
	}
	findings2 := monitor.Evaluate(target, obs2, pinwatchd.DefaultThresholds, f.now)
	if hasFinding(findings2, pinwatchd.KindPinMismatch, "mobile") {
		t.Fatalf("mobile still mismatches in the second round: %+v", findings2)
	}
	m.Probed(target, obs2, findings2)
	want["pinwatchd_probes_total"][0] = `{result="ok",target="api"} 5`
	want["pinwatchd_leaf_not_after_timestamp_seconds"] = []string{`{target="api"} ` + ts(f.leafA.Cert.NotAfter)}
	want["pinwatchd_pin_match"][2] = `{pinset="mobile",target="api"} 1`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(exposition(want)), probedNames...); err != nil {
		t.Errorf("after the second round:\n%v", err)
	}

	// A round in which every address failed leaves the certificate and
	// pin-set series as the last successful probe set them.
	m.Probed(target, []pinwatchd.Observation{f.failed("127.0.0.1:1001", pinwatchd.KindHandshakeFailed)}, nil)
	want["pinwatchd_probes_total"] = []string{
		`{result="ok",target="api"} 5`,
		`{result="timeout",target="api"} 1`,
		`{result="handshake_failed",target="api"} 1`,
		`{result="connect_failed",target="down"} 1`,
	}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(exposition(want)), probedNames...); err != nil {
		t.Errorf("after a failed round:\n%v", err)
	}
}

func TestProbedNil(t *testing.T) {
	f := newProbedFixture(t)
	var m *Metrics
	m.Probed(&pinwatchd.Target{Name: "api"}, []pinwatchd.Observation{f.ok("127.0.0.1:1001", f.chainA, nil)}, nil) // must not panic
}
