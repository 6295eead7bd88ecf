package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/web"
)

// A notification Slack refused for good is parked; /alerts says so, on the
// page and in its JSON, as `pinwatchd alerts` does.
func TestAlertsShowUndeliverable(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	pending, err := f.db.Pending(ctx, time.Now().Add(time.Hour), 100)
	if err != nil || len(pending) == 0 {
		t.Fatalf("Pending = %d notifications, %v; want the fixture's", len(pending), err)
	}
	var parked *pinwatchd.Notification
	for i := range pending {
		if pending[i].Alert != nil && pending[i].Alert.Target == "legacy" {
			parked = &pending[i]
		}
	}
	if parked == nil {
		t.Fatal("no notification about legacy's alert to park")
	}
	if err := f.db.Park(ctx, parked.ID, time.Now(), "channel_not_found"); err != nil {
		t.Fatal(err)
	}
	h := web.NewHandler(f.options())

	code, _, body := get(t, h, "/alerts", "text/html")
	if code != http.StatusOK {
		t.Fatalf("GET /alerts = %d", code)
	}
	for _, want := range []string{"Slack refused a notification about it for good", "1 notification undeliverable: Slack refused it for good (channel_not_found)"} {
		if !strings.Contains(body, want) {
			t.Errorf("/alerts lacks %q", want)
		}
	}

	_, _, body = get(t, h, "/alerts", "application/json")
	var doc struct {
		Open []struct {
			Target        string  `json:"target"`
			Undeliverable bool    `json:"undeliverable"`
			ResolveReason *string `json:"resolve_reason"`
		} `json:"open"`
		Undeliverable int    `json:"notifications_undeliverable"`
		LastRefusal   string `json:"last_refusal"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Undeliverable != 1 || doc.LastRefusal != "channel_not_found" {
		t.Errorf("/alerts JSON: %d undeliverable, last refusal %q; want 1, channel_not_found", doc.Undeliverable, doc.LastRefusal)
	}
	for _, a := range doc.Open {
		if a.Undeliverable != (a.Target == "legacy") {
			t.Errorf("open alert of %s: undeliverable %v", a.Target, a.Undeliverable)
		}
		if a.ResolveReason != nil {
			t.Errorf("open alert of %s has a resolve_reason %q, want null as in `alerts --json`", a.Target, *a.ResolveReason)
		}
	}
}
