package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// What the suite test (package postgres_test) needs of a DB's insides.

// IntsForTest runs a query whose columns are integers, NULL read as 0.
func IntsForTest(t testing.TB, db *DB, query string) [][]int64 {
	t.Helper()
	rows, err := db.pool.Query(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out [][]int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		row := make([]int64, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
			case int64:
				row[i] = v
			case int32:
				row[i] = int64(v)
			case int16:
				row[i] = int64(v)
			case pgtype.Numeric: // sum() of a bigint
				n, err := v.Int64Value()
				if err != nil {
					t.Fatalf("%s: column %d: %v", query, i, err)
				}
				row[i] = n.Int64
			default:
				t.Fatalf("%s: column %d is a %T, not an integer", query, i, v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// SizeForTest returns the bytes the database's tables take, with their
// TOAST data and indexes.
func SizeForTest(t testing.TB, db *DB) int64 {
	t.Helper()
	var n int64
	err := db.pool.QueryRow(t.Context(), `SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::bigint
FROM pg_stat_user_tables WHERE schemaname = current_schema()`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ExecForTest runs a statement on one of the DB's connections.
func ExecForTest(t testing.TB, db *DB, sql string) error {
	t.Helper()
	_, err := db.pool.Exec(t.Context(), sql)
	return err
}

// LatestVersionForTest is the schema version the binary's migrations reach.
func LatestVersionForTest() int { return latestVersion() }

// MigrationNamesForTest lists the embedded migrations' file names in order.
func MigrationNamesForTest(t testing.TB) []string {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.name)
	}
	return names
}
