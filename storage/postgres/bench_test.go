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

// BenchmarkGrowthMillionProbes records 1,000,000 unchanged probes (1,000
// targets × 1,000 rounds) on the throwaway local server and reports the
// bytes of table data they add (SPEC §11: under 1 MiB, as on SQLite). Run
// it with -benchtime=1x.
func BenchmarkGrowthMillionProbes(b *testing.B) {
	storagetest.BenchmarkGrowth(b, newPostgres, 1000, 1000)
}
