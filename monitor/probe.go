package monitor

import (
	"context"

	"github.com/pinwatchd/pinwatchd"
)

// Prober probes targets.
type Prober struct{}

// Probe probes every address of t.
func (p *Prober) Probe(ctx context.Context, t *pinwatchd.Target) []pinwatchd.Observation {
	panic("not implemented")
}
