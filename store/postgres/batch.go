package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/repairbot/repairbot/flows"
)

// Batch runs fn in a transaction shared with other concurrent callers
// (group commit: one commit, one WAL flush, for many events), like bbolt's
// Batch, without bbolt's wait for company: while a batch runs, the calls
// that arrive queue up and form the next one, so an idle store commits a
// lone call at once and a busy one commits as many as arrived meanwhile
// (at most Options.MaxBatch). Up to Options.BatchLanes batches run at once
// (see batcher).
//
// Each call runs inside a savepoint: a call whose fn fails (or panics) is
// rolled back alone and gets its error (or its panic) back; the others
// commit. When the batch's transaction loses a conflict (see the package
// comment) every call of it runs again, so fn may run more than once and
// must derive everything from the Tx. A call whose context ends before its
// fn has run is left out with the context's error.
func (s *Store) Batch(ctx context.Context, fn func(flows.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	c := &batchCall{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.batch.add(c)
	<-c.done
	if c.panic != nil {
		panic(c.panic)
	}
	return c.err
}

type batchCall struct {
	ctx context.Context
	fn  func(flows.Tx) error
	// Set by the batch, read after done is closed.
	err   error
	panic any
	done  chan struct{}
}

// batcher runs up to lanes batches at once, on as many connections: the
// engine's work for one call and the server's for another overlap, on
// two cores as on two machines. Batches that number tickets queue for the
// numbers lock (serial.go) instead of colliding on the day's counter.
// Batches that still collide (SERIALIZABLE's predicate locks are kept by
// page, so two batches writing outbox rows and dialogues at once can fail
// each other's serialization) lose a conflict; such a batch runs again
// alone, and the next calmAfter batches run alone too: a workload that
// conflicts goes one batch at a time, one that does not in parallel.
type batcher struct {
	s       *Store
	max     int
	lanes   int
	mu      sync.Mutex
	pending []*batchCall
	running int
	// turn is held shared by a batch running beside others, exclusively
	// by one running alone.
	turn  sync.RWMutex
	alone atomic.Int32 // batches still to run alone after a conflict
}

// calmAfter is how many batches run alone after one lost a conflict.
const calmAfter = 8

func (b *batcher) add(c *batchCall) {
	b.mu.Lock()
	b.pending = append(b.pending, c)
	start := b.running < b.lanes
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go b.loop()
	}
}

// loop runs batches until nothing is pending.
func (b *batcher) loop() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), b.max)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		calls := b.pending[:n:n]
		b.pending = append([]*batchCall(nil), b.pending[n:]...)
		b.mu.Unlock()
		b.s.runBatch(calls)
	}
}

// enter takes a turn to run a batch, alone when asked to or while the
// store calms down after a conflict; it returns the function that ends it.
func (b *batcher) enter(alone bool) func() {
	if !alone && b.alone.Load() > 0 {
		alone = b.alone.Add(-1) >= 0
	}
	if alone {
		b.turn.Lock()
		return b.turn.Unlock
	}
	b.turn.RLock()
	return b.turn.RUnlock
}

// runBatch commits calls in one transaction, running them all again when
// it loses a conflict, and reports to each caller.
func (s *Store) runBatch(calls []*batchCall) {
	defer func() {
		for _, c := range calls {
			close(c.done)
		}
	}()
	lost := 0 // conflicts lost
	for attempt := 1; ; attempt++ {
		leave := s.batch.enter(lost > 0)
		enq, committed, err := s.tryBatch(calls)
		leave()
		if err == nil {
			if committed {
				s.stats.commits.Add(1)
				s.stats.batches.Add(1)
				s.stats.batchCalls.Add(int64(len(calls)))
			}
			if enq {
				s.poke()
			}
			return
		}
		if errors.Is(err, errFallBack) {
			s.runEach(calls)
			return
		}
		if errors.Is(err, errNumbersBusy) && attempt < s.maxRetries {
			continue // at once, with the numbers lock taken first; no conflict lost
		}
		if !Retryable(err) || attempt >= s.maxRetries {
			for _, c := range calls {
				c.err, c.panic = err, nil
			}
			return
		}
		s.stats.retries.Add(1)
		s.batch.alone.Store(calmAfter)
		if lost++; lost > 1 {
			// Alone and still losing: to another process (a replica, an
			// Update); give it a moment.
			_ = backoff(context.Background(), attempt)
		}
	}
}

// batchErr is what a database error of a batch's transaction means for
// the batch: run it again (a lost conflict, or the numbers lock to be
// taken first), or run each call alone (errFallBack).
func batchErr(err error) error {
	if Retryable(err) || errors.Is(err, errNumbersBusy) {
		return err
	}
	return errFallBack
}

// errFallBack means a database error that is no lost conflict surfaced
// in a batch; with writes pipelined it may belong to an earlier call than
// the one running, so each call runs again in a transaction of its own.
var errFallBack = errors.New("store/postgres: run each call alone")

// tryBatch runs every call once in one transaction. A non-nil error is the
// batch's (nothing committed); otherwise each call's own outcome is in it,
// and committed says whether anything was (not for a lone call that failed).
func (s *Store) tryBatch(calls []*batchCall) (enq, committed bool, err error) {
	ctx := context.Background() // the batch serves many callers; none may cancel it
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, false, fmt.Errorf("store/postgres: %w", err)
	}
	defer conn.Release()
	t, err := s.openWrite(ctx, conn.Conn(), serialKeys(calls))
	if err != nil {
		return false, false, err
	}
	defer s.closeWrite(t)
	done := false
	defer func() {
		if !done {
			t.abort()
		}
		s.stats.roundTrips.Add(int64(t.flushes))
	}()
	if err := t.prefetch(firstReads(calls)); err != nil {
		return false, false, batchErr(err)
	}
	// A lone call needs no savepoint: its failure rolls back the transaction.
	solo := len(calls) == 1
	for _, c := range calls {
		c.err, c.panic = nil, nil
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		var sp savepoint
		if !solo {
			sp = t.savepoint()
		}
		enqBefore := t.enqueued
		c.err, c.panic = safeCall(c.fn, t)
		if t.err != nil {
			return false, false, batchErr(t.err) // the transaction is doomed
		}
		if c.err != nil || c.panic != nil {
			if solo {
				return false, false, nil
			}
			t.enqueued = enqBefore
			t.rollbackTo(sp)
			continue
		}
		if !solo {
			t.release()
		}
	}
	s.notifyCommit(t)
	if err := t.commit(); err != nil {
		return false, false, batchErr(err)
	}
	done = true
	return t.enqueued, true, nil
}

// runEach runs every call in a transaction of its own, as Update does,
// each with its own outcome.
func (s *Store) runEach(calls []*batchCall) {
	for _, c := range calls {
		c.err, c.panic = nil, nil
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		c.err = s.Update(c.ctx, func(t flows.Tx) error {
			err, p := safeCall(c.fn, t.(*tx))
			c.panic = p
			if p != nil {
				return errPanicked
			}
			return err
		})
		if c.panic != nil {
			c.err = nil
		}
	}
}

var errPanicked = errors.New("store/postgres: fn panicked")

// safeCall runs fn, turning a panic into a value the caller re-raises in
// its own goroutine.
func safeCall(fn func(flows.Tx) error, t *tx) (err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return fn(t), nil
}

// firstReads are what the calls of a batch read first.
func firstReads(calls []*batchCall) []flows.FirstReads {
	reads := make([]flows.FirstReads, 0, len(calls))
	for _, c := range calls {
		if c.ctx.Err() == nil {
			reads = append(reads, flows.FirstReadsOf(c.ctx))
		}
	}
	return reads
}
