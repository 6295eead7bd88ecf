package querydoc

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

func TestEventsAtAndJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	events := []pinwatchd.Event{
		{Time: at, Target: "api", Address: "10.0.0.1:443", Vantage: "eu", Event: pinwatchd.EventFirstSeen},
		{Time: at, Target: "api", Address: "10.0.0.1:443", Vantage: "us", Event: pinwatchd.EventFirstSeen},
	}
	if got := EventsAt(append([]pinwatchd.Event(nil), events...), ""); len(got) != 2 {
		t.Errorf("EventsAt without a vantage kept %d events, want both", len(got))
	}
	got := EventsAt(append([]pinwatchd.Event(nil), events...), "us")
	if len(got) != 1 || got[0].Vantage != "us" {
		t.Fatalf("EventsAt us = %+v, want us's event only", got)
	}
	b, err := json.Marshal(Events(got))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"vantage":"us"`) || !strings.Contains(string(b), `"class":null`) {
		t.Errorf("history JSON = %s, want the vantage and null for what a first_seen lacks", b)
	}
}

func TestCertsAt(t *testing.T) {
	rows := []pinwatchd.CertStatus{{Target: "api", Vantage: "eu"}, {Target: "api", Vantage: "us"}, {Target: "www", Vantage: "eu"}}
	got := CertsAt(rows, "eu")
	if len(got) != 2 || got[0].Vantage != "eu" || got[1].Target != "www" {
		t.Errorf("CertsAt eu = %+v, want api and www at eu", got)
	}
	if b, _ := json.Marshal(Certs(got[:1])); !strings.Contains(string(b), `"vantage":"eu"`) {
		t.Errorf("certs JSON = %s, want the vantage", b)
	}
}
