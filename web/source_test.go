package web

import (
	"testing"
	"time"
)

func TestOptionsDefaults(t *testing.T) {
	var o Options
	if o.now().Location() != time.UTC || o.log() == nil {
		t.Error("a zero Options has no UTC clock or no logger")
	}
	at := time.Date(2026, 12, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	o.Now = func() time.Time { return at }
	if got := o.now(); got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("now() = %v, want %v in UTC", got, at)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHandler without a Store did not panic")
		}
	}()
	NewHandler(Options{})
}
