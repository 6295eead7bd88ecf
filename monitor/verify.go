package monitor

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
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
// peer, in the same order, and is reused for the verified chain. Outcomes
// are cached per served chain and trust pool while every certificate stays
// inside its validity period, so an unchanged endpoint costs no signature
// checks.
func (p *Prober) verify(t *pinwatchd.Target, peer []*x509.Certificate, served []pinwatchd.Cert, now time.Time) (pinwatchd.Verification, []pinwatchd.Cert) {
	var v pinwatchd.Verification
	if len(peer) == 0 {
		v.UntrustedReason = "the server sent no certificate"
		v.HostnameError = v.UntrustedReason
		return v, nil
	}
	if err := peer[0].VerifyHostname(strings.Trim(t.Host, "[]")); err != nil {
		v.HostnameError = strings.TrimPrefix(err.Error(), "x509: ")
	} else {
		v.HostnameValid = true
	}

	roots, more, err := p.roots(t.CAFile)
	if err != nil {
		v.UntrustedReason = err.Error()
		return v, nil
	}
	key := verdictKey(t.CAFile, served)
	d := p.verdict(key, peer, roots, now)
	if d.reason != "" && more != nil {
		// Not anchored in the ca_file alone: try the system roots too,
		// cached apart so the two verdicts do not evict each other.
		d = p.verdict(sha256.Sum256(append(key[:], "+system"...)), peer, more(), now)
	}
	v.Trusted, v.UntrustedReason = d.reason == "", d.reason
	return v, d.chain(served)
}

// verdict returns the cached verdict of peer against roots, building it on
// a miss.
func (p *Prober) verdict(key [sha256.Size]byte, peer []*x509.Certificate, roots *x509.CertPool, now time.Time) *verdict {
	if d, ok := p.verdicts.get(key, roots, now); ok {
		return d
	}
	d := p.verdicts.build(peer, roots, now)
	if !now.Before(d.from) && !now.After(d.until) {
		p.verdicts.put(key, d)
	}
	return d
}

// build verifies peer against roots at now and, when that fails only
// because certificates are expired or not yet valid, at an instant when
// they are valid.
func (c *verdictCache) build(peer []*x509.Certificate, roots *x509.CertPool, now time.Time) *verdict {
	leaf := peer[0]
	opts := x509.VerifyOptions{Roots: roots, CurrentTime: now}
	if len(peer) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, ic := range peer[1:] {
			opts.Intermediates.AddCert(ic)
		}
	}
	chains, err := c.verifyChains(peer, opts)
	if err != nil && !allValidAt(peer, now) {
		for _, at := range validInstants(peer) {
			opts.CurrentTime = at
			c, rerr := leaf.Verify(opts)
			if rerr == nil {
				chains, err = c, nil
				break
			}
			err = rerr
		}
	}
	d := &verdict{roots: roots}
	d.from, d.until = validity(peer)
	if err != nil {
		d.reason = untrustedReason(err, peer)
		return d
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
	return d
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
