package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/store/storekit"
)

// The delivery side of the outbox (outbox.Queue). Rows are written by
// tx.Enqueue in the engine's transaction; a row's delivery record is
// columns of it, changed here in short READ COMMITTED transactions that
// lock the row (only the dispatcher writes them; what becomes of a row is
// storekit's, shared with the bbolt store).
//
// Claims. Pending claims the rows it returns for Options.ClaimLease
// (claimed_by, claimed_until) with SELECT … FOR UPDATE SKIP LOCKED and
// leaves out every row claimed by another store (another process) whose
// claim is live, together with the later rows of that row's address: two
// dispatchers against one database never send one address's messages out
// of order, nor one row both. Only the leader runs a dispatcher (see
// Leader), so this guards the moments a lost leader needs to notice. A
// claim counts only while its store's session holds the claimer lock (see
// session.go): a dead process's claims lapse with its connection, and the
// next leader carries on at once.

var (
	_ outbox.Queue    = (*Store)(nil)
	_ outbox.Requeuer = (*Store)(nil)
)

// rowColumns are the columns scanRow reads, in its order.
const rowColumns = `id, created, status, attempts, next_attempt, last_error, done, platform_id, requeued, v, msg`

// scanRow reads an outbox row selected with rowColumns.
func scanRow(rows pgx.Row) (outbox.Row, error) {
	var r outbox.Row
	var id int64
	var next, requeued, done *time.Time
	var v int
	var raw []byte
	if err := rows.Scan(&id, &r.Created, &r.Status, &r.Attempts, &next, &r.LastError, &done, &r.PlatformID, &requeued, &v, &raw); err != nil {
		return r, err
	}
	r.ID = uint64(id)
	r.Created = r.Created.UTC()
	if next != nil {
		r.NextAttempt = next.UTC()
	}
	if requeued != nil {
		r.Requeued = requeued.UTC()
	}
	if done != nil {
		d := done.UTC()
		r.Done = &d
	}
	return r, decode("outbox row", v, raw, &r.Msg)
}

// nullTime is a time for a nullable column: NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// writeRow stores r's delivery record and message; a finished row's claim
// is dropped.
func writeRow(ctx context.Context, tx pgx.Tx, r outbox.Row) error {
	raw, err := encode(r.Msg)
	if err != nil {
		return err
	}
	var done any
	if r.Done != nil {
		done = *r.Done
	}
	_, err = tx.Exec(ctx, `UPDATE outbox SET status = $2, attempts = $3, next_attempt = $4, last_error = $5, done = $6,
			platform_id = $7, requeued = $8, v = $9, msg = $10,
			claimed_by = CASE WHEN $2 = 'pending' THEN claimed_by END,
			claimed_until = CASE WHEN $2 = 'pending' THEN claimed_until END
		WHERE id = $1`,
		int64(r.ID), r.Status, r.Attempts, nullTime(r.NextAttempt), text(r.LastError), done, text(r.PlatformID),
		nullTime(r.Requeued), schemaVersion, raw)
	return err
}

// lockRow reads a row of a status for update; ok is false when there is
// no such row.
func lockRow(ctx context.Context, tx pgx.Tx, id uint64, status string) (outbox.Row, bool, error) {
	r, err := scanRow(tx.QueryRow(ctx, `SELECT `+rowColumns+` FROM outbox WHERE id = $1 AND status = $2 FOR UPDATE`, int64(id), status))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

func putCard(ctx context.Context, tx pgx.Tx, c storekit.Card) error {
	raw, err := encode(c.Ref)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO cards (card_key, v, data) VALUES ($1, $2, $3)
		ON CONFLICT (card_key) DO UPDATE SET v = EXCLUDED.v, data = EXCLUDED.data`, text(c.Key), schemaVersion, raw)
	return err
}

// queueTx runs fn in a READ COMMITTED transaction, again when it loses a
// conflict (a deadlock).
func (s *Store) queueTx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error { return fn(ctx, tx) })
		if err == nil || !Retryable(err) || attempt >= s.maxRetries {
			if err != nil {
				return fmt.Errorf("store/postgres: outbox: %w", err)
			}
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// Pending implements outbox.Queue: up to limit pending rows in id order,
// claimed for this store; rows another store claims, and the later rows
// of their addresses, are left out (see Claims above).
func (s *Store) Pending(limit int) ([]outbox.Row, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type seen struct {
		chat  string
		taken bool // claimed by another store, live
		renew bool // not ours, or ours but half-way to expiry
	}
	var rows []outbox.Row
	var state []seen
	q, err := s.pool.Query(ctx, `SELECT `+rowColumns+`, chat,
			claimed_by IS NOT NULL AND claimed_by <> $2 AND claimed_until > now() AND claimed_by IN (`+liveClaimers+`),
			claimed_by IS DISTINCT FROM $2 OR claimed_until < now() + $3 * interval '1 microsecond'
		FROM outbox WHERE status = 'pending' ORDER BY id LIMIT $1`, limitArg(limit), s.claimer, (s.lease / 2).Microseconds(), lockClaimer)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: outbox: %w", err)
	}
	for q.Next() {
		var r outbox.Row
		var id int64
		var next, requeued, done *time.Time
		var v int
		var raw []byte
		var st seen
		if err := q.Scan(&id, &r.Created, &r.Status, &r.Attempts, &next, &r.LastError, &done, &r.PlatformID, &requeued, &v, &raw,
			&st.chat, &st.taken, &st.renew); err != nil {
			q.Close()
			return nil, fmt.Errorf("store/postgres: outbox: %w", err)
		}
		r.ID, r.Created = uint64(id), r.Created.UTC()
		if next != nil {
			r.NextAttempt = next.UTC()
		}
		if requeued != nil {
			r.Requeued = requeued.UTC()
		}
		if done != nil {
			d := done.UTC()
			r.Done = &d
		}
		if err := decode("outbox row", v, raw, &r.Msg); err != nil {
			q.Close()
			return nil, err
		}
		rows = append(rows, r)
		state = append(state, st)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: outbox: %w", err)
	}
	var claim []int64
	for i, st := range state {
		if st.renew && !st.taken {
			claim = append(claim, int64(rows[i].ID))
		}
	}
	got := map[int64]bool{}
	if len(claim) > 0 {
		cq, err := s.pool.Query(ctx, `UPDATE outbox SET claimed_by = $2, claimed_until = now() + $3 * interval '1 microsecond'
			WHERE id IN (SELECT id FROM outbox WHERE id = ANY($1) AND status = 'pending'
				AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until <= now() OR claimed_by NOT IN (`+liveClaimers+`))
				ORDER BY id FOR UPDATE SKIP LOCKED)
			RETURNING id`, claim, s.claimer, s.lease.Microseconds(), lockClaimer)
		if err != nil {
			return nil, fmt.Errorf("store/postgres: outbox claim: %w", err)
		}
		for cq.Next() {
			var id int64
			if err := cq.Scan(&id); err != nil {
				cq.Close()
				return nil, err
			}
			got[id] = true
		}
		cq.Close()
		if err := cq.Err(); err != nil {
			return nil, fmt.Errorf("store/postgres: outbox claim: %w", err)
		}
	}
	blocked := map[string]bool{}
	out := rows[:0]
	for i, r := range rows {
		st := state[i]
		mine := !st.taken && (!st.renew || got[int64(r.ID)])
		if blocked[st.chat] || !mine {
			blocked[st.chat] = true // per-address order: nothing after a row we may not send
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// MarkDelivered implements outbox.Queue.
func (s *Store) MarkDelivered(id uint64, platformID string, at time.Time) error {
	return s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		r, ok, err := lockRow(ctx, tx, id, outbox.StatusPending)
		if err != nil || !ok {
			return err
		}
		switch c, op := storekit.Delivered(&r, platformID, at); op {
		case storekit.CardForget:
			if _, err := tx.Exec(ctx, `DELETE FROM cards WHERE card_key = $1`, text(c.Key)); err != nil {
				return err
			}
		case storekit.CardPut:
			if err := putCard(ctx, tx, c); err != nil {
				return err
			}
		}
		return writeRow(ctx, tx, r)
	})
}

// MarkDigest implements outbox.Queue.
func (s *Store) MarkDigest(ids []uint64, platformID string, at time.Time) error {
	return s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		for _, id := range ids {
			r, ok, err := lockRow(ctx, tx, id, outbox.StatusPending)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if c, ok := storekit.Digested(&r, platformID, at); ok {
				if err := putCard(ctx, tx, c); err != nil {
					return err
				}
			}
			if err := writeRow(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkRetry implements outbox.Queue.
func (s *Store) MarkRetry(id uint64, next time.Time, errText string, count bool) error {
	return s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		r, ok, err := lockRow(ctx, tx, id, outbox.StatusPending)
		if err != nil || !ok {
			return err
		}
		storekit.Retry(&r, next, errText, count)
		return writeRow(ctx, tx, r)
	})
}

// MarkFailed implements outbox.Queue.
func (s *Store) MarkFailed(id uint64, errText string, at time.Time) error {
	return s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		r, ok, err := lockRow(ctx, tx, id, outbox.StatusPending)
		if err != nil || !ok {
			return err
		}
		storekit.Failed(&r, errText, at)
		return writeRow(ctx, tx, r)
	})
}

// MarkSuperseded implements outbox.Queue.
func (s *Store) MarkSuperseded(id, by uint64, at time.Time) error {
	return s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		r, ok, err := lockRow(ctx, tx, id, outbox.StatusPending)
		if err != nil || !ok {
			return err
		}
		var next *outbox.Row
		if nr, ok, err := lockRow(ctx, tx, by, outbox.StatusPending); err != nil {
			return err
		} else if ok {
			next = &nr
		}
		if storekit.Superseded(&r, next, at) {
			if err := writeRow(ctx, tx, *next); err != nil {
				return err
			}
		}
		return writeRow(ctx, tx, r)
	})
}

// Card implements outbox.Queue.
func (s *Store) Card(cardKey string) (outbox.CardRef, bool, error) {
	var ref outbox.CardRef
	if s.closed.Load() {
		return ref, false, ErrClosed
	}
	var v int
	var raw []byte
	err := s.pool.QueryRow(context.Background(), `SELECT v, data FROM cards WHERE card_key = $1`, text(cardKey)).Scan(&v, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return ref, false, nil
	}
	if err != nil {
		return ref, false, fmt.Errorf("store/postgres: card: %w", err)
	}
	return ref, true, decode("card", v, raw, &ref)
}

// Stats implements outbox.Queue.
func (s *Store) Stats() (outbox.Stats, error) {
	var st outbox.Stats
	if s.closed.Load() {
		return st, ErrClosed
	}
	var oldest *time.Time
	err := s.pool.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM outbox WHERE status = 'pending'),
			(SELECT created FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1),
			(SELECT count(*) FROM outbox WHERE status IN ('delivered', 'superseded')),
			(SELECT count(*) FROM outbox WHERE status = 'failed')`).Scan(&st.Pending, &oldest, &st.Delivered, &st.Failed)
	if err != nil {
		return st, fmt.Errorf("store/postgres: outbox stats: %w", err)
	}
	if oldest != nil {
		st.Oldest = oldest.UTC()
	}
	return st, nil
}

// Rows implements outbox.Queue: a status's rows in id order; anything but
// pending and failed lists the finished ones (delivered and superseded).
func (s *Store) Rows(status string) ([]outbox.Row, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	where := `status IN ('delivered', 'superseded')`
	switch status {
	case outbox.StatusPending, outbox.StatusFailed:
		where = `status = '` + status + `'`
	}
	q, err := s.pool.Query(context.Background(), `SELECT `+rowColumns+` FROM outbox WHERE `+where+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: outbox rows: %w", err)
	}
	defer q.Close()
	var out []outbox.Row
	for q.Next() {
		r, err := scanRow(q)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, q.Err()
}

// Requeue implements outbox.Requeuer.
func (s *Store) Requeue(ids []uint64, at time.Time) ([]outbox.Row, error) {
	var out []outbox.Row
	err := s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		for _, id := range ids {
			r, ok, err := lockRow(ctx, tx, id, outbox.StatusFailed)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			storekit.Requeued(&r, at)
			if err := writeRow(ctx, tx, r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err == nil && len(out) > 0 {
		s.poke()
	}
	return out, err
}

// prune runs one DELETE and returns how many rows it removed.
func (s *Store) prune(sql string, args ...any) (int, error) {
	var n int
	err := s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// PruneDelivered forgets delivered and superseded rows finished before
// the cutoff; failed rows and card references stay.
func (s *Store) PruneDelivered(before time.Time) (int, error) {
	return s.prune(`DELETE FROM outbox WHERE status IN ('delivered', 'superseded') AND done < $1`, before)
}

// PruneFailed forgets failed rows that failed before the cutoff.
func (s *Store) PruneFailed(before time.Time) (int, error) {
	return s.prune(`DELETE FROM outbox WHERE status = 'failed' AND done < $1`, before)
}

// PruneSeen forgets inbound dedupe keys marked before the cutoff's second
// (marks are kept to the second).
func (s *Store) PruneSeen(before time.Time) (int, error) {
	return s.prune(`DELETE FROM seen WHERE at < $1`, sec(before))
}

// PruneDialogues forgets dialogues nobody answered since the cutoff
// (storekit.DialogueIdle).
func (s *Store) PruneDialogues(before time.Time) (int, error) {
	return s.pruneRecords(`SELECT person_id, v, data FROM dialogues FOR UPDATE`, `DELETE FROM dialogues WHERE person_id = ANY($1)`,
		func(v int, raw []byte) (bool, error) {
			var d flows.Dialogue
			if err := decode("dialogue", v, raw, &d); err != nil {
				return false, err
			}
			return storekit.DialogueIdle(&d, before), nil
		})
}

// PruneInvites forgets invites used, or unused and expired, before the
// cutoff (storekit.InviteStale).
func (s *Store) PruneInvites(before time.Time) (int, error) {
	return s.pruneRecords(`SELECT code, v, data FROM invites FOR UPDATE`, `DELETE FROM invites WHERE code = ANY($1)`,
		func(v int, raw []byte) (bool, error) {
			var inv flows.Invite
			if err := decode("invite", v, raw, &inv); err != nil {
				return false, err
			}
			return storekit.InviteStale(&inv, before), nil
		})
}

// pruneRecords deletes, in one transaction, the records (key, v, data)
// that drop says to.
func (s *Store) pruneRecords(sel, del string, drop func(v int, raw []byte) (bool, error)) (int, error) {
	var n int
	err := s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		q, err := tx.Query(ctx, sel)
		if err != nil {
			return err
		}
		var keys []string
		for q.Next() {
			var k string
			var v int
			var raw []byte
			if err := q.Scan(&k, &v, &raw); err != nil {
				q.Close()
				return err
			}
			ok, err := drop(v, raw)
			if err != nil {
				q.Close()
				return err
			}
			if ok {
				keys = append(keys, k)
			}
		}
		q.Close()
		if err := q.Err(); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, del, keys)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// Ping proves the database writable: a tiny committed write (meta
// "health").
func (s *Store) Ping() error {
	if s.closed.Load() {
		return ErrClosed
	}
	stamp := s.now().UTC().Format(time.RFC3339Nano)
	return s.queueTx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO meta (name, value) VALUES ('health', $1)
			ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, stamp)
		return err
	})
}
