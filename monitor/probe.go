package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Defaults of a zero Prober.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 16
	DefaultUserAgent   = "pinwatchd"
)

// Prober probes TLS endpoints: it resolves a target, connects to each of its
// addresses, records the served and verified chains and, for HTTP-probed
// targets, reads the pin and HSTS headers over the same connection.
//
// The zero value is ready to use. Set the fields before the first probe and
// do not change them afterwards; a Prober is safe for concurrent use and must
// not be copied after first use.
type Prober struct {
	// Timeout bounds the whole probe of one address: connect, handshake,
	// chain verification and the HTTP exchange. Zero means DefaultTimeout.
	// It also bounds a DNS lookup.
	Timeout time.Duration
	// Concurrency bounds the address probes in flight across all concurrent
	// Probe calls on this Prober. Zero means DefaultConcurrency.
	Concurrency int
	// Resolver resolves target names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// DNSServer answers the TLSA and MX questions (SPEC §12); the zero
	// value means the first nameserver of /etc/resolv.conf.
	DNSServer netip.AddrPort
	// Roots are the trust anchors; nil means the system roots. A target's
	// CAFile adds to them.
	Roots *x509.CertPool
	// UserAgent is sent with the HTTP request; empty means DefaultUserAgent.
	UserAgent string
	// Now is the clock for Observation.Time and for chain verification; nil
	// means time.Now.
	Now func() time.Time
	// Vantage names the node that probes (SPEC §14); every observation
	// carries it, so that nodes sharing a database keep apart what each
	// one saw.
	Vantage string
	// KnownSignatures are certificate signatures checked before, for
	// instance by an earlier run that recorded the verified chains (see
	// SignatureLink). Read only; nil means none.
	KnownSignatures map[SignatureLink]struct{}

	semOnce  sync.Once
	sem      chan struct{}
	cas      caCache
	verdicts verdictCache
	cacerts  caCertCache
}

// Probe probes every address of t, each on its own connection and
// concurrently within the Prober's Concurrency, and returns one observation
// per address sorted by address (IPv4 first). The addresses are
// t.Addresses when set, else every A and AAAA record of t.Host joined with
// t.Port. When the name does not resolve, Probe returns a single observation
// for t.HostPort() with an error of kind dns_failed. A cancelled ctx makes the
// remaining probes fail fast with kind timeout. For a DANE target the TLSA
// RRset is looked up alongside and given to every observation, matched
// against its chain. Every observation carries the Prober's Vantage.
func (p *Prober) Probe(ctx context.Context, t *pinwatchd.Target) []pinwatchd.Observation {
	tlsa := p.startTLSA(ctx, t)
	obs := p.probeAll(ctx, t)
	finishDANE(t, obs, tlsa())
	for i := range obs {
		obs[i].Vantage = p.Vantage
	}
	return obs
}

// probeAll probes every address of t (see Probe).
func (p *Prober) probeAll(ctx context.Context, t *pinwatchd.Target) []pinwatchd.Observation {
	begin := time.Now()
	start := p.now()
	addrs, perr := p.addresses(ctx, t)
	if perr != nil {
		return []pinwatchd.Observation{{
			Target: t.Name, Address: t.HostPort(), SNI: t.ServerName(),
			Time: start.UTC(), Duration: time.Since(begin), Error: perr,
		}}
	}
	obs := make([]pinwatchd.Observation, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		if err := p.acquire(ctx); err != nil {
			obs[i] = notStarted(t, addr, p.now(), err)
			continue
		}
		if i == len(addrs)-1 {
			// The last address on this goroutine: a target of one
			// address starts none.
			func() {
				defer p.release()
				obs[i] = p.probeAddress(ctx, t, addr)
			}()
			break
		}
		wg.Go(func() {
			defer p.release()
			obs[i] = p.probeAddress(ctx, t, addr)
		})
	}
	wg.Wait()
	return obs
}

// probeAddress probes one address ("ip:port") of t; the caller holds a
// slot of the Prober's semaphore. Connectivity failures are reported in
// Observation.Error.
func (p *Prober) probeAddress(ctx context.Context, t *pinwatchd.Target, addr string) (obs pinwatchd.Observation) {
	begin := time.Now()
	now := p.now()
	obs = pinwatchd.Observation{Target: t.Name, Address: addr, SNI: t.ServerName(), Time: now.UTC()}
	defer func() { obs.Duration = time.Since(begin) }()

	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	deadline, _ := ctx.Deadline()
	s := &session{ctx: ctx, addr: addr, budget: deadline.Sub(begin), deadline: deadline}

	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		obs.Error = s.connectError(err)
		return obs
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	// A trickling server cannot extend the probe past its deadline.
	_ = raw.SetDeadline(deadline)

	if t.STARTTLS != "" {
		if err := startTLS(raw, t.STARTTLS, t.EHLO); err != nil {
			obs.Error = s.starttlsError(err)
			return obs
		}
	}
	tc := tls.Client(raw, tlsConfig(t))
	if err := tc.HandshakeContext(ctx); err != nil {
		obs.Error = s.handshakeError(err)
		return obs
	}
	defer tc.Close()

	state := tc.ConnectionState()
	if perr := s.chainTooLarge(state.PeerCertificates); perr != nil {
		obs.Error = perr
		return obs
	}
	obs.TLSVersion = tls.VersionName(state.Version)
	obs.ServedChain = make([]pinwatchd.Cert, len(state.PeerCertificates))
	for i, c := range state.PeerCertificates {
		obs.ServedChain[i] = p.cacerts.record(c)
	}
	if obs.Verification, obs.VerifiedChain, err = p.verify(ctx, t, state.PeerCertificates, obs.ServedChain, now); err != nil {
		// No verdict: the observation is a timeout, like a handshake that
		// did not finish, and says nothing about the chain.
		obs.TLSVersion, obs.ServedChain = "", nil
		obs.Error = s.timeout("verifying the chain served by")
		return obs
	}

	if t.HTTP {
		p.exchangeHTTP(s, tc, t, &obs)
	}
	return obs
}

// tlsConfig returns the client configuration for t: no verification during
// the handshake (the chain is verified separately), SNI unless the server
// name is an IP literal, HTTP/1.1 offered by ALPN to an HTTP-probed target,
// default key exchange.
func tlsConfig(t *pinwatchd.Target) *tls.Config {
	cfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // verified in verify
	if t.HTTP {
		cfg.NextProtos = []string{"http/1.1"}
	}
	if name := t.ServerName(); net.ParseIP(strings.Trim(name, "[]")) == nil {
		cfg.ServerName = name
	}
	return cfg
}

// session carries the deadline of one address probe and turns errors into
// ProbeErrors that name the address.
type session struct {
	ctx      context.Context // carries the deadline and the caller's cancellation
	addr     string
	budget   time.Duration // the whole time allowed, for messages
	deadline time.Time
}

// timedOut reports whether err, or the session's context, says the probe ran
// out of time or was cancelled.
func (s *session) timedOut(err error) bool {
	if s.ctx.Err() != nil || !time.Now().Before(s.deadline) {
		return true
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// timeout returns the ProbeError for a probe that ran out of time, or was
// cancelled, during step ("TLS handshake with"), which is followed by the
// address in the message.
func (s *session) timeout(step string) *pinwatchd.ProbeError {
	msg := fmt.Sprintf("%s %s timed out after %s", step, s.addr, roundDuration(s.budget))
	if errors.Is(s.ctx.Err(), context.Canceled) {
		msg = fmt.Sprintf("%s %s cancelled", step, s.addr)
	}
	return &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout, Message: msg}
}

func (s *session) connectError(err error) *pinwatchd.ProbeError {
	if s.timedOut(err) {
		return s.timeout("connect to")
	}
	return &pinwatchd.ProbeError{Kind: pinwatchd.KindConnectFailed,
		Message: fmt.Sprintf("connect to %s: %s", s.addr, reason(err))}
}

func (s *session) handshakeError(err error) *pinwatchd.ProbeError {
	if s.timedOut(err) {
		return s.timeout("TLS handshake with")
	}
	if n, ok := oversizedCertificates(err); ok {
		// crypto/tls refuses the certificate message before it is parsed.
		return s.chainError(fmt.Sprintf("chain of %d bytes exceeds 256 KiB", n))
	}
	why := reason(err)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		why = "the server closed the connection"
	case errors.Is(err, syscall.ECONNRESET):
		why = "the server closed the connection (reset)"
	}
	return &pinwatchd.ProbeError{Kind: pinwatchd.KindHandshakeFailed,
		Message: fmt.Sprintf("TLS handshake with %s: %s", s.addr, why)}
}

// reason returns the useful part of a network error's text, without the
// "dial tcp a->b:" preamble, shortened to one line.
func reason(err error) string {
	for {
		var oe *net.OpError
		var se *os.SyscallError
		switch {
		case errors.As(err, &oe) && (oe.Op == "dial" || oe.Op == "read" || oe.Op == "write"):
			err = oe.Err
		case errors.As(err, &se):
			err = se.Err
		default:
			return truncate(err.Error(), 200)
		}
	}
}

// truncate shortens s to at most n bytes on one line.
func truncate(s string, n int) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// roundDuration rounds d for a message: "2s", "4.9s", "150ms".
func roundDuration(d time.Duration) time.Duration {
	if d >= 500*time.Millisecond {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// notStarted is the observation of an address whose probe never started
// because ctx was done.
func notStarted(t *pinwatchd.Target, addr string, now time.Time, err error) pinwatchd.Observation {
	what := "cancelled"
	if errors.Is(err, context.DeadlineExceeded) {
		what = "out of time"
	}
	return pinwatchd.Observation{Target: t.Name, Address: addr, SNI: t.ServerName(), Time: now.UTC(),
		Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout,
			Message: fmt.Sprintf("probe of %s %s before it started", addr, what)}}
}

// addresses returns the sorted addresses to probe for t, or the dns_failed
// error when its name does not resolve.
func (p *Prober) addresses(ctx context.Context, t *pinwatchd.Target) ([]string, *pinwatchd.ProbeError) {
	port := t.Port
	if port == 0 {
		port = 443
	}
	ps := strconv.Itoa(port)
	if len(t.Addresses) > 0 {
		addrs := make([]string, 0, len(t.Addresses))
		for _, a := range t.Addresses {
			if _, _, err := net.SplitHostPort(a); err != nil {
				if ip, perr := netip.ParseAddr(strings.Trim(a, "[]")); perr == nil {
					a = net.JoinHostPort(ip.String(), ps)
				}
			}
			addrs = append(addrs, a)
		}
		return sortAddresses(addrs), nil
	}
	host := strings.Trim(t.Host, "[]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return []string{net.JoinHostPort(ip.String(), ps)}, nil
	}
	lctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	ips, err := p.resolver().LookupIPAddr(lctx, host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout,
				Message: fmt.Sprintf("lookup of %s cancelled", host)}
		}
		return nil, &pinwatchd.ProbeError{Kind: pinwatchd.KindDNSFailed,
			Message: fmt.Sprintf("lookup %s: %s", host, dnsReason(err))}
	}
	if len(ips) == 0 {
		return nil, &pinwatchd.ProbeError{Kind: pinwatchd.KindDNSFailed,
			Message: fmt.Sprintf("lookup %s: no A or AAAA records", host)}
	}
	addrs := make([]string, len(ips))
	for i, ip := range ips {
		addrs[i] = net.JoinHostPort(ip.String(), ps)
	}
	return sortAddresses(addrs), nil
}

// dnsReason returns why a lookup failed, without the resolver's address.
func dnsReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "no such host"
		case de.IsTimeout:
			return "lookup timed out"
		}
		return truncate(de.Err, 200)
	}
	return truncate(err.Error(), 200)
}

// sortAddresses sorts ip:port strings, IPv4 before IPv6 and numerically
// within each family, and drops duplicates. Unparsable strings go last.
func sortAddresses(addrs []string) []string {
	slices.SortFunc(addrs, func(a, b string) int {
		pa, ea := netip.ParseAddrPort(a)
		pb, eb := netip.ParseAddrPort(b)
		switch {
		case ea == nil && eb == nil:
			return pa.Compare(pb)
		case ea == nil:
			return -1
		case eb == nil:
			return 1
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(addrs)
}

func (p *Prober) acquire(ctx context.Context) error {
	p.semOnce.Do(func() {
		n := p.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		p.sem = make(chan struct{}, n)
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Prober) release() { <-p.sem }

func (p *Prober) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Prober) resolver() *net.Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

func (p *Prober) userAgent() string {
	if p.UserAgent != "" {
		return p.UserAgent
	}
	return DefaultUserAgent
}
