package config_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

const (
	testToken  = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789"
	tokenTail  = "ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789"
	examplePth = "../config.example.toml"
	// minimal is the least a Telegram deployment must add to the defaults.
	minimal = "[telegram]\ngroup_id = -1001234567890\nadmins = [123456789]\n"
)

// unsetenv removes name for the duration of the test; t.Setenv first records
// the old value so it is restored afterwards.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// cleanEnv gives every test the same starting environment.
func cleanEnv(t *testing.T) {
	t.Helper()
	t.Setenv("TELEGRAM_TOKEN", testToken)
	unsetenv(t, "TELEGRAM_WEBHOOK_SECRET")
	unsetenv(t, "OPS_TOKEN")
}

func TestDefaultsValid(t *testing.T) {
	cleanEnv(t)
	cfg := config.Default()
	cfg.Telegram.GroupID = -1001234567890
	cfg.Telegram.Admins = []int64{123456789}
	cfg.ExpandEnv()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults + group/admins should validate, got:\n%v", err)
	}
	if cfg.Telegram.Token != testToken {
		t.Errorf("token not expanded from env")
	}
	if cfg.Telegram.WebhookSecret != "" {
		t.Errorf("unset TELEGRAM_WEBHOOK_SECRET should expand to empty, got %q", cfg.Telegram.WebhookSecret)
	}
	if got := cfg.Store.DBPath(); got != "data/repair.db" {
		t.Errorf("DBPath = %q, want data/repair.db", got)
	}
	if got := cfg.Location().String(); got != "Asia/Shanghai" {
		t.Errorf("Location = %q", got)
	}
	if len(cfg.Categories) != 6 || cfg.Categories[0].Key != "water" || cfg.Categories[5].Key != "other" {
		t.Errorf("unexpected default categories: %+v", cfg.Categories)
	}
	wantKeys := []string{"water_leak", "power_cut", "gas", "lift", "fire", "safety"}
	var keys []string
	for _, e := range cfg.Emergencies {
		keys = append(keys, e.Key)
		if e.ManagerAfter.Duration != 2*e.ArriveWithin.Duration {
			t.Errorf("%s: manager_after %s is not twice arrive_within %s", e.Key, e.ManagerAfter, e.ArriveWithin)
		}
	}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("default emergencies = %v, want %v", keys, wantKeys)
	}
	if e, ok := cfg.Emergency("water_leak"); !ok || e.ArriveWithin.Duration != 5*time.Minute || e.Category != "water" {
		t.Errorf("water_leak must be reached within 5 minutes (SOP): %+v", e)
	}
	if cfg.SLA.AcceptWithin.Duration != 15*time.Minute || cfg.Work.Start != "08:30" || cfg.Work.End != "17:30" ||
		len(cfg.Work.Days) != 6 || cfg.Duty != nil {
		t.Errorf("unexpected defaults: %+v %+v %+v", cfg.SLA, cfg.Work, cfg.Duty)
	}
	if got := cfg.EmergencyLabel("lift", "en"); got != "Person trapped in a lift" {
		t.Errorf("EmergencyLabel(lift, en) = %q", got)
	}
	if got := cfg.EmergencyLabel("gas", ""); got != "燃气味/燃气泄漏" {
		t.Errorf("EmergencyLabel(gas, \"\") = %q", got)
	}
	if got := cfg.EmergencyLabel("flood", "en"); got != "flood" {
		t.Errorf("EmergencyLabel(flood) = %q", got)
	}

	// The same via Parse, and Load("") which must point at the missing ids.
	if _, err := config.Parse([]byte(minimal)); err != nil {
		t.Fatalf("Parse(minimal): %v", err)
	}
	_, err := config.Load("")
	if err == nil || !strings.Contains(err.Error(), "telegram.group_id") || !strings.Contains(err.Error(), "telegram.admins") {
		t.Fatalf("Load(\"\") should require group_id and admins, got %v", err)
	}
}

func TestUnvalidatedDefaultMentionsExpansion(t *testing.T) {
	cleanEnv(t)
	cfg := config.Default()
	cfg.Telegram.GroupID = -1
	cfg.Telegram.Admins = []int64{1}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "telegram.token: references ${TELEGRAM_TOKEN}, which was never expanded") {
		t.Fatalf("got %v", err)
	}
}

func TestExampleFile(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Load(examplePth)
	if err != nil {
		t.Fatalf("example file does not load:\n%v", err)
	}
	if cfg.Telegram.GroupID != -1001234567890 || !reflect.DeepEqual(cfg.Telegram.Admins, []int64{123456789}) {
		t.Errorf("placeholder ids: %d %v", cfg.Telegram.GroupID, cfg.Telegram.Admins)
	}

	// The example promises to show the defaults; hold it to that.
	def := config.Default()
	def.Telegram.GroupID = -1001234567890
	def.Telegram.Admins = []int64{123456789}
	def.ExpandEnv()
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"telegram", cfg.Telegram, def.Telegram},
		{"store", cfg.Store, def.Store},
		{"org", cfg.Org, def.Org},
		{"categories", cfg.Categories, def.Categories},
		{"limits", cfg.Limits, def.Limits},
		{"outbox", cfg.Outbox, def.Outbox},
		{"log", cfg.Log, def.Log},
		{"sla", cfg.SLA, def.SLA},
		{"work", cfg.Work, def.Work},
		{"emergencies", cfg.Emergencies, def.Emergencies},
		{"duty", cfg.Duty, def.Duty},
		{"records", cfg.Records, def.Records},
		{"web", cfg.Web, def.Web},
		{"public", cfg.Public, def.Public},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("[%s] in example differs from defaults:\n got %+v\nwant %+v", c.name, c.got, c.want)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		env     map[string]string // "" value means unset
		want    []string          // substrings of the error
		notWant []string
	}{
		{
			name: "unknown key",
			toml: minimal + "tokne = 'x'\n",
			want: []string{`config: telegram.tokne: unknown key`},
		},
		{
			name:    "unknown table named once",
			toml:    minimal + "[foo]\nbar = 1\n[foo.baz]\nq = 2\n",
			want:    []string{`config: foo: unknown key`},
			notWant: []string{"foo.bar", "foo.baz"},
		},
		{
			name: "unknown key in categories",
			toml: minimal + "[[categories]]\nkey = 'a'\nzh = 'A'\nen = 'A'\nlabel = 'x'\n",
			want: []string{`categories.label: unknown key`},
		},
		{
			name: "wrong type",
			toml: "[telegram]\ngroup_id = \"abc\"\n",
			want: []string{`config: telegram.group_id (line 2): expected integer, got string`},
		},
		{
			name: "wrong type array",
			toml: "[telegram]\ngroup_id = -1\nadmins = 5\n",
			want: []string{`telegram.admins (line 3): expected array, got integer`},
		},
		{
			name: "wrong type table",
			toml: "telegram = 3\n",
			want: []string{`telegram (line 1): expected a table, got integer`},
		},
		{
			name: "duration without unit",
			toml: minimal + "poll_timeout = 5\n",
			want: []string{`telegram.poll_timeout (line 4): invalid duration "5"`},
		},
		{
			name: "integer out of range",
			toml: minimal + "[limits]\nmax_photos = 99999999999999999999\n",
			want: []string{`limits.max_photos (line 5)`},
		},
		{
			name: "syntax error has line",
			toml: "[org]\nname = \"x\"\n[telegram\n",
			want: []string{`config: line 4: syntax error`},
		},
		{
			name: "missing token env",
			toml: minimal,
			env:  map[string]string{"TELEGRAM_TOKEN": ""},
			want: []string{`config: telegram.token: environment variable TELEGRAM_TOKEN is not set`},
		},
		{
			name: "token from another env var",
			toml: minimal + "token = \"${MY_BOT_TOKEN}\"\n",
			env:  map[string]string{"MY_BOT_TOKEN": ""},
			want: []string{`telegram.token: environment variable MY_BOT_TOKEN is not set`},
		},
		{
			name: "malformed token",
			toml: minimal + "token = \"12345\"\n",
			want: []string{`telegram.token: is set but malformed`},
		},
		{
			name: "bad timezone",
			toml: minimal + "[org]\ntimezone = \"Mars/Base\"\n",
			want: []string{`config: org.timezone: unknown time zone "Mars/Base"`},
		},
		{
			name: "bad mode",
			toml: minimal + "mode = \"push\"\n",
			want: []string{`config: telegram.mode: must be "polling" or "webhook" (got "push")`},
		},
		{
			name: "webhook missing url and secret",
			toml: minimal + "mode = \"webhook\"\n",
			want: []string{
				`config: telegram.webhook_url: is required`,
				`config: telegram.webhook_secret: environment variable TELEGRAM_WEBHOOK_SECRET is not set`,
			},
		},
		{
			name: "webhook plain http on public host",
			toml: minimal + "mode = \"webhook\"\nwebhook_url = \"http://example.com/hook\"\nwebhook_secret = \"s3cr3t_value\"\n",
			want: []string{`telegram.webhook_url: must use https://`},
		},
		{
			name: "webhook unsupported port",
			toml: minimal + "mode = \"webhook\"\nwebhook_url = \"https://example.com:9000/hook\"\nwebhook_secret = \"s3cr3t_value\"\n",
			want: []string{`telegram.webhook_url: uses port 9000`},
		},
		{
			name: "webhook bad listen and path",
			toml: minimal + "mode = \"webhook\"\nwebhook_url = \"https://example.com/hook\"\nwebhook_secret = \"s3cr3t_value\"\nwebhook_listen = \"8443\"\nwebhook_path = \"hook\"\n",
			want: []string{`telegram.webhook_listen: must be host:port`, `telegram.webhook_path: must start with "/"`},
		},
		{
			name: "positive group id",
			toml: "[telegram]\ngroup_id = 12345\nadmins = [1]\n",
			want: []string{`config: telegram.group_id: must be a negative group chat id (got 12345)`},
		},
		{
			name: "bad admin id",
			toml: "[telegram]\ngroup_id = -12345\nadmins = [1, -5]\n",
			want: []string{`telegram.admins[1]: must be a positive Telegram user id (got -5)`},
		},
		{
			name: "duplicate category",
			toml: minimal + "[[categories]]\nkey = \"water\"\nzh = \"水\"\nen = \"Water\"\n[[categories]]\nkey = \"water\"\nzh = \"水2\"\nen = \"Water 2\"\n",
			want: []string{`config: categories[1].key: duplicate key "water" (also used by categories[0])`},
		},
		{
			name: "category missing label and bad key",
			toml: minimal + "[[categories]]\nkey = \"Water\"\nzh = \"水\"\n",
			want: []string{`categories[0].key: must match`, `categories[0].en: is required`},
		},
		{
			name: "empty categories",
			toml: "categories = []\n" + minimal,
			want: []string{`config: categories: must have between 1 and 12 entries (got 0)`},
		},
		{
			name: "api_url not http",
			toml: minimal + "api_url = \"ftp://example.com\"\n",
			want: []string{`telegram.api_url: must be an absolute http:// or https:// URL`},
		},
		{
			name: "ranges",
			toml: minimal + "poll_timeout = \"90s\"\n[limits]\nmax_description = 5\nmax_photo_bytes = 30000000\ninvite_ttl = \"10s\"\n" +
				"[outbox]\ngroup_per_minute = 30.0\nper_chat_per_second = nan\nper_chat_burst = 4\nbase_backoff = \"10s\"\nmax_backoff = \"1s\"\nworkers = 0\n" +
				"[store]\nlock_timeout = \"0s\"\n[org]\nticket_prefix = \"bx\"\nprofile = \"hotel\"\ndefault_lang = \"fr\"\nname_en = \"" + strings.Repeat("x", 101) + "\"\n[log]\nlevel = \"loud\"\nformat = \"xml\"\n",
			want: []string{
				`telegram.poll_timeout: must be between 1s and 1m0s (got 1m30s)`,
				`limits.max_description: must be between 10 and 3000 (got 5)`,
				`limits.max_photo_bytes: must be between`,
				`limits.invite_ttl: must be between 1m0s and 720h0m0s (got 10s)`,
				`outbox.group_per_minute: must be greater than 0 and at most 20 (got 30)`,
				`outbox.per_chat_per_second: must be greater than 0 and at most 30 (got NaN)`,
				`outbox.per_chat_burst: must be between 1 and 3 (got 4)`,
				`org.name_en: must be at most 100 characters (got 101)`,
				`outbox.max_backoff: must be at least outbox.base_backoff`,
				`outbox.workers: must be between 1 and 32 (got 0)`,
				`store.lock_timeout: must be greater than 0`,
				`org.ticket_prefix: must be 1-6 uppercase letters`,
				`org.profile: must be "property" or "rental" (got "hotel")`,
				`org.default_lang: must be "zh-CN" or "en" (got "fr")`,
				`log.level: must be "debug", "info", "warn" or "error" (got "loud")`,
				`log.format: must be "json" or "console" (got "xml")`,
			},
		},
		{
			name: "bad day names",
			toml: minimal + "[work]\ndays = [\"mon\", \"Monday\", \"daily\"]\n",
			want: []string{
				`config: work.days[1]: must be one of mon, tue, wed, thu, fri, sat, sun (got "Monday")`,
				`config: work.days[2]: must be one of`,
			},
			notWant: []string{"work.days[0]"},
		},
		{
			name: "duplicate and missing days",
			toml: minimal + "[work]\ndays = [\"mon\", \"MON\"]\n[[duty]]\ndays = []\nfrom = \"08:00\"\nto = \"20:00\"\npeople = [1]\n",
			want: []string{
				`config: work.days[1]: duplicate day "mon" (also work.days[0])`,
				`config: duty[0].days: at least one day is required`,
			},
		},
		{
			name: "no working days",
			toml: minimal + "[work]\ndays = []\n",
			want: []string{`config: work.days: at least one day is required`},
		},
		{
			name: "bad clock",
			toml: minimal + "[work]\nstart = \"8:30\"\nend = \"24:00\"\n",
			want: []string{
				`config: work.start: must be a time of day HH:MM in 24-hour time, 00:00 to 23:59, e.g. "08:30" (got "8:30")`,
				`config: work.end: must be a time of day HH:MM`,
			},
		},
		{
			name: "end before start",
			toml: minimal + "[work]\nstart = \"18:00\"\nend = \"09:00\"\n",
			want: []string{`config: work.end: must be after work.start (18:00) on the same day (got 09:00)`},
		},
		{
			name: "handover before start",
			toml: minimal + "[work]\nstart = \"08:30\"\nend = \"10:00\"\nhandover_before = \"2h\"\n",
			want: []string{`config: work.handover_before: must leave the handover after work.start (08:30): 2h0m0s before work.end (10:00) is 08:00 (got 2h0m0s)`},
		},
		{
			name: "handover out of range",
			toml: minimal + "[work]\nhandover_before = \"5h\"\n",
			want: []string{`config: work.handover_before: must be between 0s and 4h0m0s (got 5h0m0s)`},
		},
		{
			name: "duplicate emergency key",
			toml: minimal + emergency("gas", "other") + emergency("gas", "other"),
			want: []string{`config: emergencies[1].key: duplicate key "gas" (also used by emergencies[0])`},
		},
		{
			name: "emergency with unknown category",
			toml: minimal + emergency("flood", "basement"),
			want: []string{`config: emergencies[0].category: emergency "flood" files tickets under category "basement", which is not configured`},
		},
		{
			name: "categories replaced without the default emergencies' categories",
			toml: minimal + "[[categories]]\nkey = \"water\"\nzh = \"水\"\nen = \"Water\"\n",
			want: []string{
				`emergencies[1].category: emergency "power_cut" files tickets under category "electricity", which is not configured: add a [[categories]] table with key "electricity", or give [[emergencies]] tables`,
				`emergencies[3].category: emergency "lift" files tickets under category "public"`,
			},
			notWant: []string{"emergencies[0]"},
		},
		{
			name: "category names unknown emergency",
			toml: minimal + "[[categories]]\nkey = \"gas\"\nzh = \"燃气\"\nen = \"Gas\"\nemergency = \"gas_leak\"\n" + emergency("fire", "gas"),
			want: []string{`config: categories[0].emergency: names emergency "gas_leak", which is not configured (configured: "fire")`},
		},
		{
			name: "category names emergency when there are none",
			toml: "emergencies = []\n" + minimal + "[[categories]]\nkey = \"gas\"\nzh = \"燃气\"\nen = \"Gas\"\nemergency = \"gas\"\n",
			want: []string{`categories[0].emergency: names emergency "gas", which is not configured (none are configured)`},
		},
		{
			name:    "custom emergency needs arrive_within",
			toml:    minimal + "[[emergencies]]\nkey = \"flood\"\nzh = \"水淹\"\nen = \"Flood\"\ncategory = \"water\"\n",
			want:    []string{`config: emergencies[0].arrive_within: is required`},
			notWant: []string{"manager_after", "accept_within"},
		},
		{
			name: "emergency timer order and ranges",
			toml: minimal + emergency("a", "water") + "accept_within = \"10m\"\narrive_within = \"5m\"\n" +
				emergency("b", "water") + "arrive_within = \"30m\"\nmanager_after = \"30m\"\n" +
				emergency("c", "water") + "accept_within = \"10s\"\narrive_within = \"25h\"\n" +
				emergency("d", "water") + "arrive_within = \"20h\"\nmanager_after = \"49h\"\n",
			want: []string{
				`emergencies[0].arrive_within: must be greater than accept_within (10m0s) (got 5m0s)`,
				`emergencies[1].manager_after: must be greater than arrive_within (30m0s) (got 30m0s)`,
				`emergencies[2].accept_within: must be between 30s and 1h0m0s (got 10s)`,
				`emergencies[2].arrive_within: must be between 1m0s and 24h0m0s (got 25h0m0s)`,
				`emergencies[3].manager_after: must be at most 48h0m0s (got 49h0m0s)`,
			},
		},
		{
			name: "emergency key and labels",
			toml: minimal + "[[emergencies]]\nkey = \"Gas\"\nzh = \"" + strings.Repeat("气", 33) + "\"\ncategory = \"other\"\narrive_within = \"5m\"\n",
			want: []string{
				`emergencies[0].key: must match`,
				`emergencies[0].zh: must be at most 32 characters (got 33)`,
				`emergencies[0].en: is required`,
			},
		},
		{
			name: "waiting_close_after before waiting_chase",
			toml: minimal + "[sla]\nwaiting_chase = \"48h\"\nwaiting_close_after = \"24h\"\n",
			want: []string{`config: sla.waiting_close_after: must be at least sla.waiting_chase (48h0m0s) (got 24h0m0s)`},
		},
		{
			name: "sla ranges",
			toml: minimal + "[sla]\naccept_within = \"30s\"\narrive_within = \"73h\"\nagreed_grace = \"-1m\"\nremind_before = \"25h\"\n" +
				"waiting_chase = \"30m\"\nwaiting_close_after = \"721h\"\ntick = \"10m\"\nlate_after = \"2h\"\n",
			want: []string{
				`sla.accept_within: must be between 1m0s and 24h0m0s (got 30s)`,
				`sla.arrive_within: must be between 5m0s and 72h0m0s (got 73h0m0s)`,
				`sla.agreed_grace: must be between 0s and 4h0m0s (got -1m0s)`,
				`sla.remind_before: must be between 0s and 24h0m0s (got 25h0m0s)`,
				`sla.waiting_chase: must be between 1h0m0s and 168h0m0s (got 30m0s)`,
				`sla.waiting_close_after: must be between 1h0m0s and 720h0m0s (got 721h0m0s)`,
				`sla.tick: must be between 1s and 5m0s (got 10m0s)`,
				`sla.late_after: must be between 1s and 1h0m0s (got 2h0m0s)`,
			},
		},
		{
			name: "late_after not above tick",
			toml: minimal + "[sla]\ntick = \"1m\"\nlate_after = \"30s\"\n",
			want: []string{`config: sla.late_after: must be greater than sla.tick (1m0s)`},
		},
		{
			name: "bad duty",
			toml: minimal + "[[duty]]\ndays = [\"daily\", \"sun\"]\nfrom = \"20:00\"\nto = \"8:00\"\npeople = [5, -1, 5]\n" +
				"[[duty]]\ndays = [\"fri\"]\nfrom = \"\"\nto = \"08:00\"\n",
			want: []string{
				`config: duty[0].days[0]: "daily" must be used alone`,
				`config: duty[0].to: must be a time of day HH:MM`,
				`config: duty[0].people[1]: must be a positive Telegram user id (got -1)`,
				`config: duty[0].people[2]: duplicate person tg:5 (also duty[0].people[0])`,
				`config: duty[1].from: is required`,
				`config: duty[1].people: at least one person id ("tg:123456789", "wecom:zhangsan") is required`,
			},
			notWant: []string{"duty[0].days[1]", "duty[0].from", "duty[1].to"},
		},
		{
			name: "bad person ids in duty",
			toml: minimal + "[[duty]]\ndays = [\"daily\"]\nfrom = \"08:00\"\nto = \"20:00\"\n" +
				`people = ["wecom:zhangsan", "zhangsan", "wxkf:abc", "tg:abc", "tg:007", "wecom:bad id", "wecom:", "tg:5", 5, "wecom:zhangsan"]` + "\n",
			want: []string{
				`config: duty[0].people[1]: must be a person id like "tg:123456789" or "wecom:zhangsan", or a Telegram user id (got "zhangsan")`,
				`config: duty[0].people[2]: names channel "wxkf"; staff are on "tg" or "wecom" (got "wxkf:abc")`,
				`config: duty[0].people[3]: must be a positive Telegram user id (got abc)`,
				`config: duty[0].people[4]: must be a positive Telegram user id (got 007)`,
				`config: duty[0].people[5]: must be a WeCom userid (1-64 letters, digits, '_', '-', '.', '@') after "wecom:" (got "bad id")`,
				`config: duty[0].people[6]: must be a person id like "tg:123456789" or "wecom:zhangsan", or a Telegram user id (got "wecom:")`,
				`config: duty[0].people[8]: duplicate person tg:5 (also duty[0].people[7])`,
				`config: duty[0].people[9]: duplicate person wecom:zhangsan (also duty[0].people[0])`,
			},
			notWant: []string{"duty[0].people[0]:", "duty[0].people[7]:"},
		},
		{
			name: "person id of the wrong type",
			toml: minimal + "[[duty]]\ndays = [\"daily\"]\nfrom = \"08:00\"\nto = \"20:00\"\npeople = [1.5]\n",
			want: []string{`config: duty.people`, `expected a person id like "tg:123456789" or "wecom:zhangsan", or a Telegram user id; got float`},
		},
		{
			name: "unknown key in duty",
			toml: minimal + "[[duty]]\ndays = [\"daily\"]\nfrom = \"08:00\"\nto = \"08:00\"\npeople = [1]\nperson = 2\n",
			want: []string{`config: duty.person: unknown key`},
		},
		{
			name: "required key with unset variable inside a longer value",
			toml: minimal + "[store]\ndata_dir = \"${REPAIRBOT_TEST_UNSET}/data\"\n",
			env:  map[string]string{"REPAIRBOT_TEST_UNSET": ""},
			want: []string{`store.data_dir: environment variable REPAIRBOT_TEST_UNSET is not set`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				if v == "" {
					unsetenv(t, k)
				} else {
					t.Setenv(k, v)
				}
			}
			_, err := config.Parse([]byte(tc.toml))
			if err == nil {
				t.Fatalf("expected an error")
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			var ve *config.ValidationError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Errorf("errors.As(*ValidationError) failed for %v", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("error unexpectedly contains %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, tokenTail) {
				t.Errorf("token leaked:\n%s", msg)
			}
		})
	}
}

// emergency returns an [[emergencies]] table with labels; callers append
// timer keys.
func emergency(key, category string) string {
	return "[[emergencies]]\nkey = \"" + key + "\"\nzh = \"应急\"\nen = \"Emergency\"\ncategory = \"" + category + "\"\n"
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	cleanEnv(t)
	_, err := config.Parse([]byte(minimal + "mode = \"push\"\n[org]\ntimezone = \"Mars/Base\"\n[log]\nlevel = \"loud\"\n"))
	probs := config.Problems(err)
	if len(probs) != 3 {
		t.Fatalf("want 3 problems, got %d: %v", len(probs), err)
	}
	keys := []string{probs[0].Key, probs[1].Key, probs[2].Key}
	if !reflect.DeepEqual(keys, []string{"telegram.mode", "org.timezone", "log.level"}) {
		t.Errorf("keys = %v", keys)
	}
}

func TestTelegramDisabled(t *testing.T) {
	cleanEnv(t)
	unsetenv(t, "TELEGRAM_TOKEN")
	cfg, err := config.Parse([]byte("[telegram]\nenabled = false\nmode = \"whatever\"\n"))
	if err != nil {
		t.Fatalf("disabled telegram should need nothing, got %v", err)
	}
	if cfg.Telegram.Enabled {
		t.Error("enabled should be false")
	}
}

func TestNormalisation(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TELEGRAM_TOKEN", testToken+"\n")
	cfg, err := config.Parse([]byte(minimal + "api_url = \"http://127.0.0.1:8081/\"\nbot_username = \"@Repair_Bot\"\nmode = \"Polling\"\n[org]\ndefault_lang = \"ZH-cn\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.APIURL != "http://127.0.0.1:8081" || cfg.Telegram.BotUsername != "Repair_Bot" ||
		cfg.Telegram.Mode != config.ModePolling || cfg.Org.DefaultLang != config.LangZH || cfg.Telegram.Token != testToken {
		t.Errorf("not normalised: %+v %+v", cfg.Telegram, cfg.Org)
	}
	// Webhook on localhost over plain http is fine for tests.
	cfg, err = config.Parse([]byte(minimal + "mode = \"webhook\"\nwebhook_url = \"http://localhost:9999/hook\"\nwebhook_secret = \"abc_DEF-123_ghi-456\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Mode != config.ModeWebhook {
		t.Error(cfg.Telegram.Mode)
	}
}

func TestCategoriesReplaced(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal + `
[[categories]]
key = "heating"
zh = "暖气"
en = "Heating"

[[categories]]
key = "lift"
zh = "电梯"
en = "Lift"
emergency = "lift"

# A built-in key takes the built-in timers it leaves out.
[[emergencies]]
key = "lift"
zh = "电梯困人"
en = "Trapped in a lift"
category = "lift"

# A custom key needs arrive_within; accept_within defaults to 2m and
# manager_after to twice arrive_within.
[[emergencies]]
key = "no_heating"
zh = "停暖"
en = "No heating"
category = "heating"
arrive_within = "45m"

[[emergencies]]
key = "burst"
zh = "暖气爆管"
en = "Radiator burst"
category = "heating"
accept_within = "30s"
arrive_within = "3m"
manager_after = "20m"
`))
	if err != nil {
		t.Fatal(err)
	}
	wantEm := []config.Emergency{
		{Key: "lift", ZH: "电梯困人", EN: "Trapped in a lift", Category: "lift", AcceptWithin: minutes(1), ArriveWithin: minutes(15), ManagerAfter: minutes(30)},
		{Key: "no_heating", ZH: "停暖", EN: "No heating", Category: "heating", AcceptWithin: minutes(2), ArriveWithin: minutes(45), ManagerAfter: minutes(90)},
		{Key: "burst", ZH: "暖气爆管", EN: "Radiator burst", Category: "heating", AcceptWithin: config.Duration{Duration: 30 * time.Second}, ArriveWithin: minutes(3), ManagerAfter: minutes(20)},
	}
	if !reflect.DeepEqual(cfg.Emergencies, wantEm) {
		t.Fatalf("emergencies =\n%+v\nwant\n%+v", cfg.Emergencies, wantEm)
	}
	if _, ok := cfg.Emergency("water_leak"); ok {
		t.Error("default emergencies should be replaced, not merged")
	}
	want := []config.Category{{Key: "heating", ZH: "暖气", EN: "Heating"}, {Key: "lift", ZH: "电梯", EN: "Lift", Emergency: "lift"}}
	if !reflect.DeepEqual(cfg.Categories, want) {
		t.Fatalf("categories = %+v", cfg.Categories)
	}
	for _, c := range []struct{ key, lang, want string }{
		{"lift", "en", "Lift"},
		{"lift", "en-GB", "Lift"},
		{"lift", "zh-CN", "电梯"},
		{"lift", "", "电梯"}, // default_lang
		{"water", "en", "water"},
	} {
		if got := cfg.CategoryLabel(c.key, c.lang); got != c.want {
			t.Errorf("CategoryLabel(%q, %q) = %q, want %q", c.key, c.lang, got, c.want)
		}
	}
	if _, ok := cfg.Category("water"); ok {
		t.Error("defaults should be replaced, not merged")
	}
}

func minutes(n int) config.Duration { return config.Duration{Duration: time.Duration(n) * time.Minute} }

func TestTokenNeverInErrors(t *testing.T) {
	cases := map[string]struct {
		toml, envToken string
	}{
		"valid token, other errors":   {minimal + "group_id = 5\n", testToken},
		"malformed token in env":      {minimal, testToken + "!"},
		"short token in env":          {minimal, "123456:" + tokenTail[:30]},
		"malformed token in file":     {minimal + "token = \"" + testToken + " x\"\n", ""},
		"unquoted token":              {"[telegram]\ntoken = " + testToken + "\n", ""},
		"unquoted token secret part":  {"[telegram]\ntoken = " + tokenTail + "\n", ""},
		"unterminated token":          {"[telegram]\ntoken = \"" + testToken + "\n", ""},
		"token with bad escape":       {"[telegram]\ntoken = \"" + testToken + "\\q\"\n", ""},
		"token pasted into api_url":   {minimal + "api_url = \"https://api.telegram.org/bot" + testToken + "\"\n", testToken},
		"token as wrong type context": {"[telegram]\ntoken = \"" + testToken + "\"\ngroup_id = \"x\"\n", ""},
		"token in bot_username":       {minimal + "bot_username = \"" + testToken + "\"\n", testToken},
		"token as webhook secret":     {minimal + "mode = \"webhook\"\nwebhook_url = \"https://e.com/h\"\nwebhook_secret = \"" + testToken + "\"\n", testToken},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cleanEnv(t)
			t.Setenv("TELEGRAM_TOKEN", c.envToken)
			_, err := config.Parse([]byte(c.toml))
			if err == nil {
				t.Fatal("expected an error")
			}
			msg := err.Error()
			for _, secret := range []string{testToken, tokenTail, tokenTail[:20]} {
				if strings.Contains(msg, secret) {
					t.Fatalf("error contains (part of) the token:\n%s", msg)
				}
			}
		})
	}
	t.Run("webhook secret not echoed", func(t *testing.T) {
		cleanEnv(t)
		const bad = "not a valid secret!"
		_, err := config.Parse([]byte(minimal + "mode = \"webhook\"\nwebhook_url = \"https://e.com/h\"\nwebhook_secret = \"" + bad + "\"\n"))
		if err == nil || !strings.Contains(err.Error(), "telegram.webhook_secret: is set but malformed") || strings.Contains(err.Error(), bad) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestRedacted(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "hook_secret_12345")
	cfg, err := config.Parse([]byte(minimal + "mode = \"webhook\"\nwebhook_url = \"https://e.com/h\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redacted()
	if r.Telegram.Token != "***" || r.Telegram.WebhookSecret != "***" {
		t.Errorf("not redacted: %q %q", r.Telegram.Token, r.Telegram.WebhookSecret)
	}
	if cfg.Telegram.Token != testToken || cfg.Telegram.WebhookSecret != "hook_secret_12345" {
		t.Error("Redacted modified the original")
	}
	r.Telegram.Admins[0] = 42
	r.Categories[0].ZH = "changed"
	r.Emergencies[0].ZH = "changed"
	r.Work.Days[0] = "sun"
	if cfg.Telegram.Admins[0] == 42 || cfg.Categories[0].ZH == "changed" || cfg.Emergencies[0].ZH == "changed" || cfg.Work.Days[0] == "sun" {
		t.Error("Redacted shares slices with the original")
	}
	if r.Location().String() != "Asia/Shanghai" {
		t.Error("Redacted lost the location")
	}

	// Unset secrets stay visibly unset; the duty roster is copied deeply.
	cleanEnv(t)
	cfg, err = config.Parse([]byte(minimal + "[[duty]]\ndays = [\"mon\"]\nfrom = \"08:00\"\nto = \"20:00\"\npeople = [7]\n"))
	if err != nil {
		t.Fatal(err)
	}
	r = cfg.Redacted()
	if got := r.Telegram.WebhookSecret; got != "" {
		t.Errorf("empty secret redacted to %q", got)
	}
	r.Duty[0].Days[0] = "tue"
	r.Duty[0].People[0] = "tg:8"
	if cfg.Duty[0].Days[0] != "mon" || cfg.Duty[0].People[0] != "tg:7" {
		t.Error("Redacted shares the duty roster with the original")
	}
}

func TestEnvExpansion(t *testing.T) {
	cleanEnv(t)
	t.Setenv("ORG_NAME", "阳光花园物业")
	t.Setenv("DATA_ROOT", "/var/lib/repairbot")
	t.Setenv("PHONE", "400-123-4567")
	t.Setenv("CAT_EN", "Heating")
	t.Setenv("TZ_NAME", "Europe/Berlin")
	t.Setenv("NESTED", "${ORG_NAME}")
	t.Setenv("WORK_START", "07:45")
	t.Setenv("ON_CALL_DAYS", "SAT")
	unsetenv(t, "REPAIRBOT_TEST_UNSET")
	cfg, err := config.Parse([]byte("emergencies = []\n" + minimal + `bot_username = "${REPAIRBOT_TEST_UNSET}"
[store]
data_dir = "${DATA_ROOT}/data"
path = "${NESTED}"
[org]
name = "${ORG_NAME} $5 $HOME {x}"
service_phone = "${PHONE}"
timezone = "${TZ_NAME}"
[[categories]]
key = "heating"
zh = "暖气"
en = "${CAT_EN}"
[work]
start = "${WORK_START}"
[[duty]]
days = ["${ON_CALL_DAYS}"]
from = "08:00"
to = "08:00"
people = [1]
`))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want string }{
		{cfg.Store.DataDir, "/var/lib/repairbot/data"},
		{cfg.Store.DBPath(), "${ORG_NAME}"}, // single pass: values are not re-expanded
		{cfg.Org.Name, "阳光花园物业 $5 $HOME {x}"},
		{cfg.Org.ServicePhone, "400-123-4567"},
		{cfg.Categories[0].EN, "Heating"},
		{cfg.Telegram.BotUsername, ""}, // optional key, unset variable: empty
		{cfg.Location().String(), "Europe/Berlin"},
		{cfg.Work.Start, "07:45"},
		{cfg.Duty[0].Days[0], "sat"}, // expanded, then normalised
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestExpandEnvCoversAllStrings guards the explicit field list in ExpandEnv:
// a new string field added to Config must take ${NAME} too.
func TestExpandEnvCoversAllStrings(t *testing.T) {
	t.Setenv("COVER", "ok")
	cfg := config.Default()
	cfg.Categories = cfg.Categories[:1]
	cfg.Emergencies = cfg.Emergencies[:1]
	cfg.Duty = []config.Shift{{Days: []string{"mon"}, People: []config.PersonID{"tg:1"}}}
	var set func(v reflect.Value)
	set = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString("${COVER}")
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					set(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				set(v.Index(i))
			}
		}
	}
	set(reflect.ValueOf(&cfg).Elem())
	cfg.ExpandEnv()
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if v.String() != "ok" {
				t.Errorf("%s not expanded: %q", path, v.String())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if f := v.Type().Field(i); f.IsExported() {
					check(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				check(path+"[]", v.Index(i))
			}
		}
	}
	check("Config", reflect.ValueOf(cfg))
}

func TestDurationText(t *testing.T) {
	var d config.Duration
	if err := d.UnmarshalText([]byte("1h30m")); err != nil || d.Duration != 90*time.Minute {
		t.Fatalf("%v %v", d, err)
	}
	b, _ := d.MarshalText()
	var d2 config.Duration
	if err := d2.UnmarshalText(b); err != nil || d2 != d {
		t.Fatalf("round trip %q: %v %v", b, d2, err)
	}
	if err := d.UnmarshalText([]byte("72")); err == nil {
		t.Error("bare number accepted")
	}
}

// The roster example in config.example.toml, uncommented, is a valid
// roster naming people on both channels, the bare integer included.
func TestExampleRoster(t *testing.T) {
	cleanEnv(t)
	data, err := os.ReadFile(examplePth)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "# Example (remove the leading \"# \" to use it):\n")
	if !ok {
		t.Fatal("no roster example in the example file")
	}
	var roster strings.Builder
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "#") || strings.HasPrefix(line, "# ---") {
			break
		}
		roster.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ") + "\n")
	}
	cfg, err := config.Parse([]byte(minimal + roster.String()))
	if err != nil {
		t.Fatalf("the roster example does not parse:\n%v\n%s", err, roster.String())
	}
	for _, c := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"day shift", shanghai(t, 24, 10, 0), []string{"tg:111111111", "wecom:zhangsan"}},
		{"friday night", shanghai(t, 27, 23, 0), []string{"tg:333333333"}},
		{"saturday morning, friday's night", shanghai(t, 28, 7, 0), []string{"tg:333333333"}},
		{"thursday night", shanghai(t, 26, 23, 0), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := cfg.OnDuty(c.at); !reflect.DeepEqual(got, c.want) {
				t.Errorf("OnDuty = %v, want %v", got, c.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load("/nonexistent/repairbot.toml")
	if !errors.Is(err, os.ErrNotExist) || errors.Is(err, config.ErrInvalid) {
		t.Fatalf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePth); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		minimal,
		"[telegram\n",
		"[telegram]\ngroup_id = \"abc\"\n",
		"[telegram]\ntoken = 123456:ABC\n",
		"categories = []\n",
		"[[categories]]\nkey = 1\n",
		"[[telegram]]\n",
		"telegram = 3\n",
		"[limits]\nmax_photo_bytes = 1e400\n",
		"[outbox]\nbase_backoff = \"-5s\"\nmax_backoff = 3\n",
		"[org]\nname = \"${\"\ntimezone = \"${TZ}${\"\n",
		"a = \"\xff\"\n",
		"[store]\nlock_timeout = {}\n",
		"emergencies = []\n[[categories]]\nkey = \"x\"\nzh = \"x\"\nen = \"x\"\nemergency = \"x\"\n",
		"[[emergencies]]\nkey = \"gas\"\n",
		"emergencies = [{key = \"fire\", zh = \"火\", en = \"Fire\", category = \"other\"}]\n",
		"[work]\ndays = [\"daily\"]\nstart = \"23:59\"\nend = \"00:00\"\n",
		"[[duty]]\ndays = [\"daily\"]\nfrom = \"20:00\"\nto = \"08:00\"\npeople = [1]\n",
		"[[duty]]\ndays = [\"daily\"]\nfrom = \"20:00\"\nto = \"08:00\"\npeople = [1, \"wecom:a\", \"tg:\", \"x\"]\n",
		"[[duty]]\ndays = [\"daily\"]\nfrom = \"20:00\"\nto = \"08:00\"\npeople = [true, [1]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Setenv("TELEGRAM_TOKEN", testToken)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			_ = err.Error()
			return
		}
		_ = cfg.Redacted()
		_ = cfg.Location()
		_ = cfg.Store.DBPath()
		now := time.Date(2026, 11, 27, 20, 30, 0, 0, time.UTC)
		_ = cfg.OnDuty(now)
		_ = cfg.WorkDay(now)
		if end := cfg.WorkEnd(now); !end.After(now.Add(-48 * time.Hour)) {
			t.Fatalf("WorkEnd(%v) = %v", now, end)
		}
		// Validate normalises in place; running it again must agree.
		if err := cfg.Validate(); err != nil {
			t.Fatalf("valid config fails re-validation: %v", err)
		}
	})
}

func TestParseClock(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"00:00", 0, true},
		{"08:30", 510, true},
		{"17:30", 1050, true},
		{"23:59", 1439, true},
		{"24:00", 0, false},
		{"08:60", 0, false},
		{"8:30", 0, false},
		{"0830", 0, false},
		{"08:3a", 0, false},
		{" 08:30", 0, false},
		{"08:30:00", 0, false},
		{"-1:00", 0, false},
		{"", 0, false},
	} {
		got, err := config.ParseClock(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "HH:MM") {
			t.Errorf("ParseClock(%q) error does not explain the format: %v", c.in, err)
		}
	}
}

// shanghai returns a time on the wall clock of Asia/Shanghai (UTC+8).
func shanghai(t *testing.T, day, hour, min int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-23 is a Monday, so day 23..29 is Monday..Sunday and 30 the
	// next Monday.
	return time.Date(2026, 11, day, hour, min, 0, 0, loc)
}

func TestWorkDayAndEnd(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal)) // org.timezone = Asia/Shanghai, mon..sat, 08:30-17:30
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		at      time.Time
		workday bool
		end     time.Time
	}{
		{"monday morning", shanghai(t, 23, 9, 0), true, shanghai(t, 23, 17, 30)},
		{"saturday", shanghai(t, 28, 10, 0), true, shanghai(t, 28, 17, 30)},
		{"sunday", shanghai(t, 29, 10, 0), false, shanghai(t, 29, 17, 30)},
		// 17:00 UTC on Saturday is already 01:00 on Sunday in Shanghai.
		{"utc saturday is shanghai sunday", time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC), false, shanghai(t, 29, 17, 30)},
		// 20:00 UTC on Sunday is 04:00 on Monday in Shanghai.
		{"utc sunday is shanghai monday", time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC), true, shanghai(t, 30, 17, 30)},
		{"after hours same date", shanghai(t, 27, 23, 59), true, shanghai(t, 27, 17, 30)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := cfg.WorkDay(c.at); got != c.workday {
				t.Errorf("WorkDay(%v) = %v, want %v", c.at, got, c.workday)
			}
			got := cfg.WorkEnd(c.at)
			if !got.Equal(c.end) || got.Location().String() != "Asia/Shanghai" {
				t.Errorf("WorkEnd(%v) = %v, want %v", c.at, got, c.end)
			}
		})
	}
	handover := cfg.WorkEnd(shanghai(t, 23, 9, 0)).Add(-cfg.Work.HandoverBefore.Duration)
	if !handover.Equal(shanghai(t, 23, 17, 0)) {
		t.Errorf("handover = %v, want 17:00 (SOP 4.2.7)", handover)
	}
}

func TestOnDuty(t *testing.T) {
	cleanEnv(t)
	cfg, err := config.Parse([]byte(minimal + `
[[duty]] # weekday day shift
days = ["mon", "tue", "wed", "thu", "fri"]
from = "08:30"
to = "17:30"
people = [1, "tg:2"] # a bare integer is a Telegram user id

[[duty]] # Friday night, ends Saturday morning
days = ["Fri"]
from = "20:00"
to = "08:00"
people = ["wecom:zhangsan", 1]

[[duty]] # lunch cover every day
days = ["daily"]
from = "12:00"
to = "13:00"
people = [4]

[[duty]] # 24 hours from Sunday 08:00
days = ["sun"]
from = "08:00"
to = "08:00"
people = ["tg:5"]

[[duty]] # Friday evening overlap with both shifts, the same person written as an id
days = ["fri"]
from = "17:00"
to = "21:00"
people = ["tg:1"]

[[duty]] # whole calendar day
days = ["wed"]
from = "00:00"
to = "00:00"
people = ["wecom:li.si"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Duty[1].Days[0] != "fri" {
		t.Errorf("day name not normalised: %q", cfg.Duty[1].Days[0])
	}
	for _, c := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"day shift", shanghai(t, 24, 10, 0), []string{"tg:1", "tg:2"}},
		{"day shift start inclusive", shanghai(t, 24, 8, 30), []string{"tg:1", "tg:2"}},
		{"day shift end exclusive", shanghai(t, 24, 17, 30), nil},
		{"before day shift", shanghai(t, 24, 8, 29), nil},
		{"daily lunch cover after day shift", shanghai(t, 24, 12, 30), []string{"tg:1", "tg:2", "tg:4"}},
		{"daily on saturday", shanghai(t, 28, 12, 59), []string{"tg:4"}},
		{"deduplicated in roster order", shanghai(t, 27, 17, 10), []string{"tg:1", "tg:2"}},
		{"overnight starts friday evening", shanghai(t, 27, 20, 0), []string{"wecom:zhangsan", "tg:1"}},
		{"overnight before midnight", shanghai(t, 27, 23, 59), []string{"wecom:zhangsan", "tg:1"}},
		{"overnight at midnight belongs to friday", shanghai(t, 28, 0, 0), []string{"wecom:zhangsan", "tg:1"}},
		{"overnight early saturday", shanghai(t, 28, 7, 59), []string{"wecom:zhangsan", "tg:1"}},
		{"overnight end exclusive", shanghai(t, 28, 8, 0), nil},
		{"friday early morning is thursday's night, not listed", shanghai(t, 27, 7, 0), nil},
		{"thursday night not listed", shanghai(t, 26, 23, 0), nil},
		{"overnight given in utc", time.Date(2026, 11, 27, 18, 30, 0, 0, time.UTC), []string{"wecom:zhangsan", "tg:1"}}, // Sat 02:30 Shanghai
		{"24h shift not before its start", shanghai(t, 29, 7, 59), nil},
		{"24h shift start", shanghai(t, 29, 8, 0), []string{"tg:5"}},
		{"24h shift with lunch cover, roster order", shanghai(t, 29, 12, 30), []string{"tg:4", "tg:5"}},
		{"24h shift next morning", shanghai(t, 30, 7, 59), []string{"tg:5"}},
		{"24h shift end exclusive", shanghai(t, 30, 8, 0), nil},
		{"whole calendar day start", shanghai(t, 25, 0, 0), []string{"wecom:li.si"}},
		{"whole calendar day end", shanghai(t, 25, 23, 59), []string{"wecom:li.si"}},
		{"after whole calendar day", shanghai(t, 26, 0, 0), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := cfg.OnDuty(c.at); !reflect.DeepEqual(got, c.want) {
				t.Errorf("OnDuty(%v) = %v, want %v", c.at.In(cfg.Location()), got, c.want)
			}
		})
	}

	// The default roster is empty: nobody is ever on duty.
	cfg, err = config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.OnDuty(shanghai(t, 24, 10, 0)); got != nil {
		t.Errorf("empty roster: OnDuty = %v", got)
	}
}

// A webhook secret is the only thing between the internet and "post an
// update as any resident": shorter than 16 characters stops start-up,
// without echoing it.
func TestWebhookSecretLength(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{
		{"15 characters", "abc_DEF-123_ghi", false},
		{"one character", "x", false},
		{"16 characters", "abc_DEF-123_ghi4", true},
		{"48 hex digits", "0123456789abcdef0123456789abcdef0123456789abcdef", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TELEGRAM_WEBHOOK_SECRET", tc.secret)
			_, err := config.Parse([]byte(minimal + "mode = \"webhook\"\nwebhook_url = \"https://e.com/h\"\n"))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := fmt.Sprintf("config: telegram.webhook_secret: must be at least 16 characters (got %d)", len(tc.secret))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want %q", err, want)
			}
			if len(tc.secret) > 4 && strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("the secret is echoed: %v", err)
			}
		})
	}
	// Polling mode does not use it: a short one there is not checked.
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "short")
	if _, err := config.Parse([]byte(minimal)); err != nil {
		t.Fatal(err)
	}
}

// The README says never to put the token in the file: a secret spelled out
// there is named in Warnings (logged at start-up), never with its value;
// ${NAME} and an unset variable are not.
func TestLiteralSecretsWarned(t *testing.T) {
	cleanEnv(t)
	const hook = "literal_webhook-secret_0123456789"
	for _, tc := range []struct {
		name, toml string
		want       []string // keys warned about
	}{
		{"from the environment", minimal, nil},
		{"token in the file", minimal + "token = \"" + testToken + "\"\n", []string{"telegram.token"}},
		{"token and webhook secret in the file", minimal + "token = \"" + testToken + "\"\nmode = \"webhook\"\nwebhook_url = \"https://e.com/h\"\nwebhook_secret = \"" + hook + "\"\n",
			[]string{"telegram.token", "telegram.webhook_secret"}},
		{"a WeCom secret in the file", wecomMinimal + "secret = \"literal-wecom-app-secret\"\n", []string{"wecom.secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wecomEnv(t)
			cfg, err := config.Parse([]byte(tc.toml))
			if err != nil {
				t.Fatal(err)
			}
			ws := cfg.Warnings()
			if len(ws) != len(tc.want) {
				t.Fatalf("warnings %q, want %d naming %v", ws, len(tc.want), tc.want)
			}
			for i, key := range tc.want {
				if !strings.HasPrefix(ws[i], key+" is spelled out in the configuration file") || !strings.Contains(ws[i], "${") {
					t.Errorf("warning %q does not name %s and the ${NAME} form", ws[i], key)
				}
				if strings.Contains(ws[i], testToken) || strings.Contains(ws[i], hook) || strings.Contains(ws[i], "literal-wecom") {
					t.Fatalf("the secret is echoed: %q", ws[i])
				}
			}
		})
	}
}

// outbox.max_attempts no longer fails messages: an old file still loads,
// with a warning naming the key and what replaced it; give_up_after is
// checked like every duration.
func TestMaxAttemptsDeprecated(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TELEGRAM_TOKEN", testToken)
	for _, tc := range []struct {
		name, toml string
		warn       bool
		problem    string
	}{
		{"not set", minimal, false, ""},
		{"left in an old file", minimal + "[outbox]\nmax_attempts = 12\n", true, ""},
		{"give_up_after too short", minimal + "[outbox]\ngive_up_after = \"10m\"\n", false, "outbox.give_up_after"},
		{"give_up_after too long", minimal + "[outbox]\ngive_up_after = \"1000h\"\n", false, "outbox.give_up_after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.toml))
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("err %v, want one naming %s", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range cfg.Warnings() {
				if strings.Contains(w, "outbox.max_attempts no longer fails messages") && strings.Contains(w, "give_up_after (72h0m0s)") {
					found = true
				}
			}
			if found != tc.warn {
				t.Fatalf("warnings %q; want the max_attempts warning: %v", cfg.Warnings(), tc.warn)
			}
			if cfg.Outbox.GiveUpAfter.Duration != 72*time.Hour {
				t.Errorf("give_up_after = %s", cfg.Outbox.GiveUpAfter.Duration)
			}
		})
	}
}
