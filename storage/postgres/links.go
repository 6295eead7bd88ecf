package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pinwatchd/pinwatchd/storage"
)

// VerifiedLinks returns the leaf-to-issuer link of every verified chain
// recorded (see storage.DB.VerifiedLinks).
func (db *DB) VerifiedLinks(ctx context.Context) ([]storage.VerifiedLink, error) {
	var links []storage.VerifiedLink
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		links = nil
		rows, err := tx.Query(ctx, storage.VerifiedLinksSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var leaf, issuer string
			if err := rows.Scan(&leaf, &issuer); err != nil {
				return err
			}
			if l, ok := storage.ParseVerifiedLink(leaf, issuer); ok {
				links = append(links, l)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read verified chains from %s: %w", db.path, err)
	}
	return links, nil
}
