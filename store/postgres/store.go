// Package postgres is the PostgreSQL implementation of the flows store,
// for deployments that outgrow one machine: several replicas of the bot
// against one database. It keeps the bbolt store's semantics (package
// store): every state change commits together with its inbound dedupe
// mark, channel cursor and outgoing messages, and concurrent events behave
// as if they ran one at a time.
//
// Isolation. Update and Batch run SERIALIZABLE transactions: the engine
// reads a ticket, decides and writes, and was written for bbolt's one
// writer at a time; SERIALIZABLE guarantees the same outcome as some
// one-at-a-time order, whatever reads the engine makes (two technicians
// tapping "accept" on one card: one commits, the other's transaction fails
// with a serialization error and is run again, and then sees the ticket
// taken). READ COMMITTED would let both read "new" and both accept, unless
// every read took a lock. The price is that conflicting transactions are
// retried: Update and Batch run fn again on SQLSTATE 40001 (serialization
// failure), 40P01 (deadlock) and 23505 (a unique key taken by a concurrent
// transaction, which PostgreSQL's manual also advises retrying), up to
// Options.MaxRetries times with a short random backoff. fn must therefore
// derive everything from the Tx, as Batch already requires of it (bbolt's
// Batch may run fn more than once). Transactions that number tickets all
// write one row (the day's counter: numbers have neither gaps nor
// duplicates, and a rolled-back one is not used up); they queue for the
// numbers lock before they begin, on any replica, rather than run side by
// side and lose their serialization at the end (serial.go). View is
// REPEATABLE READ READ ONLY: one
// snapshot, like a bbolt read transaction, never blocking writers and never
// failing for them.
//
// Values are JSON (jsonb) with the encoding version in a column, plus the
// columns their indexes need; the schema is created and migrated at Open
// by versioned steps embedded in the binary (migrations/, golang-migrate).
//
// Tests. `go test ./...` runs this package's tests, the contract suite
// and the flows suite on a real server when REPAIRBOT_PG_DSN names one
// (a role that may create databases), and skips them, saying how, when it
// does not; REPAIRBOT_PG_REQUIRED=1 (CI) makes a missing server a failure.
// A throwaway server: eval "$(.ci/pg-start)", and .ci/pg-stop after.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repairbot/repairbot/flows"
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("store/postgres: closed")

// Options for Open.
type Options struct {
	// Now stamps outbox rows; time.Now when nil.
	Now func() time.Time
	// MaxConns bounds the connection pool (pgxpool's default, the larger
	// of 4 and the number of CPUs, when 0). The DSN's pool_max_conns
	// parameter does the same.
	MaxConns int32
	// MaxBatch bounds how many Batch calls share one transaction (64 when
	// 0). Each call is a subtransaction (a savepoint), and PostgreSQL keeps
	// the ids of at most 64 per transaction in shared memory: beyond that
	// every other session's snapshot must look them up on disk
	// ("suboverflow"), which slows the whole server.
	MaxBatch int
	// BatchLanes is how many batches may run at once (2 when 0); see Batch.
	BatchLanes int
	// MaxRetries bounds how often a transaction runs again after a
	// serialization failure (30 when 0).
	MaxRetries int
	// ClaimLease is how long the outbox rows Pending returns stay claimed
	// by this store (30 s when 0); see Pending.
	ClaimLease time.Duration
}

// Store is the flows store on a PostgreSQL database.
type Store struct {
	pool       *pgxpool.Pool
	now        func() time.Time
	maxRetries int
	batch      batcher
	notify     chan struct{}
	mu         sync.Mutex
	subs       []chan struct{}
	closed     atomic.Bool
	// numbering > 0: write transactions take the numbers lock up front
	// (serial.go).
	numbering atomic.Int32
	schema    uint
	session   *session // the store's own connection: its claimer lock, the leader lock
	claimer   int32    // names this store's outbox claims (its claimer lock)
	connCfg   *pgx.ConnConfig
	leading   atomic.Bool        // Leading
	stop      context.CancelFunc // ends the listener
	listening sync.WaitGroup
	lease     time.Duration // how long a claim lasts
	stats     struct{ commits, batches, batchCalls, retries, roundTrips atomic.Int64 }
}

// TxStats counts the store's write transactions since Open.
type TxStats struct {
	// Commits is the number of committed write transactions (an Update,
	// or a batch).
	Commits int64
	// Batches and BatchCalls: committed Batch transactions and the calls
	// they carried (BatchCalls/Batches is the mean group size).
	Batches, BatchCalls int64
	// Retries counts transactions run again after a conflict.
	Retries int64
	// RoundTrips counts the round trips of every transaction, views too.
	RoundTrips int64
}

// TxStats returns the counters.
func (s *Store) TxStats() TxStats {
	return TxStats{Commits: s.stats.commits.Load(), Batches: s.stats.batches.Load(),
		BatchCalls: s.stats.batchCalls.Load(), Retries: s.stats.retries.Load(), RoundTrips: s.stats.roundTrips.Load()}
}

var _ flows.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// keyword/value pairs), brings its schema to this program's version and
// returns the store. It fails clearly when the server cannot be reached
// or its schema is newer than this program.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: bad DSN: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 64
	}
	if o.BatchLanes <= 0 {
		o.BatchLanes = 2
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 30
	}
	if o.ClaimLease <= 0 {
		o.ClaimLease = 30 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: connect: %w", err)
	}
	// A database already at this program's schema (every start but the
	// first after an upgrade) is read in one query; otherwise
	// golang-migrate brings it there, under its lock.
	schema, err := currentSchema(ctx, pool)
	if err != nil {
		schema, err = migrateUp(ctx, cfg.ConnConfig)
		if err == nil {
			err = fillBriefs(ctx, pool) // the rows a step added columns to
		}
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	sess, claimer, err := openSession(ctx, cfg.ConnConfig)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, now: o.Now, maxRetries: o.MaxRetries, notify: make(chan struct{}, 1), schema: schema,
		session: sess, claimer: claimer, lease: o.ClaimLease, connCfg: cfg.ConnConfig}
	s.batch = batcher{s: s, max: o.MaxBatch, lanes: o.BatchLanes}
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.listening.Add(1)
	go func() { defer s.listening.Done(); s.listen(lctx) }()
	return s, nil
}

// Close waits for the transactions in progress and closes the pool. Safe
// to call twice.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stop()
	s.listening.Wait()
	s.session.close()
	s.pool.Close()
	return nil
}

// Schema is the schema version the database is at.
func (s *Store) Schema() uint { return s.schema }

// Pool is the connection pool, for the delivery side and for tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Notify is signalled after a commit that added outbox rows.
func (s *Store) Notify() <-chan struct{} { return s.notify }

// Subscribe returns a channel of its own that is signalled like Notify.
func (s *Store) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs = append(s.subs, ch)
	s.mu.Unlock()
	return ch
}

func (s *Store) poke() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Update runs fn in a SERIALIZABLE transaction and commits it; fn runs
// again when the transaction loses a conflict (see the package comment).
// fn's error rolls everything back and is returned.
func (s *Store) Update(ctx context.Context, fn func(flows.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	for attempt := 1; ; attempt++ {
		enq, err, cause := s.attempt(ctx, fn)
		if err == nil {
			s.stats.commits.Add(1)
			if enq {
				s.poke()
			}
			return nil
		}
		if errors.Is(cause, errNumbersBusy) && attempt < s.maxRetries && ctx.Err() == nil {
			continue // at once, with the numbers lock taken first
		}
		if !Retryable(cause) || attempt >= s.maxRetries || ctx.Err() != nil {
			return err
		}
		s.stats.retries.Add(1)
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// attempt runs fn once in a transaction of its own. err is what Update
// returns; cause is the database error behind it, if any, which decides a
// retry.
func (s *Store) attempt(ctx context.Context, fn func(flows.Tx) error) (enq bool, err, cause error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("store/postgres: %w", err), err
	}
	defer conn.Release()
	t, err := s.openWrite(ctx, conn.Conn(), []string{flows.SerialKey(ctx)}, flows.SenderID(ctx))
	if err != nil {
		return false, err, err
	}
	defer s.closeWrite(t)
	done := false
	defer func() {
		if !done { // fn failed or panicked, or the commit failed
			t.abort()
		}
		s.stats.roundTrips.Add(int64(t.flushes))
	}()
	if err := fn(t); err != nil {
		return false, err, t.err
	}
	if t.err != nil {
		// fn went on after a database error; the transaction cannot commit.
		return false, t.err, t.err
	}
	s.notifyCommit(t)
	if err := t.commit(); err != nil {
		return false, fmt.Errorf("store/postgres: commit: %w", err), err
	}
	done = true
	return t.enqueued, nil, nil
}

// The BEGIN of a write transaction and of a read one.
const (
	beginWrite = `BEGIN ISOLATION LEVEL SERIALIZABLE`
	beginRead  = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`
)

// rollback ends a transaction on a connection going back to the pool. A
// connection that cannot (it broke) is closed by the pool on release.
func rollback(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = c.Exec(ctx, `ROLLBACK`)
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: one snapshot;
// writes fail.
func (s *Store) View(ctx context.Context, fn func(flows.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store/postgres: %w", err)
	}
	defer conn.Release()
	t := newTx(ctx, conn.Conn(), s.now, beginRead, true)
	defer func() {
		t.abort()
		s.stats.roundTrips.Add(int64(t.flushes))
	}()
	return fn(t)
}

// Retryable reports whether err means the transaction lost a conflict with
// a concurrent one and may simply run again.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"23505": // unique_violation: a key a concurrent transaction inserted first
		return true
	}
	return false
}

// backoff sleeps a random while that grows with the attempt (at most 50 ms),
// so transactions that collided do not collide again in step.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Duration(min(1<<min(attempt, 10), 50)) * time.Millisecond
	timer := time.NewTimer(time.Duration(rand.Int64N(int64(limit))) + 100*time.Microsecond)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
