package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	// Telegram bot tokens are "<bot id>:<secret>", the secret being 35
	// characters today; allow longer in case Telegram extends it.
	tokenPattern         = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]{35,}$`)
	webhookSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	// Telegram usernames are 5-32 chars of letters, digits and "_"; bot
	// usernames must end in "bot".
	botUsernamePattern  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]$`)
	ticketPrefixPattern = regexp.MustCompile(`^[A-Z]{1,6}$`)
	categoryKeyPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,15}$`)
	servicePhonePattern = regexp.MustCompile(`^[0-9+()# -]{3,32}$`)
	// botPathPattern spots a method URL pasted as api_url (".../bot123:...").
	botPathPattern = regexp.MustCompile(`/bot[0-9]+:`)
)

// Bounds that are part of the documented contract (see config.example.toml).
const (
	maxCategories      = 12
	maxCategoryLabel   = 32 // runes; labels become inline keyboard buttons
	maxEmergencies     = 12
	maxEmergencyLabel  = 32 // runes; inline keyboard buttons too
	maxOrgName         = 100
	minPhotoBytes      = 1 << 20
	minWebhookSecret   = 16
	maxPhotoBytesLimit = 20 << 20
)

// validator accumulates problems so Validate can report all of them.
type validator struct {
	c    *Config
	errs []*ValidationError
}

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, problem(key, 0, format, args...))
}

// required reports a missing value, preferring the most useful
// explanation: the unset environment variable it came from, a reference
// that was never expanded, or plain absence.
func (v *validator) required(key, val string) bool {
	if refs := v.c.unresolved[key]; len(refs) > 0 {
		for _, r := range refs {
			v.add(key, "%s", r.reason())
		}
		return false
	}
	if !v.c.expanded {
		if m := envRefPattern.FindStringSubmatch(val); m != nil {
			v.add(key, "references ${%s}, which was never expanded (use Load, Parse or Config.ExpandEnv)", m[1])
			return false
		}
	}
	if strings.TrimSpace(val) == "" {
		v.add(key, "is required")
		return false
	}
	return true
}

// labels checks a required zh/en pair of at most max characters.
func (v *validator) labels(prefix, zh, en string, max int) {
	for _, l := range []struct{ name, val string }{{"zh", zh}, {"en", en}} {
		if v.required(prefix+l.name, l.val) {
			if n := utf8.RuneCountInString(l.val); n > max {
				v.add(prefix+l.name, "must be at most %d characters (got %d)", max, n)
			}
		}
	}
}

// tableKey checks a table's key and records it in seen (name is the
// table array, for the duplicate message).
func (v *validator) tableKey(prefix, name string, k string, i int, seen map[string]int) {
	if !v.required(prefix+"key", k) {
		return
	}
	if !categoryKeyPattern.MatchString(k) {
		v.add(prefix+"key", "must match ^[a-z][a-z0-9_]{0,15}$ (got %q)", k)
	} else if j, dup := seen[k]; dup {
		v.add(prefix+"key", "duplicate key %q (also used by %s[%d])", k, name, j)
	} else {
		seen[k] = i
	}
}

func (v *validator) intRange(key string, val, lo, hi int64) {
	if val < lo || val > hi {
		v.add(key, "must be between %d and %d (got %d)", lo, hi, val)
	}
}

// durRange checks lo <= val <= hi and reports whether it holds, so that
// checks relating two durations can be skipped when one is already wrong.
func (v *validator) durRange(key string, val Duration, lo, hi time.Duration) bool {
	if val.Duration < lo || val.Duration > hi {
		v.add(key, "must be between %s and %s (got %s)", lo, hi, val.Duration)
		return false
	}
	return true
}

// clock checks a required "HH:MM" value and returns it in minutes since
// midnight.
func (v *validator) clock(key, val string) (int, bool) {
	if !v.required(key, val) {
		return 0, false
	}
	m, err := ParseClock(val)
	if err != nil {
		v.add(key, "must be a time of day HH:MM in 24-hour time, 00:00 to 23:59, e.g. \"08:30\" (got %q)", val)
		return 0, false
	}
	return m, true
}

// days checks a list of day names, lower-casing them in place. With
// allowDaily, ["daily"] alone stands for all seven days.
func (v *validator) days(key string, days []string, allowDaily bool) {
	names := strings.Join(dayNames[1:], ", ") + ", " + dayNames[0]
	if allowDaily {
		names += ` (or ["daily"] for all seven)`
	}
	if len(days) == 0 {
		v.add(key, "at least one day is required: %s", names)
		return
	}
	seen := make(map[time.Weekday]int, len(days))
	for i, d := range days {
		k := fmt.Sprintf("%s[%d]", key, i)
		if !v.required(k, d) {
			continue
		}
		if allowDaily && strings.EqualFold(d, dayDaily) {
			if len(days) == 1 {
				days[i] = dayDaily
			} else {
				v.add(k, "%q must be used alone (it already means all seven days)", d)
			}
			continue
		}
		wd, ok := parseDay(d)
		if !ok {
			v.add(k, "must be one of %s (got %q)", names, d)
			continue
		}
		days[i] = dayNames[wd]
		if j, dup := seen[wd]; dup {
			v.add(k, "duplicate day %q (also %s[%d])", days[i], key, j)
		} else {
			seen[wd] = i
		}
	}
}

// formatClock renders minutes since midnight as "HH:MM".
func formatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// rate checks 0 < val <= hi, written so that NaN (valid TOML) fails too.
func (v *validator) rate(key string, val, hi float64) {
	if !(val > 0 && val <= hi) {
		v.add(key, "must be greater than 0 and at most %g (got %g)", hi, val)
	}
}

func (v *validator) oneOf(key string, p *string, allowed ...string) {
	for _, a := range allowed {
		if strings.EqualFold(*p, a) {
			*p = a // canonical spelling, so callers can compare with ==
			return
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	list := strings.Join(quoted, " or ")
	if len(quoted) > 2 {
		list = strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	}
	v.add(key, "must be %s (got %q)", list, *p)
}

// Validate checks the whole configuration and returns every problem found,
// joined with errors.Join; each is a *ValidationError (errors.Is(err,
// ErrInvalid) holds). Secret values are never included in messages.
//
// Validate also normalises a few values in place so the rest of the program
// can rely on one spelling: one trailing "/" is stripped from
// telegram.api_url, a leading "@" from telegram.bot_username, surrounding
// whitespace from the token and webhook secret (a classic copy-paste or
// secret-file newline), and enumerations and day names are case-folded to
// their canonical form. On success it caches org.timezone for Location.
func (c *Config) Validate() error {
	v := &validator{c: c}
	c.validateTelegram(v)
	c.validateStore(v)
	c.validateOrg(v)
	c.validateCategories(v)
	c.validateLimits(v)
	c.validateOutbox(v)
	c.validateSLA(v)
	c.validateWork(v)
	c.validateEmergencies(v)
	c.validateDuty(v)
	c.validateOps(v)
	c.validateGovernance(v)
	c.validateRecords(v)
	c.validateParts(v)
	c.validateWeCom(v)
	c.validatePeople(v)
	c.validateWeb(v)
	c.validatePublic(v)
	c.validateAreas(v)
	v.oneOf("log.level", &c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", &c.Log.Format, "json", "console")

	if len(v.errs) == 0 {
		return nil
	}
	// Last line of defence: whatever a message says, it must not contain
	// the actual secrets (short values are skipped, as replacing e.g. "a"
	// everywhere would mangle messages while protecting nothing).
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		for _, s := range append([]string{c.Telegram.Token, c.Telegram.WebhookSecret, c.Ops.Token}, c.wecomSecrets()...) {
			// Skip unexpanded references such as "${TELEGRAM_TOKEN}": they
			// are not secret, and hiding them would hide the hint.
			if len(s) >= 8 && envRefPattern.ReplaceAllString(s, "") != "" {
				e.Reason = strings.ReplaceAll(e.Reason, s, "***")
			}
		}
		errs[i] = e
	}
	return errors.Join(errs...)
}

func (c *Config) validateTelegram(v *validator) {
	t := &c.Telegram
	if !t.Enabled {
		// Disabled front-end: nothing here is used, so nothing is checked.
		return
	}
	t.Token = strings.TrimSpace(t.Token)
	if v.required("telegram.token", t.Token) && !tokenPattern.MatchString(t.Token) {
		v.add("telegram.token", "is set but malformed (expected <bot id>:<secret> as issued by @BotFather)")
	}

	if v.required("telegram.api_url", t.APIURL) {
		t.APIURL = strings.TrimSuffix(t.APIURL, "/")
		if reason := checkAPIURL(t.APIURL); reason != "" {
			v.add("telegram.api_url", "%s", reason)
		}
	}

	v.oneOf("telegram.mode", &t.Mode, ModePolling, ModeWebhook)
	v.durRange("telegram.poll_timeout", t.PollTimeout, time.Second, 60*time.Second)
	if !strings.HasPrefix(t.WebhookPath, "/") {
		v.add("telegram.webhook_path", "must start with \"/\" (got %q)", t.WebhookPath)
	}
	if t.Mode == ModeWebhook {
		if v.required("telegram.webhook_listen", t.WebhookListen) {
			if reason := checkListen(t.WebhookListen); reason != "" {
				v.add("telegram.webhook_listen", "%s", reason)
			}
		}
		if v.required("telegram.webhook_url", t.WebhookURL) {
			if reason := checkWebhookURL(t.WebhookURL); reason != "" {
				v.add("telegram.webhook_url", "%s", reason)
			}
		}
		t.WebhookSecret = strings.TrimSpace(t.WebhookSecret)
		if v.required("telegram.webhook_secret", t.WebhookSecret) {
			if !webhookSecretPattern.MatchString(t.WebhookSecret) {
				v.add("telegram.webhook_secret", "is set but malformed (Telegram allows 1-256 characters of A-Z a-z 0-9 _ -)")
			} else if n := len(t.WebhookSecret); n < minWebhookSecret {
				v.add("telegram.webhook_secret", "must be at least %d characters (got %d), or anyone who guesses it can post updates as any resident; generate one with: openssl rand -hex 24", minWebhookSecret, n)
			}
		}
	}

	switch {
	case t.GroupID == 0:
		v.add("telegram.group_id", "is required: the technicians' group chat id, a negative number such as -1001234567890")
	case t.GroupID > 0:
		v.add("telegram.group_id", "must be a negative group chat id (got %d); positive ids are users, not groups", t.GroupID)
	}
	if len(t.Admins) == 0 {
		v.add("telegram.admins", "at least one admin Telegram user id is required")
	}
	for i, id := range t.Admins {
		if id <= 0 {
			v.add(fmt.Sprintf("telegram.admins[%d]", i), "must be a positive Telegram user id (got %d)", id)
		}
	}

	t.BotUsername = strings.TrimPrefix(strings.TrimSpace(t.BotUsername), "@")
	if t.BotUsername != "" && !botUsernamePattern.MatchString(t.BotUsername) {
		v.add("telegram.bot_username", "must be a Telegram bot username: 5-32 letters, digits or _ ending in \"bot\" (got %q)", t.BotUsername)
	}
}

// checkAPIURL returns why u is not a usable Bot API base URL, or "". The
// value itself is not echoed: people paste ".../bot<token>" here.
func checkAPIURL(u string) string {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return "is not a valid URL"
	case p.Scheme != "http" && p.Scheme != "https":
		return "must be an absolute http:// or https:// URL"
	case p.Host == "":
		return "must include a host name"
	case p.RawQuery != "" || p.Fragment != "" || strings.HasSuffix(u, "?") || strings.HasSuffix(u, "#"):
		return "must not contain a query or fragment"
	case strings.HasSuffix(p.Path, "/"):
		return "must not end with a slash"
	case botPathPattern.MatchString(p.Path):
		return "must be the server's base URL only; the bot adds /bot<token>/<method> itself"
	}
	return ""
}

// isLoopback reports hosts where plain-http webhooks are acceptable because
// traffic never leaves the machine (local testing against a fake server).
func isLoopback(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// listenLoopback reports whether a listen host ("" is every interface)
// stays on this machine.
func listenLoopback(host string) bool {
	ip := net.ParseIP(host)
	return isLoopback(host) || (ip != nil && ip.IsLoopback())
}

// checkWebhookURL returns why u cannot be given to setWebhook, or "". The
// value itself is not echoed in case the operator embedded a secret in it.
func checkWebhookURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "is not a valid URL"
	}
	host := p.Hostname()
	switch {
	case p.Host == "" || host == "":
		return "must be an absolute https:// URL with a host name"
	case p.Scheme == "https":
	case p.Scheme == "http" && isLoopback(host):
	case p.Scheme == "http":
		return "must use https:// (Telegram only delivers webhooks over TLS; http is allowed for localhost only)"
	default:
		return "must be an absolute https:// URL"
	}
	if p.Fragment != "" {
		return "must not contain a fragment"
	}
	if port := p.Port(); port != "" && !isLoopback(host) {
		switch port {
		case "443", "80", "88", "8443":
		default:
			return fmt.Sprintf("uses port %s, but Telegram only delivers webhooks to ports 443, 80, 88 and 8443", port)
		}
	}
	return ""
}

// checkListen returns why addr is not a host:port to listen on, or "".
func checkListen(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port or :port (got %q)", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("must have a numeric port 1-65535 (got %q)", addr)
	}
	return ""
}

func (c *Config) validateStore(v *validator) {
	v.required("store.data_dir", c.Store.DataDir)
	if c.Store.LockTimeout.Duration <= 0 {
		v.add("store.lock_timeout", "must be greater than 0 (got %s)", c.Store.LockTimeout.Duration)
	}
	switch c.Store.Driver {
	case DriverBolt:
	case DriverPostgres:
		if v.required("store.dsn", c.Store.DSN) && c.literal["store.dsn"] && RedactDSN(c.Store.DSN) != c.Store.DSN {
			v.add("store.dsn", "carries a password in the file: put the DSN (or at least its password, PGPASSWORD) in the environment, dsn = \"${DATABASE_URL}\"")
		}
	default:
		v.add("store.driver", "must be %q or %q (got %q)", DriverBolt, DriverPostgres, c.Store.Driver)
	}
}

func (c *Config) validateOrg(v *validator) {
	o := &c.Org
	if v.required("org.name", o.Name) && utf8.RuneCountInString(o.Name) > maxOrgName {
		v.add("org.name", "must be at most %d characters (got %d)", maxOrgName, utf8.RuneCountInString(o.Name))
	}
	if n := utf8.RuneCountInString(o.NameEN); n > maxOrgName {
		v.add("org.name_en", "must be at most %d characters (got %d)", maxOrgName, n)
	}
	v.oneOf("org.profile", &o.Profile, ProfileProperty, ProfileRental)
	c.loc = nil
	if v.required("org.timezone", o.Timezone) {
		loc, err := time.LoadLocation(o.Timezone)
		if err != nil {
			v.add("org.timezone", "unknown time zone %q (use an IANA name such as \"Asia/Shanghai\")", o.Timezone)
		} else {
			c.loc = loc
		}
	}
	v.oneOf("org.default_lang", &o.DefaultLang, LangZH, LangEN)
	if !ticketPrefixPattern.MatchString(o.TicketPrefix) {
		v.add("org.ticket_prefix", "must be 1-6 uppercase letters A-Z (got %q)", o.TicketPrefix)
	}
	if o.ServicePhone != "" && (!servicePhonePattern.MatchString(o.ServicePhone) || countDigits(o.ServicePhone) < 3) {
		v.add("org.service_phone", "must be a phone number of 3-32 characters using digits, spaces and + - ( ) # (got %q)", o.ServicePhone)
	}
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func (c *Config) validateCategories(v *validator) {
	if n := len(c.Categories); n < 1 || n > maxCategories {
		v.add("categories", "must have between 1 and %d entries (got %d)", maxCategories, n)
	}
	seen := make(map[string]int, len(c.Categories))
	for i, cat := range c.Categories {
		prefix := fmt.Sprintf("categories[%d].", i)
		v.tableKey(prefix, "categories", cat.Key, i, seen)
		v.labels(prefix, cat.ZH, cat.EN, maxCategoryLabel)
	}
}

func (c *Config) validateLimits(v *validator) {
	l := &c.Limits
	v.intRange("limits.max_description", int64(l.MaxDescription), 10, 3000)
	v.intRange("limits.max_photos", int64(l.MaxPhotos), 0, 20)
	v.intRange("limits.max_name_len", int64(l.MaxNameLen), 2, 100)
	v.intRange("limits.max_address_part", int64(l.MaxAddressPart), 1, 50)
	v.durRange("limits.invite_ttl", l.InviteTTL, time.Minute, 720*time.Hour)
	if l.MaxPhotoBytes < minPhotoBytes || l.MaxPhotoBytes > maxPhotoBytesLimit {
		v.add("limits.max_photo_bytes", "must be between %d (1 MiB) and %d (20 MiB) bytes (got %d)", minPhotoBytes, maxPhotoBytesLimit, l.MaxPhotoBytes)
	}
	v.intRange("limits.max_photos_per_hour", int64(l.MaxPhotosPerHour), 1, 1000)
	h := &c.Housekeeping
	v.durRange("housekeeping.keep_failed", h.KeepFailed, 24*time.Hour, 8760*time.Hour)
	v.durRange("housekeeping.idle_dialogue", h.IdleDialogue, 24*time.Hour, 8760*time.Hour)
	v.durRange("housekeeping.keep_invites", h.KeepInvites, 24*time.Hour, 8760*time.Hour)
	v.durRange("housekeeping.orphan_media", h.OrphanMedia, 24*time.Hour, 8760*time.Hour)
}

func (c *Config) validateOutbox(v *validator) {
	o := &c.Outbox
	v.rate("outbox.per_chat_per_second", o.PerChatPerSecond, 30)
	v.intRange("outbox.per_chat_burst", int64(o.PerChatBurst), 1, 3)
	v.rate("outbox.group_per_minute", o.GroupPerMinute, 20)
	v.rate("outbox.global_per_second", o.GlobalPerSecond, 30)
	v.durRange("outbox.give_up_after", o.GiveUpAfter, time.Hour, 720*time.Hour)
	if o.BaseBackoff.Duration <= 0 {
		v.add("outbox.base_backoff", "must be greater than 0 (got %s)", o.BaseBackoff.Duration)
	}
	if o.MaxBackoff.Duration < o.BaseBackoff.Duration {
		v.add("outbox.max_backoff", "must be at least outbox.base_backoff (%s) (got %s)", o.BaseBackoff.Duration, o.MaxBackoff.Duration)
	}
	v.intRange("outbox.workers", int64(o.Workers), 1, 32)
}

func (c *Config) validateSLA(v *validator) {
	s := &c.SLA
	v.durRange("sla.accept_within", s.AcceptWithin, time.Minute, 24*time.Hour)
	v.durRange("sla.arrive_within", s.ArriveWithin, 5*time.Minute, 72*time.Hour)
	v.durRange("sla.agreed_grace", s.AgreedGrace, 0, 4*time.Hour)
	v.durRange("sla.remind_before", s.RemindBefore, 0, 24*time.Hour)
	v.durRange("sla.waiting_chase", s.WaitingChase, time.Hour, 168*time.Hour)
	if s.WaitingCloseAfter.Duration < s.WaitingChase.Duration {
		v.add("sla.waiting_close_after", "must be at least sla.waiting_chase (%s) (got %s)", s.WaitingChase.Duration, s.WaitingCloseAfter.Duration)
	} else {
		v.durRange("sla.waiting_close_after", s.WaitingCloseAfter, time.Hour, 720*time.Hour)
	}
	for _, w := range []struct {
		what           string
		remind, closes Duration
	}{{"signoff", s.SignoffRemind, s.SignoffCloseAfter}, {"survey", s.SurveyRemind, s.SurveyCloseAfter}} {
		v.durRange("sla."+w.what+"_remind", w.remind, 0, 168*time.Hour)
		switch {
		case w.closes.Duration == 0:
		case w.closes.Duration < w.remind.Duration:
			v.add("sla."+w.what+"_close_after", "must be 0 (never) or at least sla.%s_remind (%s) (got %s)", w.what, w.remind.Duration, w.closes.Duration)
		default:
			v.durRange("sla."+w.what+"_close_after", w.closes, time.Hour, 720*time.Hour)
		}
	}
	tickOK := v.durRange("sla.tick", s.Tick, time.Second, 5*time.Minute)
	if v.durRange("sla.late_after", s.LateAfter, time.Second, time.Hour) && tickOK && s.LateAfter.Duration <= s.Tick.Duration {
		v.add("sla.late_after", "must be greater than sla.tick (%s), or timers fired on an ordinary tick would be marked late (got %s)", s.Tick.Duration, s.LateAfter.Duration)
	}
}

func (c *Config) validateWork(v *validator) {
	w := &c.Work
	v.days("work.days", w.Days, false)
	start, startOK := v.clock("work.start", w.Start)
	end, endOK := v.clock("work.end", w.End)
	hbOK := v.durRange("work.handover_before", w.HandoverBefore, 0, 4*time.Hour)
	if !startOK || !endOK {
		return
	}
	if end <= start {
		v.add("work.end", "must be after work.start (%s) on the same day (got %s)", w.Start, w.End)
		return
	}
	handover := time.Duration(end)*time.Minute - w.HandoverBefore.Duration
	if hbOK && handover <= time.Duration(start)*time.Minute {
		v.add("work.handover_before", "must leave the handover after work.start (%s): %s before work.end (%s) is %s (got %s)",
			w.Start, w.HandoverBefore.Duration, w.End, formatClock(int(handover/time.Minute)), w.HandoverBefore.Duration)
	}
}

func (c *Config) validateEmergencies(v *validator) {
	if n := len(c.Emergencies); n > maxEmergencies {
		v.add("emergencies", "must have at most %d entries (got %d)", maxEmergencies, n)
	}
	categories := make(map[string]bool, len(c.Categories))
	for _, cat := range c.Categories {
		categories[cat.Key] = true
	}
	seen := make(map[string]int, len(c.Emergencies))
	var known []string
	for i := range c.Emergencies {
		e := &c.Emergencies[i]
		prefix := fmt.Sprintf("emergencies[%d].", i)
		if v.required(prefix+"key", e.Key) {
			if !categoryKeyPattern.MatchString(e.Key) {
				v.add(prefix+"key", "must match ^[a-z][a-z0-9_]{0,15}$ (got %q)", e.Key)
			} else if j, dup := seen[e.Key]; dup {
				v.add(prefix+"key", "duplicate key %q (also used by emergencies[%d])", e.Key, j)
			} else {
				seen[e.Key] = i
				known = append(known, strconv.Quote(e.Key))
			}
		}
		for _, l := range []struct{ name, val string }{{"zh", e.ZH}, {"en", e.EN}} {
			if v.required(prefix+l.name, l.val) {
				if n := utf8.RuneCountInString(l.val); n > maxEmergencyLabel {
					v.add(prefix+l.name, "must be at most %d characters (got %d)", maxEmergencyLabel, n)
				}
			}
		}
		if v.required(prefix+"category", e.Category) && !categories[e.Category] {
			v.add(prefix+"category", "emergency %q files tickets under category %q, which is not configured: add a [[categories]] table with key %q, or give [[emergencies]] tables that use your categories", e.Key, e.Category, e.Category)
		}

		acceptOK := v.durRange(prefix+"accept_within", e.AcceptWithin, 30*time.Second, time.Hour)
		if e.ArriveWithin.Duration == 0 {
			v.add(prefix+"arrive_within", "is required: how long after the report someone must be on site, between %s and %s", time.Minute, 24*time.Hour)
			continue
		}
		if !v.durRange(prefix+"arrive_within", e.ArriveWithin, time.Minute, 24*time.Hour) {
			continue
		}
		if acceptOK && e.ArriveWithin.Duration <= e.AcceptWithin.Duration {
			v.add(prefix+"arrive_within", "must be greater than accept_within (%s) (got %s)", e.AcceptWithin.Duration, e.ArriveWithin.Duration)
		}
		switch {
		case e.ManagerAfter.Duration <= e.ArriveWithin.Duration:
			v.add(prefix+"manager_after", "must be greater than arrive_within (%s) (got %s)", e.ArriveWithin.Duration, e.ManagerAfter.Duration)
		case e.ManagerAfter.Duration > 48*time.Hour:
			v.add(prefix+"manager_after", "must be at most %s (got %s)", 48*time.Hour, e.ManagerAfter.Duration)
		}
	}

	for i, cat := range c.Categories {
		if cat.Emergency == "" {
			continue
		}
		if _, ok := seen[cat.Emergency]; !ok {
			list := "none are configured"
			if len(known) > 0 {
				list = "configured: " + strings.Join(known, ", ")
			}
			v.add(fmt.Sprintf("categories[%d].emergency", i), "names emergency %q, which is not configured (%s)", cat.Emergency, list)
		}
	}
}

func (c *Config) validateDuty(v *validator) {
	for i := range c.Duty {
		s := &c.Duty[i]
		prefix := fmt.Sprintf("duty[%d].", i)
		v.days(prefix+"days", s.Days, true)
		v.clock(prefix+"from", s.From)
		v.clock(prefix+"to", s.To)
		if len(s.People) == 0 {
			v.add(prefix+"people", `at least one person id ("tg:123456789", "wecom:zhangsan") is required`)
		}
		seen := make(map[PersonID]int, len(s.People))
		for j, id := range s.People {
			k := fmt.Sprintf("%speople[%d]", prefix, j)
			if why := id.check(); why != "" {
				v.add(k, "%s", why)
			} else if first, dup := seen[id]; dup {
				v.add(k, "duplicate person %s (also %speople[%d])", id, prefix, first)
			} else {
				seen[id] = j
			}
		}
	}
}
