package postgres

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
)

// tx implements flows.Tx on one PostgreSQL transaction. It is used by one
// goroutine at a time, like the bbolt one.
//
// Writes are pipelined: a write method queues its statement and returns;
// the queue goes to the server in one round trip together with the next
// read (which therefore sees every earlier write) or with the COMMIT. The
// BEGIN rides with the first of them. A ticket-creating event makes about
// fifteen statements but five round trips, and on one connection the round
// trips, not the server's work, bound the rate of a batch.
//
// The price: a write's database error surfaces at the next read or at the
// commit, not from the write method. Writes are upserts and inserts of
// values made storable (see text, encode), so the errors left are a lost
// conflict (the transaction runs again) or a broken connection.
type tx struct {
	ctx      context.Context
	c        *pgx.Conn
	now      func() time.Time
	readOnly bool
	pending  []queued
	// flushes counts round trips; a savepoint mark is valid for its queue
	// position only until the next one.
	flushes int
	// err is the first database error of the transaction: after it the
	// server refuses every statement until the transaction (or the
	// savepoint) is rolled back, so later calls return it at once, and
	// Update decides from it whether the whole function may run again.
	err      error
	enqueued bool

	// counters holds, for each named sequence this transaction drew from,
	// the value it reached and the value its row holds. The first draw
	// (an upsert) locks the row until the commit, and a transaction holding
	// it runs alone (the numbers lock, serial.go), so the next draws are
	// computed here and the row is written once, with the COMMIT: a batch
	// of ticket-creating events asks the server for the day's number once
	// and updates it once, not once an event (each update of a row in one
	// transaction is another version of it to walk past).
	counters map[string]counter
	// numbers: this transaction holds the numbers lock; drew: it drew a
	// number (the store then takes the lock up front for a while).
	numbers, drew bool
	// puts: which pending entry stores a ticket, for the running call and
	// since the last round trip (PutTicket writes a ticket stored twice in
	// one call, as the engine does when a card changes after the ticket was
	// saved, with one statement). A call's savepoint forgets it: a call
	// that fails must not have changed an earlier call's statement.
	puts map[string]int
	// dialogues holds dialogue rows known in this transaction: read ahead
	// with a call's first profile (the engine reads the sender, then the
	// sender's dialogue, in nearly every event: one round trip instead of
	// two), or written by it. found=false: known to be absent.
	dialogues map[string]dialogueRow
	readAhead bool
	// sender is the running call's flows.SenderID: its Seen brings the
	// sender's profile and dialogue along (one round trip for the three
	// reads every event starts with), and the profile waits in ahead for
	// the Person read that follows.
	sender string
	ahead  *personRow

	// unlock: the connection holds conversation locks (serial.go), let go
	// in the COMMIT's round trip; unlocked once that went through.
	unlock, unlocked bool
}

type counter struct{ n, stored int64 }

type personRow struct {
	key   string
	found bool
	rec   record
}

type dialogueRow struct {
	found bool
	rec   record
}

type queued struct {
	sql  string
	args []any
}

var _ flows.Tx = (*tx)(nil)

// errReadOnly is what a write method returns in a View.
var errReadOnly = errors.New("store/postgres: a View cannot write")

func newTx(ctx context.Context, c *pgx.Conn, now func() time.Time, begin string, readOnly bool) *tx {
	return &tx{ctx: ctx, c: c, now: now, readOnly: readOnly, pending: []queued{{sql: begin}}, readAhead: true}
}

func (t *tx) fail(err error) error {
	if err != nil && t.err == nil && !errors.Is(err, pgx.ErrNoRows) {
		t.err = err
	}
	return err
}

// exec queues a write.
func (t *tx) exec(sql string, args ...any) error {
	if t.err != nil {
		return t.err
	}
	if t.readOnly {
		return errReadOnly
	}
	t.pending = append(t.pending, queued{sql, args})
	return nil
}

// send runs the queued statements and then the reads qs, if any, in one
// round trip; read gets the reads' results. It returns the first database
// error (and pgx.ErrNoRows from read, which is not one).
func (t *tx) send(qs []queued, read func(pgx.BatchResults) error) error {
	if t.err != nil {
		return t.err
	}
	if len(t.pending) == 0 && len(qs) == 0 {
		return nil
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(t.pending)+len(qs))}
	for _, p := range t.pending {
		b.Queue(p.sql, p.args...)
	}
	n := len(t.pending)
	for _, q := range qs {
		b.Queue(q.sql, q.args...)
	}
	t.pending = t.pending[:0]
	t.puts = nil
	t.flushes++
	br := t.c.SendBatch(t.ctx, b)
	var err error
	for i := 0; i < n && err == nil; i++ {
		_, err = br.Exec()
	}
	if err == nil && len(qs) > 0 {
		err = read(br)
	}
	if cerr := br.Close(); err == nil || errors.Is(err, pgx.ErrNoRows) && cerr != nil {
		err = cerr
	}
	return t.fail(err)
}

// flush runs the queued statements.
func (t *tx) flush() error { return t.send(nil, nil) }

// row scans the one row of a query; pgx.ErrNoRows when there is none.
func (t *tx) row(sql string, args []any, dest ...any) error {
	return t.send([]queued{{sql, args}}, func(br pgx.BatchResults) error { return br.QueryRow().Scan(dest...) })
}

// rowsOf runs a query and hands each row to scan, in the same round trip
// as the queued writes.
func (t *tx) rowsOf(sql string, args []any, scan func(pgx.Rows) error) error {
	return t.send([]queued{{sql, args}}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

type record struct {
	v   int
	raw []byte
}

// records runs a query selecting (v, data) and then calls fn for each
// row; an error from fn stops it and is returned.
func (t *tx) records(sql string, args []any, fn func(v int, raw []byte) error) error {
	var recs []record
	err := t.rowsOf(sql, args, func(rows pgx.Rows) error {
		var r record
		if err := rows.Scan(&r.v, &r.raw); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := fn(r.v, r.raw); err != nil {
			return err
		}
	}
	return nil
}

// commit sends the queued statements and COMMIT. A transaction that never
// reached the server (nothing but its BEGIN queued) has nothing to commit.
func (t *tx) commit() error {
	if t.err != nil {
		return t.err
	}
	if t.flushes == 0 && len(t.pending) <= 1 {
		t.pending = t.pending[:0]
		return nil
	}
	for key, c := range t.counters {
		if c.n != c.stored {
			t.pending = append(t.pending, queued{sqlCounterSet, []any{key, c.n}})
		}
	}
	t.pending = append(t.pending, queued{sql: `COMMIT`})
	if t.unlock {
		t.pending = append(t.pending, queued{sql: unlockAll})
	}
	if err := t.flush(); err != nil {
		return err
	}
	t.unlocked = t.unlock
	return nil
}

// abort ends the transaction on the server, if it began there, and
// forgets what was queued.
func (t *tx) abort() {
	t.pending = nil
	if t.c.PgConn().TxStatus() != 'I' {
		rollback(t.c)
		t.flushes++
	}
}

// savepoint starts a nested transaction for one Batch call.
type savepoint struct {
	flushes, pos int
	counters     map[string]counter
}

func (t *tx) savepoint() savepoint {
	t.pending = append(t.pending, queued{sql: `SAVEPOINT call`})
	t.readAhead, t.ahead = true, nil
	t.puts = nil
	return savepoint{t.flushes, len(t.pending) - 1, maps.Clone(t.counters)}
}

func (t *tx) release() { t.pending = append(t.pending, queued{sql: `RELEASE SAVEPOINT call`}) }

// rollbackTo undoes the call's writes. If its SAVEPOINT never left the
// queue, none of them reached the server: they are dropped. Otherwise
// what is queued now is the call's own, dropped too, and the server undoes
// the rest (queued, like any write).
func (t *tx) rollbackTo(sp savepoint) {
	// What the call learned or wrote may be undone: forget it.
	t.counters, t.dialogues, t.readAhead, t.ahead, t.puts = sp.counters, nil, true, nil, nil
	if t.flushes == sp.flushes {
		t.pending = t.pending[:sp.pos]
		return
	}
	t.pending = append(t.pending[:0], queued{sql: `ROLLBACK TO SAVEPOINT call`}, queued{sql: `RELEASE SAVEPOINT call`})
}
