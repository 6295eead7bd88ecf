package postgres_test

import (
	"testing"

	"github.com/pinwatchd/pinwatchd/storage/storagetest"
)

// BenchmarkRound10000 records rounds of 10,000 unchanged targets on the
// throwaway local server (SPEC §11: 2,000 observations/s or more).
func BenchmarkRound10000(b *testing.B) {
	storagetest.BenchmarkRound(b, newPostgres, 10_000)
}
