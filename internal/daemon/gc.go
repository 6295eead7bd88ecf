package daemon

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The daemon's garbage collector trades a little memory for CPU (SPEC §11:
// a round of unchanged targets within 1.10× a bare TLS client): every
// handshake allocates tens of kilobytes, and with Go's default GOGC of 100
// a small fleet's few megabytes of live heap would be collected several
// times per round, each time scanning the stacks of every waiting job (and
// shrinking the stacks of idle workers, which the next round grows again).
// A high GOGC makes collections rare, and a soft memory limit of twice the
// live heap (never below gcFloor; the limit also counts stacks and runtime
// metadata, which GOGC does not) keeps a large fleet at or below where
// GOGC=100 would:
// small fleets get headroom, large ones the usual bound. An operator's own
// GOGC or GOMEMLIMIT wins; the tuning is then left off.
const (
	gcPercent = 800
	gcFloor   = 40 << 20 // bytes: the memory limit of a small fleet
	gcEvery   = 5 * time.Second
)

// tuneGC applies the tuning until ctx is done, re-reading the live heap
// every gcEvery; it returns at once when the environment sets GOGC or
// GOMEMLIMIT.
func tuneGC(ctx context.Context, getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	oldPercent := debug.SetGCPercent(gcPercent)
	oldLimit := debug.SetMemoryLimit(gcFloor)
	defer func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	ticker := time.NewTicker(gcEvery)
	defer ticker.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(gcLimit(sample[0].Value.Uint64()))
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// gcLimit is the soft memory limit for a live heap of live bytes.
func gcLimit(live uint64) int64 {
	return max(gcFloor, int64(2*live))
}
