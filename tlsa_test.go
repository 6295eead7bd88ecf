package pinwatchd_test

import (
	"encoding/json"
	"testing"

	"github.com/pinwatchd/pinwatchd"
)

// The probe JSON's tlsa object (SPEC §5): error and matches are null when
// empty, records a list; the encoding reads back.
func TestTLSAResultJSON(t *testing.T) {
	res := pinwatchd.TLSAResult{Name: "_25._tcp.mx1.example.com", Authenticated: true, Records: []pinwatchd.TLSARecord{
		{Usage: 3, Selector: 1, MatchingType: 1, Data: "ab", Usable: true, Matches: "leaf"},
		{Usage: 1, Selector: 1, MatchingType: 1, Data: "cd", Note: "not for SMTP"},
	}}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"_25._tcp.mx1.example.com","authenticated":true,"error":null,"records":[` +
		`{"usage":3,"selector":1,"matching_type":1,"data":"ab","usable":true,"matches":"leaf"},` +
		`{"usage":1,"selector":1,"matching_type":1,"data":"cd","usable":false,"matches":null,"note":"not for SMTP"}]}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	var back pinwatchd.TLSAResult
	if err := json.Unmarshal(b, &back); err != nil || back.Records[0].Matches != "leaf" || back.Records[1].Matches != "" || back.Error != "" {
		t.Errorf("read back %+v, %v", back, err)
	}
	empty, _ := json.Marshal(pinwatchd.TLSAResult{Name: "x", Error: "SERVFAIL"})
	if string(empty) != `{"name":"x","authenticated":false,"error":"SERVFAIL","records":[]}` {
		t.Errorf("failed lookup JSON %s", empty)
	}
}

func TestProtocol(t *testing.T) {
	for _, s := range []string{"smtp", "imap", "pop3"} {
		if p, err := pinwatchd.ParseProtocol(s); err != nil || string(p) != s {
			t.Errorf("ParseProtocol(%q) = %q, %v", s, p, err)
		}
	}
	if _, err := pinwatchd.ParseProtocol("SMTP "); err == nil || err.Error() != `STARTTLS protocol "SMTP " is not one of smtp, imap, pop3` {
		t.Errorf("ParseProtocol(\"SMTP \") error %v", err)
	}
	type obs struct {
		P pinwatchd.Protocol `json:"starttls"`
	}
	for p, want := range map[pinwatchd.Protocol]string{"": `{"starttls":null}`, "smtp": `{"starttls":"smtp"}`} {
		b, _ := json.Marshal(obs{p})
		var back obs
		if string(b) != want || json.Unmarshal(b, &back) != nil || back.P != p {
			t.Errorf("%q encodes as %s (want %s), reads back as %q", p, b, want, back.P)
		}
	}
}

// An exchange of an mx target is a target of its own: named NAME/EXCHANGE,
// the exchange as host, SMTP, DANE, no HTTP, the mx target's other keys.
func TestMXTarget(t *testing.T) {
	mx := pinwatchd.Target{Name: "mail", MX: "example.com", Port: 25, CAFile: "ca.pem", EHLO: "me.example.net",
		SlackChannel: "#mail", Schedule: "@hourly", PinSets: []pinwatchd.PinSet{{Name: "inline"}}}
	s := mx.MXTarget("mx1.example.com")
	if s.Name != "mail/mx1.example.com" || s.Host != "mx1.example.com" || s.MX != "" || s.Port != 25 ||
		s.STARTTLS != pinwatchd.ProtocolSMTP || !s.DANE || s.HTTP || s.CAFile != "ca.pem" || s.EHLO != "me.example.net" ||
		s.SlackChannel != "#mail" || s.Schedule != "@hourly" || len(s.PinSets) != 1 {
		t.Errorf("MXTarget = %+v", s)
	}
	if got := pinwatchd.TLSAName(s.Host, s.Port); got != "_25._tcp.mx1.example.com" {
		t.Errorf("TLSAName = %q", got)
	}
	if (pinwatchd.TLSARecord{Usage: 3, Selector: 1, MatchingType: 1, Data: "ab"}).String() != "3 1 1 ab" {
		t.Error("TLSARecord.String is not the presentation form")
	}
}
