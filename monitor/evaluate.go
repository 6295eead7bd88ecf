package monitor

import (
	"time"

	"github.com/pinwatchd/pinwatchd"
)

// Evaluate returns the findings of one round of observations of target t.
func Evaluate(t *pinwatchd.Target, obs []pinwatchd.Observation, th pinwatchd.Thresholds, now time.Time) []pinwatchd.Finding {
	panic("not implemented")
}
