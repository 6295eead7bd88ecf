package monitor

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// servedOf returns the recorded forms of peer.
func servedOf(peer []*x509.Certificate) []pinwatchd.Cert {
	out := make([]pinwatchd.Cert, len(peer))
	for i, c := range peer {
		out[i] = pinwatchd.CertFromX509(c)
	}
	return out
}

// verifyCall verifies peer for "localhost" with its own budget and returns
// the outcome and the budget, failing the test on error.
func verifyCall(t *testing.T, p *Prober, peer []*x509.Certificate, now time.Time, b *sigBudget) (pinwatchd.Verification, *sigBudget) {
	t.Helper()
	if b == nil {
		b = newSigBudget()
	}
	v, _, err := p.verifyWithin(t.Context(), &pinwatchd.Target{Host: "localhost", Port: 443}, peer, servedOf(peer), now, b)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return v, b
}

// expiredIntermediate returns a leaf and its expired issuer under a root
// pool that trusts them: a chain that verifies only at an earlier instant.
func expiredIntermediate(t *testing.T, now time.Time) ([]*x509.Certificate, *x509.CertPool) {
	day := 24 * time.Hour
	root := testpki.NewRoot(t, testpki.Options{NotBefore: now.Add(-1000 * day)})
	inter := root.Intermediate(t, testpki.Options{NotBefore: now.Add(-400 * day), NotAfter: now.Add(-day)})
	leaf := inter.Leaf(t, testpki.Options{NotBefore: now.Add(-60 * day), NotAfter: now.Add(30 * day)})
	return []*x509.Certificate{leaf.Cert, inter.Cert}, (&testpki.PKI{Root: root}).RootPool()
}

// TestVerifySignatureChecksBounded verifies hostile chains and counts, by
// the estimates of the Verify calls made (each bounds that call's signature
// checks and their cost), what one address's verification spends: never
// more than the budget, whatever the chain.
func TestVerifySignatureChecksBounded(t *testing.T) {
	h, err := hostile()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expired, expiredRoots := expiredIntermediate(t, now)

	p521 := p521Line(t, maxChainCerts) // each check costs about 3 ms

	tests := []struct {
		name      string
		peer      []*x509.Certificate
		roots     *x509.CertPool
		calls     int // Verify calls made
		trusted   bool
		reasonHas string // part of the untrusted reason
	}{
		{"leaf and 100 same-name RSA-4096 CAs, one expired", h.peer, x509.NewCertPool(), 0, false,
			`too costly to verify: building a path through the 101 served certificates (100 of them named "CN=hostile CA,O=pinwatchd test") could take 100 signature checks`},
		{"leaf and 3 of those CAs with the expired one", []*x509.Certificate{h.peer[0], h.peer[1], h.peer[2], h.peer[1+hostileCAs/2]},
			x509.NewCertPool(), 1, false, `"CN=hostile CA,O=pinwatchd test" is self-signed and not a trusted root`},
		{"20 P-521 certificates", p521, x509.NewCertPool(), 0, false, "could take 41 signature checks"},
		{"expired intermediate", expired, expiredRoots, 2, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, b := verifyCall(t, &Prober{Roots: tc.roots}, tc.peer, now, nil)
			t.Logf("%d Verify calls, at most %d signature checks costing %v", b.calls, b.spent.checks, b.spent.cost)
			if b.spent.cost > verifyBudget || b.calls > 1+maxVerifyInstants || b.spent.checks > b.calls*x509CheckLimit {
				t.Errorf("spent %v in %d signature checks over %d Verify calls; want at most %v and %d calls",
					b.spent.cost, b.spent.checks, b.calls, verifyBudget, 1+maxVerifyInstants)
			}
			if b.calls != tc.calls || v.Trusted != tc.trusted || !strings.Contains(v.UntrustedReason, tc.reasonHas) {
				t.Errorf("%d Verify calls, %+v; want %d calls, trusted %v, reason with %q", b.calls, v, tc.calls, tc.trusted, tc.reasonHas)
			}
		})
	}
}

// TestVerifyRetriesWithinBudget: an expired chain is verified again at an
// instant when its certificates are valid only as far as the budget allows,
// and says so when the budget ran out first.
func TestVerifyRetriesWithinBudget(t *testing.T) {
	now := time.Now()
	peer, roots := expiredIntermediate(t, now)
	first := estimatePath(peer, now, true)
	for _, tc := range []struct {
		name    string
		left    time.Duration
		calls   int
		trusted bool
		reason  string
	}{
		{"whole budget", verifyBudget, 2, true, ""},
		{"budget for the first call only", first.cost, 1, false, "certificate has expired or is not yet valid"},
		{"budget for no call", first.cost - 1, 0, false, "too costly to verify: building a path through the 2 served certificates could take 1 signature check,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, b := verifyCall(t, &Prober{Roots: roots}, peer, now, &sigBudget{left: tc.left})
			if b.calls != tc.calls || v.Trusted != tc.trusted || !strings.Contains(v.UntrustedReason, tc.reason) {
				t.Errorf("%d calls, %+v; want %d calls, trusted %v, reason with %q", b.calls, v, tc.calls, tc.trusted, tc.reason)
			}
			if tc.calls == 1 && !strings.HasSuffix(v.UntrustedReason, "(not verified at every instant the certificates are valid: the verification budget is spent)") {
				t.Errorf("reason %q does not say the budget cut the verification short", v.UntrustedReason)
			}
		})
	}
}

// TestVerifyCachesVerdicts: verdicts on failed and expired chains are
// reused by content until a served certificate enters or leaves its
// validity period.
func TestVerifyCachesVerdicts(t *testing.T) {
	now := time.Now()
	expired, expiredRoots := expiredIntermediate(t, now)
	pki := testpki.New(t)
	h, err := hostile()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		peer    []*x509.Certificate
		roots   *x509.CertPool
		trusted bool
	}{
		{"expired intermediate", expired, expiredRoots, true},
		{"unknown root", []*x509.Certificate{pki.Leaf.Cert, pki.Intermediate.Cert}, testpki.New(t).RootPool(), false},
		{"100 same-name CAs", h.peer, x509.NewCertPool(), false},
		{"3 same-name CAs", []*x509.Certificate{h.peer[0], h.peer[1], h.peer[2], h.peer[1+hostileCAs/2]}, x509.NewCertPool(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Prober{Roots: tc.roots}
			v1, _ := verifyCall(t, p, tc.peer, now, nil)
			v2, b := verifyCall(t, p, tc.peer, now.Add(time.Minute), nil)
			if v1.Trusted != tc.trusted || v2 != v1 || b.calls != 0 {
				t.Errorf("second verification: %+v after %d Verify calls; want %+v from the cache", v2, b.calls, v1)
			}
			// Another pool (a changed ca_file) is another verdict.
			key := verdictKey("", servedOf(tc.peer))
			if _, ok := p.verdicts.get(key, tc.roots, now); !ok {
				t.Error("the verdict is not cached under its served chain")
			}
			if _, ok := p.verdicts.get(key, tc.roots.Clone(), now); ok {
				t.Error("a verdict is reused for another trust pool")
			}
		})
	}

	// Once the leaf expires the chain is verified again.
	p := &Prober{Roots: expiredRoots}
	verifyCall(t, p, expired, now, nil)
	if _, b := verifyCall(t, p, expired, expired[0].NotAfter.Add(time.Second), nil); b.calls == 0 {
		t.Error("the verdict was reused after the leaf expired")
	}
}

// TestVerifyHonoursContext: a probe whose time is up gets no verdict, and
// none is cached.
func TestVerifyHonoursContext(t *testing.T) {
	now := time.Now()
	peer, roots := expiredIntermediate(t, now)
	p := &Prober{Roots: roots}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := p.verify(ctx, &pinwatchd.Target{Host: "localhost"}, peer, servedOf(peer), now); !errors.Is(err, context.Canceled) {
		t.Fatalf("verify with a cancelled context: %v, want context.Canceled", err)
	}
	if v, b := verifyCall(t, p, peer, now, nil); !v.Trusted || b.calls == 0 {
		t.Errorf("after a cancelled verification: %+v with %d Verify calls; want a fresh trusted verdict", v, b.calls)
	}
}

func TestEstimatePath(t *testing.T) {
	pki := testpki.New(t)
	leaf, inter := pki.Leaf.Cert, pki.Intermediate.Cert
	now := time.Now()
	one := pathEstimate{checks: 1, cost: sigCheckCost(inter.PublicKey) + 2*anchorCheckCost}
	for _, tc := range []struct {
		name    string
		peer    []*x509.Certificate
		at      time.Time
		twoStep bool
		want    pathEstimate
	}{
		{"leaf and issuer", []*x509.Certificate{leaf, inter}, now, false, one},
		{"served twice", []*x509.Certificate{leaf, inter, inter}, now, false, one},
		{"two-step check", []*x509.Certificate{leaf, inter}, now, true,
			one.add(one).add(pathEstimate{checks: 1, cost: sigCheckCost(inter.PublicKey) + anchorCheckCost})},
		{"leaf alone", []*x509.Certificate{leaf}, now, false, pathEstimate{cost: anchorCheckCost}},
		{"leaf expired", []*x509.Certificate{leaf, inter}, leaf.NotAfter.Add(time.Second), false, pathEstimate{}},
	} {
		if got := estimatePath(tc.peer, tc.at, tc.twoStep); got != tc.want {
			t.Errorf("%s: estimate %+v, want %+v", tc.name, got, tc.want)
		}
	}
	h, err := hostile()
	if err != nil {
		t.Fatal(err)
	}
	if got := estimatePath(h.peer, h.now, true); got.checks != x509CheckLimit || got.cost < x509CheckLimit*sigCheckCost(h.peer[1].PublicKey) {
		t.Errorf("100 same-name RSA-4096 CAs: estimate %+v, want x509's limit of %d checks at %v each", got, x509CheckLimit, sigCheckCost(h.peer[1].PublicKey))
	}
}

func TestStableAround(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	a := &x509.Certificate{NotBefore: at(0), NotAfter: at(10)}
	b := &x509.Certificate{NotBefore: at(2), NotAfter: at(6)}
	for _, tc := range []struct {
		now         time.Time
		from, until time.Time
	}{
		{at(4), at(2), at(6)}, // both valid: latest NotBefore to earliest NotAfter
		{at(1), at(0), at(2).Add(-time.Nanosecond)},
		{at(8), at(6).Add(time.Nanosecond), at(10)}, // b expired
		{at(6), at(2), at(6)},                       // NotAfter is still valid
	} {
		if from, until := stableAround([]*x509.Certificate{a, b}, tc.now); !from.Equal(tc.from) || !until.Equal(tc.until) {
			t.Errorf("stableAround at %v = %v, %v; want %v, %v", tc.now, from, until, tc.from, tc.until)
		}
	}
}
