// Command repairbot runs the property-management repair bot: residents
// report faults in Telegram, technicians accept and work them, team leads
// supervise. `repairbot demo` plays a whole repair against a simulated
// Telegram with no token and no network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/backup"
	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/jobs"
	"github.com/repairbot/repairbot/media"
	"github.com/repairbot/repairbot/ops"
	"github.com/repairbot/repairbot/records"
	"github.com/repairbot/repairbot/sop"
	"github.com/repairbot/repairbot/stockxlsx"
	"github.com/repairbot/repairbot/store"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "repairbot:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "sop-default":
			_, err := stdout.Write(sop.DefaultTOML())
			return err
		case "backup", "restore":
			return backup.Command(args[0], args[1:], stdout, stderr, time.Now)
		case "wecom-appchat":
			return wecomAppchat(args[1:], stdout, stderr)
		case "outbox":
			return outboxCommand(args[1:], stdout, stderr, time.Now)
		case "migrate-store":
			return migrateStore(args[1:], stdout, stderr, time.Now)
		case "poster":
			return posterCommand(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("repairbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.toml", "configuration file (TOML); see config.example.toml")
	logFormat := fs.String("log-format", "", `"json" or "console" (overrides log.format)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q (commands: demo, sop-default, backup, restore, outbox, migrate-store, wecom-appchat; flags: -config, -log-format)", fs.Arg(0))
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := NewMain(cfg)
	m.ConfigDir = filepath.Dir(*cfgPath)
	m.Log = NewLogger(cfg.Log, stderr)
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		if ctx.Err() != nil {
			// SIGINT/SIGTERM while starting (docker stop, systemctl stop):
			// an ordinary stop, not a failure to report.
			m.Log.Info().Msg("stopped while starting")
			return nil
		}
		return err
	}
	var names []string
	for _, ch := range m.Channels {
		names = append(names, ch.Name())
	}
	m.Log.Info().Strs("channels", names).Str("db", m.dbName).Msg("repairbot running")
	<-ctx.Done()
	m.Log.Info().Msg("shutting down")
	return m.Close()
}

// NewLogger builds the root logger: JSON by default, console for humans.
func NewLogger(c config.Log, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		level = zerolog.InfoLevel
	}
	var out io.Writer = w
	if c.Format == "console" {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// Main is the whole program: store, engine and channels, wired from the
// configuration. Tests and the demo run it against a temp dir and a fake
// Bot API.
type Main struct {
	Config config.Config
	// ConfigDir resolves relative paths in the config (the SOP file).
	ConfigDir string
	Log       zerolog.Logger
	// Now is the clock; time.Now unless a test pins it.
	Now func() time.Time

	// Store is the database [store] configures (bbolt or PostgreSQL).
	Store  Database
	dbName string // Store for the log (no password)
	// Media keeps the photos and documents people send: files under
	// data_dir/photos, or Store's media table on PostgreSQL (openMedia).
	Media  *media.Store
	Engine *flows.Engine
	// Records renders the forms and charts the channels send and the daily
	// archive writes.
	Records *records.Renderer
	// Channels are the configured channels (channelKinds), in the order
	// they open; Close closes them in reverse.
	Channels []bot.Channel
	Jobs     *jobs.Runner
	// ops is Ops for the engine's latency hook, which runs on other goroutines.
	ops atomic.Pointer[ops.Server]
	Ops *ops.Server // nil unless ops.listen is set
	// stopCampaign ends a replica's campaign for the lead (Replicas).
	stopCampaign context.CancelFunc
	campaigning  sync.WaitGroup
}

// NewMain returns a Main for the configuration; nothing runs until Run.
func NewMain(cfg config.Config) *Main {
	return &Main{Config: cfg, Log: zerolog.Nop(), Now: time.Now}
}

// Run opens the store, builds the engine and opens the channels, then
// the schedules and the ops endpoint. It returns once everything is
// running; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	for _, w := range cfg.Warnings() {
		m.Log.Warn().Msg("config: " + w)
	}
	st, name, err := openDatabase(ctx, cfg, m.Now)
	if err != nil {
		return err
	}
	m.Store, m.dbName = st, name
	m.Media = openMedia(cfg, st)
	// Hot backups are bbolt's; on PostgreSQL they are the server's own
	// (pg_dump), and `repairbot backup` says so.
	var hotBackup func(kind backup.Kind) func() (string, error)
	if bs, ok := st.(*store.Store); ok {
		hotBackup = func(kind backup.Kind) func() (string, error) {
			return func() (string, error) { return backup.RotateKind(bs, cfg.BackupDir(), kind, cfg.Backup.Keep, m.Now()) }
		}
	}
	defLang := flows.Lang(cfg.Org.DefaultLang)
	texts, err := i18n.Load(defLang)
	if err != nil {
		return err
	}
	kinds := enabledKinds(cfg)
	if err := m.openEngine(ctx, texts, kinds); err != nil {
		return err
	}
	photos := m.Media
	ro := m.Engine.RecordOptions()
	m.Records, err = records.New(records.Options{Store: st, Texts: texts, Profile: ro.Profile, OrgName: ro.OrgName,
		Location: ro.Location, Categories: ro.Categories, Emergencies: ro.Emergencies, SOP: m.Engine.SOP,
		OpenMedia: photos.Open, Daily: m.Engine.DailyList, Parts: ro.Parts, Poster: posterImage, PosterPDF: posterPDF, AreaName: m.Engine.AreaName})
	if err != nil {
		return err
	}
	deps := bot.Deps{Engine: m.Engine, Store: st, Outbox: st, Texts: texts, DefaultLang: defLang, Now: m.Now, Domain: m.Engine,
		Media: photos, Exports: m.Records}
	replicas, _ := st.(Replicas)
	var leading func() bool
	if replicas != nil {
		leading = replicas.Leading
		deps.Leading = channelsLeading(leading)
	}
	// Every channel is built before any opens: building talks to nobody,
	// and the list is complete (invite links, ops) before events arrive.
	for _, k := range kinds {
		d := deps
		d.Log = m.Log.With().Str("component", k.name).Logger()
		ch, err := k.build(cfg, d)
		if err != nil {
			return err
		}
		m.Channels = append(m.Channels, ch)
	}
	for _, ch := range m.Channels {
		if err := ch.Open(ctx); err != nil {
			return err
		}
	}
	jo := jobs.Options{Engine: m.Engine, Store: st, Location: cfg.Location(), Tick: cfg.SLA.Tick.Duration,
		Log: m.Log.With().Str("component", "jobs").Logger(), Now: m.Now,
		Keep: jobs.Keep{Failed: cfg.Housekeeping.KeepFailed.Duration, Dialogues: cfg.Housekeeping.IdleDialogue.Duration,
			Invites: cfg.Housekeeping.KeepInvites.Duration, OrphanMedia: cfg.Housekeeping.OrphanMedia.Duration}, Media: deps.Media}
	if hotBackup != nil {
		jo.Backup, jo.BackupSchedule = hotBackup(backup.Scheduled), cfg.Backup.Schedule
	}
	jo.Leading = leading
	if cfg.Records.Archive {
		dir := filepath.Join(cfg.Store.DataDir, "records")
		jo.Archive = func(ctx context.Context, day string) ([]string, error) {
			return m.Records.Archive(ctx, dir, day, defLang)
		}
		jo.ArchiveAt = cfg.Records.ArchiveMinutes()
	}
	m.Jobs, err = jobs.Open(jo)
	if err != nil {
		return err
	}
	if cfg.Ops.Listen != "" {
		o := ops.Options{Listen: cfg.Ops.Listen, Store: st, Outbox: st, Channels: m.Channels, Now: m.Now,
			Log: m.Log.With().Str("component", "ops").Logger(), Engine: m.Engine.Stats(),
			Failed: st, Token: cfg.Ops.Token, Database: cfg.Store.Driver,
			DataDir: cfg.Store.DataDir, MinFree: uint64(cfg.Ops.MinFreeMB) << 20, OutboxStall: cfg.Ops.OutboxStall.Duration}
		if hotBackup != nil {
			o.Backup = hotBackup(backup.OnDemand)
		}
		o.Leading = leading
		if m.Ops, err = ops.Start(o); err != nil {
			return err
		}
		m.ops.Store(m.Ops)
	}
	if replicas != nil {
		m.campaign(replicas)
	}
	m.Log.Info().Str("sop", m.Engine.SOPLabel()).Int("emergency_types", len(cfg.Emergencies)).Msg("engine ready")
	return nil
}

// campaign runs a replica's campaign for the lead (see Replicas) and
// relays the other replicas' commits to the engine's watchers (the
// console's live board).
func (m *Main) campaign(r Replicas) {
	ctx, stop := context.WithCancel(context.Background())
	m.stopCampaign = stop
	log := m.Log.With().Str("component", "replica").Logger()
	log.Info().Bool("leader", r.Leading()).Msg("replica started")
	m.campaigning.Add(2)
	go func() {
		defer m.campaigning.Done()
		r.Campaign(ctx, campaignEvery, func(leading bool) {
			log.Info().Bool("leader", leading).Msg("leadership changed")
			if leading {
				m.Jobs.Led()
			}
		})
	}()
	go func() {
		defer m.campaigning.Done()
		changes := r.Subscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changes:
				m.Engine.Changed()
			}
		}
	}()
}

// Channel is the open channel with that name ("telegram", "wecom"), or nil.
func (m *Main) Channel(name string) bot.Channel {
	for _, ch := range m.Channels {
		if ch.Name() == name {
			return ch
		}
	}
	return nil
}

// openEngine builds the engine from the configuration and installs the
// SOP file under governance: a changed definition becomes a new version
// and everyone who executes it is asked to confirm it.
func (m *Main) openEngine(ctx context.Context, texts flows.Texts, kinds []channelKind) error {
	cfg := m.Config
	var cats []flows.Category
	for _, c := range cfg.Categories {
		cats = append(cats, flows.Category{Key: c.Key, Labels: map[flows.Lang]string{flows.LangZH: c.ZH, flows.LangEN: c.EN}, Emergency: c.Emergency})
	}
	var emergencies []flows.EmergencyType
	for _, e := range cfg.Emergencies {
		emergencies = append(emergencies, flows.EmergencyType{Key: e.Key, Category: e.Category,
			Labels:       map[flows.Lang]string{flows.LangZH: e.ZH, flows.LangEN: e.EN},
			AcceptWithin: e.AcceptWithin.Duration, ArriveWithin: e.ArriveWithin.Duration, ManagerAfter: e.ManagerAfter.Duration})
	}
	workDays := map[time.Weekday]bool{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		// WorkDay reads the weekday of a date; any date with that weekday will do.
		workDays[d] = cfg.WorkDay(time.Date(2026, 11, 22+int(d), 12, 0, 0, 0, cfg.Location()))
	}
	sweepAt, _ := config.ParseClock(cfg.People.SweepAt)
	workStart, _ := config.ParseClock(cfg.Work.Start)
	workEnd, _ := config.ParseClock(cfg.Work.End)
	sopPath := cfg.Org.SOPFile
	if sopPath != "" && !filepath.IsAbs(sopPath) {
		sopPath = filepath.Join(m.ConfigDir, sopPath)
	}
	procedure, err := sop.Load(sopPath)
	if err != nil {
		return fmt.Errorf("org.sop_file: %w", err)
	}
	defLang := flows.Lang(cfg.Org.DefaultLang)
	m.Engine, err = flows.NewEngine(flows.Options{
		Store: m.Store, Texts: texts, Now: m.Now, Location: cfg.Location(), DefaultLang: defLang,
		Profile: cfg.Org.Profile, TicketPrefix: cfg.Org.TicketPrefix,
		Group: channelGroup(cfg, kinds), Admins: channelAdmins(cfg, kinds),
		Areas: engineAreas(cfg, kinds), PosterKey: []byte(cfg.Posters.Secret),
		Categories: cats, MaxDescription: cfg.Limits.MaxDescription, MaxPhotos: cfg.Limits.MaxPhotos,
		MaxNameLen: cfg.Limits.MaxNameLen, MaxAddressPart: cfg.Limits.MaxAddressPart,
		MaxPhotoBytes: cfg.Limits.MaxPhotoBytes, InviteTTL: cfg.Limits.InviteTTL.Duration,
		ServicePhone: cfg.Org.ServicePhone, OrgName: cfg.Org.Name, OrgNameEN: cfg.Org.NameEN, SOP: procedure, GroupCommit: true,
		PublicAssets: publicAssets(cfg.Public.Assets), PublicSignoff: cfg.Public.Signoff,
		Emergencies: emergencies, DutySeed: dutySeed(cfg), Quals: qualRules(cfg), SweepAt: sweepAt,
		SLA: flows.SLAOptions{AcceptWithin: cfg.SLA.AcceptWithin.Duration, ArriveWithin: cfg.SLA.ArriveWithin.Duration,
			AgreedGrace: cfg.SLA.AgreedGrace.Duration, RemindBefore: cfg.SLA.RemindBefore.Duration,
			WaitingChase: cfg.SLA.WaitingChase.Duration, WaitingCloseAfter: cfg.SLA.WaitingCloseAfter.Duration,
			SignoffRemind: cfg.SLA.SignoffRemind.Duration, SignoffCloseAfter: cfg.SLA.SignoffCloseAfter.Duration,
			SurveyRemind: cfg.SLA.SurveyRemind.Duration, SurveyCloseAfter: cfg.SLA.SurveyCloseAfter.Duration,
			LateAfter: cfg.SLA.LateAfter.Duration},
		Work:       flows.WorkOptions{Days: workDays, Start: workStart, End: workEnd, HandoverBefore: cfg.Work.HandoverBefore.Duration},
		Governance: governance(cfg.Governance, func() (*flows.SOP, error) { return sop.Load(sopPath) }),
		Records:    recordsOptions(cfg.Records),
		Parts:      parts(cfg, texts, m.Media),
		Observe: func(kind flows.EventKind, d time.Duration) {
			if o := m.ops.Load(); o != nil {
				o.ObserveHandle(kind, d)
			}
		},
		// Invites are rendered while handling events, which only arrive
		// once Run has built every channel and opened them.
		InviteLink: inviteLink(func() []bot.Channel { return m.Channels }),
		// /console links come from the web console, when it is configured.
		Console: flows.ConsoleOptions{Link: loginLink(func() []bot.Channel { return m.Channels }), SessionTTL: cfg.Web.SessionTTL.Duration},
	})
	if err != nil {
		return err
	}
	var lacks *flows.SOPFileLacks
	if _, _, err := m.Engine.InstallSOP(ctx, procedure, "config:"+sopPath); errors.As(err, &lacks) {
		// The console's changes stay in force; the file is not installed.
		m.Log.Warn().Int("version", lacks.Version).Msg("org.sop_file: " + lacks.Error())
	} else if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("org.sop_file: %w", err)
	}
	// The areas in force: the configured ones with the admins' edits.
	return m.Engine.LoadAreas(ctx)
}

// Close stops the ops endpoint, the schedules and the channels (in reverse
// order, each finishing its in-flight work), then closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.stopCampaign != nil {
		m.stopCampaign()
		m.campaigning.Wait()
	}
	if m.Ops != nil {
		errs = append(errs, m.Ops.Close())
	}
	if m.Jobs != nil {
		m.Jobs.Close()
	}
	for i := len(m.Channels) - 1; i >= 0; i-- {
		errs = append(errs, m.Channels[i].Close())
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// wecomAppchat is `repairbot wecom-appchat`: create the technicians' app
// group chat (appchat/create) from the WeCom-linked technicians and leads
// in the store and print the chat id for [wecom] group_chat_id. It opens
// the store, so run it while the bot is stopped.
func wecomAppchat(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wecom-appchat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.toml", "configuration file (TOML); [wecom] and [store] are used")
	name := fs.String("name", "", "group chat name, at most 50 characters")
	owner := fs.String("owner", "", "owner's WeCom userid (a member); empty lets WeCom pick")
	chatID := fs.String("chatid", "", "chat id to ask for, at most 32 letters and digits; empty lets WeCom generate one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("wecom-appchat: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.WeCom.Enabled {
		return errors.New("wecom-appchat: [wecom] is not enabled in " + *cfgPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, _, err := openDatabase(ctx, cfg, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	chat, err := wecom.CreateAppChat(ctx, wecom.AppChatOptions{APIURL: cfg.WeCom.APIURL, CorpID: cfg.WeCom.CorpID,
		Secret: cfg.WeCom.Secret, Store: st, Name: *name, Owner: *owner, ChatID: *chatID})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created group chat %s with %d members: %s\nput this in the [wecom] section of %s:\ngroup_chat_id = %q\n",
		chat.ChatID, len(chat.Members), strings.Join(chat.Members, ", "), *cfgPath, chat.ChatID)
	return nil
}

// governance maps [governance] to the engine's options.
// parts configures the spare-parts area: the requisition limit, the
// spreadsheets, and the media store the channels keep uploads in (the one
// Run gives them).
func parts(cfg config.Config, texts flows.Texts, kept *media.Store) flows.PartsOptions {
	return flows.PartsOptions{ApprovalOver: cfg.Parts.ApprovalOverFen(), Files: stockxlsx.Files{Texts: texts},
		OpenFile: func(f flows.File) (io.ReadCloser, error) { return kept.Open(f.Local) }}
}

func governance(g config.Governance, load func() (*flows.SOP, error)) flows.GovernanceOptions {
	month, day := g.YearlyReviewDate()
	var roles []flows.Role
	for _, r := range g.ReviewRoles {
		roles = append(roles, flows.Role(r))
	}
	return flows.GovernanceOptions{ReviewRoles: roles, ReviewDeadline: g.ReviewDeadline.Duration, TriggerWindow: g.TriggerWindow.Duration,
		YearlyMonth: month, YearlyDay: day, SafetyTypes: g.SafetyTypes, AuditCount: g.AuditCount, Quiz: g.Quiz, LoadSOP: load}
}

// recordsOptions maps [records] to the engine's options.
func recordsOptions(r config.Records) flows.RecordsOptions {
	o := flows.RecordsOptions{RepeatWithin: r.RepeatWithin.Duration, RepeatOffer: r.RepeatOffer.Duration,
		QC: r.QC, QCShare: r.QCShare, CallbackAfter: r.CallbackAfter.Duration, CallbackPublic: r.CallbackPublic,
		CallbackAnswerWithin: r.CallbackAnswerWithin.Duration}
	o.WeeklyDay, o.WeeklyAt, o.Weekly = r.Weekly()
	if len(r.CallbackCategories) > 0 {
		o.CallbackByCategory = map[string]time.Duration{}
		for k, d := range r.CallbackCategories {
			o.CallbackByCategory[k] = d.Duration
		}
	}
	return o
}

// publicAssets maps [[public.assets]] to the engine's listed facilities.
func publicAssets(as []config.PublicAsset) []flows.PublicAsset {
	var out []flows.PublicAsset
	for _, a := range as {
		out = append(out, flows.PublicAsset{Key: a.Key, Labels: map[flows.Lang]string{flows.LangZH: a.ZH, flows.LangEN: a.EN}})
	}
	return out
}
