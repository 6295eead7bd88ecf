package monitor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// hostileCAs is the number of same-subject CAs of the hostile chain.
const hostileCAs = 100

// hostileChain is a leaf followed by 100 RSA-4096 CAs that all bear the
// leaf's issuer name, each with its own NotAfter, one of them expired: what
// makes path building try every CA at every instant.
type hostileChain struct {
	peer   []*x509.Certificate
	served []pinwatchd.Cert
	now    time.Time
}

var hostile = sync.OnceValues(func() (*hostileChain, error) { return newHostileChain(time.Now()) })

// newHostileChain builds the chain. Only CA 0, which signs the leaf and the
// other CAs, has a private key; the other 99 CAs carry random 4096-bit moduli
// (odd, top bits set so that every signature is smaller), which cost a
// signature check exactly what a real RSA-4096 key costs: the verifier only
// uses the public half, and an RSA-4096 key takes about a second to
// generate.
func newHostileChain(now time.Time) (*hostileChain, error) {
	signer, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		return nil, err
	}
	name := pkix.Name{CommonName: "hostile CA", Organization: []string{"pinwatchd test"}}
	caTmpl := func(i int) *x509.Certificate {
		t := &x509.Certificate{SerialNumber: big.NewInt(int64(1000 + i)), Subject: name,
			NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(time.Duration(i+1) * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		if i == hostileCAs/2 {
			t.NotBefore, t.NotAfter = now.Add(-48*time.Hour), now.Add(-2*time.Hour) // expired
		}
		return t
	}
	root := caTmpl(0)
	der, err := x509.CreateCertificate(rand.Reader, root, root, &signer.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	ca0, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, ca0, &signer.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	h := &hostileChain{peer: []*x509.Certificate{leaf, ca0}, now: now}
	top := new(big.Int).Lsh(big.NewInt(1), 4096)
	for i := 1; i < hostileCAs; i++ {
		// 2^4096 - r for a random odd r below 2^4000.
		r, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 4000))
		if err != nil {
			return nil, err
		}
		n := new(big.Int).Sub(top, r.SetBit(r, 0, 1))
		der, err := x509.CreateCertificate(rand.Reader, caTmpl(i), ca0, &rsa.PublicKey{N: n, E: 65537}, signer)
		if err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		h.peer = append(h.peer, c)
	}
	for _, c := range h.peer {
		h.served = append(h.served, pinwatchd.CertFromX509(c))
	}
	return h, nil
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerifyHostileChain measures the CPU one probe spends verifying
// hostile chains (SPEC §11 "Hostile chains": at most 50 ms per address).
// cold is a Prober that has not seen the 100-CA chain (a server can serve a
// new one every time); warm probes the same chain again; p521-line is a
// leaf and three P-521 CAs from an unknown root, about the costliest chain
// the budget lets through to Verify (each signature check about 3 ms, and
// the two-step check falls back to Verify). Chains are built once, outside
// the timer.
func BenchmarkVerifyHostileChain(b *testing.B) {
	h, err := hostile()
	if err != nil {
		b.Fatal(err)
	}
	tg := &pinwatchd.Target{Host: "localhost", Port: 443}
	roots := x509.NewCertPool() // no chain here is trusted
	run := func(b *testing.B, peer []*x509.Certificate, p func() *Prober) {
		served := servedOf(peer)
		start := cpuTime(b)
		for b.Loop() {
			v, _, err := p().verify(b.Context(), tg, peer, served, h.now)
			if err != nil {
				b.Fatal(err)
			}
			if v.Trusted {
				b.Fatal("a hostile chain verified")
			}
		}
		b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/probe")
	}
	cold := func() *Prober { return &Prober{Roots: roots} }
	b.Run("cold", func(b *testing.B) { run(b, h.peer, cold) })
	warm := &Prober{Roots: roots}
	b.Run("warm", func(b *testing.B) { run(b, h.peer, func() *Prober { return warm }) })
	line := p521Line(b, 4)
	b.Run("p521-line", func(b *testing.B) { run(b, line, cold) })
}

// p521Line returns a leaf for localhost and the n-1 CAs above it, each
// issued by the next, with P-521 keys.
func p521Line(tb testing.TB, n int) []*x509.Certificate {
	tb.Helper()
	line := []*issuerCert{mkP521(tb, caTemplate("P-521 CA 0"), nil)}
	for i := 1; i < n-1; i++ {
		line = append(line, mkP521(tb, caTemplate(fmt.Sprintf("P-521 CA %d", i)), line[i-1]))
	}
	peer := []*x509.Certificate{mkP521(tb, leafTemplate("localhost"), line[len(line)-1]).cert}
	for i := len(line) - 1; i >= 0; i-- {
		peer = append(peer, line[i].cert)
	}
	return peer
}

// mkP521 is mkCert with a P-521 key.
func mkP521(t testing.TB, tmpl *x509.Certificate, parent *issuerCert) *issuerCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuerSerial++
	tmpl.SerialNumber = big.NewInt(issuerSerial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key.(*ecdsa.PrivateKey)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issuerCert{cert: c, key: key}
}
