package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/config"
)

const (
	wecomAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	// wecomMinimal is a complete WeCom-only deployment.
	wecomMinimal = "[telegram]\nenabled = false\n[wecom]\nenabled = true\ncorp_id = \"ww1234567890abcdef\"\nagent_id = 1000002\n"
)

func wecomEnv(t *testing.T) {
	t.Helper()
	cleanEnv(t)
	t.Setenv("WECOM_SECRET", "app-secret-value")
	t.Setenv("WECOM_TOKEN", "QDG6eK")
	t.Setenv("WECOM_AES_KEY", wecomAESKey)
	unsetenv(t, "WECOM_KF_SECRET")
}

func TestWeComExampleEqualsDefaults(t *testing.T) {
	wecomEnv(t)
	cfg, err := config.Load(examplePth)
	if err != nil {
		t.Fatal(err)
	}
	def := config.Default()
	def.ExpandEnv()
	if !reflect.DeepEqual(cfg.WeCom, def.WeCom) {
		// The example writes admins = [], the default is nil.
		if !(len(cfg.WeCom.Admins) == 0 && len(def.WeCom.Admins) == 0) {
			t.Fatalf("[wecom] in example differs from defaults:\n got %+v\nwant %+v", cfg.WeCom, def.WeCom)
		}
		a, b := cfg.WeCom, def.WeCom
		a.Admins, b.Admins = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("[wecom] in example differs from defaults:\n got %+v\nwant %+v", a, b)
		}
	}
	if cfg.WeCom.Enabled || cfg.WeCom.APIURL != "https://qyapi.weixin.qq.com" || cfg.WeCom.TimestampWindow.Duration != 5*time.Minute {
		t.Errorf("defaults: %+v", cfg.WeCom)
	}
}

func TestWeComOffUnlessConfigured(t *testing.T) {
	cleanEnv(t)
	unsetenv(t, "WECOM_SECRET")
	unsetenv(t, "WECOM_TOKEN")
	unsetenv(t, "WECOM_AES_KEY")
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatalf("wecom off must need nothing: %v", err)
	}
	if cfg.WeCom.Enabled {
		t.Error("wecom enabled by default")
	}
}

func TestWeComValid(t *testing.T) {
	wecomEnv(t)
	cfg, err := config.Parse([]byte(wecomMinimal + "admins = [\"zhangsan\"]\ngroup_chat_id = \"chat1\"\nkf_enabled = true\napi_url = \"http://127.0.0.1:9/\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.WeCom
	if w.Secret != "app-secret-value" || w.Token != "QDG6eK" || w.EncodingAESKey != wecomAESKey || w.KfSecret != "" ||
		w.APIURL != "http://127.0.0.1:9" || w.AgentID != 1000002 || !reflect.DeepEqual(w.Admins, []string{"zhangsan"}) {
		t.Errorf("got %+v", w)
	}
	r := cfg.Redacted()
	if r.WeCom.Secret != "***" || r.WeCom.Token != "***" || r.WeCom.EncodingAESKey != "***" || r.WeCom.KfSecret != "" {
		t.Errorf("not redacted: %+v", r.WeCom)
	}
	r.WeCom.Admins[0] = "x"
	if cfg.WeCom.Admins[0] != "zhangsan" {
		t.Error("Redacted shares wecom.admins")
	}
}

// TestWeComHalfConfigured: an enabled channel missing keys fails naming each.
func TestWeComHalfConfigured(t *testing.T) {
	cleanEnv(t)
	unsetenv(t, "WECOM_SECRET")
	unsetenv(t, "WECOM_TOKEN")
	t.Setenv("WECOM_AES_KEY", wecomAESKey)
	_, err := config.Parse([]byte("[telegram]\nenabled = false\n[wecom]\nenabled = true\n"))
	if err == nil {
		t.Fatal("half-configured wecom accepted")
	}
	var keys []string
	for _, p := range config.Problems(err) {
		keys = append(keys, p.Key)
	}
	want := []string{"wecom.corp_id", "wecom.agent_id", "wecom.secret", "wecom.token"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys = %v, want %v\n%v", keys, want, err)
	}
	if !strings.Contains(err.Error(), "WECOM_SECRET is not set") {
		t.Errorf("should name the variable: %v", err)
	}
}

func TestWeComProblems(t *testing.T) {
	for name, c := range map[string]struct{ toml, key string }{
		"short aes key":    {wecomMinimal + "encoding_aes_key = \"abc\"\n", "wecom.encoding_aes_key"},
		"bad path":         {wecomMinimal + "callback_path = \"cb\"\n", "wecom.callback_path"},
		"bad kf path":      {wecomMinimal + "kf_callback_path = \"kf\"\n", "wecom.kf_callback_path"},
		"bad listen":       {wecomMinimal + "callback_listen = \"8090\"\n", "wecom.callback_listen"},
		"bad api url":      {wecomMinimal + "api_url = \"ftp://x\"\n", "wecom.api_url"},
		"window too small": {wecomMinimal + "timestamp_window = \"1s\"\n", "wecom.timestamp_window"},
		"bad admin":        {wecomMinimal + "admins = [\"a b\"]\n", "wecom.admins[0]"},
		"dup admin":        {wecomMinimal + "admins = [\"a\", \"a\"]\n", "wecom.admins[1]"},
		"bad group":        {wecomMinimal + "group_chat_id = \"a b\"\n", "wecom.group_chat_id"},
		"bad corp":         {"[telegram]\nenabled = false\n[wecom]\nenabled = true\ncorp_id = \"w w\"\nagent_id = 1\n", "wecom.corp_id"},
		"bad token":        {wecomMinimal + "token = \"has space\"\n", "wecom.token"},
		"bad robot key":    {wecomMinimal + "group_robot_key = \"has space\"\n", "wecom.group_robot_key"},
		"robot and chat":   {wecomMinimal + "group_robot_key = \"693a91f6-7xxx\"\ngroup_chat_id = \"chat1\"\n", "wecom.group_robot_key"},
		"dup check > 4h":   {wecomMinimal + "duplicate_check_interval = \"5h\"\n", "wecom.duplicate_check_interval"},
		"dup check < 1s":   {wecomMinimal + "duplicate_check_interval = \"500ms\"\n", "wecom.duplicate_check_interval"},
	} {
		t.Run(name, func(t *testing.T) {
			wecomEnv(t)
			_, err := config.Parse([]byte(c.toml))
			probs := config.Problems(err)
			if len(probs) != 1 || probs[0].Key != c.key {
				t.Fatalf("want one problem on %s, got %v", c.key, err)
			}
		})
	}
}

// TestWeComRobotKey: the robot key comes from the environment, is
// redacted, and is never echoed in an error.
func TestWeComRobotKey(t *testing.T) {
	wecomEnv(t)
	t.Setenv("WECOM_ROBOT_KEY", "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa")
	cfg, err := config.Parse([]byte(wecomMinimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WeCom.GroupRobotKey != "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa" || cfg.Redacted().WeCom.GroupRobotKey != "***" {
		t.Fatalf("key %q, redacted %q", cfg.WeCom.GroupRobotKey, cfg.Redacted().WeCom.GroupRobotKey)
	}
	t.Setenv("WECOM_ROBOT_KEY", "secret key with spaces")
	_, err = config.Parse([]byte(wecomMinimal))
	if err == nil || strings.Contains(err.Error(), "secret key") || !strings.Contains(err.Error(), "wecom.group_robot_key") {
		t.Fatalf("got %v", err)
	}
}

func TestWeComSecretsNeverInErrors(t *testing.T) {
	wecomEnv(t)
	const secret = "TopSecretAESKeyValue"
	t.Setenv("WECOM_AES_KEY", secret)
	_, err := config.Parse([]byte(wecomMinimal))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("got %v", err)
	}
}

func TestWeComEnvExpansion(t *testing.T) {
	wecomEnv(t)
	t.Setenv("CORP", "ww0011223344")
	t.Setenv("ADMIN", "lisi")
	t.Setenv("WECOM_KF_SECRET", "kf-secret")
	cfg, err := config.Parse([]byte("[telegram]\nenabled = false\n[wecom]\nenabled = true\ncorp_id = \"${CORP}\"\nagent_id = 7\nadmins = [\"${ADMIN}\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WeCom.CorpID != "ww0011223344" || cfg.WeCom.Admins[0] != "lisi" || cfg.WeCom.KfSecret != "kf-secret" {
		t.Errorf("got %+v", cfg.WeCom)
	}
}
