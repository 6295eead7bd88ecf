package main

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
	"github.com/pinwatchd/pinwatchd/internal/testpki"
)

// probe --starttls smtp speaks SMTP before the handshake and implies
// --dane: the JSON and the report show the RRset, whether it is
// authenticated, and which record matches which certificate (SPEC §12).
func TestProbeSTARTTLSDANE(t *testing.T) {
	f := newFleet(t)
	srv := testpki.ServeMail(t, "smtp", f.pki.TLS())
	port := portOf(t, srv.Addr)
	spare := testpki.KeyPin(t, f.pki.Spare)
	leafRec, spareRec := daneEE(f.pki.Leaf), "3 1 1 "+hex.EncodeToString(spare[:])
	dns := pinwatchdtest.NewDNS(t)
	dns.SetTLSA(pinwatchd.TLSAName("localhost", port), true, leafRec, spareRec)
	args := []string{"probe", "localhost:" + strconv.Itoa(port), "--connect", "127.0.0.1", "--starttls", "smtp",
		"--resolver", dns.Addr, "--ca-file", f.caFile}

	stdout, stderr, code := cliRun(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("probe --json exited %d: %s\n%s", code, stderr, stdout)
	}
	var doc struct {
		Targets []struct {
			Addresses []struct {
				STARTTLS *string               `json:"starttls"`
				TLSA     *pinwatchd.TLSAResult `json:"tlsa"`
				HTTP     *json.RawMessage      `json:"http"`
				Served   []map[string]any      `json:"served_chain"`
			} `json:"addresses"`
			Findings []pinwatchd.Finding `json:"findings"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("probe --json printed invalid JSON: %v\n%s", err, stdout)
	}
	a := doc.Targets[0].Addresses[0]
	if a.STARTTLS == nil || *a.STARTTLS != "smtp" || a.HTTP != nil || len(a.Served) != 2 {
		t.Errorf("address: starttls %v, http %v, %d certificates; want smtp, no HTTP, the served chain", a.STARTTLS, a.HTTP, len(a.Served))
	}
	res := a.TLSA
	if res == nil || res.Name != pinwatchd.TLSAName("localhost", port) || !res.Authenticated || res.Error != "" || len(res.Records) != 2 {
		t.Fatalf("tlsa = %+v, want the authenticated RRset of two records", res)
	}
	for _, r := range res.Records {
		want := ""
		if r.String() == leafRec {
			want = "leaf"
		}
		if r.Matches != want || !r.Usable {
			t.Errorf("record %s: usable %v, matches %q; want usable, matches %q", r, r.Usable, r.Matches, want)
		}
	}
	if !strings.Contains(stdout, `"matches": null`) {
		t.Errorf("a record that matches nothing does not show \"matches\": null:\n%s", stdout)
	}
	if fs := doc.Targets[0].Findings; len(fs) != 0 {
		t.Errorf("findings %+v, want none: the current key and the next are published", fs)
	}

	stdout, _, code = cliRun(t, args...)
	for _, want := range []string{
		"starttls  smtp",
		"TLSA " + res.Name + ": 2 records, authenticated (AD)",
		leafRec + "  matches leaf",
		spareRec + "  backup (matches no certificate of the chain)",
		"result: ok",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("probe report lacks %q:\n%s", want, stdout)
		}
	}
	if code != exitOK {
		t.Errorf("probe exited %d, want 0", code)
	}

	// A server that refuses STARTTLS: starttls_failed, exit 1.
	srv.SetBehaviour(testpki.MailRefuse)
	stdout, _, code = cliRun(t, args...)
	if code != 1 || !strings.Contains(stdout, "starttls_failed") || !strings.Contains(stdout, "454 4.7.0") {
		t.Errorf("probe of a refusing server exited %d:\n%s\nwant 1 and starttls_failed quoting the 454", code, stdout)
	}

	// IMAP without --dane: no TLSA lookup.
	imap := testpki.ServeMail(t, "imap", f.pki.TLS())
	stdout, _, code = cliRun(t, "probe", imap.Addr, "--starttls", "imap", "--ca-file", f.caFile, "--sni", "localhost", "--json")
	if code != exitOK || !strings.Contains(stdout, `"starttls": "imap"`) || !strings.Contains(stdout, `"tlsa": null`) {
		t.Errorf("probe --starttls imap exited %d:\n%s\nwant starttls imap and tlsa null", code, stdout)
	}
	if n := len(dns.Queries()); n != 3 {
		t.Errorf("%d DNS questions, want 3 (one TLSA lookup per SMTP probe, none for IMAP)", n)
	}
}

func TestProbeSTARTTLSBadFlag(t *testing.T) {
	_, stderr, code := runCmd(t, "", nil, "probe", "localhost:25", "--starttls", "ftp")
	if code != exitError || !strings.Contains(stderr, `--starttls: STARTTLS protocol "ftp" is not one of smtp, imap, pop3`) {
		t.Errorf("probe --starttls ftp: exit %d, stderr %q", code, stderr)
	}
}
