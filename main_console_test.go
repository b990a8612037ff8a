package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
)

// With [web] listen set, Run opens the office console as one more channel
// (channelKinds), /console answers a link on its public_url, the link
// logs the lead in and the board is served; Close stops it. Without it,
// /console says there is no console.
func TestMainServesTheConsole(t *testing.T) {
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[on]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := config.Default()
			cfg.Telegram.Enabled = false
			cfg.Store.DataDir = dir
			cfg.Store.Path = filepath.Join(dir, "repair.db")
			if on {
				cfg.Web.Listen, cfg.Web.PublicURL = "127.0.0.1:0", "http://127.0.0.1:8080/console"
			}
			m := NewMain(cfg)
			if err := m.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			lead := &flows.Person{ID: "tg:7", Role: flows.RoleLead, Name: "陈主管", Registered: true, Lang: flows.LangZH,
				Chat: flows.Address{Channel: "tg", Chat: "7"}}
			if err := m.Store.Update(context.Background(), func(tx flows.Tx) error { return tx.PutPerson(lead) }); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Engine.Handle(context.Background(), flows.Event{Key: "t:1", Kind: flows.EvCommand, Command: "console",
				From: flows.Sender{ID: lead.ID, Chat: lead.Chat}, Chat: lead.Chat}); err != nil {
				t.Fatal(err)
			}
			rows, err := m.Store.Pending(0)
			if err != nil || len(rows) == 0 {
				t.Fatalf("no answer to /console: %v", err)
			}
			text := rows[len(rows)-1].Msg.Text
			if !on {
				if m.Channel("web") != nil || !strings.Contains(text, "[web]") {
					t.Fatalf("console off, yet: %q", text)
				}
				return
			}
			con, ok := m.Channel("web").(*web.Channel)
			if !ok {
				t.Fatalf("no web channel among %d", len(m.Channels))
			}
			const prefix = "http://127.0.0.1:8080/console/login?t="
			i := strings.Index(text, prefix)
			if i < 0 {
				t.Fatalf("no link on public_url in %q", text)
			}
			tok, _ := url.QueryUnescape(strings.Fields(text[i+len(prefix):])[0])
			client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			base := "http://" + con.Addr() + "/console"
			resp, err := client.PostForm(base+"/login", url.Values{"t": {tok}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var session *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == "rb_session" {
					session = c
				}
			}
			if resp.StatusCode != http.StatusSeeOther || session == nil || session.Path != "/console/" {
				t.Fatalf("login: %d, cookie %+v", resp.StatusCode, session)
			}
			req, _ := http.NewRequest("GET", base+"/", nil)
			req.AddCookie(session)
			resp, err = client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "未完成工单") || !strings.Contains(string(body), `href="/console/static/console.css"`) {
				t.Fatalf("board: %d\n%s", resp.StatusCode, body)
			}
			addr := con.Addr()
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := http.Get("http://" + addr + "/console/"); err == nil {
				t.Fatal("still serving after Close")
			}
		})
	}
}

// `repairbot demo -console ADDR` plays the demo, then serves the console
// there and prints a login link that works.
func TestDemoConsole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // free for the demo's console (a race with another process is unlikely and only fails this test)
	served := false
	old := demoServe
	t.Cleanup(func() { demoServe = old })
	demoServe = func(link string) error {
		served = true
		resp, err := http.Get(link)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="login"`) {
			t.Errorf("the printed link: %d\n%s", resp.StatusCode, body)
		}
		return nil
	}
	var out, errs bytes.Buffer
	if err := run([]string{"demo", "-data", t.TempDir(), "-console", addr}, &out, &errs); err != nil {
		t.Fatalf("demo: %v\n%s", err, errs.String())
	}
	if !served || !strings.Contains(out.String(), "http://"+addr+"/login?t=") {
		t.Fatalf("no console link printed:\n%s", out.String())
	}
}
