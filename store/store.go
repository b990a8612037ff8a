// Package store is the bbolt implementation of the flows store: one file,
// one writer at a time, every state change committed together with its
// inbound dedupe mark, channel cursor and outgoing messages.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/repairbot/repairbot/flows"
)

// Bucket names. Index buckets are named <entity>.<field>.
var (
	bMeta             = []byte("meta")
	bCursors          = []byte("cursors")
	bSeen             = []byte("seen_updates")
	bSeenByTime       = []byte("seen_updates.by_time")
	bPeople           = []byte("people")
	bPeopleByRole     = []byte("people.by_role")
	bTickets          = []byte("tickets")
	bTicketsByRes     = []byte("tickets.by_resident")
	bTicketsByAssign  = []byte("tickets.by_assignee")
	bTicketsOpen      = []byte("tickets.open")
	bTicketEvents     = []byte("ticket_events")
	bCounters         = []byte("counters")
	bDialogues        = []byte("dialogues")
	bInvites          = []byte("invites")
	bOutbox           = []byte("outbox")
	bOutboxDone       = []byte("outbox.done")
	bOutboxFailed     = []byte("outbox.failed")
	bCards            = []byte("cards")
	bComplaints       = []byte("complaints")
	bTimers           = []byte("timers")
	bTimersByKey      = []byte("timers.by_key")
	bTicketsTouched   = []byte("tickets.touched")
	bHandovers        = []byte("handovers")
	bDaily            = []byte("daily")
	bDuty             = []byte("duty_overrides")
	bSOPVersions      = []byte("sop_versions")
	bAcks             = []byte("sop_acks")
	bReviews          = []byte("reviews")
	bSuggestions      = []byte("suggestions.pending")
	bFeeQuestions     = []byte("fee_questions")
	bFeeQuestionsOpen = []byte("fee_questions.open")
	bTicketsReported  = []byte("tickets.reported")
	bTicketsByPlace   = []byte("tickets.by_place")
	bTicketsTrail     = []byte("tickets.trail")
	bQC               = []byte("qc")
	bQCOpen           = []byte("qc.open")
	bPhoneCallbacks   = []byte("callbacks.phone")
	bAreaEdits        = []byte("area_edits")

	allBuckets = [][]byte{bMeta, bCursors, bSeen, bSeenByTime, bPeople, bPeopleByRole, bTickets, bTicketsByRes,
		bTicketsByAssign, bTicketsOpen, bTicketEvents, bCounters, bDialogues, bInvites, bOutbox, bOutboxDone,
		bOutboxFailed, bCards, bComplaints, bTimers, bTimersByKey, bTicketsTouched, bHandovers, bDaily, bDuty, bSOPVersions, bAcks, bReviews, bSuggestions,
		bSkills, bCerts, bCertsByPerson, bCertsByDue, bCertReminders, bSessions, bSessionsByPerson, bSessionsByStart, bPersonEvents,
		bParts, bPartsLocations, bPartsMoves, bPartsMovesByPart, bPartsMovesByTicket, bPartsMovesByKey, bPartsMovesReversed, bPartsLevels, bPartsPurchases, bPartsPurchasesOpen, bPartsScraps, bPartsStocktakes, bPartsLow,
		bFeeQuestions, bFeeQuestionsOpen,
		bTicketsReported, bTicketsByPlace, bTicketsTrail, bQC, bQCOpen, bPhoneCallbacks, bAreaEdits}
)

// schemaVersion is written in meta and in every record envelope.
const schemaVersion = 1

// ErrLocked means another process holds the database file.
var ErrLocked = errors.New("store: database file is locked by another process (is the bot already running?)")

// Store is a bbolt database holding everything the bot knows.
type Store struct {
	db     *bolt.DB
	path   string
	notify chan struct{}
	// subs are extra wake-up channels (Subscribe), one per sender, so two
	// channels' senders do not take each other's notification.
	subs   []chan struct{}
	now    func() time.Time
	mu     sync.Mutex
	closed bool
	// defaultArea is Options.DefaultArea, for the migration at Open.
	defaultArea string
}

var _ flows.Store = (*Store)(nil)

// Options for Open.
type Options struct {
	// LockTimeout bounds the wait for another process's file lock.
	LockTimeout time.Duration
	// NoSync disables fsync; only for throwaway benchmarks, never production.
	NoSync bool
	// Now stamps outbox rows; time.Now when nil.
	Now func() time.Time
	// DefaultArea is the area records from before areas are put in when
	// the file is first opened with areas (areas.go); flows.DefaultArea
	// when empty.
	DefaultArea string
}

// Open opens or creates the database, creates every bucket and checks the
// schema version. It fails fast and clearly when another process holds it
// (ErrLocked), and refuses an existing empty file (ErrEmpty) or a damaged
// one (ErrCorrupt) with a message naming the file and `repairbot restore`.
func Open(path string, o Options) (*Store, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = 2 * time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	if err := create(path); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{path: path, notify: make(chan struct{}, 1), now: o.Now, defaultArea: o.DefaultArea}
	db, err := openBolt(path, bolt.Options{Timeout: o.LockTimeout, NoSync: o.NoSync},
		func(db *bolt.DB) error { return db.Update(s.migrate) })
	if err != nil {
		return nil, err
	}
	s.db = db
	return s, nil
}

func (s *Store) migrate(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("store: create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bMeta)
	if v := meta.Get([]byte("schema")); v != nil {
		if n := int(binary.BigEndian.Uint32(v)); n > schemaVersion {
			return fmt.Errorf("store: file schema %d is newer than this program's %d; upgrade the program", n, schemaVersion)
		}
	}
	if err := fillOpenCopies(tx); err != nil {
		return err
	}
	// Areas first: the ticket indexes' briefs carry a ticket's area.
	if err := migrateAreas(tx, s.defaultArea); err != nil {
		return err
	}
	if err := fillTicketIndexes(tx); err != nil {
		return err
	}
	return meta.Put([]byte("schema"), u32(schemaVersion))
}

// fillOpenCopies gives every tickets.open row written before the index
// carried a copy of the ticket its copy, once. It reads only the open
// index (a few hundred rows), never the tickets bucket as a whole.
func fillOpenCopies(tx *bolt.Tx) error {
	meta := tx.Bucket(bMeta)
	mark := []byte("migrated.open_copies")
	if meta.Get(mark) != nil {
		return nil
	}
	open, tickets := tx.Bucket(bTicketsOpen), tx.Bucket(bTickets)
	var fill [][2][]byte
	err := open.ForEach(func(k, v []byte) error {
		if len(v) == 0 {
			if raw := tickets.Get([]byte(lastPart(k))); raw != nil {
				fill = append(fill, [2][]byte{append([]byte(nil), k...), append([]byte(nil), raw...)})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, kv := range fill {
		if err := open.Put(kv[0], kv[1]); err != nil {
			return fmt.Errorf("store: migrate open index: %w", err)
		}
	}
	return meta.Put(mark, []byte{1})
}

// Close closes the database. Safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

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

// Update runs fn in a write transaction.
func (s *Store) Update(ctx context.Context, fn func(flows.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var enq bool
	err := s.db.Update(func(b *bolt.Tx) error {
		t := &tx{b: b, now: s.now}
		err := fn(t)
		enq = t.enqueued
		return err
	})
	if err == nil && enq {
		s.poke()
	}
	return err
}

// Batch runs fn in a write transaction shared with other concurrent
// callers (bbolt's group commit: one fsync for many events). fn may run
// more than once — when another function of the batch fails, the batch is
// retried — so it must derive everything from the transaction.
func (s *Store) Batch(ctx context.Context, fn func(flows.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var enq atomic.Bool
	err := s.db.Batch(func(b *bolt.Tx) error {
		t := &tx{b: b, now: s.now}
		err := fn(t)
		if err == nil && t.enqueued {
			enq.Store(true)
		}
		return err
	})
	if err == nil && enq.Load() {
		s.poke()
	}
	return err
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(flows.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(b *bolt.Tx) error { return fn(&tx{b: b, now: s.now}) })
}

// Backup writes a consistent copy of the database while it is in use.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// ---- encoding ----

// envelope carries the schema version with every value.
type envelope struct {
	V int             `json:"v"`
	D json.RawMessage `json:"d"`
}

func encode(v any) ([]byte, error) {
	d, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// The envelope by hand: json.Marshal of a RawMessage would re-scan and
	// compact d, a fifth of the CPU of a busy store.
	out := make([]byte, 0, len(d)+16)
	out = append(out, `{"v":`...)
	out = strconv.AppendInt(out, schemaVersion, 10)
	out = append(out, `,"d":`...)
	out = append(out, d...)
	return append(out, '}'), nil
}

func decode(raw []byte, v any) error {
	// The envelope encode writes, read by hand: json.Unmarshal of the
	// envelope validates and scans the whole record twice before the
	// record itself is decoded (a month's report spent a third of its time
	// there). Anything else goes through encoding/json.
	if ver, d, ok := splitEnvelope(raw); ok {
		if ver > schemaVersion {
			return fmt.Errorf("store: record schema %d is newer than %d", ver, schemaVersion)
		}
		if err := json.Unmarshal(d, v); err != nil {
			return fmt.Errorf("store: corrupt record: %w", err)
		}
		return nil
	}
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("store: corrupt record: %w", err)
	}
	if e.V > schemaVersion {
		return fmt.Errorf("store: record schema %d is newer than %d", e.V, schemaVersion)
	}
	return json.Unmarshal(e.D, v)
}

// splitEnvelope parses exactly `{"v":<digits>,"d":<value>}`, the form
// encode writes; ok is false for any other spelling.
func splitEnvelope(raw []byte) (ver int, d []byte, ok bool) {
	const head = `{"v":`
	if len(raw) < len(head)+len(`0,"d":0}`) || string(raw[:len(head)]) != head || raw[len(raw)-1] != '}' {
		return 0, nil, false
	}
	i := len(head)
	start := i
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' && i-start < 6 {
		ver = ver*10 + int(raw[i]-'0')
		i++
	}
	const mid = `,"d":`
	if i == start || len(raw)-i < len(mid)+1 || string(raw[i:i+len(mid)]) != mid {
		return 0, nil, false
	}
	return ver, raw[i+len(mid) : len(raw)-1], true
}

func u32(n uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, n)
	return b
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// ts is a sortable UTC timestamp for index keys.
func ts(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

func key(parts ...string) []byte {
	return []byte(joinKey(parts...))
}

func joinKey(parts ...string) string {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.String()
}

func notFound(what, id string) error { return fmt.Errorf("%s %q: %w", what, id, flows.ErrNotFound) }
