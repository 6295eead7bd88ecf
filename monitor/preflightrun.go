package monitor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// PreflightStore is what the preflight reads of the database.
type PreflightStore interface {
	// LatestObservations returns the latest observation of every address
	// of target; none for a target never recorded.
	LatestObservations(ctx context.Context, target string) ([]pinwatchd.Observation, error)
	// PinHeadersSeen returns the distinct enforcing Public-Key-Pins values
	// recorded for target with their last sighting.
	PinHeadersSeen(ctx context.Context, target string) ([]pinwatchd.SeenPinHeader, error)
}

// PreflightReport is the document of `pinwatchd preflight` (SPEC §13).
type PreflightReport struct {
	Candidate struct {
		Keys []PreflightKey `json:"keys"`
	} `json:"candidate"`
	Targets []PreflightTarget `json:"targets"`
	Exit    int               `json:"exit"`
}

// PreflightRun is one run of the preflight: the candidate's files, the
// configured targets, where to read the history and how to ask DNS.
type PreflightRun struct {
	Files   []string           // the candidate, leaf first
	Targets []pinwatchd.Target // every configured target
	Names   []string           // --target; empty: the targets the leaf covers
	Store   PreflightStore
	// DNSServer answers the TLSA questions; the zero value means the
	// first nameserver of /etc/resolv.conf. Timeout bounds a lookup.
	DNSServer  netip.AddrPort
	Timeout    time.Duration
	NoDNS      bool // use the latest recorded TLSA RRset instead of a lookup
	Thresholds pinwatchd.Thresholds
	Now        time.Time

	prober *Prober // verifies the candidate and looks up TLSA
}

// Run reads the candidate, chooses the targets and judges the candidate
// against each. The error says what could not be read or looked up.
func (r *PreflightRun) Run(ctx context.Context) (*PreflightReport, error) {
	r.prober = &Prober{DNSServer: r.DNSServer, Timeout: r.Timeout, Now: func() time.Time { return r.Now }}
	keys, err := ReadCandidate(r.Files)
	if err != nil {
		return nil, err
	}
	targets, err := r.choose(keys[0])
	if err != nil {
		return nil, err
	}
	rep := &PreflightReport{Targets: []PreflightTarget{}}
	rep.Candidate.Keys = slices.Clone(keys)
	for i := range targets {
		pt, err := r.target(ctx, &targets[i], keys)
		if err != nil {
			return nil, err
		}
		for _, k := range pt.Keys {
			if k.Assumed && !slices.ContainsFunc(rep.Candidate.Keys, func(c PreflightKey) bool { return c.Pin == k.Pin && c.Position == k.Position }) {
				rep.Candidate.Keys = append(rep.Candidate.Keys, k)
			}
		}
		rep.Targets = append(rep.Targets, pt)
		rep.Exit = max(rep.Exit, pt.Exit)
	}
	return rep, nil
}

// ReadCandidate reads the keys of the candidate's files, in order, the
// first being the leaf. Every file must hold a key.
func ReadCandidate(files []string) ([]PreflightKey, error) {
	if len(files) == 0 {
		return nil, errors.New("no candidate: name the FILEs of the certificate chain, certificate, key or CSR to check")
	}
	var keys []PreflightKey
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read candidate: %w", err)
		}
		pks, err := pinwatchd.ParsePublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("candidate file %s: %w", f, err)
		}
		if len(pks) == 0 {
			return nil, fmt.Errorf("candidate file %s holds no certificate, key or CSR", f)
		}
		for _, pk := range pks {
			k := PreflightKey{Pin: pk.Pin, File: f}
			if pk.Cert != nil {
				c := pinwatchd.CertFromX509(pk.Cert)
				k.Cert = &c
			}
			keys = append(keys, k)
		}
	}
	for i := range keys {
		keys[i].Position = position(i, len(keys), keys[i].Cert)
	}
	return keys, nil
}

// position names the place of key i of an n-key chain: the leaf, a
// self-signed CA at the top as the root, else an intermediate.
func position(i, n int, c *pinwatchd.Cert) string {
	switch {
	case i == 0:
		return "leaf"
	case i == n-1 && c != nil && c.IsCA && c.Subject == c.Issuer:
		return "root"
	}
	return "intermediate " + strconv.Itoa(i)
}

// choose returns the targets named, else those whose host the leaf
// certificate covers (RFC 6125 wildcards, as crypto/x509 matches them).
func (r *PreflightRun) choose(leaf PreflightKey) ([]pinwatchd.Target, error) {
	if len(r.Names) > 0 {
		var out []pinwatchd.Target
		for _, name := range r.Names {
			t, ok := findTarget(r.Targets, name)
			if !ok {
				return nil, fmt.Errorf("--target %q is not a configured target (nor an exchange NAME/HOST of an mx target)", name)
			}
			out = append(out, t)
		}
		return out, nil
	}
	if leaf.Cert == nil {
		return nil, fmt.Errorf("%s holds a key or CSR, which names no host: say which targets it is for with --target NAME", leaf.File)
	}
	xc, err := x509.ParseCertificate(leaf.Cert.DER)
	if err != nil {
		return nil, fmt.Errorf("candidate leaf of %s: %w", leaf.File, err)
	}
	var out []pinwatchd.Target
	for _, t := range r.Targets {
		if t.Host != "" && xc.VerifyHostname(strings.Trim(t.Host, "[]")) == nil {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the candidate leaf of %s (%s) covers the host of no configured target: name one with --target NAME",
			leaf.File, strings.Join(xc.DNSNames, ", "))
	}
	return out, nil
}

// findTarget returns the configured target called name, or the exchange
// "NAME/HOST" of an mx target.
func findTarget(targets []pinwatchd.Target, name string) (pinwatchd.Target, bool) {
	parent, exchange, sub := strings.Cut(name, "/")
	for i := range targets {
		switch t := &targets[i]; {
		case t.Name == name:
			return *t, true
		case sub && t.Name == parent && t.MX != "" && exchange != "":
			return t.MXTarget(exchange), true
		}
	}
	return pinwatchd.Target{}, false
}

// target gathers what the preflight of one target needs and judges it.
func (r *PreflightRun) target(ctx context.Context, t *pinwatchd.Target, keys []PreflightKey) (PreflightTarget, error) {
	obs, err := r.Store.LatestObservations(ctx, t.Name)
	if err != nil {
		return PreflightTarget{}, err
	}
	in := PreflightInput{Target: t, Thresholds: r.Thresholds, Chain: slices.Clone(keys)}
	var latest *pinwatchd.Observation
	for i := range obs {
		if len(obs[i].ServedChain) > 0 && (latest == nil || obs[i].Time.After(latest.Time)) {
			latest = &obs[i]
		}
	}
	if latest != nil {
		in.Current = latest.Chain()
		if len(keys) == 1 {
			in.Chain = append(in.Chain, assumed(latest)...)
		}
	}
	if in.Verification, err = r.verify(ctx, t, &in); err != nil {
		return PreflightTarget{}, err
	}
	if in.Headers, err = r.Store.PinHeadersSeen(ctx, t.Name); err != nil {
		return PreflightTarget{}, err
	}
	if in.TLSA, err = r.tlsa(ctx, t, obs); err != nil {
		return PreflightTarget{}, err
	}
	return Preflight(in, r.Now), nil
}

// assumed returns the keys above the leaf of the chain served now (the
// verified chain, anchor included, when it verified).
func assumed(o *pinwatchd.Observation) []PreflightKey {
	chain := o.Chain()
	from := "served at " + o.Address + " on " + o.Time.UTC().Format(time.DateOnly)
	var out []PreflightKey
	for i := 1; i < len(chain); i++ {
		c := chain[i]
		out = append(out, PreflightKey{Pin: c.Pin, File: from, Position: position(i, len(chain), &c), Assumed: true,
			Cert: &c, Anchor: i >= len(o.ServedChain)})
	}
	return out
}

// verify verifies the candidate chain for t, adding the trust anchor to
// in.Chain; nil when the leaf is no certificate.
func (r *PreflightRun) verify(ctx context.Context, t *pinwatchd.Target, in *PreflightInput) (*pinwatchd.Verification, error) {
	if in.Chain[0].Cert == nil {
		return nil, nil
	}
	var peer []*x509.Certificate
	var served []pinwatchd.Cert
	for _, k := range in.Chain {
		if k.Cert == nil || k.Anchor {
			continue
		}
		xc, err := x509.ParseCertificate(k.Cert.DER)
		if err != nil {
			return nil, fmt.Errorf("candidate certificate %s: %w", k.Cert.Label(), err)
		}
		peer, served = append(peer, xc), append(served, *k.Cert)
	}
	v, verified, err := r.prober.verify(ctx, t, peer, served, r.Now)
	if err != nil {
		return nil, fmt.Errorf("verify the candidate for %s: %w", t.Name, err)
	}
	if n := len(verified); n > len(served) && !slices.ContainsFunc(in.Chain, func(k PreflightKey) bool { return k.Pin == verified[n-1].Pin }) {
		a := verified[n-1]
		in.Chain = append(in.Chain, PreflightKey{Pin: a.Pin, File: "trust anchor of the verified chain", Position: "root", Cert: &a, Anchor: true})
	}
	return &v, nil
}

// tlsa returns the TLSA RRset of a DANE target: looked up now, or with
// NoDNS the latest recorded. A failed lookup is an error: the preflight
// cannot tell what DANE clients would do.
func (r *PreflightRun) tlsa(ctx context.Context, t *pinwatchd.Target, obs []pinwatchd.Observation) (*pinwatchd.TLSAResult, error) {
	if !t.DANE || t.Host == "" {
		return nil, nil
	}
	var res *pinwatchd.TLSAResult
	if r.NoDNS {
		var at time.Time
		for i := range obs {
			if obs[i].TLSA != nil && (res == nil || obs[i].Time.After(at)) {
				res, at = obs[i].TLSA, obs[i].Time
			}
		}
		if res == nil {
			return nil, fmt.Errorf("no TLSA records of %s recorded yet (--no-dns): run 'pinwatchd check --record' or drop --no-dns", t.Name)
		}
	} else {
		res = r.prober.LookupTLSA(ctx, t)
	}
	if res.Error != "" {
		return nil, errors.New("the TLSA lookup of " + res.Name + " failed (" + res.Error + "), so what DANE clients would do is unknown; --no-dns uses the latest recorded records")
	}
	return res, nil
}
