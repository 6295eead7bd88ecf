package monitor_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/monitor"
)

var evalNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const evalDay = 24 * time.Hour

// fakePin returns a distinct pin for each b.
func fakePin(b byte) pinwatchd.Pin {
	var p pinwatchd.Pin
	for i := range p {
		p[i] = b
	}
	return p
}

// Pins of the keys in the hand-built chain, and of keys served nowhere.
var (
	leafPin   = fakePin(1)
	interPin  = fakePin(2)
	rootPin   = fakePin(3)
	otherLeaf = fakePin(4)
	spareA    = fakePin(10)
	spareB    = fakePin(11)
)

func fakeCert(cn, issuer string, pin pinwatchd.Pin, notAfter time.Time, isCA bool) pinwatchd.Cert {
	return pinwatchd.Cert{
		Subject: "CN=" + cn + ",O=pinwatchd test", Issuer: "CN=" + issuer + ",O=pinwatchd test",
		NotBefore: evalNow.Add(-60 * evalDay), NotAfter: notAfter,
		SHA256: fmt.Sprintf("%064x", pin[0]), Pin: pin, IsCA: isCA,
	}
}

// chainOpts shifts the NotAfter of the hand-built chain.
type chainOpts struct{ leaf, inter, root time.Duration }

func chains(o chainOpts) (served, verified []pinwatchd.Cert) {
	def := func(d time.Duration, fallback time.Duration) time.Time {
		if d == 0 {
			d = fallback
		}
		return evalNow.Add(d)
	}
	leaf := fakeCert("api.example.com", "Example Intermediate", leafPin, def(o.leaf, 90*evalDay), false)
	inter := fakeCert("Example Intermediate", "Example Root", interPin, def(o.inter, 900*evalDay), true)
	root := fakeCert("Example Root", "Example Root", rootPin, def(o.root, 3000*evalDay), true)
	return []pinwatchd.Cert{leaf, inter}, []pinwatchd.Cert{leaf, inter, root}
}

// okObs is a healthy observation of addr: trusted chain, valid name, and an
// HTTP response with HSTS and no pin header.
func okObs(addr string) pinwatchd.Observation {
	served, verified := chains(chainOpts{})
	return pinwatchd.Observation{
		Target: "api", Address: addr, SNI: "api.example.com", Time: evalNow,
		TLSVersion: "TLS 1.3", ServedChain: served, VerifiedChain: verified,
		Verification:            pinwatchd.Verification{Trusted: true, HostnameValid: true},
		HTTP:                    &pinwatchd.HTTPResult{Method: "HEAD", Status: 200},
		StrictTransportSecurity: &pinwatchd.HSTSHeader{Raw: "max-age=31536000", MaxAge: 31536000, Valid: true},
	}
}

func with(o pinwatchd.Observation, f func(*pinwatchd.Observation)) pinwatchd.Observation {
	f(&o)
	return o
}

func target(sets ...pinwatchd.PinSet) *pinwatchd.Target {
	return &pinwatchd.Target{Name: "api", Host: "api.example.com", Port: 443, PinSets: sets}
}

func httpTarget(f func(*pinwatchd.Target), sets ...pinwatchd.PinSet) *pinwatchd.Target {
	t := target(sets...)
	t.HTTP, t.Path = true, "/"
	if f != nil {
		f(t)
	}
	return t
}

func set(name string, pins ...pinwatchd.Pin) pinwatchd.PinSet {
	return pinwatchd.PinSet{Name: name, Pins: pins}
}

func pinHeader(pins ...pinwatchd.Pin) *pinwatchd.PinHeader {
	return &pinwatchd.PinHeader{Raw: "max-age=600; pin-sha256=...", Pins: pins, MaxAge: 600, Valid: true}
}

func badPinHeader(errs ...string) *pinwatchd.PinHeader {
	return &pinwatchd.PinHeader{Raw: "pin-sha256=\"x\"", Errors: errs}
}

const (
	addr1 = "192.0.2.10:443"
	addr2 = "192.0.2.11:443"
)

var (
	crit = pinwatchd.SeverityCritical
	warn = pinwatchd.SeverityWarning
	info = pinwatchd.SeverityInfo
)

// want describes one expected finding: its identity and severity exactly,
// its message by the facts it must mention.
type want struct {
	kind     pinwatchd.Kind
	severity pinwatchd.Severity
	address  string
	pinset   string
	cert     string
	says     []string
}

func (w want) key() string {
	return fmt.Sprintf("%s/%s addr=%q pinset=%q cert=%q", w.kind, w.severity, w.address, w.pinset, w.cert)
}

func keyOf(f pinwatchd.Finding) string {
	return want{kind: f.Kind, severity: f.Severity, address: f.Address, pinset: f.PinSet, cert: f.Cert}.key()
}

// checkFindings asserts that got holds exactly the wanted findings (in any
// order) and that each message mentions the wanted facts.
func checkFindings(t *testing.T, got []pinwatchd.Finding, wants []want) {
	t.Helper()
	if got == nil {
		t.Fatal("Evaluate returned nil, want a non-nil slice")
	}
	var gotKeys, wantKeys []string
	for _, f := range got {
		gotKeys = append(gotKeys, keyOf(f))
	}
	for _, w := range wants {
		wantKeys = append(wantKeys, w.key())
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Fatalf("findings:\n  got  %s\n  want %s\nmessages:\n%s",
			strings.Join(gotKeys, "\n       "), strings.Join(wantKeys, "\n       "), messages(got))
	}
	for _, w := range wants {
		for _, f := range got {
			if keyOf(f) != w.key() {
				continue
			}
			for _, s := range w.says {
				if !strings.Contains(f.Message, s) {
					t.Errorf("%s message %q does not mention %q", f.Kind, f.Message, s)
				}
			}
		}
	}
}

func messages(fs []pinwatchd.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s: %s\n", f.Kind, f.Message)
	}
	return b.String()
}

func quoted(s string) string { return fmt.Sprintf("%q", s) }

type evalCase struct {
	name   string
	target *pinwatchd.Target
	obs    []pinwatchd.Observation
	th     *pinwatchd.Thresholds
	want   []want
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			th := pinwatchd.DefaultThresholds
			if tc.th != nil {
				th = *tc.th
			}
			got := monitor.Evaluate(tc.target, tc.obs, th, evalNow)
			checkFindings(t, got, tc.want)
		})
	}
}

func TestEvaluatePins(t *testing.T) {
	unverified := func(o *pinwatchd.Observation) {
		o.VerifiedChain = nil
		o.Verification.Trusted = false
		o.Verification.UntrustedReason = "x509: certificate signed by unknown authority"
	}
	runEvalCases(t, []evalCase{
		{name: "leaf pin and backup", target: target(set("ios-app-5", leafPin, spareA)),
			obs: []pinwatchd.Observation{okObs(addr1)}},
		{name: "match via intermediate", target: target(set("ios-app-5", interPin, spareA)),
			obs: []pinwatchd.Observation{okObs(addr1)}},
		{name: "match via root of the verified chain", target: target(set("ios-app-5", rootPin, spareA)),
			obs: []pinwatchd.Observation{okObs(addr1)}},
		{name: "root pin without a verified chain does not match", target: target(set("ios-app-5", rootPin, spareA)),
			obs: []pinwatchd.Observation{with(okObs(addr1), unverified)},
			want: []want{
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5"},
				{kind: pinwatchd.KindChainUntrusted, severity: crit, address: addr1,
					says: []string{addr1, "unknown authority"}},
			}},
		{name: "mismatch", target: target(set("ios-app-5", spareA, spareB)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5",
				says: []string{quoted("ios-app-5"), addr1, leafPin.String(), spareA.String(), spareB.String()}}}},
		{name: "inline pin-set mismatch", target: target(set(pinwatchd.PinSetInline, spareA, spareB)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "inline",
				says: []string{quoted("inline"), addr1}}}},
		{name: "single pin", target: target(set("ios-app-5", leafPin)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr1, pinset: "ios-app-5",
				says: []string{quoted("ios-app-5"), "single pin", leafPin.String()}}}},
		{name: "the same pin twice is a single pin", target: target(set("ios-app-5", leafPin, leafPin)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr1, pinset: "ios-app-5",
				says: []string{"single pin"}}}},
		{name: "single pin that mismatches", target: target(set("ios-app-5", spareA)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5"},
				{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr1, pinset: "ios-app-5"},
			}},
		{name: "every pin in the chain", target: target(set("ios-app-5", leafPin, interPin, rootPin)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr1, pinset: "ios-app-5",
				says: []string{quoted("ios-app-5"), "every pin", addr1}}}},
		{name: "two pin-sets judged separately", target: target(set("ios-app-5", leafPin, spareA), set("android", spareA, spareB)),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "android",
				says: []string{quoted("android")}}}},
		{name: "per address", target: target(set("ios-app-5", spareA, spareB)),
			obs: []pinwatchd.Observation{okObs(addr1), okObs(addr2)},
			want: []want{
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5", says: []string{addr1}},
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr2, pinset: "ios-app-5", says: []string{addr2}},
			}},
	})
}

func TestEvaluatePinSetExpiry(t *testing.T) {
	expiring := pinwatchd.PinSet{Name: "ios-app-5", Pins: []pinwatchd.Pin{leafPin, spareA}, Expires: evalNow.Add(10 * evalDay)}
	expired := pinwatchd.PinSet{Name: "ios-app-4", Pins: []pinwatchd.Pin{spareA, spareB}, Expires: evalNow.Add(-3 * evalDay)}
	later := pinwatchd.PinSet{Name: "ios-app-6", Pins: []pinwatchd.Pin{leafPin, spareA}, Expires: evalNow.Add(31 * evalDay)}
	runEvalCases(t, []evalCase{
		{name: "expiring once for two addresses", target: target(expiring),
			obs: []pinwatchd.Observation{okObs(addr1), okObs(addr2)},
			want: []want{{kind: pinwatchd.KindPinSetExpiring, severity: warn, pinset: "ios-app-5",
				says: []string{quoted("ios-app-5"), "10 days left", expiring.Expires.Format("2006-01-02")}}}},
		{name: "expired and still judged for matching", target: target(expired),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{
				{kind: pinwatchd.KindPinSetExpired, severity: warn, pinset: "ios-app-4",
					says: []string{quoted("ios-app-4"), "3 days ago"}},
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-4"},
			}},
		{name: "each set once", target: target(expiring, expired, later),
			obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{
				{kind: pinwatchd.KindPinSetExpiring, severity: warn, pinset: "ios-app-5"},
				{kind: pinwatchd.KindPinSetExpired, severity: warn, pinset: "ios-app-4"},
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-4"},
			}},
		{name: "expires outside the window", target: target(later),
			obs: []pinwatchd.Observation{okObs(addr1)}},
		{name: "reported without observations", target: target(expiring),
			want: []want{{kind: pinwatchd.KindPinSetExpiring, severity: warn, pinset: "ios-app-5"}}},
	})
}

func TestEvaluateCertExpiry(t *testing.T) {
	obsWith := func(o chainOpts) pinwatchd.Observation {
		return with(okObs(addr1), func(ob *pinwatchd.Observation) {
			ob.ServedChain, ob.VerifiedChain = chains(o)
		})
	}
	served, verified := chains(chainOpts{})
	leafSHA, interSHA, rootSHA := served[0].SHA256, served[1].SHA256, verified[2].SHA256
	tgt := target(set("ios-app-5", leafPin, spareA))
	runEvalCases(t, []evalCase{
		{name: "leaf outside the window", target: tgt, obs: []pinwatchd.Observation{obsWith(chainOpts{leaf: 31 * evalDay})}},
		{name: "leaf expiring warning", target: tgt, obs: []pinwatchd.Observation{obsWith(chainOpts{leaf: 20*evalDay + time.Hour})},
			want: []want{{kind: pinwatchd.KindCertExpiring, severity: warn, address: addr1, cert: leafSHA,
				says: []string{"api.example.com", "(leaf)", addr1, "2026-03-21", "20 days left"}}}},
		{name: "leaf expiring critical", target: tgt, obs: []pinwatchd.Observation{obsWith(chainOpts{leaf: 3*evalDay + time.Hour})},
			want: []want{{kind: pinwatchd.KindCertExpiring, severity: crit, address: addr1, cert: leafSHA,
				says: []string{"api.example.com", "(leaf)", "3 days left"}}}},
		{name: "leaf expired", target: tgt, obs: []pinwatchd.Observation{obsWith(chainOpts{leaf: -2*evalDay - time.Hour})},
			want: []want{{kind: pinwatchd.KindCertExpired, severity: crit, address: addr1, cert: leafSHA,
				says: []string{"api.example.com", "(leaf)", "expired", "2 days ago"}}}},
		{name: "intermediate names its position", target: tgt, obs: []pinwatchd.Observation{obsWith(chainOpts{inter: 10 * evalDay})},
			want: []want{{kind: pinwatchd.KindCertExpiring, severity: warn, address: addr1, cert: interSHA,
				says: []string{"Example Intermediate", "(intermediate 1)"}}}},
		{name: "root of the verified chain", target: tgt, obs: []pinwatchd.Observation{obsWith(chainOpts{root: 5 * evalDay})},
			want: []want{{kind: pinwatchd.KindCertExpiring, severity: crit, address: addr1, cert: rootSHA,
				says: []string{"Example Root", "(root)"}}}},
		{name: "served root without a verified chain", target: tgt, obs: []pinwatchd.Observation{with(okObs(addr1), func(o *pinwatchd.Observation) {
			_, full := chains(chainOpts{root: 5 * evalDay})
			o.ServedChain, o.VerifiedChain = full, nil
			o.Verification = pinwatchd.Verification{UntrustedReason: "x509: certificate signed by unknown authority", HostnameValid: true}
		})},
			want: []want{
				{kind: pinwatchd.KindCertExpiring, severity: crit, address: addr1, cert: rootSHA, says: []string{"(root)"}},
				{kind: pinwatchd.KindChainUntrusted, severity: crit, address: addr1},
			}},
		{name: "served intermediate at the end is no root", target: tgt, obs: []pinwatchd.Observation{with(obsWith(chainOpts{inter: 5 * evalDay}), func(o *pinwatchd.Observation) {
			o.VerifiedChain = nil
			o.Verification = pinwatchd.Verification{UntrustedReason: "x509: certificate signed by unknown authority", HostnameValid: true}
		})},
			want: []want{
				{kind: pinwatchd.KindCertExpiring, severity: crit, address: addr1, cert: interSHA, says: []string{"(intermediate 1)"}},
				{kind: pinwatchd.KindChainUntrusted, severity: crit, address: addr1},
			}},
		{name: "custom thresholds", target: tgt, th: &pinwatchd.Thresholds{ExpiryWarning: 60 * evalDay, ExpiryCritical: 45 * evalDay},
			obs:  []pinwatchd.Observation{obsWith(chainOpts{leaf: 50 * evalDay})},
			want: []want{{kind: pinwatchd.KindCertExpiring, severity: warn, address: addr1, cert: leafSHA}}},
	})
}

func TestEvaluateVerification(t *testing.T) {
	tgt := target(set("ios-app-5", leafPin, spareA))
	runEvalCases(t, []evalCase{
		{name: "untrusted", target: tgt, obs: []pinwatchd.Observation{with(okObs(addr1), func(o *pinwatchd.Observation) {
			o.VerifiedChain = nil
			o.Verification.Trusted = false
			o.Verification.UntrustedReason = "incomplete chain: no issuer for Example Intermediate"
		})},
			want: []want{{kind: pinwatchd.KindChainUntrusted, severity: crit, address: addr1,
				says: []string{addr1, "incomplete chain"}}}},
		{name: "hostname", target: tgt, obs: []pinwatchd.Observation{with(okObs(addr1), func(o *pinwatchd.Observation) {
			o.Verification.HostnameValid = false
			o.Verification.HostnameError = "x509: certificate is valid for other.example.com"
		})},
			want: []want{{kind: pinwatchd.KindHostnameMismatch, severity: crit, address: addr1,
				says: []string{quoted("api.example.com"), addr1, "other.example.com"}}}},
	})
}

func TestEvaluateConnectivity(t *testing.T) {
	tgt := httpTarget(nil, set("ios-app-5", spareA, spareB))
	var cases []evalCase
	for _, k := range []pinwatchd.Kind{pinwatchd.KindDNSFailed, pinwatchd.KindConnectFailed, pinwatchd.KindHandshakeFailed, pinwatchd.KindTimeout} {
		// A failed probe has no chain and zero verification: neither may
		// produce findings of their own.
		o := pinwatchd.Observation{Address: addr1, Error: &pinwatchd.ProbeError{Kind: k, Message: "details of " + string(k)}}
		cases = append(cases, evalCase{name: string(k), target: tgt, obs: []pinwatchd.Observation{o},
			want: []want{{kind: k, severity: warn, address: addr1, says: []string{addr1, "details of " + string(k)}}}})
	}
	cases = append(cases, evalCase{
		name: "timeout after the handshake keeps the chain", target: tgt,
		obs: []pinwatchd.Observation{with(okObs(addr1), func(o *pinwatchd.Observation) {
			o.Error = &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "header read passed its deadline"}
			o.HTTP, o.StrictTransportSecurity = nil, nil
		})},
		want: []want{
			{kind: pinwatchd.KindTimeout, severity: warn, address: addr1},
			{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5"},
		}})
	cases = append(cases, evalCase{
		name: "failing address next to a working one", target: tgt,
		obs: []pinwatchd.Observation{
			okObs(addr1),
			{Address: addr2, Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindConnectFailed, Message: "connection refused"}},
		},
		want: []want{
			{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5"},
			{kind: pinwatchd.KindConnectFailed, severity: warn, address: addr2},
			{kind: pinwatchd.KindNoPinHeader, severity: info, address: addr1},
		}})
	runEvalCases(t, cases)
}

func TestEvaluateHeaders(t *testing.T) {
	cfg := set("ios-app-5", leafPin, spareA)
	headers := func(pkp, ro *pinwatchd.PinHeader) pinwatchd.Observation {
		return with(okObs(addr1), func(o *pinwatchd.Observation) { o.PublicKeyPins, o.PublicKeyPinsReportOnly = pkp, ro })
	}
	runEvalCases(t, []evalCase{
		{name: "enforcing header with backup", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(pinHeader(leafPin, spareB), nil)}},
		{name: "enforcing header and configured set both failing", target: httpTarget(nil, set("ios-app-5", spareA, spareB)),
			obs: []pinwatchd.Observation{headers(pinHeader(spareB, otherLeaf), nil)},
			want: []want{
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5", says: []string{quoted("ios-app-5")}},
				{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "header",
					says: []string{quoted("header"), "Public-Key-Pins", otherLeaf.String(), leafPin.String()}},
			}},
		{name: "enforcing header without backup", target: httpTarget(nil, cfg),
			obs:  []pinwatchd.Observation{headers(pinHeader(leafPin), nil)},
			want: []want{{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr1, pinset: "header"}}},
		{name: "malformed enforcing header", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(badPinHeader("max-age is missing", "no pin-sha256 directive"), nil)},
			want: []want{{kind: pinwatchd.KindHeaderMalformed, severity: warn, address: addr1, pinset: "header",
				says: []string{"Public-Key-Pins", addr1, "max-age is missing", "no pin-sha256 directive"}}}},
		{name: "report-only mismatch is info", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(nil, pinHeader(spareA, spareB))},
			want: []want{
				{kind: pinwatchd.KindPinMismatch, severity: info, address: addr1, pinset: "header-report-only",
					says: []string{quoted("header-report-only"), addr1}},
				{kind: pinwatchd.KindHeaderReportOnly, severity: info, address: addr1, pinset: "header-report-only",
					says: []string{addr1, "Public-Key-Pins-Report-Only", "none of its pins"}},
			}},
		{name: "report-only single pin is info", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(nil, pinHeader(interPin))},
			want: []want{
				{kind: pinwatchd.KindMissingBackupPin, severity: info, address: addr1, pinset: "header-report-only"},
				{kind: pinwatchd.KindHeaderReportOnly, severity: info, address: addr1, pinset: "header-report-only",
					says: []string{"match"}},
			}},
		{name: "malformed report-only", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(nil, badPinHeader("includeSubDomains appears twice"))},
			want: []want{
				{kind: pinwatchd.KindHeaderMalformed, severity: warn, address: addr1, pinset: "header-report-only",
					says: []string{"Public-Key-Pins-Report-Only", "includeSubDomains appears twice"}},
				{kind: pinwatchd.KindHeaderReportOnly, severity: info, address: addr1, pinset: "header-report-only"},
			}},
		{name: "report-only next to an enforcing header", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(pinHeader(leafPin, spareA), pinHeader(leafPin, spareB))}},
		{name: "no pin header", target: httpTarget(nil, cfg), obs: []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindNoPinHeader, severity: info, address: addr1, says: []string{addr1}}}},
		{name: "no pin header with require_header", target: httpTarget(func(t *pinwatchd.Target) { t.RequireHeader = true }, cfg),
			obs:  []pinwatchd.Observation{okObs(addr1)},
			want: []want{{kind: pinwatchd.KindNoPinHeader, severity: warn, address: addr1}}},
		{name: "not HTTP-probed", target: target(cfg),
			obs: []pinwatchd.Observation{with(okObs(addr1), func(o *pinwatchd.Observation) { o.HTTP, o.StrictTransportSecurity = nil, nil })}},
		{name: "TLS endpoint that never answers HTTP", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{with(okObs(addr1), func(o *pinwatchd.Observation) {
				o.HTTP = &pinwatchd.HTTPResult{Method: "HEAD", Error: "malformed HTTP response"}
				o.StrictTransportSecurity = nil
			})},
			want: []want{
				{kind: pinwatchd.KindNoPinHeader, severity: info, address: addr1, says: []string{"did not answer HTTP", "malformed HTTP response"}},
				{kind: pinwatchd.KindHSTSMissing, severity: info, address: addr1, says: []string{"Strict-Transport-Security"}},
			}},
		{name: "pin header and hsts present", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{headers(pinHeader(leafPin, spareA), nil)}},
		{name: "hsts missing", target: httpTarget(nil, cfg),
			obs:  []pinwatchd.Observation{with(headers(pinHeader(leafPin, spareA), nil), func(o *pinwatchd.Observation) { o.StrictTransportSecurity = nil })},
			want: []want{{kind: pinwatchd.KindHSTSMissing, severity: info, address: addr1}}},
		{name: "hsts missing with require_hsts", target: httpTarget(func(t *pinwatchd.Target) { t.RequireHSTS = true }, cfg),
			obs: []pinwatchd.Observation{with(headers(pinHeader(leafPin, spareA), nil), func(o *pinwatchd.Observation) { o.StrictTransportSecurity = nil })},
			want: []want{{kind: pinwatchd.KindHSTSMissing, severity: warn, address: addr1,
				says: []string{addr1, "Strict-Transport-Security"}}}},
		{name: "hsts malformed", target: httpTarget(nil, cfg),
			obs: []pinwatchd.Observation{with(headers(pinHeader(leafPin, spareA), nil), func(o *pinwatchd.Observation) {
				o.StrictTransportSecurity = &pinwatchd.HSTSHeader{Raw: "max-age=abc", Errors: []string{"max-age \"abc\" is not digits"}}
			})},
			want: []want{{kind: pinwatchd.KindHSTSMalformed, severity: warn, address: addr1,
				says: []string{addr1, "Strict-Transport-Security", "not digits"}}}},
	})
}

func TestEvaluateIPInconsistent(t *testing.T) {
	rotated := func(addr string) pinwatchd.Observation {
		return with(okObs(addr), func(o *pinwatchd.Observation) {
			leaf := fakeCert("api.example.com", "Example Intermediate", otherLeaf, evalNow.Add(90*evalDay), false)
			o.ServedChain = []pinwatchd.Cert{leaf, o.ServedChain[1]}
			o.VerifiedChain = []pinwatchd.Cert{leaf, o.VerifiedChain[1], o.VerifiedChain[2]}
		})
	}
	const addr3 = "[2001:db8::1]:443"
	tgt := target(set("ios-app-5", leafPin, interPin, spareA))
	runEvalCases(t, []evalCase{
		{name: "two addresses, two keys", target: tgt, obs: []pinwatchd.Observation{okObs(addr1), okObs(addr3), rotated(addr2)},
			want: []want{{kind: pinwatchd.KindIPInconsistent, severity: warn,
				says: []string{leafPin.String() + " at " + addr1 + ", " + addr3, otherLeaf.String() + " at " + addr2}}}},
		{name: "one address", target: tgt, obs: []pinwatchd.Observation{rotated(addr2)}},
		{name: "two addresses, one key", target: tgt, obs: []pinwatchd.Observation{okObs(addr1), okObs(addr2)}},
		{name: "failed address does not count", target: tgt, obs: []pinwatchd.Observation{
			okObs(addr1), {Address: addr2, Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindHandshakeFailed, Message: "remote error"}},
		}, want: []want{{kind: pinwatchd.KindHandshakeFailed, severity: warn, address: addr2}}},
	})
}

func TestEvaluateSortsAndDeduplicates(t *testing.T) {
	tgt := httpTarget(nil, set("ios-app-5", spareA, spareB), set("android", leafPin))
	served, _ := chains(chainOpts{leaf: 20 * evalDay})
	obs := []pinwatchd.Observation{
		with(okObs(addr2), func(o *pinwatchd.Observation) {
			o.ServedChain, o.VerifiedChain = chains(chainOpts{leaf: 20 * evalDay})
			o.PublicKeyPinsReportOnly = pinHeader(spareA, spareB)
		}),
		{Address: addr1, Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: "connect passed its deadline"}},
		okObs(addr1), // the same address twice gives the same findings once
		okObs(addr1),
	}
	got := monitor.Evaluate(tgt, obs, pinwatchd.DefaultThresholds, evalNow)
	wantOrder := []string{
		want{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr1, pinset: "ios-app-5"}.key(),
		want{kind: pinwatchd.KindPinMismatch, severity: crit, address: addr2, pinset: "ios-app-5"}.key(),
		want{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr1, pinset: "android"}.key(),
		want{kind: pinwatchd.KindMissingBackupPin, severity: warn, address: addr2, pinset: "android"}.key(),
		want{kind: pinwatchd.KindCertExpiring, severity: warn, address: addr2, cert: served[0].SHA256}.key(),
		want{kind: pinwatchd.KindTimeout, severity: warn, address: addr1}.key(),
		want{kind: pinwatchd.KindPinMismatch, severity: info, address: addr2, pinset: "header-report-only"}.key(),
		want{kind: pinwatchd.KindHeaderReportOnly, severity: info, address: addr2, pinset: "header-report-only"}.key(),
		want{kind: pinwatchd.KindNoPinHeader, severity: info, address: addr1}.key(),
	}
	var gotOrder []string
	for _, f := range got {
		gotOrder = append(gotOrder, keyOf(f))
	}
	if !slices.Equal(gotOrder, wantOrder) {
		t.Fatalf("order:\n  got  %s\n  want %s", strings.Join(gotOrder, "\n       "), strings.Join(wantOrder, "\n       "))
	}
	if w := pinwatchd.Worst(got); w != crit {
		t.Errorf("worst severity = %s, want critical", w)
	}
}

func TestEvaluateNoFindingsIsEmptyNotNil(t *testing.T) {
	got := monitor.Evaluate(target(), nil, pinwatchd.DefaultThresholds, evalNow)
	if got == nil || len(got) != 0 {
		t.Fatalf("Evaluate of nothing = %#v, want an empty non-nil slice", got)
	}
}

func TestPinSetsFor(t *testing.T) {
	cfg := make([]pinwatchd.PinSet, 1, 4) // spare capacity must not be written to
	cfg[0] = set("ios-app-5", leafPin, spareA)
	tgt := &pinwatchd.Target{Name: "api", Host: "api.example.com", PinSets: cfg}
	tests := []struct {
		name    string
		pkp, ro *pinwatchd.PinHeader
		want    []string
	}{
		{name: "no headers", want: []string{"ios-app-5"}},
		{name: "both headers", pkp: pinHeader(leafPin), ro: pinHeader(spareA, spareB),
			want: []string{"ios-app-5", "header", "header-report-only (report-only)"}},
		{name: "malformed headers add nothing", pkp: badPinHeader("max-age is missing"), ro: badPinHeader("max-age is missing"),
			want: []string{"ios-app-5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := pinwatchd.Observation{Address: addr1, PublicKeyPins: tc.pkp, PublicKeyPinsReportOnly: tc.ro}
			var got []string
			for _, s := range monitor.PinSetsFor(tgt, &o) {
				name := s.Name
				if s.ReportOnly {
					name += " (report-only)"
				}
				got = append(got, name)
				if h := map[string]*pinwatchd.PinHeader{"header": tc.pkp, "header-report-only": tc.ro}[s.Name]; h != nil && !slices.Equal(s.Pins, h.Pins) {
					t.Errorf("pin-set %q pins = %v, want the header's %v", s.Name, s.Pins, h.Pins)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("PinSetsFor = %q, want %q", got, tc.want)
			}
			if extra := cfg[:cap(cfg)][1:]; slices.ContainsFunc(extra, func(s pinwatchd.PinSet) bool { return s.Name != "" }) {
				t.Errorf("PinSetsFor wrote into the target's pin-sets: %v", extra)
			}
		})
	}
}

// The findings that messages show a certificate for carry it (SPEC §8):
// the certificate at fault, or the served leaf next to the pins a
// pin_mismatch expected.
func TestEvaluateDetails(t *testing.T) {
	served, verified := chains(chainOpts{inter: 5 * evalDay})
	leaf, inter := served[0], served[1]
	summary := func(c pinwatchd.Cert, pos string) *pinwatchd.CertSummary {
		return &pinwatchd.CertSummary{Subject: c.Subject, Issuer: c.Issuer, NotAfter: c.NotAfter, SHA256: c.SHA256, Pin: c.Pin, Position: pos}
	}
	obs := with(okObs(addr1), func(o *pinwatchd.Observation) {
		o.ServedChain, o.VerifiedChain = served, verified
		o.Verification = pinwatchd.Verification{Trusted: false, UntrustedReason: "incomplete chain", HostnameValid: false, HostnameError: "not valid for api"}
	})
	got := monitor.Evaluate(httpTarget(nil, set("ios-app-5", spareA, spareB, spareA)), []pinwatchd.Observation{obs}, pinwatchd.DefaultThresholds, evalNow)
	want := map[pinwatchd.Kind]*pinwatchd.Details{
		pinwatchd.KindPinMismatch:      {Cert: summary(leaf, "leaf"), ExpectedPins: []pinwatchd.Pin{spareA, spareB}},
		pinwatchd.KindCertExpiring:     {Cert: summary(inter, "intermediate 1")},
		pinwatchd.KindChainUntrusted:   {Cert: summary(leaf, "leaf")},
		pinwatchd.KindHostnameMismatch: {Cert: summary(leaf, "leaf")},
		pinwatchd.KindNoPinHeader:      nil,
	}
	for _, f := range got {
		w, ok := want[f.Kind]
		if !ok {
			continue
		}
		delete(want, f.Kind)
		if !reflect.DeepEqual(f.Details, w) {
			t.Errorf("%s details =\n  %+v\nwant\n  %+v", f.Kind, derefDetails(f.Details), derefDetails(w))
		}
	}
	for k := range want {
		t.Errorf("no %s finding in %s", k, messages(got))
	}
}

func derefDetails(d *pinwatchd.Details) any {
	if d == nil || d.Cert == nil {
		return d
	}
	return struct {
		Cert pinwatchd.CertSummary
		Pins []pinwatchd.Pin
	}{*d.Cert, d.ExpectedPins}
}
