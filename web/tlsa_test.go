package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
	"github.com/pinwatchd/pinwatchd/storage"
	"github.com/pinwatchd/pinwatchd/web"
)

// TestTargetPageTLSA records an SMTP target's probe with an authenticated
// TLSA RRset in a database, and reads its page: every record with its
// fields, abbreviated data, whether it is usable and which certificate of
// the chain it matches, in the HTML and in the JSON, and the STARTTLS
// protocol.
func TestTargetPageTLSA(t *testing.T) {
	pki := testpki.New(t)
	spare := testpki.KeyPin(t, pki.Spare)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	leafKey := sum(pki.Leaf.Cert.RawSubjectPublicKeyInfo)
	records := []string{
		"3 1 1 " + leafKey,                                            // the leaf's key: leaf
		"3 1 1 " + hex.EncodeToString(spare[:]),                       // the next key: no match yet
		"2 1 1 " + sum(pki.Intermediate.Cert.RawSubjectPublicKeyInfo), // the CA: chain 1
		"3 0 1 " + sum(pki.Leaf.Cert.Raw),                             // the whole leaf: needs its DER
		"1 1 1 " + leafKey,                                            // PKIX-EE: not for SMTP
	}
	res := &pinwatchd.TLSAResult{Name: "_25._tcp.localhost", Authenticated: true}
	for _, r := range records {
		var rec pinwatchd.TLSARecord
		if _, err := fmt.Sscan(r, &rec.Usage, &rec.Selector, &rec.MatchingType, &rec.Data); err != nil {
			t.Fatal(err)
		}
		res.Records = append(res.Records, rec)
	}
	leaf, inter, root := pinwatchd.CertFromX509(pki.Leaf.Cert), pinwatchd.CertFromX509(pki.Intermediate.Cert), pinwatchd.CertFromX509(pki.Root.Cert)
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "pinwatchd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	obs := pinwatchd.Observation{Target: "mail", Address: "127.0.0.1:25", SNI: "localhost", Time: time.Now().UTC(),
		TLSVersion: "TLS 1.3", STARTTLS: pinwatchd.ProtocolSMTP, TLSA: res,
		ServedChain: []pinwatchd.Cert{leaf, inter}, VerifiedChain: []pinwatchd.Cert{leaf, inter, root},
		Verification: pinwatchd.Verification{Trusted: true, HostnameValid: true}}
	if _, err := db.Record(t.Context(), []pinwatchd.Observation{obs}); err != nil {
		t.Fatal(err)
	}
	mail := pinwatchd.Target{Name: "mail", Host: "localhost", Port: 25, STARTTLS: pinwatchd.ProtocolSMTP, DANE: true}
	h := web.NewHandler(web.Options{Store: db, Fleet: func() web.Fleet {
		return web.Fleet{Targets: []pinwatchd.Target{mail}, Thresholds: pinwatchd.DefaultThresholds}
	}})

	code, _, body := get(t, h, "/target/mail", browserAccept)
	if code != http.StatusOK {
		t.Fatalf("GET /target/mail = %d", code)
	}
	for _, want := range []string{"STARTTLS <b>smtp</b>", "<h4>TLSA records</h4>", `<span class="mono">_25._tcp.localhost</span>`,
		`<span class="ok">DNSSEC-authenticated</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// One row per record: usage, selector, matching type, data, usable,
	// matches.
	rowRE := regexp.MustCompile(`<tr><td>(\d) <small>([^<]+)</small><td>(\d) <small>([^<]+)</small><td>(\d) <small>([^<]+)</small><td><code title="([0-9a-f]+)">([^<]+)</code><td><span class="[a-z]+">([^<]+)</span>(?:<br><small>[^<]+</small>)?<td><span class="[a-z]+">([^<]+)</span>`)
	var rows []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		if m[8] != m[7][:16]+"…" {
			t.Errorf("record data %q shown as %q, want its first 16 digits and …", m[7], m[8])
		}
		rows = append(rows, strings.Join([]string{m[1], m[2], m[3], m[4], m[5], m[6], m[9], m[10]}, " "))
	}
	slices.Sort(rows)
	want := []string{
		"1 PKIX-EE 1 SPKI 1 SHA2-256 not usable no match",
		"2 DANE-TA 1 SPKI 1 SHA2-256 usable chain 1",
		"3 DANE-EE 0 Cert 1 SHA2-256 usable leaf",
		"3 DANE-EE 1 SPKI 1 SHA2-256 usable leaf",
		"3 DANE-EE 1 SPKI 1 SHA2-256 usable no match",
	}
	if !slices.Equal(rows, want) {
		t.Errorf("TLSA rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(body, "PKIX-TA and PKIX-EE records are not used for SMTP") {
		t.Error("the PKIX-EE record's note is missing")
	}

	code, _, body = get(t, h, "/target/mail", "application/json")
	if code != http.StatusOK {
		t.Fatalf("GET /target/mail as JSON = %d", code)
	}
	var page struct {
		STARTTLS  *string `json:"starttls"`
		DANE      bool    `json:"dane"`
		Addresses []struct {
			TLSA *pinwatchd.TLSAResult `json:"tlsa"`
		} `json:"addresses"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if page.STARTTLS == nil || *page.STARTTLS != "smtp" || !page.DANE || len(page.Addresses) != 1 || page.Addresses[0].TLSA == nil {
		t.Fatalf("JSON page = %s", body)
	}
	got := page.Addresses[0].TLSA
	if got.Name != res.Name || !got.Authenticated || len(got.Records) != len(records) {
		t.Fatalf("JSON tlsa = %+v", got)
	}
	matches := map[string]string{}
	for _, r := range got.Records {
		matches[r.String()] = r.Matches
		if r.Usable != (r.Usage != 1) {
			t.Errorf("JSON record %s usable = %v", r, r.Usable)
		}
	}
	for rec, m := range map[string]string{records[0]: "leaf", records[1]: "", records[2]: "chain 1", records[3]: "leaf", records[4]: ""} {
		if matches[rec] != m {
			t.Errorf("JSON record %s matches %q, want %q", rec, matches[rec], m)
		}
	}
}

// A target that is not a DANE target has no TLSA section and "tlsa": null.
func TestTargetPageNoTLSA(t *testing.T) {
	f := newFixture(t)
	h := web.NewHandler(f.options())
	if _, _, body := get(t, h, "/target/api", browserAccept); strings.Contains(body, "TLSA") || strings.Contains(body, "STARTTLS") {
		t.Error("the page of an HTTPS target shows TLSA records or STARTTLS")
	}
	if _, _, body := get(t, h, "/target/api", "application/json"); !strings.Contains(body, `"tlsa": null`) || !strings.Contains(body, `"starttls": null`) {
		t.Errorf("the JSON of an HTTPS target lacks \"tlsa\": null and \"starttls\": null:\n%s", body)
	}
}
