package monitor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// verify checks the served chain against the trust anchors, separately from
// the handshake, and returns the outcome with the verified chain (leaf to
// anchor; nil when no chain was built). Expiry does not make a chain
// untrusted: expiry has its own findings. served holds the recorded forms of
// peer, in the same order, and is reused for the verified chain.
//
// Verification is bounded (see verifybudget.go) and its verdicts, failed
// ones included, are cached by served chain and trust pool for as long as
// no served certificate enters or leaves its validity period, so an
// unchanged endpoint costs no signature checks. It returns ctx's error,
// and no verdict, when ctx is done before the verdict is reached.
func (p *Prober) verify(ctx context.Context, t *pinwatchd.Target, peer []*x509.Certificate, served []pinwatchd.Cert, now time.Time) (pinwatchd.Verification, []pinwatchd.Cert, error) {
	return p.verifyWithin(ctx, t, peer, served, now, newSigBudget())
}

// verifyWithin is verify spending at most budget.
func (p *Prober) verifyWithin(ctx context.Context, t *pinwatchd.Target, peer []*x509.Certificate, served []pinwatchd.Cert, now time.Time, budget *sigBudget) (pinwatchd.Verification, []pinwatchd.Cert, error) {
	var v pinwatchd.Verification
	if len(peer) == 0 {
		v.UntrustedReason = "the server sent no certificate"
		v.HostnameError = v.UntrustedReason
		return v, nil, nil
	}
	if err := peer[0].VerifyHostname(strings.Trim(t.Host, "[]")); err != nil {
		v.HostnameError = strings.TrimPrefix(err.Error(), "x509: ")
	} else {
		v.HostnameValid = true
	}

	roots, more, err := p.roots(t.CAFile)
	if err != nil {
		v.UntrustedReason = err.Error()
		return v, nil, nil
	}
	key := verdictKey(t.CAFile, served)
	d, err := p.verdict(ctx, key, peer, served, roots, now, budget)
	if err != nil {
		return v, nil, err
	}
	if d.reason != "" && more != nil {
		// Not anchored in the ca_file alone: try the system roots too,
		// cached apart so the two verdicts do not evict each other.
		if d, err = p.verdict(ctx, sha256.Sum256(append(key[:], "+system"...)), peer, served, more(), now, budget); err != nil {
			return v, nil, err
		}
	}
	v.Trusted, v.UntrustedReason = d.reason == "", d.reason
	return v, d.chain(served), nil
}

// verdict returns the cached verdict of peer against roots, building it on
// a miss within budget.
func (p *Prober) verdict(ctx context.Context, key [sha256.Size]byte, peer []*x509.Certificate, served []pinwatchd.Cert, roots *x509.CertPool, now time.Time, budget *sigBudget) (*verdict, error) {
	if d, ok := p.verdicts.get(key, roots, now); ok {
		return d, nil
	}
	fresh := budget.full()
	d, err := p.verdicts.build(ctx, peer, servedSums(served, peer), roots, now, budget, p.KnownSignatures)
	if err != nil {
		return nil, err
	}
	// A verdict the budget cut short is kept only if a whole budget would
	// have cut it the same way.
	if (!d.limited || fresh) && !now.Before(d.from) && !now.After(d.until) {
		p.verdicts.put(key, d)
	}
	return d, nil
}

// build verifies peer against roots at now and, when that fails while some
// served certificate is expired or not yet valid, at instants when they are
// valid, as far as budget allows. Signatures in known are not checked again
// (see verifyChains).
func (c *verdictCache) build(ctx context.Context, peer []*x509.Certificate, sums [][sha256.Size]byte, roots *x509.CertPool, now time.Time, budget *sigBudget, known map[SignatureLink]struct{}) (*verdict, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	leaf := peer[0]
	// The served intermediates go into a pool only for Verify itself: the
	// two-step check (viaIssuer), which verifies most chains, needs none.
	opts := x509.VerifyOptions{Roots: roots, CurrentTime: now}
	d := &verdict{roots: roots}
	d.from, d.until = stableAround(peer, now)
	if e := estimatePath(peer, now, true); !budget.take(e) {
		d.reason, d.limited = tooCostly(peer, e), true
		return d, nil
	}
	chains, err := c.verifyChains(peer, sums, opts, known)
	if err != nil && !allValidAt(peer, now) {
		opts.Intermediates = intermediates(peer)
		for i, at := range validInstants(peer) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if i == maxVerifyInstants || !budget.take(estimatePath(peer, at, false)) {
				d.limited = true
				break
			}
			opts.CurrentTime = at
			c, rerr := leaf.Verify(opts)
			if rerr == nil {
				chains, err = c, nil
				break
			}
			err = rerr
		}
	}
	if err != nil {
		d.reason = untrustedReason(err, peer)
		if d.limited {
			d.reason += " (not verified at every instant the certificates are valid: the verification budget is spent)"
		}
		return d, nil
	}
	d.links = make([]link, len(chains[0]))
	for i, cert := range chains[0] {
		if j := indexCert(peer, cert); j >= 0 {
			d.links[i] = link{served: j}
			continue
		}
		d.links[i] = link{served: -1, anchor: c.anchor(cert)}
		if cert.NotBefore.After(d.from) {
			d.from = cert.NotBefore
		}
		if cert.NotAfter.Before(d.until) {
			d.until = cert.NotAfter
		}
	}
	return d, nil
}

// stableAround returns the longest interval around now in which no
// certificate of certs enters or leaves its validity period (a certificate
// is valid from NotBefore to NotAfter, both included): a verdict reached at
// now holds across it. When every certificate is valid at now it is the
// latest NotBefore to the earliest NotAfter.
func stableAround(certs []*x509.Certificate, now time.Time) (from, until time.Time) {
	from, until = time.Time{}, time.Unix(1<<62, 0)
	for _, c := range certs {
		for _, edge := range [2]time.Time{c.NotBefore, c.NotAfter.Add(time.Nanosecond)} {
			// edge is the first instant of a new state.
			if !edge.After(now) {
				if edge.After(from) {
					from = edge
				}
			} else if last := edge.Add(-time.Nanosecond); last.Before(until) {
				until = last
			}
		}
	}
	return from, until
}

// validity returns the latest NotBefore and the earliest NotAfter of certs.
func validity(certs []*x509.Certificate) (from, until time.Time) {
	from, until = certs[0].NotBefore, certs[0].NotAfter
	for _, c := range certs[1:] {
		if c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	return from, until
}

// verdict is the outcome of verifying one served chain against one trust
// pool. It holds while the time is within [from, until].
type verdict struct {
	roots       *x509.CertPool
	from, until time.Time
	reason      string // why the chain is untrusted; empty when trusted
	links       []link // the verified chain, leaf first
	limited     bool   // the budget stopped the verification short
}

// link is one certificate of a verified chain: a served one by index, or
// another (the anchor).
type link struct {
	served int
	anchor *pinwatchd.Cert
}

// chain returns the verified chain, taking served certificates from served.
func (d *verdict) chain(served []pinwatchd.Cert) []pinwatchd.Cert {
	if d.links == nil {
		return nil
	}
	chain := make([]pinwatchd.Cert, len(d.links))
	for i, l := range d.links {
		if l.served >= 0 {
			chain[i] = served[l.served]
		} else {
			chain[i] = *l.anchor
		}
	}
	return chain
}

// Bounds of the verdict cache: verdicts take about 200 bytes each, anchors
// are shared between them.
const (
	maxVerdicts = 16384
	maxAnchors  = 1024
)

// verdictCache remembers verdicts by served chain and CA file, and the
// recorded form of each trust anchor they end at.
type verdictCache struct {
	mu      sync.Mutex
	m       map[[sha256.Size]byte]*verdict
	anchors map[*x509.Certificate]*pinwatchd.Cert
	issuers issuerCache // see verifyChains
}

// anchor returns the shared recorded form of a certificate from a trust
// pool.
func (c *verdictCache) anchor(cert *x509.Certificate) *pinwatchd.Cert {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.anchors[cert]; ok {
		return a
	}
	if c.anchors == nil || len(c.anchors) >= maxAnchors {
		c.anchors = make(map[*x509.Certificate]*pinwatchd.Cert)
	}
	a := pinwatchd.CertFromX509(cert)
	c.anchors[cert] = &a
	return &a
}

// verdictKey identifies a served chain verified with a target's CA file.
// servedSums returns the SHA-256 of each certificate of peer from their
// recorded forms served (hexadecimal), so that verification does not hash
// the DER again; nil when served does not match peer.
func servedSums(served []pinwatchd.Cert, peer []*x509.Certificate) [][sha256.Size]byte {
	if len(served) != len(peer) {
		return nil
	}
	sums := make([][sha256.Size]byte, len(served))
	for i := range served {
		if n, err := hex.Decode(sums[i][:], []byte(served[i].SHA256)); err != nil || n != sha256.Size {
			return nil
		}
	}
	return sums
}

func verdictKey(caFile string, served []pinwatchd.Cert) [sha256.Size]byte {
	b := make([]byte, 0, len(caFile)+1+len(served)*64)
	b = append(b, caFile...)
	b = append(b, 0)
	for _, c := range served {
		b = append(b, c.SHA256...)
	}
	return sha256.Sum256(b)
}

func (c *verdictCache) get(key [sha256.Size]byte, roots *x509.CertPool, now time.Time) (*verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[key]
	if !ok || d.roots != roots || now.Before(d.from) || now.After(d.until) {
		return nil, false
	}
	return d, true
}

func (c *verdictCache) put(key [sha256.Size]byte, d *verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[sha256.Size]byte]*verdict)
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= maxVerdicts {
		for k := range c.m { // evict an arbitrary entry
			delete(c.m, k)
			break
		}
	}
	c.m[key] = d
}

// indexCert returns the position of c in certs by identity or DER, or -1.
func indexCert(certs []*x509.Certificate, c *x509.Certificate) int {
	for i, s := range certs {
		if s == c || bytes.Equal(s.Raw, c.Raw) {
			return i
		}
	}
	return -1
}

// allValidAt reports whether every certificate is inside its validity period
// at t.
func allValidAt(certs []*x509.Certificate, t time.Time) bool {
	for _, c := range certs {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return false
		}
	}
	return true
}

// validInstants returns the instants worth verifying an expired chain at,
// best first: the latest NotBefore when every certificate is valid then, and
// the last second of each certificate's validity (for chains that do not
// use every served certificate, or whose anchor's validity matters).
func validInstants(certs []*x509.Certificate) []time.Time {
	latest := certs[0].NotBefore
	for _, c := range certs[1:] {
		if c.NotBefore.After(latest) {
			latest = c.NotBefore
		}
	}
	at := make([]time.Time, 0, len(certs)+1)
	if allValidAt(certs, latest) {
		at = append(at, latest)
	}
	for _, c := range certs {
		if t := c.NotAfter.Add(-time.Second); !slices.ContainsFunc(at, t.Equal) {
			at = append(at, t)
		}
	}
	return at
}

// untrustedReason explains a verification error in one phrase, naming the
// missing issuer when the chain cannot be completed.
func untrustedReason(err error, peer []*x509.Certificate) string {
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		return strings.TrimPrefix(err.Error(), "x509: ")
	}
	top := chainTop(peer)
	if bytes.Equal(top.RawIssuer, top.RawSubject) {
		return fmt.Sprintf("certificate signed by unknown authority: %q is self-signed and not a trusted root", top.Subject.String())
	}
	return fmt.Sprintf("certificate signed by unknown authority: issuer %q of %q was not served and is not a trusted root (incomplete chain: missing intermediate, or an unknown CA)",
		top.Issuer.String(), top.Subject.String())
}

// chainTop follows issuers from the leaf through the served certificates and
// returns the last one reached.
func chainTop(peer []*x509.Certificate) *x509.Certificate {
	top := peer[0]
	for range peer {
		if bytes.Equal(top.RawIssuer, top.RawSubject) {
			return top
		}
		next := (*x509.Certificate)(nil)
		for _, c := range peer[1:] {
			if c != top && bytes.Equal(c.RawSubject, top.RawIssuer) {
				next = c
				break
			}
		}
		if next == nil {
			return top
		}
		top = next
	}
	return top
}
