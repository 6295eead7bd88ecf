package monitor

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

func hexOf(b []byte) string { return hex.EncodeToString(b) }
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hexOf(s[:])
}
func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hexOf(s[:])
}

func rec(u, s, m uint8, data string) pinwatchd.TLSARecord {
	return pinwatchd.TLSARecord{Usage: u, Selector: s, MatchingType: m, Data: data}
}

// tlsaPKI is a verified observation of the test chain.
func tlsaPKI(t *testing.T) (*testpki.PKI, pinwatchd.Observation) {
	pki := testpki.New(t)
	leaf, inter, root := pinwatchd.CertFromX509(pki.Leaf.Cert), pinwatchd.CertFromX509(pki.Intermediate.Cert), pinwatchd.CertFromX509(pki.Root.Cert)
	return pki, pinwatchd.Observation{Address: "127.0.0.1:25", ServedChain: []pinwatchd.Cert{leaf, inter},
		VerifiedChain: []pinwatchd.Cert{leaf, inter, root}, Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true}}
}

func TestMatchTLSA(t *testing.T) {
	pki, o := tlsaPKI(t)
	leaf, inter, root := pki.Leaf.Cert, pki.Intermediate.Cert, pki.Root.Cert
	untrusted := o
	untrusted.Verification = pinwatchd.Verification{}
	untrusted.VerifiedChain = nil
	tests := []struct {
		name    string
		r       pinwatchd.TLSARecord
		o       pinwatchd.Observation
		smtp    bool
		usable  bool
		matches string
		note    string
	}{
		{"DANE-EE SPKI SHA-256", rec(3, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, true, "leaf", ""},
		{"DANE-EE certificate SHA-256", rec(3, 0, 1, sha256Hex(leaf.Raw)), o, true, true, "leaf", ""},
		{"DANE-EE SPKI SHA-512", rec(3, 1, 2, sha512Hex(leaf.RawSubjectPublicKeyInfo)), o, true, true, "leaf", ""},
		{"DANE-EE SPKI exact", rec(3, 1, 0, hexOf(leaf.RawSubjectPublicKeyInfo)), o, true, true, "leaf", ""},
		{"DANE-EE certificate exact", rec(3, 0, 0, hexOf(leaf.Raw)), o, true, true, "leaf", ""},
		{"DANE-EE of an untrusted chain still matches", rec(3, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), untrusted, true, true, "leaf", ""},
		{"DANE-EE of the intermediate does not match", rec(3, 1, 1, sha256Hex(inter.RawSubjectPublicKeyInfo)), o, true, true, "", ""},
		{"DANE-TA of the intermediate", rec(2, 1, 1, sha256Hex(inter.RawSubjectPublicKeyInfo)), o, true, true, "chain 1", ""},
		{"DANE-TA certificate SHA-512", rec(2, 0, 2, sha512Hex(inter.Raw)), o, true, true, "chain 1", ""},
		{"DANE-TA of the leaf does not match", rec(2, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, true, "", ""},
		{"DANE-TA of a root not served does not match", rec(2, 1, 1, sha256Hex(root.RawSubjectPublicKeyInfo)), o, true, true, "", ""},
		{"PKIX-EE on HTTPS-like targets", rec(1, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, false, true, "leaf", ""},
		{"PKIX-TA of the root, verified", rec(0, 1, 1, sha256Hex(root.RawSubjectPublicKeyInfo)), o, false, true, "chain 2", ""},
		{"PKIX-EE needs the chain to verify", rec(1, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), untrusted, false, true, "", "PKIX records need the chain to verify"},
		{"PKIX-EE is not for SMTP", rec(1, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, false, "", "not used for SMTP"},
		{"PKIX-TA is not for SMTP", rec(0, 1, 1, sha256Hex(root.RawSubjectPublicKeyInfo)), o, true, false, "", "not used for SMTP"},
		{"unknown usage", rec(4, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, false, "", "unknown usage 4"},
		{"unknown selector", rec(3, 2, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, false, "", "unknown selector 2"},
		{"unknown matching type", rec(3, 1, 3, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, false, "", "unknown matching type 3"},
		{"SHA-256 data of 31 bytes", rec(3, 1, 1, sha256Hex(leaf.RawSubjectPublicKeyInfo)[:62]), o, true, false, "", "SHA-256 data of 31 bytes"},
		{"SHA-512 data of 32 bytes", rec(3, 1, 2, sha256Hex(leaf.RawSubjectPublicKeyInfo)), o, true, false, "", "SHA-512 data of 32 bytes"},
		{"exact with no data", rec(3, 1, 0, ""), o, true, false, "", "no data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &pinwatchd.TLSAResult{Name: "_25._tcp.localhost", Authenticated: true, Records: []pinwatchd.TLSARecord{tt.r}}
			got := MatchTLSA(res, &tt.o, tt.smtp).Records[0]
			if got.Usable != tt.usable || got.Matches != tt.matches || !strings.Contains(got.Note, tt.note) || (tt.note == "" && got.Note != "") {
				t.Errorf("MatchTLSA(%s) = usable %v, matches %q, note %q; want %v, %q, %q", tt.r, got.Usable, got.Matches, got.Note, tt.usable, tt.matches, tt.note)
			}
			if res.Records[0].Matches != "" || res.Records[0].Usable {
				t.Error("MatchTLSA changed the result it was given")
			}
		})
	}
	if MatchTLSA(nil, &o, true) != nil {
		t.Error("MatchTLSA(nil) is not nil")
	}
}

func TestTLSAFindings(t *testing.T) {
	pki, o := tlsaPKI(t)
	leafRec := "3 1 1 " + sha256Hex(pki.Leaf.Cert.RawSubjectPublicKeyInfo)
	spareRec := "3 1 1 " + hex.EncodeToString(func() []byte { p := testpki.KeyPin(t, pki.Spare); return p[:] }())
	caRec := "2 1 1 " + sha256Hex(pki.Intermediate.Cert.RawSubjectPublicKeyInfo)
	pkixRec := "1 1 1 " + sha256Hex(pki.Leaf.Cert.RawSubjectPublicKeyInfo)
	parse := func(rs ...string) []pinwatchd.TLSARecord {
		var out []pinwatchd.TLSARecord
		for _, r := range rs {
			f := strings.Fields(r)
			u, s, m := f[0][0]-'0', f[1][0]-'0', f[2][0]-'0'
			out = append(out, rec(u, s, m, f[3]))
		}
		return out
	}
	smtp := pinwatchd.Target{Name: "mail", Host: "localhost", Port: 25, STARTTLS: pinwatchd.ProtocolSMTP, DANE: true}
	type want struct {
		kind pinwatchd.Kind
		sev  pinwatchd.Severity
		addr string
	}
	tests := []struct {
		name string
		t    pinwatchd.Target
		res  *pinwatchd.TLSAResult
		want []want
	}{
		{"not a DANE target", pinwatchd.Target{Name: "api"}, &pinwatchd.TLSAResult{Records: parse(spareRec)}, nil},
		{"lookup failed", smtp, &pinwatchd.TLSAResult{Error: "127.0.0.1:53 answered SERVFAIL"},
			[]want{{pinwatchd.KindTLSALookupFailed, pinwatchd.SeverityWarning, ""}}},
		{"no records", smtp, &pinwatchd.TLSAResult{Authenticated: true}, []want{{pinwatchd.KindNoTLSA, pinwatchd.SeverityInfo, ""}}},
		{"no records, required", func() pinwatchd.Target { x := smtp; x.RequireTLSA = true; return x }(), &pinwatchd.TLSAResult{},
			[]want{{pinwatchd.KindNoTLSA, pinwatchd.SeverityWarning, ""}}},
		{"unsigned: nothing else counts", smtp, &pinwatchd.TLSAResult{Records: parse(spareRec)},
			[]want{{pinwatchd.KindTLSAUnsigned, pinwatchd.SeverityWarning, ""}}},
		{"current only: no backup", smtp, &pinwatchd.TLSAResult{Authenticated: true, Records: parse(leafRec)},
			[]want{{pinwatchd.KindTLSAMissingBackup, pinwatchd.SeverityWarning, "127.0.0.1:25"}}},
		{"current and CA: every record matches, no backup", smtp, &pinwatchd.TLSAResult{Authenticated: true, Records: parse(leafRec, caRec)},
			[]want{{pinwatchd.KindTLSAMissingBackup, pinwatchd.SeverityWarning, "127.0.0.1:25"}}},
		{"current and next", smtp, &pinwatchd.TLSAResult{Authenticated: true, Records: parse(leafRec, spareRec)}, nil},
		{"next only: rotated early", smtp, &pinwatchd.TLSAResult{Authenticated: true, Records: parse(spareRec)},
			[]want{{pinwatchd.KindTLSAMismatch, pinwatchd.SeverityCritical, "127.0.0.1:25"}}},
		{"only PKIX-EE on SMTP: nothing usable", smtp, &pinwatchd.TLSAResult{Authenticated: true, Records: parse(pkixRec)},
			[]want{{pinwatchd.KindTLSAMismatch, pinwatchd.SeverityCritical, "127.0.0.1:25"}}},
		{"malformed beside good records", smtp, &pinwatchd.TLSAResult{Authenticated: true, Records: parse(leafRec, spareRec, "3 1 1 abcd")},
			[]want{{pinwatchd.KindTLSAMalformed, pinwatchd.SeverityWarning, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.res.Name = "_25._tcp.localhost"
			oo := o
			oo.TLSA = tt.res
			fs := tlsaFindings(&tt.t, []pinwatchd.Observation{oo})
			var got []want
			for _, f := range fs {
				got = append(got, want{f.Kind, f.Severity, f.Address})
				if f.PinSet != pinwatchd.PinSetTLSA || !strings.Contains(f.Message, "_25._tcp.localhost") {
					t.Errorf("finding %+v: want the pin-set tlsa and a message naming the RRset", f)
				}
				if f.Details == nil || f.Details.TLSA == nil || f.Details.TLSA.Name != "_25._tcp.localhost" {
					t.Errorf("finding %s: details %+v, want the RRset _25._tcp.localhost", f.Kind, f.Details)
					continue
				}
				if f.Address == "" {
					continue
				}
				// Per address: the served leaf next to the records matched
				// against its chain.
				if c := f.Details.Cert; c == nil || c.Pin != pki.Leaf.Pin() || c.Position != "leaf" {
					t.Errorf("finding %s: details cert %+v, want the served leaf", f.Kind, c)
				}
				for _, r := range f.Details.TLSA.Records {
					if want := r.String() == leafRec; (r.Matches == "leaf") != want {
						t.Errorf("finding %s: record %s matches %q in the details", f.Kind, r, r.Matches)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Each address is judged on its own chain; an address that served no chain
// gets no verdict.
func TestTLSAFindingsPerAddress(t *testing.T) {
	pki, o := tlsaPKI(t)
	other := testpki.New(t)
	res := &pinwatchd.TLSAResult{Name: "_25._tcp.localhost", Authenticated: true,
		Records: []pinwatchd.TLSARecord{rec(3, 1, 1, sha256Hex(pki.Leaf.Cert.RawSubjectPublicKeyInfo)), rec(3, 1, 1, sha256Hex(other.Leaf.Cert.RawSubjectPublicKeyInfo))}}
	a, b, c := o, o, pinwatchd.Observation{Address: "127.0.0.3:25", Error: &pinwatchd.ProbeError{Kind: pinwatchd.KindTimeout}}
	b.Address = "127.0.0.2:25"
	b.ServedChain = []pinwatchd.Cert{pinwatchd.CertFromX509(testpki.New(t).Leaf.Cert)}
	a.TLSA, b.TLSA, c.TLSA = res, res, res
	tg := pinwatchd.Target{Name: "mail", STARTTLS: pinwatchd.ProtocolSMTP, DANE: true}
	fs := Evaluate(&tg, []pinwatchd.Observation{a, b, c}, pinwatchd.DefaultThresholds, time.Now())
	var mismatch []string
	for _, f := range fs {
		if f.Kind == pinwatchd.KindTLSAMismatch {
			mismatch = append(mismatch, f.Address)
		}
		if f.Kind == pinwatchd.KindTLSAMissingBackup {
			t.Errorf("tlsa_missing_backup %+v: the RRset has a record for another key", f)
		}
	}
	if !slices.Equal(mismatch, []string{"127.0.0.2:25"}) {
		t.Errorf("tlsa_mismatch at %v, want only 127.0.0.2:25", mismatch)
	}
}
