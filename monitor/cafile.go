package monitor

import (
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// caFileRecheck is how long a CA file's pool is used before the file is
// looked at again: a probe of each of thousands of targets sharing one
// ca_file need not stat it.
const caFileRecheck = time.Second

// caCache holds the trust pools of targets' CA files, keyed by path and
// reloaded when the file's size or modification time changes (looked at
// at most once per caFileRecheck).
type caCache struct {
	mu    sync.Mutex
	pools map[string]caEntry
}

type caEntry struct {
	size    int64
	modTime time.Time
	checked time.Time // when size and modTime were read
	pool    *x509.CertPool
	// withSystem is the system roots plus the file's certificates, built on
	// first use: nil when pool already holds every anchor (Prober.Roots set).
	withSystem func() *x509.CertPool
}

// roots returns the pool to verify against: the Prober's roots (nil for the
// system roots) plus the certificates of caFile when set. With a ca_file and
// the system roots, the pool holds the file's certificates only and more
// returns the full pool: a chain that verifies against its own ca_file
// needs no system roots, and loading them is the costliest part of a short
// run. more is nil when pool is already complete.
func (p *Prober) roots(caFile string) (pool *x509.CertPool, more func() *x509.CertPool, err error) {
	if caFile == "" {
		return p.Roots, nil, nil
	}
	now := p.now()
	c := &p.cas
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pools[caFile]
	if ok && now.Sub(e.checked) < caFileRecheck && !now.Before(e.checked) {
		return e.pool, e.withSystem, nil
	}
	fi, err := os.Stat(caFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read ca_file %s: %w", caFile, err)
	}
	if ok && e.size == fi.Size() && e.modTime.Equal(fi.ModTime()) {
		e.checked = now
		c.pools[caFile] = e
		return e.pool, e.withSystem, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read ca_file %s: %w", caFile, err)
	}
	e = caEntry{size: fi.Size(), modTime: fi.ModTime(), checked: now, pool: x509.NewCertPool()}
	if p.Roots != nil {
		e.pool = p.Roots.Clone()
	} else {
		e.withSystem = sync.OnceValue(func() *x509.CertPool {
			full, err := x509.SystemCertPool()
			if err != nil {
				full = x509.NewCertPool()
			}
			full.AppendCertsFromPEM(pem)
			return full
		})
	}
	if !e.pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("ca_file %s holds no PEM certificate", caFile)
	}
	if c.pools == nil {
		c.pools = make(map[string]caEntry)
	}
	c.pools[caFile] = e
	return e.pool, e.withSystem, nil
}
