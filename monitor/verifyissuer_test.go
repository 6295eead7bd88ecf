package monitor

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// issuerCert is a certificate made from a template, for chain shapes the
// test PKI does not offer (constraints).
type issuerCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var issuerSerial int64 = 1000

// mkCert issues tmpl with parent (self-signed when parent is nil).
func mkCert(t *testing.T, tmpl *x509.Certificate, parent *issuerCert) *issuerCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuerSerial++
	tmpl.SerialNumber = big.NewInt(issuerSerial)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	}
	signer, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
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

func caTemplate(name string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
}

func leafTemplate(name string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestVerifyChainsMatchesVerify checks that verifyChains answers as
// x509.Certificate.Verify does (same outcome, same first chain) for chain
// shapes where a two-step check could go wrong, on a cold and a warm cache.
func TestVerifyChainsMatchesVerify(t *testing.T) {
	pki := testpki.New(t)
	second := pki.Intermediate.Leaf(t, testpki.Options{CommonName: "second.localhost", DNSNames: []string{"second.localhost"}})
	notCA := pki.Leaf.Leaf(t, testpki.Options{CommonName: "signed by a leaf"})

	constrainedRoot := caTemplate("constrained root")
	constrainedRoot.PermittedDNSDomains = []string{"example.com"}
	cRoot := mkCert(t, constrainedRoot, nil)
	cInter := mkCert(t, caTemplate("inter under constrained root"), cRoot)
	cLeaf := mkCert(t, leafTemplate("outside.test"), cInter)

	pathRoot := caTemplate("path-length-0 root")
	pathRoot.MaxPathLenZero = true
	pRoot := mkCert(t, pathRoot, nil)
	pInter := mkCert(t, caTemplate("inter under path-length-0 root"), pRoot)
	pLeaf := mkCert(t, leafTemplate("path.test"), pInter)

	policyInter := caTemplate("inter requiring explicit policy")
	// policyConstraints { requireExplicitPolicy 0 }: x509 parses the
	// extension but does not write it from the template fields.
	policyInter.ExtraExtensions = []pkix.Extension{{Id: []int{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}}
	xRoot := mkCert(t, caTemplate("policy root"), nil)
	xInter := mkCert(t, policyInter, xRoot)
	xLeaf := mkCert(t, leafTemplate("policy.test"), xInter)

	roots := pki.RootPool()
	tests := []struct {
		name   string
		peer   []*x509.Certificate
		roots  *x509.CertPool
		fast   bool // the two-step check answers (the issuer cache fills)
		wantOK bool
	}{
		{"leaf and intermediate", []*x509.Certificate{pki.Leaf.Cert, pki.Intermediate.Cert}, roots, true, true},
		{"another leaf of the same intermediate", []*x509.Certificate{second.Cert, pki.Intermediate.Cert}, roots, true, true},
		{"issuer is not a CA", []*x509.Certificate{notCA.Cert, pki.Leaf.Cert, pki.Intermediate.Cert}, roots, false, false},
		{"intermediate also a trusted root", []*x509.Certificate{pki.Leaf.Cert, pki.Intermediate.Cert}, poolOf(pki.Root.Cert, pki.Intermediate.Cert), false, true},
		{"root served too", []*x509.Certificate{pki.Leaf.Cert, pki.Intermediate.Cert, pki.Root.Cert}, roots, true, true},
		{"unknown root", []*x509.Certificate{pki.Leaf.Cert, pki.Intermediate.Cert}, poolOf(cRoot.cert), false, false},
		{"name constraints on the root", []*x509.Certificate{cLeaf.cert, cInter.cert}, poolOf(cRoot.cert), false, false},
		{"path length 0 on the root", []*x509.Certificate{pLeaf.cert, pInter.cert}, poolOf(pRoot.cert), false, false},
		{"policy constraints on the issuer", []*x509.Certificate{xLeaf.cert, xInter.cert}, poolOf(xRoot.cert), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c verdictCache
			opts := x509.VerifyOptions{Roots: tc.roots, CurrentTime: time.Now(), Intermediates: poolOf(tc.peer[1:]...)}
			want, wantErr := tc.peer[0].Verify(opts)
			if (wantErr == nil) != tc.wantOK {
				t.Fatalf("Verify: %v, want success %v (the case is built wrong)", wantErr, tc.wantOK)
			}
			// Last with every served link known, as after a recorded
			// verification: no verdict may change.
			// The last round takes the digests from the recorded chain, as
			// a probe does.
			for _, round := range []string{"cold", "warm", "known links", "recorded digests"} {
				var (
					known map[SignatureLink]struct{}
					sums  [][sha256.Size]byte
				)
				if round == "known links" || round == "recorded digests" {
					known = linksOf(tc.peer)
				}
				if round == "recorded digests" {
					sums = servedSums(recorded(tc.peer), tc.peer)
					if sums == nil {
						t.Fatal("servedSums refused the recorded chain")
					}
				}
				got, err := c.verifyChains(tc.peer, sums, opts, known)
				if (err == nil) != (wantErr == nil) {
					t.Fatalf("%s cache: verifyChains error %v, Verify error %v", round, err, wantErr)
				}
				if err == nil && !sameChain(got[0], want[0]) {
					t.Fatalf("%s cache: verifyChains chain %v, Verify chain %v", round, names(got[0]), names(want[0]))
				}
			}
			if filled := len(c.issuers.m) > 0; filled != tc.fast {
				t.Errorf("issuer cache filled: %v, want %v", filled, tc.fast)
			}
		})
	}
}

// linksOf returns the link of every served certificate to every other.
func linksOf(peer []*x509.Certificate) map[SignatureLink]struct{} {
	m := map[SignatureLink]struct{}{}
	for _, a := range peer {
		for _, b := range peer {
			m[SignatureLink{sha256.Sum256(a.Raw), sha256.Sum256(b.Raw)}] = struct{}{}
		}
	}
	return m
}

// TestKnownSignatureIsNotCheckedAgain: a leaf whose link to its issuer is
// known is not checked against the issuer's key again, while a link names
// one leaf and one issuer exactly. The leaf's parsed signature is altered
// (its DER, which the link names, is not), so that a check would fail.
func TestKnownSignatureIsNotCheckedAgain(t *testing.T) {
	pki := testpki.New(t)
	opts := x509.VerifyOptions{Roots: pki.RootPool(), CurrentTime: time.Now()}
	broken := *pki.Leaf.Cert
	broken.Signature = bytes.Clone(broken.Signature)
	broken.Signature[len(broken.Signature)-1] ^= 1
	peer := []*x509.Certificate{&broken, pki.Intermediate.Cert}
	opts.Intermediates = poolOf(peer[1:]...)
	var c verdictCache
	if _, err := c.verifyChains(peer, nil, opts, nil); err == nil {
		t.Fatal("a leaf with a broken signature verified without a known link")
	}
	other := pki.Intermediate.Leaf(t, testpki.Options{CommonName: "other.localhost", DNSNames: []string{"other.localhost"}})
	if _, err := c.verifyChains(peer, nil, opts, linksOf([]*x509.Certificate{other.Cert, pki.Intermediate.Cert})); err == nil {
		t.Fatal("another leaf's link vouched for this one")
	}
	if _, err := c.verifyChains(peer, servedSums(recorded([]*x509.Certificate{other.Cert, pki.Intermediate.Cert}), peer), opts, linksOf(peer)); err == nil {
		t.Fatal("digests of another chain vouched for this one")
	}
	got, err := c.verifyChains(peer, nil, opts, map[SignatureLink]struct{}{{sha256.Sum256(broken.Raw), sha256.Sum256(pki.Intermediate.Cert.Raw)}: {}})
	if err != nil {
		t.Fatalf("with its link known: %v", err)
	}
	if len(got) != 1 || !sameChain(got[0], []*x509.Certificate{&broken, pki.Intermediate.Cert, pki.Root.Cert}) {
		t.Fatalf("chain %v, want leaf, intermediate, root", names(got[0]))
	}
}

// recorded returns the recorded form of each certificate of peer.
func recorded(peer []*x509.Certificate) []pinwatchd.Cert {
	out := make([]pinwatchd.Cert, len(peer))
	for i, c := range peer {
		out[i] = pinwatchd.CertFromX509(c)
	}
	return out
}

// TestServedSums: the digests come from the recorded chain only when it
// is the served one, certificate for certificate.
func TestServedSums(t *testing.T) {
	pki := testpki.New(t)
	peer := []*x509.Certificate{pki.Leaf.Cert, pki.Intermediate.Cert}
	sums := servedSums(recorded(peer), peer)
	if len(sums) != 2 || sums[0] != sha256.Sum256(peer[0].Raw) || sums[1] != sha256.Sum256(peer[1].Raw) {
		t.Fatalf("servedSums = %x, want the SHA-256 of each DER", sums)
	}
	if got := servedSums(recorded(peer[:1]), peer); got != nil {
		t.Errorf("a shorter record gave digests %x", got)
	}
	bad := recorded(peer)
	bad[1].SHA256 = "zz" + bad[1].SHA256[2:]
	if got := servedSums(bad, peer); got != nil {
		t.Errorf("a record with a malformed digest gave digests %x", got)
	}
}

func sameChain(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			return false
		}
	}
	return true
}

func names(chain []*x509.Certificate) []string {
	out := make([]string, len(chain))
	for i, c := range chain {
		out[i] = c.Subject.CommonName
	}
	return out
}
