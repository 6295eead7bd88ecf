package monitor

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"

	"github.com/pinwatchd/pinwatchd"
)

// maxCACerts bounds the recorded forms of CA certificates kept by a Prober.
const maxCACerts = 1024

// caCertCache keeps the recorded form of served CA certificates by the
// SHA-256 of their DER: a fleet's intermediates are served by many
// endpoints, and recording one (its names, serial, pin and key type) cost a
// quarter of what recording a probe's chain did. Leaves are not kept: each
// is served by few endpoints, and a fleet has as many as it has targets.
type caCertCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]pinwatchd.Cert
}

// record returns pinwatchd.CertFromX509(c), from the cache for a CA.
func (cc *caCertCache) record(c *x509.Certificate) pinwatchd.Cert {
	if !c.IsCA {
		return pinwatchd.CertFromX509(c)
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
