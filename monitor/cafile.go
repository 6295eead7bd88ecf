package monitor

import (
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// caCache holds the trust pools of targets' CA files, keyed by path and
// reloaded when the file's size or modification time changes.
type caCache struct {
	mu    sync.Mutex
	pools map[string]caEntry
}

type caEntry struct {
	size    int64
	modTime time.Time
	pool    *x509.CertPool
}

// roots returns the pool to verify against: the Prober's roots (nil for the
// system roots) plus the certificates of caFile when set.
func (p *Prober) roots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return p.Roots, nil
	}
	fi, err := os.Stat(caFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read ca_file %s: %w", caFile, err)
	}
	c := &p.cas
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.pools[caFile]; ok && e.size == fi.Size() && e.modTime.Equal(fi.ModTime()) {
		return e.pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read ca_file %s: %w", caFile, err)
	}
	var pool *x509.CertPool
	if p.Roots != nil {
		pool = p.Roots.Clone()
	} else if pool, err = x509.SystemCertPool(); err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", caFile)
	}
	if c.pools == nil {
		c.pools = make(map[string]caEntry)
	}
	c.pools[caFile] = caEntry{size: fi.Size(), modTime: fi.ModTime(), pool: pool}
	return pool, nil
}
