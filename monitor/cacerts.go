package monitor

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"sync"

	"github.com/pinwatchd/pinwatchd"
)

// maxCACerts bounds the recorded forms of CA certificates kept by a Prober.
const maxCACerts = 1024

// maxNames bounds the distinguished names whose strings a Prober keeps.
const maxNames = 1024

// caCertCache keeps the recorded form of served CA certificates by the
// SHA-256 of their DER: a fleet's intermediates are served by many
// endpoints, and recording one (its names, serial, pin and key type) cost a
// quarter of what recording a probe's chain did. Leaves are not kept: each
// is served by few endpoints, and a fleet has as many as it has targets.
//
// For leaves it keeps the strings of their issuers' names instead (up to
// maxNames, by their DER): a leaf's issuer is the name of one of few CAs.
// A leaf's own subject is as unique as the leaf, so it is formatted each
// time rather than kept.
type caCertCache struct {
	mu    sync.Mutex
	m     map[[sha256.Size]byte]pinwatchd.Cert
	names map[string]string // DER of a name → its NameString
}

// record returns pinwatchd.CertFromX509(c), from the cache for a CA.
func (cc *caCertCache) record(c *x509.Certificate) pinwatchd.Cert {
	if !c.IsCA {
		return pinwatchd.CertFromX509Named(c, pinwatchd.NameString(&c.Subject), cc.name(c.RawIssuer, &c.Issuer))
	}
	key := sha256.Sum256(c.Raw)
	cc.mu.Lock()
	rc, ok := cc.m[key]
	cc.mu.Unlock()
	if ok {
		return rc
	}
	rc = pinwatchd.CertFromX509(c)
	cc.mu.Lock()
	if cc.m == nil || len(cc.m) >= maxCACerts {
		cc.m = make(map[[sha256.Size]byte]pinwatchd.Cert)
	}
	cc.m[key] = rc
	cc.mu.Unlock()
	return rc
}

// name returns pinwatchd.NameString(n) for the name whose DER is raw.
func (cc *caCertCache) name(raw []byte, n *pkix.Name) string {
	cc.mu.Lock()
	s, ok := cc.names[string(raw)]
	cc.mu.Unlock()
	if ok {
		return s
	}
	s = pinwatchd.NameString(n)
	cc.mu.Lock()
	if cc.names == nil || len(cc.names) >= maxNames {
		cc.names = make(map[string]string)
	}
	cc.names[string(raw)] = s
	cc.mu.Unlock()
	return s
}
