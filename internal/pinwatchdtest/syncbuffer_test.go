package pinwatchdtest_test

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/pinwatchd/pinwatchd/internal/pinwatchdtest"
)

func TestSyncBufferCollectsConcurrentLogLines(t *testing.T) {
	var buf pinwatchdtest.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 25 {
				log.Info("line", "writer", i, "n", j)
				_ = buf.String()
			}
		})
	}
	wg.Wait()
	lines := buf.Lines(t)
	if len(lines) != 200 {
		t.Fatalf("%d lines, want 200", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[fmt.Sprint(l["writer"], "/", l["n"])] = true
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct lines, want 200", len(seen))
	}
	var empty pinwatchdtest.SyncBuffer
	if got := empty.Lines(t); len(got) != 0 {
		t.Errorf("Lines of an empty buffer = %v", got)
	}
}
