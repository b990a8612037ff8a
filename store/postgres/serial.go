package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
)

// chatLockID is the lock's second key for a conversation. Two
// conversations that share a hash only wait for each other.
func chatLockID(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}

// lockChats takes the conversation locks of keys on conn before its
// transaction begins, and the numbers lock after them when numbers is set,
// in one round trip and in ascending order (two batches wanting the same
// two conversations cannot deadlock), and reports whether it took any.
// The transaction lets them go in its COMMIT's round trip (tx.unlock);
// releaseChats is for when it did not get that far.
//
// They are session locks taken before BEGIN, not transaction locks inside
// it: a SERIALIZABLE transaction takes its snapshot at its first
// statement, so one that waited inside the transaction for the lock would
// read what the conversation was before the holder committed, and lose
// its serialization instead of running after it.
//
// The numbers lock: ticket numbers are per day and without gaps (a number
// is used up only by a commit), so every transaction that numbers a ticket
// writes the day's counter row, and two of them that ran side by side
// would fail one another's serialization after doing all their work. They
// queue for this lock instead, across replicas; the rest of the work (a
// dialogue step of another person) runs beside them.
func lockChats(ctx context.Context, conn *pgx.Conn, keys []string, numbers bool) (held bool, err error) {
	ids := make([]int32, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			ids = append(ids, chatLockID(k))
		}
	}
	if len(ids) == 0 && !numbers {
		return false, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`SELECT pg_advisory_lock($1, $2)`, lockChat, id)
	}
	if numbers {
		b.Queue(`SELECT pg_advisory_lock($1, 0)`, lockNumbers)
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		releaseChats(conn)
		return false, fmt.Errorf("store/postgres: conversation lock: %w", err)
	}
	return true, nil
}

// errNumbersBusy: a transaction that did not take the numbers lock before
// it began wanted to draw a number while another held it. It runs again at
// once, with the lock taken first (Store.numbering).
var errNumbersBusy = errors.New("store/postgres: the numbers lock is held elsewhere")

// numberingFor is how many transactions take the numbers lock up front
// after one drew a number without a miss in between: while tickets are
// being created, nearly every batch creates one.
const numberingFor = 8

// takeNumbers makes sure the transaction holds the numbers lock before it
// draws a number. Taken inside the transaction, it must be free now (not
// waited for: the snapshot would be older than the holder's commit), and
// even then the transaction may have begun before the last holder
// committed, which the draw finds as a lost conflict.
func (t *tx) takeNumbers() error {
	if t.numbers {
		return nil
	}
	if t.err != nil {
		return t.err
	}
	if t.readOnly {
		return errReadOnly
	}
	var ok bool
	if err := t.row(`SELECT pg_try_advisory_lock($1, 0)`, []any{lockNumbers}, &ok); err != nil {
		return err
	}
	if !ok {
		t.err = errNumbersBusy
		return t.err
	}
	t.numbers, t.unlock = true, true // let go with the COMMIT, like the conversation locks
	return nil
}

// unlockAll lets go of a pooled connection's session locks: its
// conversation locks and the numbers lock are the only ones it takes.
const unlockAll = `SELECT pg_advisory_unlock_all()`

// releaseChats lets go of conn's conversation locks outside a commit. A
// connection that cannot must not go back to the pool holding them:
// closing it ends its session.
func releaseChats(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, unlockAll); err != nil {
		_ = conn.Close(ctx)
	}
}

// serialKeys are the conversations of a batch's calls.
func serialKeys(calls []*batchCall) []string {
	keys := make([]string, 0, len(calls))
	for _, c := range calls {
		keys = append(keys, flows.SerialKey(c.ctx))
	}
	return keys
}

// openWrite takes a write transaction's locks on conn (the conversations
// of keys, and the numbers lock while numbers are being drawn) and returns
// the transaction, not yet begun.
func (s *Store) openWrite(ctx context.Context, conn *pgx.Conn, keys []string) (*tx, error) {
	numbers := s.numbering.Load() > 0
	held, err := lockChats(ctx, conn, keys, numbers)
	if err != nil {
		return nil, err
	}
	t := newTx(ctx, conn, s.now, beginWrite, false)
	t.unlock, t.numbers = held, numbers
	return t, nil
}

// closeWrite lets go of the locks t's COMMIT did not (it failed, or never
// came), and learns from t whether the next write transactions take the
// numbers lock up front: for a while after one drew a number or missed the
// lock, until as many have gone by without drawing.
func (s *Store) closeWrite(t *tx) {
	if t.unlock && !t.unlocked {
		releaseChats(t.c)
	}
	switch {
	case t.drew || errors.Is(t.err, errNumbersBusy):
		s.numbering.Store(numberingFor)
	case t.numbers:
		s.numbering.Add(-1)
	}
}
