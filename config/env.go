package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// envRefPattern matches ${NAME}. Only the braced form is recognised so that
// a literal "$" (say, in a company name or phone note) never needs escaping.
var envRefPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// envRef is a ${NAME} reference that could not be resolved.
type envRef struct {
	name string
	set  bool // set but empty, as opposed to not set at all
}

func (r envRef) reason() string {
	if r.set {
		return fmt.Sprintf("environment variable %s is set but empty", r.name)
	}
	return fmt.Sprintf("environment variable %s is not set", r.name)
}

// stringField is one string-valued key, addressed by its dotted name.
type stringField struct {
	key string
	p   *string
}

// stringFields lists every string value in the configuration. It is explicit
// rather than reflective so that it is obvious which keys take ${NAME}; a
// test checks it stays in sync with the struct.
func (c *Config) stringFields() []stringField {
	t, s, o, l := &c.Telegram, &c.Store, &c.Org, &c.Log
	f := []stringField{
		{"telegram.token", &t.Token},
		{"telegram.api_url", &t.APIURL},
		{"telegram.mode", &t.Mode},
		{"telegram.webhook_listen", &t.WebhookListen},
		{"telegram.webhook_path", &t.WebhookPath},
		{"telegram.webhook_url", &t.WebhookURL},
		{"telegram.webhook_secret", &t.WebhookSecret},
		{"telegram.bot_username", &t.BotUsername},
		{"store.data_dir", &s.DataDir},
		{"store.path", &s.Path},
		{"store.driver", &s.Driver},
		{"store.dsn", &s.DSN},
		{"org.name", &o.Name},
		{"org.name_en", &o.NameEN},
		{"org.profile", &o.Profile},
		{"org.timezone", &o.Timezone},
		{"org.default_lang", &o.DefaultLang},
		{"org.ticket_prefix", &o.TicketPrefix},
		{"org.service_phone", &o.ServicePhone},
		{"org.sop_file", &o.SOPFile},
		{"log.level", &l.Level},
		{"log.format", &l.Format},
		{"backup.dir", &c.Backup.Dir},
		{"backup.schedule", &c.Backup.Schedule},
		{"ops.listen", &c.Ops.Listen},
		{"ops.token", &c.Ops.Token},
		{"web.listen", &c.Web.Listen},
		{"web.public_url", &c.Web.PublicURL},
		{"governance.yearly_review", &c.Governance.YearlyReview},
		{"records.weekly_report", &c.Records.WeeklyReport},
		{"records.archive_at", &c.Records.ArchiveAt},
		{"parts.approval_over", &c.Parts.ApprovalOver},
	}
	for i := range c.Governance.ReviewRoles {
		f = append(f, stringField{fmt.Sprintf("governance.review_roles[%d]", i), &c.Governance.ReviewRoles[i]})
	}
	for i := range c.Governance.SafetyTypes {
		f = append(f, stringField{fmt.Sprintf("governance.safety_types[%d]", i), &c.Governance.SafetyTypes[i]})
	}
	for i := range c.Categories {
		cat := &c.Categories[i]
		f = append(f,
			stringField{fmt.Sprintf("categories[%d].key", i), &cat.Key},
			stringField{fmt.Sprintf("categories[%d].zh", i), &cat.ZH},
			stringField{fmt.Sprintf("categories[%d].en", i), &cat.EN},
			stringField{fmt.Sprintf("categories[%d].emergency", i), &cat.Emergency},
		)
	}
	w := &c.Work
	for i := range w.Days {
		f = append(f, stringField{fmt.Sprintf("work.days[%d]", i), &w.Days[i]})
	}
	f = append(f,
		stringField{"work.start", &w.Start},
		stringField{"work.end", &w.End},
	)
	for i := range c.Emergencies {
		e := &c.Emergencies[i]
		f = append(f,
			stringField{fmt.Sprintf("emergencies[%d].key", i), &e.Key},
			stringField{fmt.Sprintf("emergencies[%d].zh", i), &e.ZH},
			stringField{fmt.Sprintf("emergencies[%d].en", i), &e.EN},
			stringField{fmt.Sprintf("emergencies[%d].category", i), &e.Category},
		)
	}
	for i := range c.Duty {
		s := &c.Duty[i]
		for j := range s.Days {
			f = append(f, stringField{fmt.Sprintf("duty[%d].days[%d]", i, j), &s.Days[j]})
		}
		for j := range s.People {
			f = append(f, stringField{fmt.Sprintf("duty[%d].people[%d]", i, j), (*string)(&s.People[j])})
		}
		f = append(f,
			stringField{fmt.Sprintf("duty[%d].from", i), &s.From},
			stringField{fmt.Sprintf("duty[%d].to", i), &s.To},
			stringField{fmt.Sprintf("duty[%d].area", i), &s.Area},
		)
	}
	f = append(f, c.peopleStringFields()...)
	f = append(f, c.publicStringFields()...)
	f = append(f, c.areaStringFields()...)
	return append(f, c.wecomStringFields()...)
}

// envSecretKeys are the keys whose values are secrets and belong in the
// environment: ExpandEnv records which of them the file spelled out.
// ops.token is refused so (Validate); the others are warned about
// (Warnings), so a deployment that templates its secrets into a private
// file keeps starting.
var envSecretKeys = map[string]bool{
	"ops.token": true, "telegram.token": true, "telegram.webhook_secret": true,
	"wecom.secret": true, "wecom.token": true, "wecom.encoding_aes_key": true, "wecom.kf_secret": true,
	"wecom.group_robot_key": true, "posters.secret": true,
	// A DSN without a password (peer or certificate authentication, or
	// PGPASSWORD in the environment) may be spelled out; one with a
	// password is refused (Validate).
	"store.dsn": true,
}

// Warnings are what a valid configuration should still not do: a secret
// spelled out in the file instead of ${NAME} (anyone who reads the file,
// its backups or its version history has it). Never the value itself.
// The caller logs them at start-up.
func (c Config) Warnings() []string {
	out := append([]string(nil), c.deprecated...)
	for _, f := range c.stringFields() {
		if f.key == "ops.token" || f.key == "store.dsn" || !c.literal[f.key] {
			continue
		}
		out = append(out, fmt.Sprintf("%s is spelled out in the configuration file; keep it in the environment instead, e.g. %s = \"${%s}\"",
			f.key, f.key[strings.IndexByte(f.key, '.')+1:], envNameFor(f.key)))
	}
	return out
}

// envNameFor is the variable the example configuration uses for key.
func envNameFor(key string) string {
	if n, ok := map[string]string{
		"telegram.token": "TELEGRAM_TOKEN", "telegram.webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
		"wecom.secret": "WECOM_SECRET", "wecom.token": "WECOM_TOKEN", "wecom.encoding_aes_key": "WECOM_AES_KEY",
		"wecom.kf_secret": "WECOM_KF_SECRET", "wecom.group_robot_key": "WECOM_ROBOT_KEY",
	}[key]; ok {
		return n
	}
	return strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// ExpandEnv replaces every ${NAME} in every string value with the value of
// environment variable NAME (looked up with os.LookupEnv). Unset or empty
// variables expand to "" and are remembered, so that Validate can report
// "environment variable NAME is not set" for required keys; for optional
// keys an empty result is simply accepted.
//
// Expansion is a single pass: a variable's value is not expanded again, so a
// secret containing "${" is used verbatim. Load and Parse call ExpandEnv;
// call it yourself only for a Config built in code from Default.
func (c *Config) ExpandEnv() {
	unresolved := make(map[string][]envRef, len(c.unresolved))
	for k, v := range c.unresolved { // copy: Config values may share the map
		unresolved[k] = v
	}
	literal := map[string]bool{}
	for _, f := range c.stringFields() {
		if envSecretKeys[f.key] && strings.TrimSpace(*f.p) != "" && !envRefPattern.MatchString(*f.p) {
			literal[f.key] = true
		}
		*f.p = envRefPattern.ReplaceAllStringFunc(*f.p, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := os.LookupEnv(name)
			if v == "" {
				unresolved[f.key] = append(unresolved[f.key], envRef{name: name, set: ok})
			}
			return v
		})
	}
	c.unresolved = unresolved
	c.literal = literal
	c.expanded = true
}

// RedactDSN hides the password of a PostgreSQL DSN (a postgres:// URL or
// keyword/value pairs), for logs and messages; a DSN without one is
// returned as it is.
func RedactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(an unparsable DSN)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "***")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsnPasswordPattern.ReplaceAllString(dsn, "${1}***")
}

// dsnPasswordPattern is the password of keyword/value pairs: password=x
// or password='quoted x'.
var dsnPasswordPattern = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
