package monitor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"
)

// Verifying a served chain costs at most 50 ms of CPU per address, whatever
// the chain holds (SPEC §11, §16). Nearly all of that CPU is signature
// checks: crypto/x509 builds paths by checking a signature for every
// candidate issuer (every certificate named as the issuer) it considers, up
// to 100 per Verify call, and one check costs from 35 µs (RSA-2048) to
// 3.3 ms (P-521) on the reference machine. A leaf followed by a hundred CAs
// of one name therefore makes a single Verify call cost tens of
// milliseconds, and the retries of an expired chain at other instants
// multiply that.
//
// So before each Verify call, estimatePath bounds what the call can cost by
// walking the candidate issuers as x509 does, without checking any
// signature; a verification spends at most verifyBudget of such estimates
// (sigBudget). A chain whose first Verify alone could cost more is
// untrusted as "too costly to verify", without a signature checked; an
// expired chain whose retries would pass the budget keeps the verdict of the
// calls made, and its reason says the budget cut them short. No legitimate
// chain comes near: a leaf, two intermediates and a root cost a few
// milliseconds; it takes a handful of served CAs of one name that name
// each other as issuer, or five P-521 certificates in a row, to pass the
// budget. Verdicts are cached (verify.go), so a
// served chain costs this once.

// verifyBudget is the estimated signature-check time one address's
// verification may spend, on the reference machine (BENCHMARKS.md). The
// rest of the 50 ms is left for everything else verification does.
const verifyBudget = 40 * time.Millisecond

// maxVerifyInstants bounds the instants an expired chain is verified at,
// after the probe time itself, whatever the budget leaves.
const maxVerifyInstants = 8

// x509CheckLimit is crypto/x509's maxChainSignatureChecks: the candidate
// issuers one Verify call considers at most.
const x509CheckLimit = 100

// anchorCheckCost is what the estimate assumes one trust anchor of the
// right name costs at every step of a path: the roots are configuration,
// not peer input, and are not enumerated. It is a P-384 root, the costliest
// kind common in root stores.
const anchorCheckCost = 750 * time.Microsecond

// sigCheckCost returns what checking one signature by the key pub costs on
// the reference machine (Go 1.26, AMD EPYC at 2.6 GHz), rounded up.
func sigCheckCost(pub any) time.Duration {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); {
		case bits <= 2048:
			return 35 * time.Microsecond
		case bits <= 3072:
			return 190 * time.Microsecond
		case bits <= 4096:
			return 400 * time.Microsecond
		default: // grows with the square of the size: 1.6 ms at 8192 bits
			return time.Duration(int64(400*time.Microsecond) * int64(bits) / 4096 * int64(bits) / 4096)
		}
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return 80 * time.Microsecond
		case 384:
			return 750 * time.Microsecond
		}
	case ed25519.PublicKey:
		return 95 * time.Microsecond
	}
	return 3300 * time.Microsecond // P-521, or a key x509 may not even check
}

// pathEstimate bounds the work of one Verify call.
type pathEstimate struct {
	checks int           // candidate issuers considered, each at most one signature check
	cost   time.Duration // what their signature checks cost, at most
}

func (e pathEstimate) add(o pathEstimate) pathEstimate {
	return pathEstimate{checks: e.checks + o.checks, cost: e.cost + o.cost}
}

// estimatePath bounds what verifying peer[0] with the served certificates
// peer[1:] as intermediates costs at time at. It walks the candidate
// issuers depth first as x509's path building does, as if every signature
// checked out (a failing one ends its branch, so can only cost less), up to
// x509's limit of candidates; each costs the costliest served key, plus one
// trust anchor per step of a path. An invalid leaf costs nothing: Verify
// rejects it before building paths. twoStep adds the work of the two-step
// check of verifyChains where it may run.
func estimatePath(peer []*x509.Certificate, at time.Time, twoStep bool) pathEstimate {
	leaf := peer[0]
	if at.Before(leaf.NotBefore) || at.After(leaf.NotAfter) {
		return pathEstimate{}
	}
	w := pathWalk{byName: make(map[string][]*x509.Certificate)}
	var dedup [][]byte
	for _, c := range peer[1:] {
		// A CertPool keeps one copy of a certificate added twice.
		if containsBytes(dedup, c.Raw) {
			continue
		}
		dedup = append(dedup, c.Raw)
		w.byName[string(c.RawSubject)] = append(w.byName[string(c.RawSubject)], c)
		w.keyCost = max(w.keyCost, sigCheckCost(c.PublicKey))
	}
	w.walk(leaf, []*x509.Certificate{leaf})
	e := pathEstimate{checks: w.considered, cost: time.Duration(w.considered)*w.keyCost + time.Duration(w.steps)*anchorCheckCost}
	if twoStep {
		if i := servedIssuer(peer, at); i >= 0 {
			// Roots first, the issuer's own chain, the leaf against the
			// issuer, and Verify itself when the two steps cannot answer.
			e = e.add(e).add(pathEstimate{checks: 1, cost: sigCheckCost(peer[i].PublicKey) + anchorCheckCost})
		}
	}
	return e
}

// pathWalk is the state of estimatePath's walk.
type pathWalk struct {
	byName     map[string][]*x509.Certificate
	keyCost    time.Duration // the costliest served key's check
	considered int           // candidate issuers considered
	steps      int           // certificates whose issuers were looked up
}

func (w *pathWalk) walk(c *x509.Certificate, chain []*x509.Certificate) {
	w.steps++
	for _, p := range w.byName[string(c.RawIssuer)] {
		if w.considered >= x509CheckLimit {
			return
		}
		w.considered++
		if p.PublicKey == nil || inChain(p, chain) {
			continue
		}
		w.walk(p, append(chain[:len(chain):len(chain)], p))
	}
}

// inChain reports whether x509 treats c as already in chain (and skips
// it): a certificate with the same subject, key and subject alternative
// names.
func inChain(c *x509.Certificate, chain []*x509.Certificate) bool {
	san, hasSAN := sanValue(c)
	for _, o := range chain {
		if !bytes.Equal(c.RawSubject, o.RawSubject) || !bytes.Equal(c.RawSubjectPublicKeyInfo, o.RawSubjectPublicKeyInfo) {
			continue
		}
		osan, oHasSAN := sanValue(o)
		if hasSAN == oHasSAN && bytes.Equal(san, osan) {
			return true
		}
	}
	return false
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

func sanValue(c *x509.Certificate) ([]byte, bool) {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			return ext.Value, true
		}
	}
	return nil, false
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, l := range list {
		if bytes.Equal(l, b) {
			return true
		}
	}
	return false
}

// sigBudget is what one address's verification may still spend, and what
// it spent.
type sigBudget struct {
	left  time.Duration
	spent pathEstimate // the estimates of the Verify calls made
	calls int          // Verify calls made
}

func newSigBudget() *sigBudget { return &sigBudget{left: verifyBudget} }

// take reports whether a Verify call estimated at e fits in what is left,
// and if so counts it as spent.
func (b *sigBudget) take(e pathEstimate) bool {
	if e.cost > b.left {
		return false
	}
	b.left -= e.cost
	b.spent = b.spent.add(e)
	b.calls++
	return true
}

// full reports whether nothing was spent yet.
func (b *sigBudget) full() bool { return b.calls == 0 }

// tooCostly is the untrusted reason of a chain whose first Verify alone
// could cost more than the budget: it names the most repeated issuer name,
// the usual cause.
func tooCostly(peer []*x509.Certificate, e pathEstimate) string {
	counts := make(map[string]int)
	var name string
	var most int
	for _, c := range peer[1:] {
		counts[string(c.RawSubject)]++
		if n := counts[string(c.RawSubject)]; n > most {
			most, name = n, c.Subject.String()
		}
	}
	why := ""
	if most > 1 {
		why = fmt.Sprintf(" (%d of them named %q)", most, name)
	}
	checks := "checks"
	if e.checks == 1 {
		checks = "check"
	}
	return fmt.Sprintf("too costly to verify: building a path through the %d served certificates%s could take %d signature %s, about %s of CPU, past the %s pinwatchd spends on one address",
		len(peer), why, e.checks, checks, e.cost.Round(time.Millisecond), verifyBudget)
}
