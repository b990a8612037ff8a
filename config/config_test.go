package config_test

import (
	"errors"
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
				"[outbox]\ngroup_per_minute = 30.0\nper_chat_per_second = nan\nbase_backoff = \"10s\"\nmax_backoff = \"1s\"\nworkers = 0\n" +
				"[store]\nlock_timeout = \"0s\"\n[org]\nticket_prefix = \"bx\"\nprofile = \"hotel\"\ndefault_lang = \"fr\"\n[log]\nlevel = \"loud\"\nformat = \"xml\"\n",
			want: []string{
				`telegram.poll_timeout: must be between 1s and 1m0s (got 1m30s)`,
				`limits.max_description: must be between 10 and 3000 (got 5)`,
				`limits.max_photo_bytes: must be between`,
				`limits.invite_ttl: must be between 1m0s and 720h0m0s (got 10s)`,
				`outbox.group_per_minute: must be greater than 0 and at most 20 (got 30)`,
				`outbox.per_chat_per_second: must be greater than 0 and at most 30 (got NaN)`,
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
	cfg, err = config.Parse([]byte(minimal + "mode = \"webhook\"\nwebhook_url = \"http://localhost:9999/hook\"\nwebhook_secret = \"abc_DEF-123\"\n"))
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
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Category{{Key: "heating", ZH: "暖气", EN: "Heating"}, {Key: "lift", ZH: "电梯", EN: "Lift"}}
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
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "hook_secret_123")
	cfg, err := config.Parse([]byte(minimal + "mode = \"webhook\"\nwebhook_url = \"https://e.com/h\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redacted()
	if r.Telegram.Token != "***" || r.Telegram.WebhookSecret != "***" {
		t.Errorf("not redacted: %q %q", r.Telegram.Token, r.Telegram.WebhookSecret)
	}
	if cfg.Telegram.Token != testToken || cfg.Telegram.WebhookSecret != "hook_secret_123" {
		t.Error("Redacted modified the original")
	}
	r.Telegram.Admins[0] = 42
	r.Categories[0].ZH = "changed"
	if cfg.Telegram.Admins[0] == 42 || cfg.Categories[0].ZH == "changed" {
		t.Error("Redacted shares slices with the original")
	}
	if r.Location().String() != "Asia/Shanghai" {
		t.Error("Redacted lost the location")
	}

	// Unset secrets stay visibly unset.
	cleanEnv(t)
	cfg, err = config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Redacted().Telegram.WebhookSecret; got != "" {
		t.Errorf("empty secret redacted to %q", got)
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
	unsetenv(t, "REPAIRBOT_TEST_UNSET")
	cfg, err := config.Parse([]byte(minimal + `bot_username = "${REPAIRBOT_TEST_UNSET}"
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
		// Validate normalises in place; running it again must agree.
		if err := cfg.Validate(); err != nil {
			t.Fatalf("valid config fails re-validation: %v", err)
		}
	})
}
