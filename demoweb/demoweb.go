// Package demoweb is `repairbot demo -web`: one local page with a phone
// for each person of the demo (a resident, a technician, the technicians'
// group, more on request) beside the lead's office console, all talking to
// the real bot through the simulated Bot API (tgfake).
//
// The phones are a thin client of the fake's own state: a pane shows
// [tgfake.Server.Conversation] of its chat (cards as the bot last edited
// them), the reply keyboard the bot set and the answers to the person's
// taps; what a person does becomes the fake's user actions (SendText,
// SendContact, SendPhotoData, Tap), which the bot receives with getUpdates
// like any Telegram update. Nothing here decides anything the bot would.
//
// The page is for trying the bot, never for production: the server binds
// a loopback address by default, and only `demo -web` starts it.
package demoweb

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
)

//go:embed static
var staticFS embed.FS

// World is one run of the real bot on an empty store against a fake Bot
// API, with the demo script's cast. [Options.Start] builds one; Close
// stops it.
type World struct {
	Fake       *tgfake.Server
	Group      int64
	GroupTitle string
	// Lead is the configured admin (the console's user); Technician and
	// Resident are the script's first two people; Phone is the number the
	// resident shares.
	Lead, Technician, Resident tgfake.User
	Phone                      string
	// Console is the host:port the office console listens on ("": none);
	// the page serves it under /console/.
	Console string
	// Play plays the demo script in this world, asking p before every
	// action; it returns when the script ends or fails.
	Play  func(ctx context.Context, p Player) error
	Close func() error
}

// Player is what a scripted play asks and tells.
type Player struct {
	// Step is called before each action of the script (doing describes it,
	// "" for a photo or a file); an error stops the script.
	Step func(doing string) error
	// Scene hears each scene's number and title.
	Scene func(n, title string)
	// Picture is a real picture for a photo a person sends.
	Picture func(size int) []byte
}

// Options configures the page.
type Options struct {
	// Listen is the page's address (default 127.0.0.1:8090; ":0" picks a port).
	Listen string
	// Lang is the script's first language, "zh" or "en".
	Lang  string
	Texts *i18n.Catalog
	// Start builds a fresh world in lang; base is the page's URL (the
	// console's public URL is base+"/console").
	Start func(ctx context.Context, lang, base string) (*World, error)
	// StepDelay is the pause between two actions of a playing script, so
	// a person can follow it.
	StepDelay time.Duration
	// Wait bounds every wait for the bot (hiring, a console link); default 30 s.
	Wait time.Duration
	Log  zerolog.Logger
}

// Server serves the page.
type Server struct {
	o    Options
	ln   net.Listener
	srv  *http.Server
	base string

	mu      sync.Mutex
	world   *World
	gen     int    // counts worlds
	status  string // "starting", "ready", "failed"
	failure string
	lang    string
	people  []*person
	console string // the lead's current login link (path and query)
	player  playerState
	cancel  context.CancelFunc // stops the playing script
	busy    bool               // a reset is under way
	version uint64
	changed chan struct{} // closed and replaced on every change
	pic     int
	closed  bool
}

// person is one phone of the page.
type person struct {
	user  tgfake.User
	role  string // "resident", "technician", "lead"
	lang  string // the pane's language, "zh" or "en"
	phone string
	pane  bool // shown as a phone (the lead's chat only on request)
	n     int  // the number of an added person (2, 3…), named by it
}

// playerState is the scripted play as the page shows it.
type playerState struct {
	State  string `json:"state"` // "idle", "playing", "paused", "done", "failed", "stopped"
	Scene  string `json:"scene"`
	Doing  string `json:"doing"`
	Steps  int    `json:"steps"`
	Err    string `json:"error,omitempty"`
	paused bool
	tokens int // single steps allowed while paused
}

// New listens and starts the first world (in the background: the page
// shows "starting" until it is ready).
func New(o Options) (*Server, error) {
	if o.Start == nil || o.Texts == nil {
		return nil, errors.New("demoweb: Start and Texts are required")
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8090"
	}
	if o.Lang != "en" {
		o.Lang = "zh"
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	// The page has no login: anyone who reaches it acts as every person
	// of the demo. It stays on this machine.
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("demoweb: listen %q: %w", o.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demoweb: listen %q: the demo page has no login, so it only listens on a loopback address (127.0.0.1, ::1, localhost)", o.Listen)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("demoweb: %w", err)
	}
	s := &Server{o: o, ln: ln, base: "http://" + ln.Addr().String(), lang: o.Lang, changed: make(chan struct{}),
		player: playerState{State: "idle"}}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	s.startReset(o.Lang, false, false)
	return s, nil
}

// URL is the page's address.
func (s *Server) URL() string { return s.base }

// Close stops the page and the world.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	w := s.world
	s.world = nil
	s.bumpLocked()
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if w != nil {
		err = errors.Join(err, w.Close())
	}
	return err
}

// bumpLocked tells every page that something changed. s.mu must be held.
func (s *Server) bumpLocked() {
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) bump() {
	s.mu.Lock()
	s.bumpLocked()
	s.mu.Unlock()
}

// Picture is the n-th bundled sample photo (a JPEG), cycling.
func Picture(n int) []byte {
	names, _ := fs.Glob(staticFS, "static/photos/*.jpg")
	sort.Strings(names)
	if len(names) == 0 {
		return nil
	}
	if n < 0 {
		n = -n
	}
	data, _ := staticFS.ReadFile(names[n%len(names)])
	return data
}

func (s *Server) nextPicture() []byte {
	s.mu.Lock()
	s.pic++
	n := s.pic
	s.mu.Unlock()
	return Picture(n - 1)
}

// ---- worlds ----

// startReset replaces the world with a fresh one in the background: an
// empty store, the same phones. Unless play, the technicians are hired
// (the lead invites each, as in scene 1) so a person can try a repair by
// hand; with play the script starts (paused, one step allowed, if step).
func (s *Server) startReset(lang string, play, step bool) bool {
	s.mu.Lock()
	if s.busy || s.closed {
		s.mu.Unlock()
		return false
	}
	s.busy = true
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	old := s.world
	s.world = nil
	s.gen++
	gen := s.gen
	s.status, s.failure, s.console, s.lang = "starting", "", "", lang
	s.player = playerState{State: "idle"}
	for _, p := range s.people {
		p.lang = lang
	}
	s.bumpLocked()
	s.mu.Unlock()
	go func() {
		err := s.reset(gen, old, lang, play, step)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.busy = false
		if err != nil && gen == s.gen {
			s.status, s.failure = "failed", err.Error()
			s.o.Log.Error().Err(err).Msg("demo -web: starting the bot")
		}
		s.bumpLocked()
	}()
	return true
}

func (s *Server) reset(gen int, old *World, lang string, play, step bool) error {
	if old != nil {
		if err := old.Close(); err != nil {
			s.o.Log.Warn().Err(err).Msg("demo -web: closing the last world")
		}
	}
	w, err := s.o.Start(context.Background(), lang, s.base)
	if err != nil {
		return err
	}
	w.Fake.OnEntry(func(tgfake.Entry) { s.bump() })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return w.Close()
	}
	s.world = w
	code := map[string]string{"zh": "zh-hans", "en": "en"}[lang]
	if len(s.people) == 0 {
		s.people = []*person{
			{user: w.Resident, role: "resident", phone: w.Phone, pane: true},
			{user: w.Technician, role: "technician", pane: true},
			{user: w.Lead, role: "lead"},
		}
	}
	// The script's cast is named in the script's language.
	for _, p := range s.people {
		switch p.user.ID {
		case w.Resident.ID:
			p.user = w.Resident
		case w.Technician.ID:
			p.user = w.Technician
		case w.Lead.ID:
			p.user = w.Lead
		}
		if p.n > 0 {
			p.user.FirstName = s.o.Texts.T(catalogLang(lang), "demoweb.name."+p.role, "n", p.n)
		}
		p.user.LanguageCode, p.lang = code, lang
	}
	var hire []tgfake.User
	for _, p := range s.people {
		if p.role == "technician" {
			hire = append(hire, p.user)
		}
	}
	s.bumpLocked()
	s.mu.Unlock()
	if !play {
		for _, u := range hire {
			if err := s.hire(gen, w, u); err != nil {
				return err
			}
		}
	}
	link, err := s.consoleLink(gen, w)
	if err != nil {
		s.o.Log.Warn().Err(err).Msg("demo -web: no console link")
	}
	s.mu.Lock()
	if gen != s.gen {
		s.mu.Unlock()
		return nil
	}
	s.status, s.console = "ready", link
	if play {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.player = playerState{State: "playing", paused: step, tokens: map[bool]int{true: 1}[step]}
		if step {
			s.player.State = "paused"
		}
		go s.play(ctx, gen, w)
	}
	s.bumpLocked()
	s.mu.Unlock()
	return nil
}

// hire has the lead invite u as a technician and u join with the code,
// through the bot like scene 1.
func (s *Server) hire(gen int, w *World, u tgfake.User) error {
	f, lead := w.Fake, w.Lead
	before := top(f, lead.ID)
	f.SendText(lead, lead.ID, "/invite technician")
	inv, ok := s.waitMessage(gen, f, lead.ID, func(m tgfake.Message) bool { return m.ID > before && strings.Contains(m.Text, "?start=") })
	if !ok {
		return errors.New("demoweb: the bot sent the lead no invite")
	}
	code := strings.Fields(inv.Text[strings.Index(inv.Text, "?start=")+len("?start="):])[0]
	before = top(f, u.ID)
	f.SendText(u, u.ID, "/start "+code)
	if _, ok := s.waitMessage(gen, f, u.ID, func(m tgfake.Message) bool { return m.ID > before }); !ok {
		return fmt.Errorf("demoweb: the bot did not welcome %s", u.FirstName)
	}
	return nil
}

// consoleLink asks the bot for the lead's one-time console link, as the
// lead would with /console, and returns its path and query.
func (s *Server) consoleLink(gen int, w *World) (string, error) {
	if w.Console == "" {
		return "", nil
	}
	f, lead := w.Fake, w.Lead
	before := top(f, lead.ID)
	f.SendText(lead, lead.ID, "/console")
	m, ok := s.waitMessage(gen, f, lead.ID, func(m tgfake.Message) bool { return m.ID > before && strings.Contains(m.Text, "/login?t=") })
	if !ok {
		return "", errors.New("demoweb: the bot sent no console link")
	}
	for _, field := range strings.Fields(m.Text) {
		if strings.Contains(field, "/login?t=") {
			if u, err := url.Parse(field); err == nil {
				return u.RequestURI(), nil
			}
		}
	}
	return "", errors.New("demoweb: no link in the /console answer")
}

// waitMessage waits for a bot message in chat matching pred, as
// tgfake.WaitMessage, and gives up at once when world gen is replaced or
// the page closes.
func (s *Server) waitMessage(gen int, f *tgfake.Server, chat int64, pred func(tgfake.Message) bool) (tgfake.Message, bool) {
	var found tgfake.Message
	stale := false
	f.WaitFor(s.o.Wait, func() bool {
		s.mu.Lock()
		stale = s.closed || s.gen != gen
		s.mu.Unlock()
		if stale {
			return true
		}
		for _, m := range f.Messages(chat) {
			if pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, !stale && found.ID != 0
}

func top(f *tgfake.Server, chat int64) int {
	if ms := f.Conversation(chat); len(ms) > 0 {
		return ms[len(ms)-1].ID
	}
	return 0
}

// ---- the scripted play ----

func (s *Server) play(ctx context.Context, gen int, w *World) {
	p := Player{
		Step:    func(doing string) error { return s.gate(ctx, gen, doing) },
		Scene:   func(n, title string) { s.setPlayer(gen, func(ps *playerState) { ps.Scene = n + " · " + title }) },
		Picture: func(int) []byte { return s.nextPicture() },
	}
	err := w.Play(ctx, p)
	s.setPlayer(gen, func(ps *playerState) {
		switch {
		case ctx.Err() != nil:
			ps.State = "stopped"
		case err != nil:
			ps.State, ps.Err = "failed", err.Error()
		default:
			ps.State, ps.Doing = "done", ""
		}
	})
}

func (s *Server) setPlayer(gen int, fn func(*playerState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen == s.gen {
		fn(&s.player)
		s.bumpLocked()
	}
}

var errStopped = errors.New("demoweb: the script was stopped")

// gate holds the script while paused (a step lets one action through)
// and spaces the actions by StepDelay while playing.
func (s *Server) gate(ctx context.Context, gen int, doing string) error {
	for {
		s.mu.Lock()
		if ctx.Err() != nil || gen != s.gen {
			s.mu.Unlock()
			return errStopped
		}
		ps := &s.player
		if !ps.paused || ps.tokens > 0 {
			if ps.paused {
				ps.tokens--
			}
			ps.Steps++
			ps.Doing = doing
			paused := ps.paused
			s.bumpLocked()
			s.mu.Unlock()
			if !paused && s.o.StepDelay > 0 {
				select {
				case <-time.After(s.o.StepDelay):
				case <-ctx.Done():
					return errStopped
				}
			}
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return errStopped
		}
	}
}

// ---- HTTP ----

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/texts", s.texts)
	mux.HandleFunc("GET /api/view", s.view)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("GET /api/file", s.file)
	mux.HandleFunc("POST /api/{action}", s.action)
	mux.Handle("/console/", s.consoleProxy())
	return mux
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	data, _ := staticFS.ReadFile("static/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-src 'self'; base-uri 'none'")
	_, _ = w.Write(data)
}

// texts are the page's own words in both languages (the demoweb.* keys).
func (s *Server) texts(w http.ResponseWriter, r *http.Request) {
	out := map[string]map[string]string{}
	for _, l := range []flows.Lang{flows.LangZH, flows.LangEN} {
		m := map[string]string{}
		for _, k := range s.o.Texts.Keys(l) {
			if rest, ok := strings.CutPrefix(k, "demoweb."); ok {
				m[rest] = s.o.Texts.T(l, k)
			}
		}
		out[map[flows.Lang]string{flows.LangZH: "zh", flows.LangEN: "en"}[l]] = m
	}
	writeJSON(w, out)
}

// events streams the state's version (server-sent events); the page
// fetches /api/view on each.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	var last uint64 = ^uint64(0)
	keep := time.NewTicker(20 * time.Second)
	defer keep.Stop()
	for {
		s.mu.Lock()
		v, ch, closed := s.version, s.changed, s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		if v != last {
			last = v
			fmt.Fprintf(w, "data: %d\n\n", v)
			fl.Flush()
		}
		select {
		case <-ch:
			// Coalesce a burst of changes (a card edit and its toast).
			select {
			case <-time.After(40 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

type button struct {
	Text    string `json:"text"`
	Data    string `json:"data,omitempty"`
	URL     string `json:"url,omitempty"`
	Contact bool   `json:"contact,omitempty"`
}

type message struct {
	ID      int        `json:"id"`
	Bot     bool       `json:"bot"`
	From    string     `json:"from,omitempty"`
	Text    string     `json:"text,omitempty"`
	Photo   string     `json:"photo,omitempty"`
	Doc     string     `json:"doc,omitempty"`
	DocURL  string     `json:"doc_url,omitempty"`
	Contact string     `json:"contact,omitempty"`
	Buttons [][]button `json:"buttons,omitempty"`
	Edited  bool       `json:"edited,omitempty"`
	Time    string     `json:"time"`
}

type chatView struct {
	Messages []message  `json:"messages"`
	Keyboard [][]button `json:"keyboard,omitempty"`
}

type personView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	Lang string `json:"lang"`
	Pane bool   `json:"pane"`
}

type answerView struct {
	Seq   int    `json:"seq"`
	From  int64  `json:"from"`
	Chat  int64  `json:"chat"`
	Text  string `json:"text"`
	Alert bool   `json:"alert,omitempty"`
}

type stateView struct {
	Gen     int                 `json:"gen"`
	Status  string              `json:"status"`
	Failure string              `json:"failure,omitempty"`
	Lang    string              `json:"lang"`
	Player  playerState         `json:"player"`
	Console string              `json:"console"`
	People  []personView        `json:"people"`
	Group   int64               `json:"group"`
	Title   string              `json:"group_title"`
	Chats   map[string]chatView `json:"chats"`
	Answers []answerView        `json:"answers"`
}

func (s *Server) view(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	v := stateView{Gen: s.gen, Status: s.status, Failure: s.failure, Lang: s.lang, Player: s.player, Console: s.console,
		Chats: map[string]chatView{}, Answers: []answerView{}}
	world := s.world
	var chats []int64
	for _, p := range s.people {
		v.People = append(v.People, personView{ID: p.user.ID, Name: p.user.FirstName, Role: p.role, Lang: p.lang, Pane: p.pane})
		chats = append(chats, p.user.ID)
	}
	s.mu.Unlock()
	if world != nil {
		v.Group, v.Title = world.Group, world.GroupTitle
		f := world.Fake
		for _, id := range append(chats, world.Group) {
			cv := chatView{Messages: []message{}}
			for _, m := range f.Conversation(id) {
				if !m.Deleted {
					cv.Messages = append(cv.Messages, messageView(m))
				}
			}
			if id > 0 {
				cv.Keyboard = buttons(f.ReplyKeyboard(id))
			}
			v.Chats[strconv.FormatInt(id, 10)] = cv
		}
		all := f.CallbackAnswers()
		for i := max(0, len(all)-20); i < len(all); i++ {
			a := all[i]
			v.Answers = append(v.Answers, answerView{Seq: i + 1, From: a.From.ID, Chat: a.ChatID, Text: a.Text, Alert: a.ShowAlert})
		}
	}
	writeJSON(w, v)
}

func messageView(m tgfake.Message) message {
	out := message{ID: m.ID, Bot: m.FromBot, Text: m.Text, Contact: m.Contact, Buttons: buttons(m.Inline), Edited: m.Edits > 0,
		Time: m.Date.Local().Format("15:04")}
	if !m.FromBot {
		out.From = m.From.FirstName
	}
	if m.Caption != "" {
		out.Text = m.Caption
	}
	if m.PhotoFileID != "" {
		out.Photo = "/api/file?id=" + url.QueryEscape(m.PhotoFileID)
	}
	if m.DocumentFileID != "" {
		out.Doc = m.DocumentName
		out.DocURL = "/api/file?id=" + url.QueryEscape(m.DocumentFileID)
	}
	return out
}

func buttons(rows [][]tgfake.Button) [][]button {
	if len(rows) == 0 {
		return nil
	}
	out := make([][]button, len(rows))
	for i, row := range rows {
		for _, b := range row {
			out[i] = append(out[i], button{Text: b.Text, Data: b.Data, URL: b.URL, Contact: b.RequestContact})
		}
	}
	return out
}

// file serves a photo or a document of the fake (what the bot uploaded,
// a picture a person sent); a document comes as a download.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	world := s.world
	s.mu.Unlock()
	id := r.URL.Query().Get("id")
	if world == nil || id == "" {
		http.NotFound(w, r)
		return
	}
	data, ok := world.Fake.FileData(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	name, _, _ := world.Fake.File(id)
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if name != "" {
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	}
	_, _ = w.Write(data)
}

// request is what the page posts.
type request struct {
	User int64  `json:"user"`
	Chat int64  `json:"chat"`
	Msg  int    `json:"msg"`
	Text string `json:"text"`
	Data string `json:"data"`
	Lang string `json:"lang"`
	Role string `json:"role"`
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	// A custom header: another site's page cannot send it without a CORS
	// preflight, which this server never answers.
	if r.Header.Get("X-Demo") != "1" {
		http.Error(w, "missing X-Demo header", http.StatusForbidden)
		return
	}
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.Lang != "" && req.Lang != "zh" && req.Lang != "en" {
		http.Error(w, "lang must be zh or en", http.StatusBadRequest)
		return
	}
	if err := s.do(r.PathValue("action"), req); err != nil {
		// A refusal a person can meet names its catalog key, so the page
		// says it in the person's language; others are for developers.
		var pe pageError
		if errors.As(err, &pe) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": string(pe), "text": s.o.Texts.T(flows.LangEN, "demoweb.err."+string(pe))})
			return
		}
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

// pageError is a refusal a person can meet on the page: the key of its
// text under demoweb.err.
type pageError string

func (e pageError) Error() string { return "demoweb: " + string(e) }

const (
	errBusy       pageError = "busy"
	errEmpty      pageError = "empty"
	errNotPlaying pageError = "not_playing"
	errPlaying    pageError = "playing"
)

// do performs one action of the page.
func (s *Server) do(action string, req request) error {
	switch action {
	case "reset", "play", "step", "pause", "continue":
		return s.control(action, req.Lang)
	}
	s.mu.Lock()
	world, status := s.world, s.status
	var who *person
	var u tgfake.User
	for _, p := range s.people {
		if p.user.ID == req.User {
			who, u = p, p.user
		}
	}
	s.mu.Unlock()
	if world == nil || status != "ready" {
		return errBusy
	}
	f := world.Fake
	if action == "add" {
		return s.add(world, req.Role)
	}
	if action == "console" {
		s.mu.Lock()
		gen := s.gen
		s.mu.Unlock()
		link, err := s.consoleLink(gen, world)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.console = link
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	}
	if who == nil {
		return fmt.Errorf("no person %d on the page", req.User)
	}
	chat := req.Chat
	if chat == 0 {
		chat = u.ID
	}
	if chat != u.ID && chat != world.Group {
		return fmt.Errorf("%s is not in chat %d", u.FirstName, chat)
	}
	switch action {
	case "send":
		text := strings.TrimSpace(req.Text)
		if text == "" {
			return errEmpty
		}
		f.SendText(u, chat, text)
	case "contact":
		f.SendContact(u, who.phone, true)
	case "photo":
		f.SendPhotoData(u, chat, strings.TrimSpace(req.Text), s.nextPicture())
	case "tap":
		// A client sends the callback data of the button it shows, even
		// when the bot has edited the card since (Telegram does the same).
		label := ""
		if m, ok := f.Message(chat, req.Msg); ok {
			for _, row := range m.Inline {
				for _, b := range row {
					if b.Data == req.Data && label == "" {
						label = b.Text
					}
				}
			}
		}
		if label != "" {
			if _, err := f.Tap(u, chat, req.Msg, label); err != nil {
				return err
			}
		} else {
			f.TapData(u, chat, req.Msg, req.Data)
		}
	case "lang":
		if req.Lang == "" {
			return errors.New("which language?")
		}
		s.mu.Lock()
		who.lang = req.Lang
		who.user.LanguageCode = map[string]string{"zh": "zh-hans", "en": "en"}[req.Lang]
		u = who.user
		s.bumpLocked()
		s.mu.Unlock()
		f.SendText(u, u.ID, "/lang "+req.Lang)
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	return nil
}

// control runs the player's buttons.
func (s *Server) control(action, lang string) error {
	s.mu.Lock()
	if lang == "" {
		lang = s.lang
	}
	ps := &s.player
	running := ps.State == "playing" || ps.State == "paused"
	switch {
	case action == "pause" && running:
		ps.paused, ps.State = true, "paused"
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	case action == "continue" && running:
		ps.paused, ps.State = false, "playing"
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	case action == "step" && running:
		ps.paused, ps.State = true, "paused"
		ps.tokens++
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	case action == "play" && running:
		ps.paused, ps.State = false, "playing"
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	case action == "pause" || action == "continue":
		s.mu.Unlock()
		return errNotPlaying
	}
	s.mu.Unlock()
	// reset, or play/step from the start: a new world.
	if !s.startReset(lang, action != "reset", action == "step") {
		return errBusy
	}
	return nil
}

// add puts one more resident or technician (hired at once) on the page,
// or shows the lead's own chat.
func (s *Server) add(world *World, role string) error {
	s.mu.Lock()
	if role != "lead" && (s.player.State == "playing" || s.player.State == "paused") {
		s.mu.Unlock()
		return errPlaying
	}
	n := 1
	for _, p := range s.people {
		if p.role == role {
			n++
		}
		if role == "lead" && p.role == "lead" {
			p.pane = true
			s.bumpLocked()
			s.mu.Unlock()
			return nil
		}
	}
	var p *person
	lang := s.lang
	code := map[string]string{"zh": "zh-hans", "en": "en"}[lang]
	l := catalogLang(lang)
	switch role {
	case "resident":
		p = &person{role: role, pane: true, lang: lang, n: n, phone: fmt.Sprintf("+86138001381%02d", n),
			user: tgfake.User{ID: world.Resident.ID + int64(n) - 1, FirstName: s.o.Texts.T(l, "demoweb.name.resident", "n", n), LanguageCode: code}}
	case "technician":
		p = &person{role: role, pane: true, lang: lang, n: n,
			user: tgfake.User{ID: world.Technician.ID + int64(n) - 1, FirstName: s.o.Texts.T(l, "demoweb.name.technician", "n", n), LanguageCode: code}}
	default:
		s.mu.Unlock()
		return fmt.Errorf("role must be resident, technician or lead (got %q)", role)
	}
	s.people = append(s.people, p)
	gen := s.gen
	s.bumpLocked()
	s.mu.Unlock()
	if role == "technician" {
		return s.hire(gen, world, p.user)
	}
	return nil
}

// consoleProxy serves the world's console under /console/, allowed in
// this page's frame (the console itself forbids every frame).
func (s *Server) consoleProxy() http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			s.mu.Lock()
			addr := ""
			if s.world != nil {
				addr = s.world.Console
			}
			s.mu.Unlock()
			pr.SetURL(&url.URL{Scheme: "http", Host: addr})
			pr.Out.Host = pr.In.Host // the console checks a form's Origin against the Host
		},
		ModifyResponse: func(r *http.Response) error {
			r.Header.Del("X-Frame-Options")
			if csp := r.Header.Get("Content-Security-Policy"); csp != "" {
				r.Header.Set("Content-Security-Policy", strings.ReplaceAll(csp, "frame-ancestors 'none'", "frame-ancestors 'self'"))
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "the console is starting", http.StatusBadGateway)
		},
	}
	// A request during a reset (the page's own stylesheet is the
	// console's) waits for the new world's console.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.NewTimer(s.o.Wait)
		defer deadline.Stop()
		for {
			s.mu.Lock()
			ready := s.closed || s.world != nil && s.world.Console != ""
			ch := s.changed
			s.mu.Unlock()
			if ready {
				break
			}
			select {
			case <-ch:
				continue
			case <-deadline.C:
			case <-r.Context().Done():
				return
			}
			break
		}
		rp.ServeHTTP(w, r)
	})
}

// catalogLang is the catalog's language for the page's "zh" or "en".
func catalogLang(lang string) flows.Lang {
	if lang == "en" {
		return flows.LangEN
	}
	return flows.LangZH
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
