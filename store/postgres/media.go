package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/store/storekit"
)

// MediaRefs implements jobs.MediaReferrer as the bbolt store does: every
// SHA-256 digest (a run of exactly 64 lower-case hex digits) in any
// record. It reads every jsonb column of every table of the schema, so a
// table added later is covered without a line here, in one REPEATABLE READ
// snapshot, streaming; it reads the whole database, so it is for the
// nightly sweep.
func (s *Store) MediaRefs(yield func(sum string)) error {
	if s.closed.Load() {
		return ErrClosed
	}
	ctx := context.Background()
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type = 'jsonb' ORDER BY table_name, column_name`)
		if err != nil {
			return err
		}
		cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
			var c [2]string
			return c, r.Scan(&c[0], &c[1])
		})
		if err != nil {
			return err
		}
		for _, c := range cols {
			sql := fmt.Sprintf(`SELECT %s::text FROM %s`, pgx.Identifier{c[1]}.Sanitize(), pgx.Identifier{c[0]}.Sanitize())
			rows, err := tx.Query(ctx, sql)
			if err != nil {
				return err
			}
			var raw []byte
			_, err = pgx.ForEachRow(rows, []any{&raw}, func() error {
				storekit.HexRuns(raw, yield)
				return nil
			})
			if err != nil {
				return fmt.Errorf("store/postgres: media references in %s: %w", c[0], err)
			}
		}
		return nil
	})
}
