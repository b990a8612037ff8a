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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	// Embedded zone database: the bot ships in a scratch container without
	// /usr/share/zoneinfo, and org.timezone must still resolve there.
	_ "time/tzdata"

	"github.com/BurntSushi/toml"
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

	// unresolved maps a dotted key to the ${NAME} references in it whose
	// variable was unset or empty at expansion time, so Validate can say
	// which variable to set rather than just "is required".
	unresolved map[string][]envRef
	// expanded records that ExpandEnv ran, so Validate can point out
	// leftover ${NAME} references in a config that was never expanded.
	expanded bool
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
}

// Org describes the company running the repair service.
type Org struct {
	// Name is shown in greetings, default "物业维修服务中心".
	Name string `toml:"name"`
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
}

// Outbox paces outgoing messages. Telegram's documented limits are about one
// message per second per chat, 20 per minute per group and 30 per second
// overall; exceeding them yields 429 errors, so the maxima are enforced.
type Outbox struct {
	// PerChatPerSecond is the send rate to one private chat, (0, 30].
	PerChatPerSecond float64 `toml:"per_chat_per_second"`
	// GroupPerMinute is the send rate to one group chat, (0, 20].
	GroupPerMinute float64 `toml:"group_per_minute"`
	// GlobalPerSecond is the total send rate, (0, 30].
	GlobalPerSecond float64 `toml:"global_per_second"`
	// MaxAttempts is how often a transient failure is retried before the
	// message is marked failed, 1..100.
	MaxAttempts int `toml:"max_attempts"`
	// BaseBackoff is the first retry delay; it doubles per attempt.
	BaseBackoff Duration `toml:"base_backoff"`
	// MaxBackoff caps the retry delay; must be >= BaseBackoff.
	MaxBackoff Duration `toml:"max_backoff"`
	// Workers is the number of concurrent deliveries, 1..32.
	Workers int `toml:"workers"`
}

// Log configures structured logging.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `toml:"level"`
	// Format is "json" (default, for log collectors) or "console" (for
	// humans at a terminal).
	Format string `toml:"format"`
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
			MaxDescription: 1000,
			MaxPhotos:      10,
			MaxNameLen:     40,
			MaxAddressPart: 20,
			InviteTTL:      Duration{72 * time.Hour},
			MaxPhotoBytes:  10 << 20,
		},
		Outbox: Outbox{
			PerChatPerSecond: 1,
			GroupPerMinute:   20,
			GlobalPerSecond:  30,
			MaxAttempts:      12,
			BaseBackoff:      Duration{time.Second},
			MaxBackoff:       Duration{5 * time.Minute},
			Workers:          4,
		},
		Log: Log{Level: "info", Format: "json"},
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

	// Pass 2: into the typed struct on top of the defaults. Categories start
	// empty because the decoder would otherwise overlay the file's tables
	// onto the default entries field by field, mixing the two.
	cfg := Default()
	cfg.Categories = nil
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		return Config{}, decodeError(err)
	}
	if errs := unknownKeys(md); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if !md.IsDefined("categories") {
		cfg.Categories = DefaultCategories()
	}

	cfg.ExpandEnv()
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
var secretKeys = map[string]bool{"token": true, "webhook_secret": true}

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
	r.Telegram.Admins = append([]int64(nil), c.Telegram.Admins...)
	r.Categories = append([]Category(nil), c.Categories...)
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
	if lang == "" {
		lang = c.Org.DefaultLang
	}
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		if cat.EN != "" {
			return cat.EN
		}
	} else if cat.ZH != "" {
		return cat.ZH
	}
	if cat.ZH != "" {
		return cat.ZH
	}
	if cat.EN != "" {
		return cat.EN
	}
	return key
}
