package postgres_test

import (
	"fmt"
	"testing"

	"github.com/pinwatchd/pinwatchd/storage/storagetest"
)

// BenchmarkRound10000 records rounds of 10,000 unchanged targets on the
// throwaway local server (SPEC §11: 2,000 observations/s or more): the
// whole round in one transaction, 256 observations per transaction (group
// commit), one per transaction.
func BenchmarkRound10000(b *testing.B) {
	for _, batch := range []int{10_000, 256, 1} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			storagetest.BenchmarkRound(b, newPostgres, 10_000, batch)
		})
	}
}
