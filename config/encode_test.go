package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// TestEncodeRoundTrip builds a config in code, encodes it and loads it
// back: the file reads as the same targets, pin-sets and settings.
func TestEncodeRoundTrip(t *testing.T) {
	for _, name := range []string{"example", "built"} {
		t.Run(name, func(t *testing.T) {
			var c *Config
			if name == "example" {
				var err error
				if c, err = Load("../config.example.toml", Options{}); err != nil {
					t.Fatal(err)
				}
			} else {
				c = builtConfig(t)
			}
			var b bytes.Buffer
			if err := Encode(&b, c); err != nil {
				t.Fatal(err)
			}
			back, err := Parse(bytes.NewReader(b.Bytes()), "encoded.toml", Options{SkipSecretFiles: true})
			if err != nil {
				t.Fatalf("the encoded config does not load: %v\n%s", err, b.String())
			}
			if !reflect.DeepEqual(back.Targets(), c.Targets()) {
				t.Errorf("targets after the round trip:\n%+v\nwant\n%+v\nfile:\n%s", back.Targets(), c.Targets(), b.String())
			}
			if back.Alerts != c.Alerts || back.Schedule != c.Schedule || back.Timeout != c.Timeout ||
				back.Concurrency != c.Concurrency || back.Retention != c.Retention || back.Slack != c.Slack || back.Database != c.Database || back.Resolver != c.Resolver {
				t.Errorf("settings after the round trip = %+v, want %+v\nfile:\n%s", back, c, b.String())
			}
		})
	}
}

// builtConfig is a config as a program builds it: only some keys set.
func builtConfig(t *testing.T) *Config {
	t.Helper()
	c := Default()
	c.Database = "/var/lib/pinwatchd/pw.db"
	c.Schedule, _ = ParseSchedule("@every 3s")
	c.Timeout = Duration{3 * time.Second}
	c.Alerts.NotifyResolved = false
	if err := c.Resolver.UnmarshalText([]byte("[::1]:5353")); err != nil {
		t.Fatal(err)
	}
	port := 8443
	off := false
	p, err := pinwatchd.ParsePin(pinA)
	if err != nil {
		t.Fatal(err)
	}
	pin := []pinwatchd.Pin{p}
	addr, err := ParseHostPort("127.0.0.1:8443")
	if err != nil {
		t.Fatal(err)
	}
	c.PinSets = []PinSetConfig{{Name: "app", Pins: pin, Expires: Date{Time: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)}}}
	c.TargetConfigs = []TargetConfig{
		{Name: "api", Host: "localhost", Port: &port, Addresses: []HostPort{addr}, PinSets: []string{"app"}},
		{Name: "plain", Host: "www.example.com", HTTP: &off, Pins: pin, RequireHeader: false},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncodeRefusesInlineSecret(t *testing.T) {
	c := Default()
	c.Slack.WebhookURL = Secret{value: "https://hooks.slack.com/services/T0/B0/SECRET"}
	var b bytes.Buffer
	err := Encode(&b, c)
	if err == nil || !strings.Contains(err.Error(), "webhook_url_file") || strings.Contains(b.String()+err.Error(), "SECRET") {
		t.Errorf("Encode with an inline webhook = %v, wrote %q; want a refusal that never shows the secret", err, b.String())
	}
}
