package monitor

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// TLSA fields (RFC 6698 §2.1, RFC 7218 names).
const (
	usagePKIXTA = 0
	usagePKIXEE = 1
	usageDANETA = 2
	usageDANEEE = 3

	selectorCert = 0
	selectorSPKI = 1

	matchExact  = 0
	matchSHA256 = 1
	matchSHA512 = 2
)

// TLSAProblem says why a record is malformed: an unknown usage, selector or
// matching type, or data of the wrong length for its matching type; empty
// for a well-formed record.
func TLSAProblem(r pinwatchd.TLSARecord) string {
	switch {
	case r.Usage > usageDANEEE:
		return fmt.Sprintf("unknown usage %d (want 0 to 3)", r.Usage)
	case r.Selector > selectorSPKI:
		return fmt.Sprintf("unknown selector %d (want 0 or 1)", r.Selector)
	case r.MatchingType > matchSHA512:
		return fmt.Sprintf("unknown matching type %d (want 0, 1 or 2)", r.MatchingType)
	}
	b, err := hex.DecodeString(r.Data)
	switch {
	case err != nil:
		return "data is not hex"
	case r.MatchingType == matchSHA256 && len(b) != sha256.Size:
		return fmt.Sprintf("SHA-256 data of %d bytes (want 32)", len(b))
	case r.MatchingType == matchSHA512 && len(b) != sha512.Size:
		return fmt.Sprintf("SHA-512 data of %d bytes (want 64)", len(b))
	case r.MatchingType == matchExact && len(b) == 0:
		return "no data"
	}
	return ""
}

// noteSMTPPKIX is the note of a PKIX-TA or PKIX-EE record of an SMTP
// target.
const noteSMTPPKIX = "PKIX-TA and PKIX-EE records are not used for SMTP (RFC 7672 §3.1.3)"

// MatchTLSA returns a copy of res with every record's Usable, Matches and
// Note set for the chain observed at o (SPEC §12, RFC 6698, RFC 7671):
// usage 3 (DANE-EE) matches the leaf; usage 2 (DANE-TA) any certificate of
// the served chain above it; usages 0 and 1 (PKIX-TA, PKIX-EE) match as
// their usage says, need the chain to verify, and are not usable for SMTP
// (RFC 7672), which smtp selects. Selector 0 is the whole certificate, 1
// its SubjectPublicKeyInfo; matching type 0 is exact, 1 SHA-256, 2
// SHA-512. MatchTLSA is pure; nil gives nil.
func MatchTLSA(res *pinwatchd.TLSAResult, o *pinwatchd.Observation, smtp bool) *pinwatchd.TLSAResult {
	if res == nil {
		return nil
	}
	out := *res
	out.Records = make([]pinwatchd.TLSARecord, len(res.Records))
	certs := newCertForms(o)
	for i, r := range res.Records {
		r.Usable, r.Matches, r.Note = false, "", ""
		switch p := TLSAProblem(r); {
		case p != "":
			r.Note = "malformed: " + p
		case smtp && (r.Usage == usagePKIXTA || r.Usage == usagePKIXEE):
			r.Note = noteSMTPPKIX
		default:
			r.Usable = true
			r.Matches = certs.match(r, o.Verification.Trusted)
			if r.Matches == "" && !o.Verification.Trusted && r.Usage <= usagePKIXEE && len(o.ServedChain) > 0 {
				r.Note = "PKIX records need the chain to verify, and it does not"
			}
		}
		out.Records[i] = r
	}
	return &out
}

// certForms holds what records are matched against, computed once per
// certificate as needed.
type certForms struct {
	served, verified []pinwatchd.Cert
	spki             map[string][]byte // certificate SHA-256 → its SPKI DER
}

func newCertForms(o *pinwatchd.Observation) *certForms {
	return &certForms{served: o.ServedChain, verified: o.VerifiedChain}
}

// match returns where record r matches: "leaf", "chain N" or "".
func (f *certForms) match(r pinwatchd.TLSARecord, trusted bool) string {
	chain, from, to := f.served, 0, 0
	switch r.Usage {
	case usageDANEEE:
		to = 1
	case usageDANETA:
		from, to = 1, len(f.served)
	case usagePKIXEE:
		if !trusted {
			return ""
		}
		to = 1
	case usagePKIXTA:
		if !trusted {
			return ""
		}
		chain = f.verified
		from, to = 1, len(f.verified)
	}
	want, err := hex.DecodeString(r.Data)
	if err != nil {
		return ""
	}
	for i := from; i < min(to, len(chain)); i++ {
		if f.matches(&chain[i], r, want) {
			if i == 0 {
				return "leaf"
			}
			return "chain " + strconv.Itoa(i)
		}
	}
	return ""
}

// matches reports whether certificate c has the association data want
// under r's selector and matching type.
func (f *certForms) matches(c *pinwatchd.Cert, r pinwatchd.TLSARecord, want []byte) bool {
	if r.Selector == selectorSPKI && r.MatchingType == matchSHA256 {
		return string(c.Pin[:]) == string(want) // the pin is SHA-256 of the SPKI
	}
	var data []byte
	if r.Selector == selectorCert {
		data = c.DER
	} else {
		data = f.spkiOf(c)
	}
	if data == nil {
		return false
	}
	switch r.MatchingType {
	case matchExact:
		return string(data) == string(want)
	case matchSHA256:
		sum := sha256.Sum256(data)
		return string(sum[:]) == string(want)
	case matchSHA512:
		sum := sha512.Sum512(data)
		return string(sum[:]) == string(want)
	}
	return false
}

// spkiOf returns the DER SubjectPublicKeyInfo of c, nil when its DER is
// not known or does not parse.
func (f *certForms) spkiOf(c *pinwatchd.Cert) []byte {
	if b, ok := f.spki[c.SHA256]; ok {
		return b
	}
	var b []byte
	if xc, err := x509.ParseCertificate(c.DER); err == nil {
		b = xc.RawSubjectPublicKeyInfo
	}
	if f.spki == nil {
		f.spki = map[string][]byte{}
	}
	f.spki[c.SHA256] = b
	return b
}

// tlsaFindings returns the TLSA findings of one round of a DANE target
// (SPEC §12), all of the pin-set "tlsa": tlsa_lookup_failed, no_tlsa,
// tlsa_malformed and tlsa_unsigned about the RRset (no address);
// tlsa_mismatch and tlsa_missing_backup per address that served a chain,
// for an authenticated RRset only, since DANE clients ignore any other.
func tlsaFindings(t *pinwatchd.Target, obs []pinwatchd.Observation) []pinwatchd.Finding {
	if !t.DANE {
		return nil
	}
	var res *pinwatchd.TLSAResult
	for i := range obs {
		if obs[i].TLSA != nil {
			res = obs[i].TLSA
			break
		}
	}
	if res == nil {
		return nil
	}
	rrset := &pinwatchd.Details{TLSA: res}
	f := func(k pinwatchd.Kind, sev pinwatchd.Severity, addr, msg string) pinwatchd.Finding {
		return pinwatchd.Finding{Kind: k, Severity: sev, Address: addr, PinSet: pinwatchd.PinSetTLSA, Message: msg, Details: rrset}
	}
	switch {
	case res.Error != "":
		return []pinwatchd.Finding{f(pinwatchd.KindTLSALookupFailed, pinwatchd.SeverityWarning, "",
			fmt.Sprintf("the TLSA lookup of %s failed: %s", res.Name, res.Error))}
	case len(res.Records) == 0:
		sev := pinwatchd.SeverityInfo
		if t.RequireTLSA {
			sev = pinwatchd.SeverityWarning
		}
		return []pinwatchd.Finding{f(pinwatchd.KindNoTLSA, sev, "", fmt.Sprintf("%s has no TLSA records", res.Name))}
	}
	var fs []pinwatchd.Finding
	var bad []string
	for _, r := range res.Records {
		if p := TLSAProblem(r); p != "" {
			bad = append(bad, fmt.Sprintf("%s (%s)", shortRecord(r), p))
		}
	}
	if len(bad) > 0 {
		fs = append(fs, f(pinwatchd.KindTLSAMalformed, pinwatchd.SeverityWarning, "",
			fmt.Sprintf("%s has malformed TLSA records, which DANE clients skip: %s", res.Name, strings.Join(bad, "; "))))
	}
	if !res.Authenticated {
		return append(fs, f(pinwatchd.KindTLSAUnsigned, pinwatchd.SeverityWarning, "",
			fmt.Sprintf("the TLSA records of %s are not DNSSEC-authenticated (no AD bit from the resolver), so DANE clients ignore them", res.Name)))
	}
	smtp := t.STARTTLS == pinwatchd.ProtocolSMTP
	for i := range obs {
		o := &obs[i]
		if len(o.ServedChain) == 0 || o.TLSA == nil {
			continue
		}
		m := MatchTLSA(o.TLSA, o, smtp)
		usable, matched := 0, 0
		for _, r := range m.Records {
			if r.Usable {
				usable++
				if r.Matches != "" {
					matched++
				}
			}
		}
		var found pinwatchd.Finding
		switch {
		case matched == 0:
			found = f(pinwatchd.KindTLSAMismatch, pinwatchd.SeverityCritical, o.Address, tlsaMismatchMessage(m, o, usable))
		case matched == usable:
			found = f(pinwatchd.KindTLSAMissingBackup, pinwatchd.SeverityWarning, o.Address, tlsaBackupMessage(m, o))
		default:
			continue
		}
		found.Details = &pinwatchd.Details{Cert: pinwatchd.Summarize(o.ServedChain[0], "leaf"), TLSA: m}
		fs = append(fs, found)
	}
	return fs
}

// shortRecord is a record for a message: its fields and the start of its
// data.
func shortRecord(r pinwatchd.TLSARecord) string {
	d := r.Data
	if len(d) > 16 {
		d = d[:16] + "…"
	}
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, d)
}

func tlsaMismatchMessage(m *pinwatchd.TLSAResult, o *pinwatchd.Observation, usable int) string {
	leaf := o.ServedChain[0]
	var recs []string
	for _, r := range m.Records {
		recs = append(recs, shortRecord(r))
	}
	what := "no TLSA record of " + m.Name + " matches"
	if usable == 0 {
		what = "no usable TLSA record of " + m.Name + " can match"
	}
	return fmt.Sprintf("%s the chain served at %s: DANE clients refuse it (leaf key %s, DANE-EE data 3 1 1 %s; published: %s)",
		what, o.Address, leaf.Pin, hex.EncodeToString(leaf.Pin[:]), strings.Join(recs, ", "))
}

func tlsaBackupMessage(m *pinwatchd.TLSAResult, o *pinwatchd.Observation) string {
	var recs []string
	for _, r := range m.Records {
		if r.Usable {
			recs = append(recs, shortRecord(r)+" ("+r.Matches+")")
		}
	}
	return fmt.Sprintf("every usable TLSA record of %s matches the chain served at %s now (%s): publish the next key's record before the rotation",
		m.Name, o.Address, strings.Join(recs, ", "))
}
