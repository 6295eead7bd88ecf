package daemon

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCLimit(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int64
	}{
		{0, gcFloor},
		{8 << 20, gcFloor},     // a small fleet: headroom up to the floor
		{100 << 20, 200 << 20}, // a large one: twice the live heap
	} {
		if got := gcLimit(tt.live); got != tt.want {
			t.Errorf("gcLimit(%d MiB) = %d MiB, want %d MiB", tt.live>>20, got>>20, tt.want>>20)
		}
	}
}

// The tuning holds while the daemon runs and is undone when it stops; an
// operator's GOGC or GOMEMLIMIT leaves the runtime's settings alone.
func TestTuneGC(t *testing.T) {
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		tuneGC(t.Context(), func(k string) string {
			if k == env {
				return "200"
			}
			return ""
		})
		if got := debug.SetMemoryLimit(-1); got != limit {
			t.Errorf("with %s set, the memory limit became %d", env, got)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { tuneGC(ctx, func(string) string { return "" }); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) == limit && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got < gcFloor || got == limit {
		t.Errorf("while tuning, the memory limit is %d, want at least %d", got, gcFloor)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("after tuning, the memory limit is %d, want %d back", got, limit)
	}
	if got := debug.SetGCPercent(percent); got != percent {
		t.Errorf("after tuning, GOGC is %d, want %d back", got, percent)
	}
}
