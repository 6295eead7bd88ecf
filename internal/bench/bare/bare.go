// Package bare is the baseline client of SPEC §11's CPU budgets: the same
// network work a pinwatchd probe does and nothing else. It imports nothing
// of pinwatchd, so the bare client's process carries none of its start-up.
package bare

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Target is one line of the bare client's target list.
type Target struct {
	Addr string // "ip:port" to connect to
	Host string // SNI and Host header
}

// ParseTargetList reads "address host" lines (as bench.Fleet.WriteTargetList
// writes them); blank lines are skipped.
func ParseTargetList(r io.Reader) ([]Target, error) {
	var out []Target
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("target list line %d %q: want \"address host\"", n, sc.Text())
		}
		out = append(out, Target{Addr: f[0], Host: f[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read target list: %w", err)
	}
	return out, nil
}

// Result is what the bare client saw at one target.
type Result struct {
	Pins   [][sha256.Size]byte // SHA-256 of each served certificate's SPKI
	Status int
	// PinHeader is the Public-Key-Pins response header.
	PinHeader string
}

// Probe is the baseline of SPEC §11: the same work a pinwatchd probe
// does on the network, and nothing else. It connects, handshakes with the
// default key exchange offering HTTP/1.1 by ALPN (no chain verification),
// hashes the SPKI of every served certificate, sends the HEAD request
// pinwatchd sends and reads the response headers. timeout bounds the whole
// probe.
func Probe(ctx context.Context, t Target, timeout time.Duration) (Result, error) {
	var res Result
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return res, fmt.Errorf("connect to %s: %w", t.Addr, err)
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	_ = raw.SetDeadline(deadline)
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}, ServerName: t.Host} //nolint:gosec // the baseline does no verification
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return res, fmt.Errorf("TLS handshake with %s: %w", t.Addr, err)
	}
	for _, c := range tc.ConnectionState().PeerCertificates {
		res.Pins = append(res.Pins, sha256.Sum256(c.RawSubjectPublicKeyInfo))
	}
	req := "HEAD / HTTP/1.1\r\nHost: " + t.Host + "\r\nUser-Agent: bareclient\r\nAccept: */*\r\n\r\n"
	if _, err := io.WriteString(tc, req); err != nil {
		return res, fmt.Errorf("HTTP request to %s: %w", t.Addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), &http.Request{Method: http.MethodHead})
	if err != nil {
		return res, fmt.Errorf("HTTP response from %s: %w", t.Addr, err)
	}
	res.Status, res.PinHeader = resp.StatusCode, resp.Header.Get("Public-Key-Pins")
	_ = tc.Close()
	return res, nil
}

// ProbeAll probes every target with at most workers in flight and
// returns how many failed, with the first error.
func ProbeAll(ctx context.Context, targets []Target, workers int, timeout time.Duration) (failed int, first error) {
	jobs := make(chan Target)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for range max(1, min(workers, len(targets))) {
		wg.Go(func() {
			for t := range jobs {
				res, err := Probe(ctx, t, timeout)
				if err == nil && (res.Status != http.StatusOK || res.PinHeader == "" || len(res.Pins) == 0) {
					err = fmt.Errorf("%s at %s: status %d, %d certificates, Public-Key-Pins %q", t.Host, t.Addr, res.Status, len(res.Pins), res.PinHeader)
				}
				if err != nil {
					mu.Lock()
					failed++
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, t := range targets {
		jobs <- t
	}
	close(jobs)
	wg.Wait()
	return failed, first
}
