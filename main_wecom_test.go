package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/config"
)

// weComOnly starts a fake WeCom API, sets the secrets' environment and
// returns the config of a WeCom-only deployment with its store in dataDir.
func weComOnly(t *testing.T, dataDir string) (*wecomfake.Server, string) {
	t.Helper()
	const aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	fake := wecomfake.New(wecomfake.Options{CorpID: "ww0011223344", AgentID: 7, Secret: "app-secret", Token: "tok123", EncodingAESKey: aesKey})
	t.Cleanup(fake.Close)
	t.Setenv("WECOM_SECRET", "app-secret")
	t.Setenv("WECOM_TOKEN", "tok123")
	t.Setenv("WECOM_AES_KEY", aesKey)
	t.Setenv("WECOM_KF_SECRET", "")
	t.Setenv("WECOM_ROBOT_KEY", "")
	return fake, "[telegram]\nenabled = false\n[store]\ndata_dir = \"" + dataDir + "\"\n[wecom]\nenabled = true\ncorp_id = \"ww0011223344\"\nagent_id = 7\n" +
		"api_url = \"" + fake.URL() + "\"\n"
}

// weComOf is the running WeCom channel of m.
func weComOf(t *testing.T, m *Main) *wecom.Channel {
	t.Helper()
	wc, ok := m.Channel("wecom").(*wecom.Channel)
	if !ok {
		t.Fatal("WeCom not wired")
	}
	return wc
}

// TestMainWeComOnly runs the whole program with Telegram off and WeCom on,
// against the fake WeCom API: URL verification and a command round trip.
func TestMainWeComOnly(t *testing.T) {
	fake, data := weComOnly(t, t.TempDir())
	fake.AddChat("techs", "boss")
	data += "group_chat_id = \"techs\"\nadmins = [\"boss\"]\n"
	cfg, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	cfg.WeCom.CallbackListen = "127.0.0.1:0" // a free port; the file must name a real one
	m := NewMain(cfg)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Channels) != 1 || m.Channel("telegram") != nil {
		t.Fatalf("channels %v: want WeCom alone", m.Channels)
	}
	fake.SetCallback("http://" + weComOf(t, m).CallbackAddr() + cfg.WeCom.CallbackPath)
	if code, body, err := fake.VerifyURL("hello"); err != nil || code != 200 || body != "hello" {
		t.Fatalf("URL verification: %d %q %v", code, body, err)
	}
	if code, err := fake.UserText("boss", "/help"); err != nil || code != 200 {
		t.Fatalf("callback: %d %v", code, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(fake.Sent("boss")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no reply to /help")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := fake.Sent("boss")[0].Text; !strings.Contains(got, "/invite") {
		t.Errorf("the configured admin did not get the admin help: %q", got)
	}
}
