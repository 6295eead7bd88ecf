package storage

import (
	"database/sql"
	"os"
	"testing"
)

// What the suite test (package storage_test) needs of a DB's insides.

// IntsForTest runs a query whose columns are integers, NULL read as 0.
func IntsForTest(t testing.TB, db *DB, query string) [][]int64 {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]int64
	for rows.Next() {
		vals := make([]sql.NullInt64, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		row := make([]int64, len(cols))
		for i, v := range vals {
			row[i] = v.Int64
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// SizeForTest checkpoints the database and returns the size of its file.
func SizeForTest(t testing.TB, db *DB) int64 {
	t.Helper()
	if _, err := db.write.ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	fi, err := os.Stat(db.path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
