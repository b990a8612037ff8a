package demoweb_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/demoweb"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

const (
	token = "123456:DEMOWEB-test"
	group = int64(-100777)
)

// echoBot is a tiny bot on the fake's HTTP Bot API: it invites and
// welcomes technicians, echoes texts with a button, edits the card on a
// tap and answers it. The page must show what it did.
func echoBot(ctx context.Context, t *testing.T, f *tgfake.Server) {
	call := func(method string, params map[string]any) json.RawMessage {
		b, _ := json.Marshal(params)
		resp, err := http.Post(f.URL()+"/bot"+token+"/"+method, "application/json", bytes.NewReader(b))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var env struct {
			Result json.RawMessage `json:"result"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return env.Result
	}
	offset := int64(0)
	for ctx.Err() == nil {
		var ups []struct {
			ID      int64 `json:"update_id"`
			Message *struct {
				Text    string `json:"text"`
				Chat    struct{ ID int64 }
				Photo   []any `json:"photo"`
				Contact *struct {
					Phone string `json:"phone_number"`
				} `json:"contact"`
			} `json:"message"`
			Callback *struct {
				ID      string `json:"id"`
				Data    string `json:"data"`
				Message struct {
					ID   int `json:"message_id"`
					Chat struct{ ID int64 }
				} `json:"message"`
			} `json:"callback_query"`
		}
		_ = json.Unmarshal(call("getUpdates", map[string]any{"offset": offset, "timeout": 1}), &ups)
		for _, u := range ups {
			offset = u.ID + 1
			switch m := u.Message; {
			case m != nil && m.Text == "/console":
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "open http://127.0.0.1:1/console/login?t=TOKEN7 once"})
			case m != nil && m.Text == "/invite technician":
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "https://t.me/bot?start=CODE42"})
			case m != nil && strings.HasPrefix(m.Text, "/start "):
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "welcome"})
			case m != nil && m.Contact != nil:
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "phone " + m.Contact.Phone})
			case m != nil && m.Photo != nil:
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "nice photo"})
			case m != nil && m.Text == "/keyboard":
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "share?",
					"reply_markup": map[string]any{"keyboard": [][]map[string]any{{{"text": "📱 share", "request_contact": true}}}}})
			case m != nil:
				call("sendMessage", map[string]any{"chat_id": m.Chat.ID, "text": "echo: " + m.Text,
					"reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "OK", "callback_data": "ok:1"}}}}})
			case u.Callback != nil:
				c := u.Callback
				call("answerCallbackQuery", map[string]any{"callback_query_id": c.ID, "text": "tapped " + c.Data})
				call("editMessageText", map[string]any{"chat_id": c.Message.Chat.ID, "message_id": c.Message.ID, "text": "done"})
			}
		}
	}
}

type page struct {
	t   *testing.T
	srv *demoweb.Server
	mu  sync.Mutex
	// played counts the script's actions let through.
	played int
	starts int
}

// newPage serves the page on worlds of the echo bot; the script is five
// steps of the resident saying "step N".
func newPage(t *testing.T) *page { return newPageWith(t, "") }

// newPageWith is newPage with the console at that address.
func newPageWith(t *testing.T, console string) *page {
	p := &page{t: t}
	texts := i18n.MustLoad(flows.LangZH)
	srv, err := demoweb.New(demoweb.Options{Listen: "127.0.0.1:0", Lang: "zh", Texts: texts, Wait: 5 * time.Second,
		Start: func(_ context.Context, lang, base string) (*demoweb.World, error) {
			f := tgfake.New(tgfake.Options{Token: token, MaxLongPoll: 200 * time.Millisecond})
			f.AddGroup(group, "Team")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); echoBot(ctx, t, f) }()
			p.mu.Lock()
			p.starts++
			p.mu.Unlock()
			res := tgfake.User{ID: 3001, FirstName: "Fang", LanguageCode: lang}
			return &demoweb.World{Fake: f, Group: group, GroupTitle: "Team", Phone: "+8613800138000", Console: console,
				Lead: tgfake.User{ID: 1001, FirstName: "Chen"}, Technician: tgfake.User{ID: 2001, FirstName: "Zhang"}, Resident: res,
				Play: func(ctx context.Context, pl demoweb.Player) error {
					for i := 1; i <= 5; i++ {
						if err := pl.Step(fmt.Sprintf("step %d", i)); err != nil {
							return err
						}
						p.mu.Lock()
						p.played++
						p.mu.Unlock()
						f.SendText(res, res.ID, fmt.Sprintf("step %d", i))
					}
					return nil
				},
				Close: func() error { cancel(); <-done; f.Close(); return nil }}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	p.srv = srv
	p.until("ready", func(v view) bool { return v.Status == "ready" })
	return p
}

type view struct {
	Console string
	Gen     int
	Status  string
	Player  struct {
		State string
		Steps int
		Doing string
	}
	People []struct {
		ID   int64
		Role string
		Lang string
		Name string
		Pane bool
	}
	Chats map[string]struct {
		Messages []struct {
			ID      int
			Bot     bool
			Text    string
			Photo   string
			Contact string
			Edited  bool
			Buttons [][]struct{ Text, Data string }
		}
		Keyboard [][]struct {
			Text    string
			Contact bool
		}
	}
	Answers []struct {
		From int64
		Chat int64
		Text string
	}
}

func (p *page) view() view {
	p.t.Helper()
	resp, err := http.Get(p.srv.URL() + "/api/view")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v view
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		p.t.Fatal(err)
	}
	return v
}

func (p *page) until(what string, ok func(view) bool) view {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := p.view()
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not within 10 s: %+v", what, v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *page) post(action string, body map[string]any, header bool) (int, string) {
	p.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.srv.URL()+"/api/"+action, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if header {
		req.Header.Set("X-Demo", "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

func (p *page) do(action string, body map[string]any) {
	p.t.Helper()
	if code, msg := p.post(action, body, true); code != http.StatusOK {
		p.t.Fatalf("%s: %d %s", action, code, msg)
	}
}

func last(v view, chat int64) (m struct {
	ID      int
	Bot     bool
	Text    string
	Photo   string
	Contact string
	Edited  bool
	Buttons [][]struct{ Text, Data string }
}) {
	ms := v.Chats[fmt.Sprint(chat)].Messages
	if len(ms) > 0 {
		m = ms[len(ms)-1]
	}
	return m
}

// The phones are the fake's chats: what a person does reaches the bot
// through the Bot API, and the bot's messages, edits, keyboards and
// answers come back as the fake keeps them.
func TestPhones(t *testing.T) {
	p := newPage(t)
	v := p.view()
	if len(v.People) != 3 || v.People[1].Role != "technician" || !strings.Contains(last(v, 2001).Text, "welcome") {
		t.Fatalf("the technician is hired when the world starts: %+v", v)
	}
	tests := []struct {
		name   string
		action string
		body   map[string]any
		want   func(view) bool
	}{
		{"a text, echoed with a button", "send", map[string]any{"user": 3001, "text": "hello"},
			func(v view) bool { m := last(v, 3001); return m.Text == "echo: hello" && len(m.Buttons) == 1 }},
		{"a reply keyboard with the share-contact button", "send", map[string]any{"user": 3001, "text": "/keyboard"},
			func(v view) bool { k := v.Chats["3001"].Keyboard; return len(k) == 1 && k[0][0].Contact }},
		{"the contact shared", "contact", map[string]any{"user": 3001},
			func(v view) bool { return last(v, 3001).Text == "phone +8613800138000" }},
		{"a sample photo", "photo", map[string]any{"user": 3001},
			func(v view) bool { return last(v, 3001).Text == "nice photo" }},
		{"a text in the group", "send", map[string]any{"user": 2001, "chat": group, "text": "on my way"},
			func(v view) bool { return last(v, group).Text == "echo: on my way" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.t = t
			p.do(tc.action, tc.body)
			p.until(tc.name, tc.want)
		})
	}
	p.t = t

	t.Run("the photo is served as a picture", func(t *testing.T) {
		v := p.view()
		var src string
		for _, m := range v.Chats["3001"].Messages {
			if m.Photo != "" {
				src = m.Photo
			}
		}
		resp, err := http.Get(p.srv.URL() + src)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if src == "" || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("photo %q: %d %s", src, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("a tap edits the card in place and answers the tapper", func(t *testing.T) {
		v := p.view()
		var card int
		var data string
		for _, m := range v.Chats[fmt.Sprint(group)].Messages {
			if len(m.Buttons) > 0 {
				card, data = m.ID, m.Buttons[0][0].Data
			}
		}
		p.do("tap", map[string]any{"user": 2001, "chat": group, "msg": card, "data": data})
		v = p.until("the card edited", func(v view) bool {
			for _, m := range v.Chats[fmt.Sprint(group)].Messages {
				if m.ID == card {
					return m.Text == "done" && m.Edited && len(m.Buttons) == 0
				}
			}
			return false
		})
		p.until("the answer", func(v view) bool {
			n := len(v.Answers)
			return n > 0 && v.Answers[n-1].From == 2001 && v.Answers[n-1].Chat == group && v.Answers[n-1].Text == "tapped ok:1"
		})
	})

	t.Run("a second technician is hired", func(t *testing.T) {
		p.do("add", map[string]any{"role": "technician"})
		p.until("hired", func(v view) bool {
			return len(v.People) == 4 && v.People[3].ID == 2002 && last(v, 2002).Text == "welcome"
		})
	})

	t.Run("switching a phone's language tells the bot", func(t *testing.T) {
		p.do("lang", map[string]any{"user": 3001, "lang": "en"})
		p.until("echo", func(v view) bool { return last(v, 3001).Text == "echo: /lang en" && v.People[0].Lang == "en" })
	})
}

// Bad requests get a clear refusal and change nothing.
func TestRefusals(t *testing.T) {
	p := newPage(t)
	before := len(p.view().Chats["3001"].Messages)
	tests := []struct {
		name   string
		action string
		body   map[string]any
		header bool
		code   int
		key    string // the catalog key of a refusal a person can meet
	}{
		{"no X-Demo header (another site's form)", "send", map[string]any{"user": 3001, "text": "hi"}, false, http.StatusForbidden, ""},
		{"a person not on the page", "send", map[string]any{"user": 999, "text": "hi"}, true, http.StatusConflict, ""},
		{"someone else's chat", "send", map[string]any{"user": 3001, "chat": 2001, "text": "hi"}, true, http.StatusConflict, ""},
		{"an empty text", "send", map[string]any{"user": 3001, "text": "  "}, true, http.StatusConflict, `"empty"`},
		{"an unknown language", "lang", map[string]any{"user": 3001, "lang": "fr"}, true, http.StatusBadRequest, ""},
		{"an unknown role", "add", map[string]any{"role": "mayor"}, true, http.StatusConflict, ""},
		{"an unknown action", "dance", map[string]any{"user": 3001}, true, http.StatusConflict, ""},
		{"pause with no script playing", "pause", map[string]any{}, true, http.StatusConflict, `"not_playing"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.t = t
			code, msg := p.post(tc.action, tc.body, tc.header)
			if code != tc.code || strings.TrimSpace(msg) == "" || !strings.Contains(msg, tc.key) {
				t.Fatalf("got %d %q, want %d with a reason %s", code, msg, tc.code, tc.key)
			}
		})
	}
	p.t = t
	time.Sleep(300 * time.Millisecond) // a wrongly accepted text would be echoed by now
	if after := len(p.view().Chats["3001"].Messages); after != before {
		t.Fatalf("refused requests reached the chat: %d -> %d messages", before, after)
	}
}

// The page has no login, so it never listens beyond this machine.
func TestLoopbackOnly(t *testing.T) {
	texts := i18n.MustLoad(flows.LangZH)
	start := func(context.Context, string, string) (*demoweb.World, error) { return nil, errors.New("not started") }
	for _, addr := range []string{":8090", "0.0.0.0:8090", "192.168.1.10:8090", "example.com:8090", "no-port"} {
		t.Run(addr, func(t *testing.T) {
			srv, err := demoweb.New(demoweb.Options{Listen: addr, Texts: texts, Start: start})
			if err == nil {
				srv.Close()
				t.Fatalf("listening on %s", addr)
			}
			if !strings.Contains(err.Error(), addr) {
				t.Fatalf("the refusal does not name the address: %v", err)
			}
		})
	}
}

// The player: step lets one action through, pause holds, continue plays
// to the end; reset is a new world with the phones kept and empty.
func TestPlayer(t *testing.T) {
	p := newPage(t)
	p.do("step", map[string]any{})
	v := p.until("one step", func(v view) bool { return v.Gen == 2 && v.Player.State == "paused" && v.Player.Steps == 1 })
	if v.Player.Doing != "step 1" {
		t.Fatalf("doing %q", v.Player.Doing)
	}
	time.Sleep(100 * time.Millisecond)
	if v := p.view(); v.Player.Steps != 1 {
		t.Fatalf("paused, yet %d steps", v.Player.Steps)
	}
	if v.Chats["2001"].Messages != nil && len(v.Chats["2001"].Messages) != 0 {
		t.Fatalf("a played world hires nobody before the script: %+v", v.Chats["2001"])
	}
	p.do("step", map[string]any{})
	p.until("two steps", func(v view) bool { return v.Player.Steps == 2 && v.Player.State == "paused" })
	if code, _ := p.post("add", map[string]any{"role": "resident"}, true); code != http.StatusConflict {
		t.Fatalf("adding a phone while the script plays: %d", code)
	}
	p.do("add", map[string]any{"role": "lead"}) // the lead's chat, to watch scenes 1b and 8
	p.until("the lead's chat shown", func(v view) bool { return len(v.People) == 3 && v.People[2].Role == "lead" && v.People[2].Pane })
	p.do("continue", map[string]any{})
	v = p.until("done", func(v view) bool { return v.Player.State == "done" && last(v, 3001).Text == "echo: step 5" })
	if v.Player.Steps != 5 {
		t.Fatalf("after the script: %+v", v)
	}

	p.do("add", map[string]any{"role": "resident"})
	p.until("a second resident", func(v view) bool {
		return len(v.People) == 4 && v.People[3].Name == "住户2" && v.People[3].ID == 3002
	})
	p.do("reset", map[string]any{"lang": "en"})
	v = p.until("reset", func(v view) bool { return v.Gen == 3 && v.Status == "ready" })
	if len(v.People) != 4 || v.Player.State != "idle" || len(v.Chats["3001"].Messages) != 0 || v.People[0].Lang != "en" || v.People[3].Name != "Resident 2" {
		t.Fatalf("after reset: %+v", v)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.starts != 3 || p.played != 5 {
		t.Fatalf("worlds started %d, actions played %d", p.starts, p.played)
	}
}

// A reset while the script waits stops it: no action of the old script
// runs afterwards.
func TestResetStopsTheScript(t *testing.T) {
	p := newPage(t)
	p.do("step", map[string]any{})
	p.until("paused", func(v view) bool { return v.Player.State == "paused" && v.Player.Steps == 1 })
	p.do("reset", map[string]any{})
	p.until("reset", func(v view) bool { return v.Gen == 3 && v.Status == "ready" })
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.played != 1 {
		t.Fatalf("the stopped script played %d actions", p.played)
	}
}

// The page updates itself: every change is announced on /api/events.
func TestEvents(t *testing.T) {
	p := newPage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.srv.URL()+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return v
			}
		}
		t.Fatalf("stream ended: %v", errors.Join(sc.Err(), ctx.Err()))
		return ""
	}
	first := next()
	p.do("send", map[string]any{"user": 3001, "text": "ping"})
	if second := next(); second == first {
		t.Fatalf("no new version after a message: %s", second)
	}
}

// The page and its assets are served from the binary; the page names no
// other site.
func TestAssets(t *testing.T) {
	p := newPage(t)
	for _, path := range []string{"/", "/static/demoweb.js", "/static/demoweb.css"} {
		resp, err := http.Get(p.srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(buf.String(), "https://") {
			t.Fatalf("%s: %d (or names another site)", path, resp.StatusCode)
		}
	}
	if len(demoweb.Picture(0)) == 0 || bytes.Equal(demoweb.Picture(0), demoweb.Picture(1)) {
		t.Fatal("the sample photos are not bundled")
	}
	u, _ := url.Parse(p.srv.URL())
	if !strings.HasPrefix(u.Host, "127.0.0.1:") {
		t.Fatalf("served on %s", u.Host)
	}
}

// The console is served inside the page: under /console/, allowed in the
// page's frame, the Host kept (the console checks a form's Origin
// against it), the lead's one-time link asked for when the world starts.
func TestConsoleBehindThePage(t *testing.T) {
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		fmt.Fprintf(w, "console %s host=%s", r.URL.RequestURI(), r.Host)
	}))
	defer console.Close()
	p := newPageWith(t, strings.TrimPrefix(console.URL, "http://"))
	v := p.until("the console link", func(v view) bool { return v.Console != "" })
	if v.Console != "/console/login?t=TOKEN7" {
		t.Fatalf("console link %q", v.Console)
	}
	resp, err := http.Get(p.srv.URL() + v.Console)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	host := strings.TrimPrefix(p.srv.URL(), "http://")
	if string(body) != "console /console/login?t=TOKEN7 host="+host {
		t.Fatalf("proxied: %q", body)
	}
	if resp.Header.Get("X-Frame-Options") != "" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") {
		t.Fatalf("frame headers: %v", resp.Header)
	}
}
