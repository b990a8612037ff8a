// Package jobs runs the bot's schedules on robfig/cron in the estate's time
// zone: the timer tick that drives SLA ladders, reminders and the daily
// handover through the engine, the hourly housekeeping of the store, the
// daily archive of the day's forms and the scheduled backups.
// The schedules only say when to look; what is due is stored, so a restart
// or a doubled tick never fires anything twice. jobs never imports a
// concrete store: it is given the Housekeeper it prunes.
package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/media"
)

// Housekeeper is what the hourly housekeeping asks of the store (the
// bbolt store implements it).
type Housekeeper interface {
	// PruneSeen forgets inbound dedupe keys recorded before the cutoff.
	PruneSeen(before time.Time) (int, error)
	// PruneDelivered forgets delivered and superseded outbox rows finished
	// before the cutoff; failed rows and card references stay.
	PruneDelivered(before time.Time) (int, error)
}

// Pruner is the rest of the bounded growth, asked of a store that has it
// (the bbolt store does): failed outbox rows, dialogues nobody answered
// and used or expired invites, each forgotten once older than its cutoff.
type Pruner interface {
	PruneFailed(before time.Time) (int, error)
	PruneDialogues(before time.Time) (int, error)
	PruneInvites(before time.Time) (int, error)
}

// Keep says how long the housekeeping keeps what a Pruner forgets (zero
// fields: 30 days), and how old an unreferenced kept file must be before
// the nightly sweep deletes it (zero: 72 hours).
type Keep struct {
	Failed, Dialogues, Invites time.Duration
	OrphanMedia                time.Duration
}

// MediaReferrer is a store that can say which kept files its records
// refer to (the bbolt store can): MediaRefs reports every digest a stored
// record mentions. A store without it never has files swept.
type MediaReferrer interface {
	MediaRefs(yield func(sum string)) error
}

// MediaSweeper is the store of kept copies (media.Store: files under its
// directory, or the rows of its Blobs).
type MediaSweeper interface {
	Candidates(before time.Time) ([]media.Kept, error)
	Remove(k media.Kept, before time.Time) (bool, error)
}

// mediaSweepSchedule is when the orphan sweep runs, in Location: at night,
// as it reads the whole store.
const mediaSweepSchedule = "40 3 * * *"

// Options configure the runner.
type Options struct {
	Engine *flows.Engine
	// Store is pruned every hour.
	Store    Housekeeper
	Location *time.Location
	Tick     time.Duration
	Log      zerolog.Logger
	Now      func() time.Time
	// Backup, when set with a non-empty BackupSchedule, runs on that
	// schedule (a standard cron spec in Location) and returns the file it
	// wrote. What a backup is belongs to the caller; the runner only
	// schedules and logs it.
	Backup         func() (string, error)
	BackupSchedule string
	// Archive, when set, writes the files of a past local day (YYYYMMDD)
	// and returns those it wrote (the records renderer's Archive: the
	// day's task list, repair log and work orders). It runs every day at
	// ArchiveAt (minutes after midnight in Location) for the day before,
	// and at Open for yesterday, so a bot that was down then catches up; it
	// must keep what is already written.
	Archive   func(ctx context.Context, day string) ([]string, error)
	ArchiveAt int
	// Keep bounds what the housekeeping keeps (when Store is a Pruner).
	Keep Keep
	// Media, when set and Store is a MediaReferrer, is swept nightly of
	// the files no record refers to (photos of a dialogue dropped half-way,
	// a workbook imported long ago) once older than Keep.OrphanMedia.
	Media MediaSweeper
	// Leading, when set, says whether this process leads the replicas
	// that share a database (store/postgres): only the leader runs the
	// schedules (one clock: a timer fires once, the night's archive is
	// written once). Nil is a process of its own. Call Led when the lead
	// comes to this process.
	Leading func() bool
}

// Runner is the running scheduler. Open starts it, Close stops it.
type Runner struct {
	o    Options
	cron *cron.Cron
	wg   sync.WaitGroup
}

// cronLogger adapts zerolog to cron's logger interface.
type cronLogger struct{ l zerolog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug().Fields(kv).Msg(msg) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error().Err(err).Fields(kv).Msg(msg)
}

// Open runs one tick at once (timers that fell due while the process was
// down fire now, marked late) and starts the schedules.
func Open(o Options) (*Runner, error) {
	if o.Engine == nil || o.Store == nil {
		return nil, fmt.Errorf("jobs: engine and store are required")
	}
	if o.Tick <= 0 {
		o.Tick = 15 * time.Second
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	logger := cronLogger{o.Log}
	r := &Runner{o: o}
	r.cron = cron.New(
		cron.WithLocation(o.Location),
		cron.WithLogger(logger),
		// A slow tick must not overlap the next one; a replica that does
		// not lead runs none.
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger), r.leaderOnly),
	)
	if _, err := r.cron.AddFunc(fmt.Sprintf("@every %s", o.Tick), r.Tick); err != nil {
		return nil, fmt.Errorf("jobs: tick schedule: %w", err)
	}
	if _, err := r.cron.AddFunc("@hourly", r.Housekeeping); err != nil {
		return nil, fmt.Errorf("jobs: housekeeping schedule: %w", err)
	}
	if o.Archive != nil {
		spec := fmt.Sprintf("%d %d * * *", o.ArchiveAt%60, o.ArchiveAt/60%24)
		if _, err := r.cron.AddFunc(spec, r.ArchiveYesterday); err != nil {
			return nil, fmt.Errorf("jobs: archive schedule %q: %w", spec, err)
		}
	}
	if o.Media != nil {
		if _, err := r.cron.AddFunc(mediaSweepSchedule, func() { r.SweepMedia() }); err != nil {
			return nil, fmt.Errorf("jobs: media sweep schedule: %w", err)
		}
	}
	if o.Backup != nil && o.BackupSchedule != "" {
		if _, err := r.cron.AddFunc(o.BackupSchedule, r.Backup); err != nil {
			return nil, fmt.Errorf("jobs: backup schedule %q: %w", o.BackupSchedule, err)
		}
	}
	if r.leads() {
		r.Tick()
		r.Housekeeping()
		r.catchUp()
	}
	r.cron.Start()
	return r, nil
}

// leads reports Options.Leading, true when it is nil.
func (r *Runner) leads() bool { return r.o.Leading == nil || r.o.Leading() }

// leaderOnly skips a scheduled job on a replica that does not lead.
func (r *Runner) leaderOnly(j cron.Job) cron.Job {
	return cron.FuncJob(func() {
		if r.leads() {
			j.Run()
		}
	})
}

// Led is told that this process now leads: it fires what fell due while
// no one led (the last leader died) and then catches up the archive, as a
// start does, all in the background.
func (r *Runner) Led() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.Tick()
		r.catchUp() // within this goroutine's count, so Close waits for it
	}()
}

// catchUp archives yesterday in the background, when archiving: a bot
// that was down at the archive's hour catches up (rendering a large day
// is not for the start-up path).
func (r *Runner) catchUp() {
	if r.o.Archive != nil {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.ArchiveYesterday() }()
	}
}

// ArchiveYesterday archives the day before today (in Location).
func (r *Runner) ArchiveYesterday() {
	if r.o.Archive == nil {
		return
	}
	day := r.o.Now().In(r.o.Location).AddDate(0, 0, -1).Format("20060102")
	start := time.Now()
	wrote, err := r.o.Archive(context.Background(), day)
	if err != nil {
		r.o.Log.Error().Err(err).Str("day", day).Msg("archive failed; the next run writes what is missing")
		return
	}
	if len(wrote) > 0 {
		r.o.Log.Info().Str("day", day).Int("files", len(wrote)).Dur("took", time.Since(start)).Msg("day archived")
	}
}

// Tick fires every due timer through the engine.
func (r *Runner) Tick() {
	n, err := r.o.Engine.Tick(context.Background())
	if err != nil {
		r.o.Log.Error().Err(err).Msg("timer tick failed; due timers stay stored and fire on the next tick")
		return
	}
	if n > 0 {
		r.o.Log.Info().Int("fired", n).Msg("timers fired")
	}
}

// Housekeeping forgets inbound dedupe keys after three days (Telegram keeps
// unconfirmed updates for 24 hours, so older keys can never come back),
// delivered outbox rows after 30 days, and, when the store is a Pruner,
// failed rows, idle dialogues and used or expired invites after Keep's
// durations.
func (r *Runner) Housekeeping() {
	now := r.o.Now()
	if n, err := r.o.Store.PruneSeen(now.Add(-72 * time.Hour)); err != nil {
		r.o.Log.Error().Err(err).Msg("prune dedupe keys")
	} else if n > 0 {
		r.o.Log.Debug().Int("keys", n).Msg("pruned dedupe keys")
	}
	if n, err := r.o.Store.PruneDelivered(now.Add(-30 * 24 * time.Hour)); err != nil {
		r.o.Log.Error().Err(err).Msg("prune delivered outbox rows")
	} else if n > 0 {
		r.o.Log.Debug().Int("rows", n).Msg("pruned delivered outbox rows")
	}
	p, ok := r.o.Store.(Pruner)
	if !ok {
		return
	}
	keep := func(d time.Duration) time.Time {
		if d <= 0 {
			d = 30 * 24 * time.Hour
		}
		return now.Add(-d)
	}
	for _, c := range []struct {
		what  string
		prune func(time.Time) (int, error)
		keep  time.Duration
	}{
		{"failed outbox rows", p.PruneFailed, r.o.Keep.Failed},
		{"idle dialogues", p.PruneDialogues, r.o.Keep.Dialogues},
		{"used or expired invites", p.PruneInvites, r.o.Keep.Invites},
	} {
		if n, err := c.prune(keep(c.keep)); err != nil {
			r.o.Log.Error().Err(err).Msg("prune " + c.what)
		} else if n > 0 {
			r.o.Log.Info().Int("count", n).Msg("pruned " + c.what)
		}
	}
}

// Backup runs the configured backup once and logs the outcome: an error
// with a path is a copy written with a warning, logged at error level too.
func (r *Runner) Backup() {
	if r.o.Backup == nil {
		return
	}
	start := time.Now()
	path, err := r.o.Backup()
	if err != nil && path != "" {
		// Written, but something about it needs a person (a copy with
		// fewer tickets than an older one, which rotation kept).
		r.o.Log.Error().Err(err).Str("path", path).Msg("backup written, but look at this")
		return
	}
	if err != nil {
		r.o.Log.Error().Err(err).Msg("backup failed; the next scheduled one will try again")
		return
	}
	r.o.Log.Info().Str("path", path).Dur("took", time.Since(start)).Msg("backup written")
}

// Close stops the schedules and waits for a running job to finish.
func (r *Runner) Close() {
	<-r.cron.Stop().Done()
	r.wg.Wait()
}

// SweepMedia deletes the kept files no stored record refers to and that
// nobody kept again for Keep.OrphanMedia, and returns how many and their
// bytes. The files are listed first and the records read after, so a file
// kept and referred to meanwhile is either too young to be listed or
// referred to by then; each is checked again just before it goes. Nothing
// is deleted when the store cannot say what it refers to or the read fails.
func (r *Runner) SweepMedia() (n int, bytes int64) {
	refs, ok := r.o.Store.(MediaReferrer)
	if r.o.Media == nil || !ok {
		return 0, 0
	}
	grace := r.o.Keep.OrphanMedia
	if grace <= 0 {
		grace = 72 * time.Hour
	}
	before := r.o.Now().Add(-grace)
	kept, err := r.o.Media.Candidates(before)
	if err != nil {
		r.o.Log.Error().Err(err).Msg("media sweep: list kept files; nothing deleted")
		return 0, 0
	}
	if len(kept) == 0 {
		return 0, 0
	}
	used := map[string]bool{}
	if err := refs.MediaRefs(func(sum string) { used[sum] = true }); err != nil {
		r.o.Log.Error().Err(err).Msg("media sweep: read the store's references; nothing deleted")
		return 0, 0
	}
	for _, k := range kept {
		if k.Sum != "" && used[k.Sum] {
			continue
		}
		gone, err := r.o.Media.Remove(k, before)
		if err != nil {
			r.o.Log.Error().Err(err).Msg("media sweep: delete")
			continue
		}
		if gone {
			n++
			bytes += k.Size
		}
	}
	if n > 0 {
		r.o.Log.Info().Int("files", n).Int64("bytes", bytes).Int("kept", len(used)).Msg("swept kept files no record refers to")
	}
	return n, bytes
}
