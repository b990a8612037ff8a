// Package config loads, expands and validates the repair bot's configuration.
//
// Values are resolved in a fixed order so that an operator can always tell
// where a value came from:
//
//  1. built-in defaults (Default),
//  2. the TOML file (unknown keys are errors, so typos never pass silently),
//  3. ${NAME} references in string values, replaced from the environment
//     (so secrets such as the bot token can stay out of the file),
//  4. Validate, which reports every problem at once.
//
// Load and Parse perform all four steps.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	// Embedded zone database: the bot ships in a scratch container without
	// /usr/share/zoneinfo, and org.timezone must still resolve there.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"
)

// Config is the complete bot configuration. The zero value is not useful;
// start from Default, Load or Parse.
type Config struct {
	// Telegram configures the Telegram Bot API front-end.
	Telegram Telegram `toml:"telegram"`
	// Store configures the embedded bbolt database.
	Store Store `toml:"store"`
	// Org describes the property-management company running the service.
	Org Org `toml:"org"`
	// Categories are the fault categories residents choose from, in display
	// order. Given in the file as [[categories]] tables, they replace the
	// defaults entirely (merging would make the order and set unclear).
	Categories []Category `toml:"categories"`
	// Limits bound user input, protecting storage and chat layouts.
	Limits Limits `toml:"limits"`
	// Outbox paces outgoing messages to stay within Telegram's rate limits.
	Outbox Outbox `toml:"outbox"`
	// Log configures structured logging.
	Log Log `toml:"log"`
	// SLA holds the service-level timers for normal (non-emergency)
	// tickets.
	SLA SLA `toml:"sla"`
	// Work gives the working days and hours, used for the end-of-day
	// handover.
	Work Work `toml:"work"`
	// Emergencies are the emergency types (应急处理预案) residents can pick
	// when reporting, in display order. Given in the file as [[emergencies]]
	// tables, they replace the defaults entirely (like Categories); an empty
	// list (emergencies = []) turns emergency reporting off.
	Emergencies []Emergency `toml:"emergencies"`
	// Duty is the on-duty roster (值班表) as [[duty]] tables, in the order
	// OnDuty reports people. Default none.
	Duty []Shift `toml:"duty"`
	// Backup configures the daily backups the running bot writes.
	Backup Backup `toml:"backup"`
	// Ops configures the operations HTTP endpoint (/healthz, /metrics).
	Ops Ops `toml:"ops"`
	// Housekeeping bounds what the store keeps (failed messages, idle
	// dialogues, old invites).
	Housekeeping Housekeeping `toml:"housekeeping"`
	// Governance configures SOP versions, reviews and audits.
	Governance Governance `toml:"governance"`
	// Records configures the weekly KPI report, repeat faults, quality
	// control, callback visits and the daily archive of the forms.
	Records Records `toml:"records"`
	// Parts configures the spare-parts area.
	Parts Parts `toml:"parts"`
	// WeCom configures the WeCom (企业微信) front-end; off by default.
	WeCom WeCom `toml:"wecom"`
	// SkillLevels are the skill ladder, lowest first, as [[skill_levels]]
	// tables replacing the defaults (初级, 中级, 高级) entirely.
	SkillLevels []SkillLevel `toml:"skill_levels"`
	// CertTypes are the certificate types, as [[cert_types]] tables
	// replacing the defaults entirely (people.go).
	CertTypes []CertType `toml:"cert_types"`
	// People configures certificate reminders and training.
	People People `toml:"people"`
	// Web configures the office console (web pages for leads and
	// customer service); off by default.
	Web Web `toml:"web"`
	// Public configures public-facility orders: who signs them off and
	// the listed public assets.
	Public Public `toml:"public"`
	// Areas are the estates or districts served, as [[areas]] tables
	// (areas.go); none is one area made of the single group.
	Areas []Area `toml:"areas"`
	// Posters configures the buildings' QR posters.
	Posters Posters `toml:"posters"`

	// unresolved maps a dotted key to the ${NAME} references in it whose
	// variable was unset or empty at expansion time, so Validate can say
	// which variable to set rather than just "is required".
	unresolved map[string][]envRef
	// expanded records that ExpandEnv ran, so Validate can point out
	// leftover ${NAME} references in a config that was never expanded.
	expanded bool
	// literal are the secret keys the file gave a value without ${NAME}
	// (ExpandEnv records them).
	literal map[string]bool
	// deprecated are warnings about keys still accepted but no longer used.
	deprecated []string
	// loc caches org.timezone after a successful Validate.
	loc *time.Location
}

// Telegram configures the Telegram Bot API front-end.
type Telegram struct {
	// Enabled turns the Telegram front-end on (default true). When false the
	// other telegram keys are neither required nor checked, so a deployment
	// can run another front-end (e.g. WeCom) only.
	Enabled bool `toml:"enabled"`
	// Token is the bot token from @BotFather. Default "${TELEGRAM_TOKEN}" so
	// the secret normally comes from the environment, not the file.
	Token string `toml:"token"`
	// APIURL is the Bot API server base URL, without a trailing slash. It can
	// point at a self-hosted telegram-bot-api server (larger file limits) or
	// a test fake.
	APIURL string `toml:"api_url"`
	// Mode is how updates are received: "polling" (default; no public
	// endpoint needed) or "webhook".
	Mode string `toml:"mode"`
	// PollTimeout is the getUpdates long-poll timeout, 1s..60s (default 50s).
	PollTimeout Duration `toml:"poll_timeout"`
	// WebhookListen is the local address the webhook HTTP server binds,
	// default ":8443". Required in webhook mode.
	WebhookListen string `toml:"webhook_listen"`
	// WebhookPath is the local HTTP path that receives updates, default
	// "/telegram/webhook".
	WebhookPath string `toml:"webhook_path"`
	// WebhookURL is the public https URL Telegram posts updates to (usually
	// a reverse proxy forwarding to WebhookListen+WebhookPath). Required in
	// webhook mode; plain http is allowed only for localhost testing.
	WebhookURL string `toml:"webhook_url"`
	// WebhookSecret is sent by Telegram in X-Telegram-Bot-Api-Secret-Token so
	// the bot can reject forged updates. Default "${TELEGRAM_WEBHOOK_SECRET}".
	// Required in webhook mode; 1-256 chars of A-Z a-z 0-9 _ -.
	WebhookSecret string `toml:"webhook_secret"`
	// GroupID is the technicians' group chat id where new tickets are posted.
	// Groups and supergroups have negative ids. Required when enabled.
	GroupID int64 `toml:"group_id"`
	// Admins are the Telegram user ids with full control (inviting staff,
	// changing settings). At least one is required when enabled.
	Admins []int64 `toml:"admins"`
	// BotUsername is the bot's @username without the "@". Optional: when
	// empty the bot asks getMe at start-up; setting it saves that call and
	// lets deep links be built before the API is reachable.
	BotUsername string `toml:"bot_username"`
}

// Store configures the embedded bbolt database.
type Store struct {
	// DataDir holds the database and other state, default "./data".
	DataDir string `toml:"data_dir"`
	// Path is the bbolt file. Empty (default) means <data_dir>/repair.db;
	// use DBPath to resolve it.
	Path string `toml:"path"`
	// LockTimeout is how long to wait for bbolt's file lock, default 2s. A
	// bound matters because a second instance would otherwise hang forever.
	LockTimeout Duration `toml:"lock_timeout"`
	// Driver is the database: "bbolt" (default: one file under data_dir,
	// one process) or "postgres" (a server, any number of replicas).
	Driver string `toml:"driver"`
	// DSN names the PostgreSQL database (driver "postgres"): a
	// postgres:// URL or keyword/value pairs. Default "${DATABASE_URL}";
	// its password belongs in the environment, never in the file.
	DSN string `toml:"dsn"`
}

// Store drivers.
const (
	DriverBolt     = "bbolt"
	DriverPostgres = "postgres"
)

// Postgres reports whether the store is a PostgreSQL server.
func (s Store) Postgres() bool { return s.Driver == DriverPostgres }

// Org describes the company running the repair service.
type Org struct {
	// Name is shown in greetings, default "物业维修服务中心".
	Name string `toml:"name"`
	// NameEN is the name shown to English readers (optional; Name when
	// empty).
	NameEN string `toml:"name_en"`
	// Profile switches role titles and form wording: "property" (default,
	// 业主/物业) or "rental" (租户/公寓).
	Profile string `toml:"profile"`
	// Timezone is an IANA zone used for dates shown to users and for working
	// hours, default "Asia/Shanghai".
	Timezone string `toml:"timezone"`
	// DefaultLang is the language for users who have not chosen one:
	// "zh-CN" (default) or "en".
	DefaultLang string `toml:"default_lang"`
	// TicketPrefix starts every ticket number (e.g. BX-20261127-0007 where
	// BX = 报修), 1-6 letters A-Z, default "BX".
	TicketPrefix string `toml:"ticket_prefix"`
	// ServicePhone is the service-centre phone line shown to residents.
	// Optional.
	ServicePhone string `toml:"service_phone"`
	// SOPFile is the on-site procedure definition (steps, door rule,
	// minimum tests, price list). Empty (default) uses the built-in SOP; a
	// relative path is resolved against the config file's directory. The
	// built-in file is printed by `repairbot sop-default`.
	SOPFile string `toml:"sop_file"`
}

// Category is one fault category residents can pick.
type Category struct {
	// Key is the stable identifier stored in tickets and callback data:
	// ^[a-z][a-z0-9_]{0,15}$, unique. Labels can change; keys must not.
	Key string `toml:"key"`
	// ZH is the Chinese label (required).
	ZH string `toml:"zh"`
	// EN is the English label (required).
	EN string `toml:"en"`
	// Emergency optionally names an emergency type (an Emergencies key):
	// every report in this category is then that emergency, without the
	// resident having to pick it. Empty (default) means ordinary reports.
	Emergency string `toml:"emergency"`
	// NeedsSkill, NeedsLevel, NeedsCert and NeedsSoft say what a job in the
	// category needs (see Needs in people.go); default nothing.
	Needs
}

// Limits bound user input.
type Limits struct {
	// MaxDescription is the maximum fault description length in characters
	// (runes, not bytes, so Chinese text is not penalised), 10..3000.
	MaxDescription int `toml:"max_description"`
	// MaxPhotos is the maximum number of photos per report, 0..20 (0
	// disables photos).
	MaxPhotos int `toml:"max_photos"`
	// MaxNameLen is the maximum length of a person's name in runes, 2..100.
	MaxNameLen int `toml:"max_name_len"`
	// MaxAddressPart is the maximum length of each address part (building,
	// unit, room) in runes, 1..50.
	MaxAddressPart int `toml:"max_address_part"`
	// InviteTTL is how long a staff invite link stays valid, 1m..720h.
	InviteTTL Duration `toml:"invite_ttl"`
	// MaxPhotoBytes is the largest photo accepted, 1 MiB..20 MiB (the
	// public Bot API's getFile cannot download more than 20 MB).
	MaxPhotoBytes int64 `toml:"max_photo_bytes"`
	// MaxPhotosPerHour bounds the photos downloaded for one person in any
	// hour, 1..1000 (default 30); beyond it a photo keeps only the
	// platform's file id. Photos nobody asked for are never downloaded.
	MaxPhotosPerHour int `toml:"max_photos_per_hour"`
}

// Housekeeping bounds what the store keeps that nobody needs for ever;
// the hourly housekeeping forgets it. Each 24h..8760h, default 720h.
type Housekeeping struct {
	// KeepFailed: failed outgoing messages (repairbot outbox list) are
	// forgotten this long after they failed.
	KeepFailed Duration `toml:"keep_failed"`
	// IdleDialogue: a half-finished dialogue (a registration, a report)
	// nobody answered for this long is dropped; the person starts over.
	IdleDialogue Duration `toml:"idle_dialogue"`
	// KeepInvites: used invites (from their use) and unused ones (from
	// their expiry) are forgotten after this long.
	KeepInvites Duration `toml:"keep_invites"`
	// OrphanMedia: a kept photo or document no stored record refers to
	// (from a dialogue dropped half-way, say) is deleted by the nightly
	// sweep once nobody kept it for this long.
	OrphanMedia Duration `toml:"orphan_media"`
}

// Outbox paces outgoing messages. Telegram's documented limits are about one
// message per second per chat, 20 per minute per group and 30 per second
// overall; exceeding them yields 429 errors, so the maxima are enforced.
type Outbox struct {
	// PerChatPerSecond is the send rate to one private chat, (0, 30].
	PerChatPerSecond float64 `toml:"per_chat_per_second"`
	// PerChatBurst is how many messages one private chat may take at once
	// before the per-second pace applies, 1..3 (default 2).
	PerChatBurst int `toml:"per_chat_burst"`
	// GroupPerMinute is the send rate to one group chat, (0, 20].
	GroupPerMinute float64 `toml:"group_per_minute"`
	// GlobalPerSecond is the total send rate, (0, 30].
	GlobalPerSecond float64 `toml:"global_per_second"`
	// MaxAttempts is no longer used: a transient failure never fails a
	// message (GiveUpAfter does). Still accepted, with a warning, so old
	// files load.
	MaxAttempts int `toml:"max_attempts"`
	// BaseBackoff is the first retry delay; it doubles per attempt.
	BaseBackoff Duration `toml:"base_backoff"`
	// MaxBackoff caps the retry delay; must be >= BaseBackoff.
	MaxBackoff Duration `toml:"max_backoff"`
	// GiveUpAfter: a message that still fails transiently (the platform
	// down, 5xx, timeouts) when it is this old is given up, recorded as
	// failed and reported to the admins; 1h..720h (default 72h).
	GiveUpAfter Duration `toml:"give_up_after"`
	// Workers is the number of concurrent deliveries, 1..32.
	Workers int `toml:"workers"`
	// Digest folds a backlog of new cards for a group into digest cards
	// (up to 8 tickets a message) once the oldest has waited 10 s with the
	// group's budget spent (default true).
	Digest bool `toml:"digest"`
}

// Log configures structured logging.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `toml:"level"`
	// Format is "json" (default, for log collectors) or "console" (for
	// humans at a terminal).
	Format string `toml:"format"`
}

// SLA holds the service-level timers for normal (non-emergency) tickets.
// Emergencies have their own, stricter timers (see Emergency).
type SLA struct {
	// AcceptWithin is how long a new ticket may wait for a technician to
	// accept it before the team lead is told, 1m..24h (default 15m).
	AcceptWithin Duration `toml:"accept_within"`
	// ArriveWithin is how long after acceptance a technician has to arrive
	// for an "as soon as possible" ticket, 5m..72h (default 2h).
	ArriveWithin Duration `toml:"arrive_within"`
	// AgreedGrace is how long after an agreed appointment time the visit
	// still counts as on time, 0..4h (default 15m).
	AgreedGrace Duration `toml:"agreed_grace"`
	// RemindBefore is how long before an agreed time the assignee is
	// reminded, 0..24h (default 30m); 0 disables the reminder.
	RemindBefore Duration `toml:"remind_before"`
	// WaitingChase is how often a ticket waiting for the resident (nobody
	// home) is chased, 1h..168h (default 24h).
	WaitingChase Duration `toml:"waiting_chase"`
	// WaitingCloseAfter is how long a ticket may wait for the resident
	// before it is closed and the resident told, at least WaitingChase and
	// at most 720h (default 72h).
	WaitingCloseAfter Duration `toml:"waiting_close_after"`
	// SignoffRemind is how often a resident who has not answered the
	// sign-off (the work order) is reminded, 0..168h (default 24h; 0
	// disables the reminder).
	SignoffRemind Duration `toml:"signoff_remind"`
	// SignoffCloseAfter is how long after the sign-off request the ticket
	// is closed as confirmed by default, 0 or 1h..720h and at least
	// SignoffRemind (default 72h; 0 never closes it).
	SignoffCloseAfter Duration `toml:"signoff_close_after"`
	// SurveyRemind and SurveyCloseAfter are the same for the satisfaction
	// survey: the ticket closes without a rating (defaults 24h, 72h).
	SurveyRemind     Duration `toml:"survey_remind"`
	SurveyCloseAfter Duration `toml:"survey_close_after"`
	// Tick is how often due timers are checked, 1s..5m (default 15s).
	Tick Duration `toml:"tick"`
	// LateAfter marks a timer "late" when it fires more than this after its
	// due time (the process was down), 1s..1h and greater than Tick, since
	// a normal tick can fire a timer up to Tick late (default 1m).
	LateAfter Duration `toml:"late_after"`
}

// Work gives the working days and hours. The end-of-day handover happens
// HandoverBefore the end of each working day (SOP 4.2.7: half an hour
// before the end of the working day).
type Work struct {
	// Days are the working days: each one of "mon" "tue" "wed" "thu" "fri"
	// "sat" "sun", no duplicates, at least one (default mon..sat).
	Days []string `toml:"days"`
	// Start is the start of the working day, "HH:MM" 24-hour in
	// org.timezone (default "08:30").
	Start string `toml:"start"`
	// End is the end of the working day, "HH:MM", after Start on the same
	// day (default "17:30").
	End string `toml:"end"`
	// HandoverBefore is how long before End the handover happens, 0..4h
	// (default 30m); the handover must still fall after Start.
	HandoverBefore Duration `toml:"handover_before"`
}

// Emergency is one emergency type (应急处理预案) a resident can pick when
// reporting. Its escalation ladder, measured from the report: not accepted
// within AcceptWithin → the group and the on-duty staff are paged again;
// nobody on site within ArriveWithin → the team lead is told; nobody on site
// within ManagerAfter → the manager (telegram.admins) is told.
type Emergency struct {
	// Key is the stable identifier stored on tickets:
	// ^[a-z][a-z0-9_]{0,15}$, unique among emergencies.
	Key string `toml:"key"`
	// ZH is the Chinese label (required, at most 32 characters).
	ZH string `toml:"zh"`
	// EN is the English label (required, at most 32 characters).
	EN string `toml:"en"`
	// Category is the fault category key tickets of this type are filed
	// under; it must be a configured category.
	Category string `toml:"category"`
	// AcceptWithin is how long the ticket may stay unaccepted before
	// everyone is paged again, 30s..1h (default 2m, or the built-in value
	// for a built-in key).
	AcceptWithin Duration `toml:"accept_within"`
	// ArriveWithin is how long after the report someone must be on site
	// before the team lead is told, 1m..24h and greater than AcceptWithin.
	// Defaults to the built-in value for a built-in key; required for any
	// other key.
	ArriveWithin Duration `toml:"arrive_within"`
	// ManagerAfter is how long after the report, with nobody on site, the
	// manager is told; greater than ArriveWithin, at most 48h (default
	// twice ArriveWithin).
	ManagerAfter Duration `toml:"manager_after"`
	// Needs refines the requirement of the category the emergency files
	// under: each field it sets replaces the category's (a lift
	// entrapment filed under "public" needs the lift certificate).
	Needs
}

// Shift is one line of the on-duty roster (值班表): People are on duty on
// each of Days from From to To. A To earlier than From is an overnight
// shift ending the next morning (20:00-08:00 listed for "fri" covers Friday
// 20:00 to Saturday 08:00); To equal to From is a 24-hour shift starting at
// From ("00:00"-"00:00" is the whole calendar day).
type Shift struct {
	// Days the shift starts on: "mon".."sun" without duplicates, at least
	// one, or ["daily"] alone meaning all seven.
	Days []string `toml:"days"`
	// From is the shift's start, "HH:MM" 24-hour in org.timezone.
	From string `toml:"from"`
	// To is the shift's end, "HH:MM"; see Shift for overnight and 24-hour
	// shifts.
	To string `toml:"to"`
	// People are the person ids on duty, at least one, each once:
	// "tg:<Telegram user id>" or "wecom:<userid>"; a bare integer is a
	// Telegram user id (files written before person ids).
	People []PersonID `toml:"people"`
	// Area is the [[areas]] key whose on-duty people the shift lists;
	// "" the first area.
	Area string `toml:"area"`
}

// Backup configures the daily backups the running bot writes of its own
// database (a hot, consistent copy; a second process cannot read the file
// while the bot holds its lock).
type Backup struct {
	// Dir is where backups are written. Empty (default) means
	// <data_dir>/backups; use Config.BackupDir to resolve it.
	Dir string `toml:"dir"`
	// Schedule is a standard 5-field cron spec in org.timezone (or a
	// descriptor such as "@daily"), default "30 3 * * *" (03:30 daily).
	Schedule string `toml:"schedule"`
	// Keep is how many backups are kept, the oldest deleted first, 1..365
	// (default 7).
	Keep int `toml:"keep"`
}

// Ops configures the operations HTTP endpoint.
type Ops struct {
	// Listen is the address serving GET /healthz and GET /metrics, e.g.
	// "127.0.0.1:9090". Empty (default) disables the endpoint. An address
	// beyond this machine (":9090", "0.0.0.0:9090", a LAN address) needs
	// AllowRemote.
	Listen string `toml:"listen"`
	// Token authorises the endpoints that write (POST /backup), sent as
	// "Authorization: Bearer <token>". Default "${OPS_TOKEN}"; it must come
	// from the environment, at least 16 characters. Empty disables them.
	Token string `toml:"token"`
	// AllowRemote accepts a Listen address that is not loopback (a private
	// network, a container's port published to the host).
	AllowRemote bool `toml:"allow_remote"`
	// MinFreeMB: /healthz fails ("disk") when the file system holding
	// store.data_dir has less free space than this, in MiB; 0 turns the
	// check off. Default 256.
	MinFreeMB int64 `toml:"min_free_mb"`
	// OutboxStall: /healthz fails ("<channel>_outbox") when a channel's
	// oldest undelivered message is this old and nothing was delivered
	// for as long; 1m..24h, default 10m.
	OutboxStall Duration `toml:"outbox_stall"`
}

// Default returns the built-in defaults. ${NAME} references (the token and
// webhook secret) are not yet expanded and group_id/admins are empty, so the
// result does not validate on its own; Load and Parse start from it.
func Default() Config {
	return Config{
		Telegram: Telegram{
			Enabled:       true,
			Token:         "${TELEGRAM_TOKEN}",
			APIURL:        "https://api.telegram.org",
			Mode:          ModePolling,
			PollTimeout:   Duration{50 * time.Second},
			WebhookListen: ":8443",
			WebhookPath:   "/telegram/webhook",
			WebhookSecret: "${TELEGRAM_WEBHOOK_SECRET}",
		},
		Store: Store{
			DataDir:     "./data",
			LockTimeout: Duration{2 * time.Second},
			Driver:      DriverBolt,
			DSN:         "${DATABASE_URL}",
		},
		Org: Org{
			Name:         "物业维修服务中心",
			Profile:      ProfileProperty,
			Timezone:     "Asia/Shanghai",
			DefaultLang:  LangZH,
			TicketPrefix: "BX",
		},
		Categories: DefaultCategories(),
		Limits: Limits{
			MaxDescription:   1000,
			MaxPhotos:        10,
			MaxNameLen:       40,
			MaxAddressPart:   20,
			InviteTTL:        Duration{72 * time.Hour},
			MaxPhotoBytes:    10 << 20,
			MaxPhotosPerHour: 30,
		},
		Housekeeping: Housekeeping{KeepFailed: Duration{720 * time.Hour}, IdleDialogue: Duration{720 * time.Hour},
			KeepInvites: Duration{720 * time.Hour}, OrphanMedia: Duration{72 * time.Hour}},
		Outbox: Outbox{
			PerChatPerSecond: 1,
			PerChatBurst:     2,
			GroupPerMinute:   20,
			GlobalPerSecond:  30,
			BaseBackoff:      Duration{time.Second},
			MaxBackoff:       Duration{5 * time.Minute},
			GiveUpAfter:      Duration{72 * time.Hour},
			Workers:          4,
			Digest:           true,
		},
		Log: Log{Level: "info", Format: "json"},
		SLA: SLA{
			AcceptWithin:      Duration{15 * time.Minute},
			ArriveWithin:      Duration{2 * time.Hour},
			AgreedGrace:       Duration{15 * time.Minute},
			RemindBefore:      Duration{30 * time.Minute},
			WaitingChase:      Duration{24 * time.Hour},
			WaitingCloseAfter: Duration{72 * time.Hour},
			SignoffRemind:     Duration{24 * time.Hour},
			SignoffCloseAfter: Duration{72 * time.Hour},
			SurveyRemind:      Duration{24 * time.Hour},
			SurveyCloseAfter:  Duration{72 * time.Hour},
			Tick:              Duration{15 * time.Second},
			LateAfter:         Duration{time.Minute},
		},
		Work: Work{
			Days:           []string{"mon", "tue", "wed", "thu", "fri", "sat"},
			Start:          "08:30",
			End:            "17:30",
			HandoverBefore: Duration{30 * time.Minute},
		},
		Emergencies: DefaultEmergencies(),
		Backup:      Backup{Schedule: "30 3 * * *", Keep: 7},
		Ops:         Ops{Token: "${OPS_TOKEN}", MinFreeMB: 256, OutboxStall: Duration{10 * time.Minute}},
		Governance:  DefaultGovernance(),
		Records:     DefaultRecords(),
		Parts:       DefaultParts(),
		WeCom:       defaultWeCom(),
		SkillLevels: DefaultSkillLevels(),
		CertTypes:   DefaultCertTypes(),
		People:      DefaultPeople(),
		Web:         defaultWeb(),
		Public:      Public{Signoff: SignoffReporter},
		Posters:     Posters{Secret: "${POSTER_SECRET}"},
	}
}

// Accepted enumeration values, exported so other packages compare against
// the same spelling Validate enforces.
const (
	ModePolling     = "polling"  // telegram.mode: long-poll getUpdates
	ModeWebhook     = "webhook"  // telegram.mode: Telegram pushes updates
	ProfileProperty = "property" // org.profile: residential property management
	ProfileRental   = "rental"   // org.profile: rental apartments
	LangZH          = "zh-CN"    // org.default_lang: Simplified Chinese
	LangEN          = "en"       // org.default_lang: English
)

// DefaultCategories returns a fresh copy of the built-in fault categories,
// used when the file has no [[categories]] tables.
func DefaultCategories() []Category {
	return []Category{
		{Key: "water", ZH: "水管/漏水", EN: "Water / leak"},
		{Key: "electricity", ZH: "电路/停电", EN: "Electricity"},
		{Key: "door", ZH: "门窗/门锁", EN: "Door / lock"},
		{Key: "appliance", ZH: "家电/设备", EN: "Appliance"},
		{Key: "public", ZH: "公共区域", EN: "Public area"},
		{Key: "other", ZH: "其他", EN: "Other"},
	}
}

// DefaultEmergencies returns a fresh copy of the built-in emergency types,
// used when the file has no [[emergencies]] tables. They file tickets under
// the default categories; the SOP requires water leaks to be reached within
// 5 minutes.
func DefaultEmergencies() []Emergency {
	m := func(n time.Duration) Duration { return Duration{n * time.Minute} }
	return []Emergency{
		{Key: "water_leak", ZH: "跑水/爆管", EN: "Water leak / burst pipe", Category: "water", AcceptWithin: m(2), ArriveWithin: m(5), ManagerAfter: m(10)},
		{Key: "power_cut", ZH: "停电", EN: "Power cut", Category: "electricity", AcceptWithin: m(2), ArriveWithin: m(15), ManagerAfter: m(30)},
		{Key: "gas", ZH: "燃气味/燃气泄漏", EN: "Gas smell / leak", Category: "other", AcceptWithin: m(1), ArriveWithin: m(10), ManagerAfter: m(20)},
		{Key: "lift", ZH: "电梯困人", EN: "Person trapped in a lift", Category: "public", AcceptWithin: m(1), ArriveWithin: m(15), ManagerAfter: m(30)},
		{Key: "fire", ZH: "火情/冒烟", EN: "Fire or smoke", Category: "other", AcceptWithin: m(1), ArriveWithin: m(5), ManagerAfter: m(10)},
		{Key: "safety", ZH: "安全事故", EN: "Safety incident", Category: "other", AcceptWithin: m(2), ArriveWithin: m(10), ManagerAfter: m(20)},
	}
}

// defaultEmergencyAccept is accept_within for an emergency type that is
// not built in and does not set it.
const defaultEmergencyAccept = 2 * time.Minute

// fillEmergencyDefaults applies per-entry defaults to [[emergencies]]
// tables from the file: keys a table omits (according to the raw decoded
// document) take the built-in value for a built-in key, else the generic
// default; manager_after defaults to twice arrive_within. Explicitly given
// values, even "0s", are kept for Validate to judge.
func fillEmergencyDefaults(ems []Emergency, raw map[string]any) {
	// [[emergencies]] decodes as []map[string]any, an inline array of
	// tables as []any.
	var tables []map[string]any
	switch t := raw["emergencies"].(type) {
	case []map[string]any:
		tables = t
	case []any:
		for _, x := range t {
			m, _ := x.(map[string]any)
			tables = append(tables, m)
		}
	}
	builtin := make(map[string]Emergency)
	for _, e := range DefaultEmergencies() {
		builtin[e.Key] = e
	}
	for i := range ems {
		var given map[string]any
		if i < len(tables) {
			given = tables[i]
		}
		has := func(k string) bool { _, ok := given[k]; return ok }
		e := &ems[i]
		def, isBuiltin := builtin[e.Key]
		if !has("accept_within") {
			e.AcceptWithin = Duration{defaultEmergencyAccept}
			if isBuiltin {
				e.AcceptWithin = def.AcceptWithin
			}
		}
		if !has("arrive_within") && isBuiltin {
			e.ArriveWithin = def.ArriveWithin
		}
		if !has("manager_after") && e.ArriveWithin.Duration > 0 {
			e.ManagerAfter = Duration{2 * e.ArriveWithin.Duration}
		}
	}
}

// Load reads the TOML file at path and returns the expanded, validated
// configuration. An empty path means "defaults only" (then environment
// expansion and validation still apply). File system errors are returned
// wrapped (errors.Is(err, fs.ErrNotExist) works); content problems match
// ErrInvalid.
func Load(path string) (Config, error) {
	if path == "" {
		return Parse(nil)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Parse(data)
}

// Parse is Load for an in-memory TOML document: defaults, then data, then
// ${NAME} expansion, then Validate.
//
// Syntax errors, wrong value types and unknown keys are returned without
// expanding or validating (follow-on errors would only confuse); in that case
// the returned Config is the zero value. When only Validate fails, the
// expanded Config is returned along with the error so tools can still show
// it (use Redacted before printing).
func Parse(data []byte) (Config, error) {
	doc := string(data)

	// Pass 1: syntax only. Decoding into a generic map cannot fail on
	// types, so any error here is a genuine TOML syntax error. Doing this
	// separately lets us word syntax and type errors differently, since the
	// library reports type mismatches as plain strings.
	var raw map[string]any
	if _, err := toml.Decode(doc, &raw); err != nil {
		return Config{}, syntaxError(err)
	}

	// Pass 2: into the typed struct on top of the defaults. Categories and
	// emergencies start empty because the decoder would otherwise overlay
	// the file's tables onto the default entries field by field, mixing the
	// two.
	cfg := Default()
	cfg.Categories = nil
	cfg.Emergencies = nil
	cfg.resetPeopleLists()
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		return Config{}, decodeError(err)
	}
	if errs := unknownKeys(md); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if md.IsDefined("outbox", "max_attempts") {
		cfg.deprecated = append(cfg.deprecated, "outbox.max_attempts no longer fails messages: transient failures are retried until outbox.give_up_after ("+cfg.Outbox.GiveUpAfter.Duration.String()+"); remove the key")
	}
	if !md.IsDefined("categories") {
		cfg.Categories = DefaultCategories()
	}
	cfg.defaultPeopleLists(md)
	useDefaultEmergencies := !md.IsDefined("emergencies")
	if useDefaultEmergencies {
		cfg.Emergencies = DefaultEmergencies()
	}

	cfg.ExpandEnv()
	if !useDefaultEmergencies {
		// After expansion, so a key given as ${NAME} finds its built-in
		// defaults too.
		fillEmergencyDefaults(cfg.Emergencies, raw)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// unknownKeys reports keys the file defines that Config has no field for.
// Only the outermost unknown key is named: an unknown table [foo] would
// otherwise also produce foo.bar, foo.baz, ... which is noise.
func unknownKeys(md toml.MetaData) []error {
	var errs []error
	var reported []string
	for _, k := range md.Undecoded() {
		name := k.String()
		covered := false
		for _, r := range reported {
			if strings.HasPrefix(name, r+".") {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		reported = append(reported, name)
		errs = append(errs, problem(name, 0, "unknown key (check the spelling against config.example.toml)"))
	}
	return errs
}

// secretKeys are keys whose values must never be echoed, even partially in
// a syntax error message.
var secretKeys = map[string]bool{"token": true, "webhook_secret": true, "secret": true, "encoding_aes_key": true, "kf_secret": true}

func isSecretKey(dotted string) bool {
	last := dotted
	if i := strings.LastIndexByte(dotted, '.'); i >= 0 {
		last = dotted[i+1:]
	}
	return secretKeys[strings.Trim(last, `"`)]
}

// syntaxError converts a TOML syntax error. We deliberately do not use
// ParseError.ErrorWithPosition: it quotes the surrounding source lines,
// which may contain the bot token.
func syntaxError(err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return problem("", 0, "syntax error: %v", err)
	}
	msg := pe.Message
	switch {
	case isSecretKey(pe.LastKey):
		// The lexer quotes pieces of the offending value; for a secret
		// that would leak part of it.
		msg = "invalid value (details hidden because this key holds a secret; is the value a quoted string?)"
	case pe.LastKey != "" && strings.Contains(msg, "out of range"):
		// Numbers too large for TOML's int64 fail while parsing, but they
		// are a problem with one key's value, so name the key first.
		return problem(pe.LastKey, pe.Position.Line, "%s", msg)
	}
	if pe.Position.Col > 0 {
		msg = fmt.Sprintf("column %d: %s", pe.Position.Col, msg)
	}
	if pe.LastKey != "" {
		msg += fmt.Sprintf(" (near key %q)", pe.LastKey)
	}
	return problem("", pe.Position.Line, "syntax error at %s", msg)
}

// typeErr matches BurntSushi/toml v1.6 decode errors, which are plain
// fmt.Errorf strings rather than a typed error, e.g.
//
//	toml: line 2 (last key "telegram.group_id"): incompatible types: TOML value has type string; destination has type integer
var (
	typeErrPrefix   = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "((?:[^"\\]|\\.)*)"\): (.*)$`)
	typeErrIncompat = regexp.MustCompile(`^incompatible types: TOML value has type (.+); destination has type (.+)$`)
	typeErrTable    = regexp.MustCompile(`^type mismatch for .*: expected table but found (.+)$`)
)

// decodeError converts a failure to decode into Config into a
// ValidationError naming the key, e.g.
// "config: telegram.group_id (line 2): expected integer, got string".
func decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		// Value errors such as an out-of-range integer or a bad duration.
		return problem(pe.LastKey, pe.Position.Line, "%s", pe.Message)
	}
	m := typeErrPrefix.FindStringSubmatch(err.Error())
	if m == nil {
		return problem("", 0, "%s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	line := 0
	fmt.Sscan(m[1], &line)
	key := strings.ReplaceAll(m[2], `\"`, `"`)
	reason := m[3]
	if t := typeErrIncompat.FindStringSubmatch(reason); t != nil {
		reason = fmt.Sprintf("expected %s, got %s", friendlyType(t[2]), friendlyType(t[1]))
	} else if t := typeErrTable.FindStringSubmatch(reason); t != nil {
		reason = fmt.Sprintf("expected a table, got %s", friendlyType(t[1]))
	}
	return problem(key, line, "%s", reason)
}

// friendlyType maps Go-ish type names in library messages to TOML terms an
// operator editing the file will recognise.
func friendlyType(t string) string {
	switch t {
	case "int64", "integer":
		return "integer"
	case "float64", "float":
		return "float"
	case "bool", "boolean":
		return "boolean"
	case "string", "primitive (string-like)":
		return "string"
	case "map[string]any", "map[string]interface {}", "map", "table":
		return "table"
	case "[]any", "[]interface {}", "[]map[string]any", "[]map[string]interface {}", "slice", "array":
		return "array"
	case "time.Time":
		return "datetime"
	}
	return t
}

// DBPath resolves the bbolt file: Path when set, else <data_dir>/repair.db.
func (s Store) DBPath() string {
	if s.Path != "" {
		return s.Path
	}
	return filepath.Join(s.DataDir, "repair.db")
}

// BackupDir resolves backup.dir: the configured directory, else
// <data_dir>/backups.
func (c Config) BackupDir() string {
	if c.Backup.Dir != "" {
		return c.Backup.Dir
	}
	return filepath.Join(c.Store.DataDir, "backups")
}

// validateOps checks [backup] and [ops].
func (c *Config) validateOps(v *validator) {
	if v.required("backup.schedule", c.Backup.Schedule) {
		if _, err := cron.ParseStandard(c.Backup.Schedule); err != nil {
			v.add("backup.schedule", "must be a cron spec of 5 fields (minute hour day-of-month month day-of-week) or a descriptor such as \"@daily\" (got %q: %v)", c.Backup.Schedule, err)
		}
	}
	v.intRange("backup.keep", int64(c.Backup.Keep), 1, 365)
	o := &c.Ops
	if o.Listen != "" {
		if msg := checkListen(o.Listen); msg != "" {
			v.add("ops.listen", "%s", msg)
		} else if host, port, _ := net.SplitHostPort(o.Listen); !listenLoopback(host) && !o.AllowRemote {
			v.add("ops.listen", "%q serves beyond this machine; use \"127.0.0.1:%s\", or set ops.allow_remote = true "+
				"(a private network or a container's published port) and keep ops.token secret", o.Listen, port)
		}
	}
	if o.MinFreeMB < 0 || o.MinFreeMB > 1<<20 {
		v.add("ops.min_free_mb", "must be between 0 (off) and 1048576 MiB (got %d)", o.MinFreeMB)
	}
	v.durRange("ops.outbox_stall", o.OutboxStall, time.Minute, 24*time.Hour)
	o.Token = strings.TrimSpace(o.Token)
	switch {
	case !v.c.expanded && envRefPattern.MatchString(o.Token):
		// A Config built in code and never expanded (the demo): the
		// default reference is no token, unless the endpoint would use it.
		if o.Listen != "" {
			v.add("ops.token", "references %s, which was never expanded (use Load, Parse or Config.ExpandEnv)", o.Token)
		}
	case v.c.literal["ops.token"]:
		v.add("ops.token", "must come from the environment, not the file: token = \"${OPS_TOKEN}\"")
	case o.Token != "" && utf8.RuneCountInString(o.Token) < minOpsToken:
		v.add("ops.token", "must be at least %d characters (got %d)", minOpsToken, utf8.RuneCountInString(o.Token))
	}
}

// minOpsToken is the shortest ops.token accepted: long enough that it
// cannot be guessed through the endpoint.
const minOpsToken = 16

// Location returns org.timezone as a *time.Location. Validate caches it;
// on an unvalidated Config it is loaded on demand, and an unloadable zone
// falls back to UTC so callers never get nil (Validate would have reported
// the bad zone).
func (c Config) Location() *time.Location {
	if c.loc != nil {
		return c.loc
	}
	if loc, err := time.LoadLocation(c.Org.Timezone); err == nil && c.Org.Timezone != "" {
		return loc
	}
	return time.UTC
}

// Redacted returns a copy safe to log: the bot token and webhook secret are
// replaced by "***" (left empty when unset, so "not configured" stays
// visible). Slices are copied so the result can be modified independently.
func (c Config) Redacted() Config {
	r := c
	if r.Telegram.Token != "" {
		r.Telegram.Token = "***"
	}
	if r.Telegram.WebhookSecret != "" {
		r.Telegram.WebhookSecret = "***"
	}
	if r.Ops.Token != "" {
		r.Ops.Token = "***"
	}
	r.Store.DSN = RedactDSN(r.Store.DSN)
	r.Telegram.Admins = append([]int64(nil), c.Telegram.Admins...)
	r.WeCom = c.WeCom.redacted()
	r.Categories = append([]Category(nil), c.Categories...)
	r.Emergencies = append([]Emergency(nil), c.Emergencies...)
	r.SkillLevels, r.CertTypes = append([]SkillLevel(nil), c.SkillLevels...), append([]CertType(nil), c.CertTypes...)
	r.People.ReminderDays = append([]int(nil), c.People.ReminderDays...)
	r.Public.Assets = append([]PublicAsset(nil), c.Public.Assets...)
	r.Work.Days = append([]string(nil), c.Work.Days...)
	if c.Duty != nil {
		r.Duty = make([]Shift, len(c.Duty))
		for i, s := range c.Duty {
			s.Days = append([]string(nil), s.Days...)
			s.People = append([]PersonID(nil), s.People...)
			r.Duty[i] = s
		}
	}
	return r
}

// Category returns the category with the given key, so callers can check
// callback data or stored tickets against the configured set.
func (c Config) Category(key string) (Category, bool) {
	for _, cat := range c.Categories {
		if cat.Key == key {
			return cat, true
		}
	}
	return Category{}, false
}

// CategoryLabel returns the label of category key in lang ("zh-CN", "en",
// or any tag starting with "en"/"zh"; empty means org.default_lang). An
// unknown key (e.g. a category removed from the config but still on old
// tickets) returns the key itself so something readable is always shown.
func (c Config) CategoryLabel(key, lang string) string {
	cat, ok := c.Category(key)
	if !ok {
		return key
	}
	return c.label(key, cat.ZH, cat.EN, lang)
}

// Emergency returns the emergency type with the given key, so callers can
// check callback data or stored tickets against the configured set.
func (c Config) Emergency(key string) (Emergency, bool) {
	for _, e := range c.Emergencies {
		if e.Key == key {
			return e, true
		}
	}
	return Emergency{}, false
}

// EmergencyLabel is CategoryLabel for emergency types: the label of key in
// lang, or the key itself when it is not configured.
func (c Config) EmergencyLabel(key, lang string) string {
	e, ok := c.Emergency(key)
	if !ok {
		return key
	}
	return c.label(key, e.ZH, e.EN, lang)
}

// label picks the zh or en label for lang (empty: org.default_lang),
// falling back to the other label and finally to key.
func (c Config) label(key, zh, en, lang string) string {
	if lang == "" {
		lang = c.Org.DefaultLang
	}
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		if en != "" {
			return en
		}
	} else if zh != "" {
		return zh
	}
	if zh != "" {
		return zh
	}
	if en != "" {
		return en
	}
	return key
}
