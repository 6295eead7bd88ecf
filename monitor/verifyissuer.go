package monitor

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"runtime"
	"time"
)

// Most endpoints of a fleet are issued by a handful of intermediates, and
// checking an intermediate's signature again for every leaf it issued is
// half of the CPU a chain verification costs. verifyChains therefore
// verifies a leaf in two steps when that gives exactly the chain
// x509.Certificate.Verify would: the served issuer's own chain (cached per
// served intermediates and trust pool), then the leaf against that issuer
// alone. Whenever the shape of the chain could make the two answers differ
// (constraints above the issuer, ambiguous issuers, a root that could sign
// the leaf, certificates out of their validity, platform verifiers), it
// calls Verify as before.

// maxIssuerChains bounds the cache of verified issuer chains.
const maxIssuerChains = 1024

// issuerChain is the verified chain of a served issuing certificate (issuer
// first, anchor last) against one trust pool, valid within [from, until].
type issuerChain struct {
	roots       *x509.CertPool
	from, until time.Time
	chain       []*x509.Certificate
	pool        *x509.CertPool // holds the issuer alone, for the leaf's check
	issuerSum   [sha256.Size]byte
}

// issuerCache holds issuer chains keyed by the served certificates above the
// leaf. The verifier's mutex guards it.
type issuerCache struct {
	m map[[sha256.Size]byte]*issuerChain
}

// platformVerifier is true where Verify hands system roots to the operating
// system, whose answer the two-step check cannot reproduce.
var platformVerifier = runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios"

// SignatureLink names a certificate and the certificate that issued it, each
// by the SHA-256 of its DER: the two are consecutive in a chain that
// verified, so the issuer's key signed the certificate, and the certificate
// passed the checks x509 applies between the two (the issuer's CA flag and
// key usage, the certificate's critical extensions and extended key usage).
// All of these depend on the two DER encodings alone, so they hold for ever.
type SignatureLink struct {
	Cert, Issuer [sha256.Size]byte
}

// verifyChains returns leaf.Verify(opts) for the served chain peer, or a
// single chain equal to the first chain it would return. A leaf whose link
// to its served issuer is in known skips the second step's signature check
// (a third of a probe's CPU when the issuer's chain is cached); the
// issuer's own chain and every time-dependent check are done as before.
//
// sums holds the SHA-256 of each certificate of peer when the caller has
// them already (nil: computed here as needed).
func (c *verdictCache) verifyChains(peer []*x509.Certificate, sums [][sha256.Size]byte, opts x509.VerifyOptions, known map[SignatureLink]struct{}) ([][]*x509.Certificate, error) {
	if chain := c.viaIssuer(peer, sums, opts, known); chain != nil {
		return [][]*x509.Certificate{chain}, nil
	}
	opts.Intermediates = intermediates(peer)
	return peer[0].Verify(opts)
}

// intermediates returns the served certificates above the leaf as a pool,
// nil when there are none.
func intermediates(peer []*x509.Certificate) *x509.CertPool {
	if len(peer) < 2 {
		return nil
	}
	pool := x509.NewCertPool()
	for _, c := range peer[1:] {
		pool.AddCert(c)
	}
	return pool
}

// unknownAuthority reports whether err says that no root issued the
// certificate (Verify returns the error itself; errors.As is only needed,
// and slower, for a wrapped one).
func unknownAuthority(err error) bool {
	if _, ok := err.(x509.UnknownAuthorityError); ok { //nolint:errorlint // fast path; errors.As below
		return true
	}
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua)
}

// viaIssuer returns the verified chain of peer built in two steps, or nil
// when that cannot be done or might differ from Verify's first chain.
func (c *verdictCache) viaIssuer(peer []*x509.Certificate, sums [][sha256.Size]byte, opts x509.VerifyOptions, known map[SignatureLink]struct{}) []*x509.Certificate {
	at := servedIssuer(peer, opts.CurrentTime)
	if at < 0 {
		return nil
	}
	if len(sums) != len(peer) {
		sums = make([][sha256.Size]byte, len(peer))
		for i, p := range peer {
			sums[i] = sha256.Sum256(p.Raw)
		}
	}
	leaf, issuer := peer[0], peer[at]
	// Verify tries the roots first: a chain through them alone would be its
	// first answer. Without a root named as the leaf's issuer this costs no
	// signature check.
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: opts.Roots, CurrentTime: opts.CurrentTime}); !unknownAuthority(err) {
		return nil
	}
	ic := c.issuerChain(issuer, sums[at], sums[1:], peer[1:], opts)
	if ic == nil {
		return nil
	}
	// servedIssuer checked that both are valid at opts.CurrentTime: all a
	// known link leaves to check.
	if len(known) > 0 {
		if _, ok := known[SignatureLink{sums[0], ic.issuerSum}]; ok {
			return append([]*x509.Certificate{leaf}, ic.chain...)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: ic.pool, CurrentTime: opts.CurrentTime})
	if err != nil || len(chains) == 0 || len(chains[0]) != 2 {
		return nil
	}
	return append([]*x509.Certificate{leaf}, ic.chain...)
}

// servedIssuer returns the index in peer of the served certificate the
// two-step check would verify the leaf against at time at, or -1 when the
// chain's shape rules the two-step check out. It checks no signature.
func servedIssuer(peer []*x509.Certificate, at time.Time) int {
	if platformVerifier || len(peer) < 2 || !allValidAt(peer, at) {
		return -1
	}
	leaf := peer[0]
	found := -1
	for i, p := range peer[1:] {
		if bytes.Equal(p.RawSubject, leaf.RawIssuer) {
			if found >= 0 {
				return -1 // Verify might take either
			}
			found = i + 1
		}
	}
	if found < 0 {
		return -1
	}
	// Verify checks an intermediate's CA flag, which the second step (the
	// issuer as a root) would not.
	if issuer := peer[found]; !issuer.BasicConstraintsValid || !issuer.IsCA || bytes.Equal(issuer.Raw, leaf.Raw) || policyConstrained(issuer) {
		return -1
	}
	return found
}

// issuerChain returns the verified chain of issuer with the served
// certificates rest as intermediates, from the cache when it holds one for
// the same certificates and pool at opts.CurrentTime; nil when it does not
// verify or holds a constraint the two-step check would apply differently.
// issuerSum and restSums are the SHA-256 of issuer and of each of rest.
func (c *verdictCache) issuerChain(issuer *x509.Certificate, issuerSum [sha256.Size]byte, restSums [][sha256.Size]byte, rest []*x509.Certificate, opts x509.VerifyOptions) *issuerChain {
	now := opts.CurrentTime
	buf := make([]byte, 0, (len(restSums)+1)*sha256.Size)
	for _, sum := range restSums {
		buf = append(buf, sum[:]...)
	}
	buf = append(buf, issuerSum[:]...)
	key := sha256.Sum256(buf)

	c.mu.Lock()
	e, ok := c.issuers.m[key]
	c.mu.Unlock()
	if ok && e.roots == opts.Roots && !now.Before(e.from) && !now.After(e.until) {
		return e
	}
	inter := x509.NewCertPool()
	for _, r := range rest {
		inter.AddCert(r)
	}
	chains, err := issuer.Verify(x509.VerifyOptions{Roots: opts.Roots, Intermediates: inter, CurrentTime: now})
	if err != nil || len(chains) == 0 {
		return nil
	}
	chain := chains[0]
	for _, above := range chain[1:] {
		if nameConstrained(above) || policyConstrained(above) || (above.BasicConstraintsValid && above.MaxPathLen >= 0) {
			return nil
		}
	}
	e = &issuerChain{roots: opts.Roots, chain: chain, pool: x509.NewCertPool(), issuerSum: issuerSum}
	e.from, e.until = validity(chain)
	e.pool.AddCert(issuer)
	c.mu.Lock()
	if c.issuers.m == nil || len(c.issuers.m) >= maxIssuerChains {
		c.issuers.m = make(map[[sha256.Size]byte]*issuerChain)
	}
	c.issuers.m[key] = e
	c.mu.Unlock()
	return e
}

// nameConstrained reports whether c constrains the names below it.
func nameConstrained(c *x509.Certificate) bool {
	return c.PermittedDNSDomainsCritical || len(c.PermittedDNSDomains) > 0 || len(c.ExcludedDNSDomains) > 0 ||
		len(c.PermittedIPRanges) > 0 || len(c.ExcludedIPRanges) > 0 ||
		len(c.PermittedEmailAddresses) > 0 || len(c.ExcludedEmailAddresses) > 0 ||
		len(c.PermittedURIDomains) > 0 || len(c.ExcludedURIDomains) > 0
}

// policyConstrained reports whether c carries certificate-policy
// constraints or mappings, which Verify evaluates over the whole chain.
func policyConstrained(c *x509.Certificate) bool {
	return c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero || c.InhibitPolicyMapping > 0 ||
		c.InhibitPolicyMappingZero || c.InhibitAnyPolicy > 0 || c.InhibitAnyPolicyZero || len(c.PolicyMappings) > 0
}
