package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Advisory lock keys, in PostgreSQL's two-key form (pg_locks shows the
// first as classid, the second as objid, objsubid 2). The first key says
// what the lock is for.
const (
	// lockClaimer, with the store's claimer number: held by every open
	// store on its session for as long as it is open, so the outbox
	// claims it makes count only while it lives.
	lockClaimer = 0x72620001
	// lockLeader, with 0: the replica that runs the outbox dispatcher and
	// the timers holds it.
	lockLeader = 0x72620002
	// lockChat, with a conversation's hash: held by the transaction that
	// handles an update of that conversation (flows.SerialKey), on
	// whichever replica (serial.go).
	lockChat = 0x72620003
	// lockNumbers, with 0: held by the transaction that draws from the
	// counters (the day's ticket numbers), on whichever replica
	// (serial.go). Its key sorts after every lockChat key.
	lockNumbers = 0x72620004
)

// ErrNotLeader means another process holds the leader lock of the database.
var ErrNotLeader = errors.New("store/postgres: another process leads this database")

// TryLead takes the leader lock on the store's session if nobody holds it
// and reports whether this store now holds it (holding it already is
// true). The lock lives as long as the session: a process that dies (or
// loses its connection) lets it go, and another can take it. Campaign
// calls it on a schedule and checks the session meanwhile.
func (s *Store) TryLead(ctx context.Context) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	s.session.mu.Lock()
	defer s.session.mu.Unlock()
	if s.leading.Load() {
		return true, nil
	}
	var ok bool
	if err := s.session.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, 0)`, lockLeader).Scan(&ok); err != nil {
		return false, fmt.Errorf("store/postgres: leader lock: %w", err)
	}
	s.leading.Store(ok)
	return ok, nil
}

// Leading reports whether this store held the leader lock at its last
// check (TryLead, Campaign): the replica that runs the outbox dispatcher
// and the timers.
func (s *Store) Leading() bool { return s.leading.Load() }

// check makes sure the session still lives (a round trip), and connects it
// again with the same claimer number when it does not: its locks went with
// the old connection, the leader lock among them.
func (s *Store) check(ctx context.Context) error {
	s.session.mu.Lock()
	defer s.session.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, sessionCheck)
	defer cancel()
	if !s.session.conn.IsClosed() {
		if _, err := s.session.conn.Exec(ctx, `SELECT 1`); err == nil {
			return nil
		}
	}
	s.leading.Store(false)
	_ = s.session.conn.Close(ctx)
	conn, err := connectSession(ctx, s.connCfg)
	if err != nil {
		return err
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClaimer, s.claimer).Scan(&ok); err != nil || !ok {
		conn.Close(ctx)
		if err == nil {
			err = errors.New("another store took this store's claimer number")
		}
		return fmt.Errorf("store/postgres: session again: %w", err)
	}
	s.session.conn = conn
	return nil
}

// sessionCheck bounds Campaign's round trip to the server.
const sessionCheck = 3 * time.Second

// Campaign keeps this store in the running for leadership until ctx ends:
// every interval it checks its session (connecting it again when it
// broke, which loses the lead) and takes the leader lock when nobody holds
// it. onChange, when set, hears every change of Leading. A leader that
// dies lets the lock go with its connection (at once when its process
// ends, within the session's TCP keepalives when its machine vanishes);
// the next replica to check takes it, within interval.
func (s *Store) Campaign(ctx context.Context, interval time.Duration, onChange func(leading bool)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	was := s.Leading()
	for {
		if err := s.check(ctx); err == nil {
			_, _ = s.TryLead(ctx)
		}
		if now := s.Leading(); now != was {
			was = now
			if onChange != nil {
				onChange(now)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.closed.Load() {
			return
		}
	}
}

// liveClaimers selects the claimer numbers whose lock is held (the
// argument after the query's others is lockClaimer).
const liveClaimers = `SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = $4 AND objsubid = 2 AND granted
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// session is the store's own connection, outside the pool: it holds the
// session-level advisory locks (the claimer lock, the leader lock), which
// live exactly as long as it does. The server notices a dead client on
// this connection within seconds (TCP keepalives set for it), so a
// crashed replica's locks are released for the others to take.
type session struct {
	mu   sync.Mutex
	conn *pgx.Conn
}

// keepalives make the server drop the session of a client that vanished
// without closing its connection (a machine lost) within about ten
// seconds, instead of the operating system's two hours.
var keepalives = map[string]string{
	"tcp_keepalives_idle":     "4",
	"tcp_keepalives_interval": "2",
	"tcp_keepalives_count":    "2",
	"application_name":        "repairbot-session",
}

// openSession connects the session and takes a claimer number of its own.
func openSession(ctx context.Context, cfg *pgx.ConnConfig) (*session, int32, error) {
	conn, err := connectSession(ctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	s := &session{conn: conn}
	for range 100 {
		n := rand.Int32N(1<<31-1) + 1
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClaimer, n).Scan(&ok); err != nil {
			conn.Close(ctx)
			return nil, 0, fmt.Errorf("store/postgres: claimer lock: %w", err)
		}
		if ok {
			return s, n, nil
		}
	}
	conn.Close(ctx)
	return nil, 0, fmt.Errorf("store/postgres: no free claimer number")
}

// connectSession opens a connection outside the pool with keepalives.
func connectSession(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	for k, v := range keepalives {
		c.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: connect: %w", err)
	}
	return conn, nil
}

// close ends the session: its locks are released.
func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.conn.Close(ctx)
}
