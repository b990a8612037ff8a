// Package wecomfake is an httptest fake of the WeCom API for offline tests
// of bot/wecom. It behaves like the platform where the bot's correctness
// depends on it: the errcode envelope, access tokens that expire (and can
// be made to fail with 40014), message/send's silent drop beyond 30 a
// minute or 1,000 an hour per member (counted, so tests can require zero),
// template card response codes that work once within 72 hours, kf/sync_msg
// cursor paging and media downloads. It also plays the users: it posts
// encrypted callbacks (the same AES-CBC scheme and signature WeCom uses) to
// the bot's handler.
package wecomfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// Options configure the fake.
type Options struct {
	CorpID         string
	AgentID        int64
	Secret         string
	KfSecret       string // default Secret
	Token          string // callback token
	EncodingAESKey string // callback key
	// TokenTTL is the access token lifetime (default 2h).
	TokenTTL time.Duration
	// MemberLimit and MemberWindow: message/send deliveries to one member
	// beyond MemberLimit within any MemberWindow are dropped silently
	// (default 30 per minute); MemberHourLimit per MemberHourWindow likewise
	// (default 1000 per hour).
	MemberLimit      int
	MemberWindow     time.Duration
	MemberHourLimit  int
	MemberHourWindow time.Duration
	// KfPageSize caps sync_msg pages (default 1000, the API's maximum).
	KfPageSize int
	// WelcomeTTL is how long an enter_session welcome_code works (default
	// 20s, as documented for kf/send_msg_on_event).
	WelcomeTTL time.Duration
	// KfQuota messages may go to a customer within KfWindow after the
	// customer's last message (default 5 in 48h); beyond, kf/send_msg
	// answers 95001.
	KfQuota  int
	KfWindow time.Duration
	// RobotLimit posts per RobotWindow a group robot takes; beyond, the
	// webhook answers 45009 (default 20 per minute).
	RobotLimit  int
	RobotWindow time.Duration
	// Now is the platform's clock (default time.Now).
	Now func() time.Time
}

// Button is a template card button as sent.
type Button struct {
	Text string `json:"text"`
	Key  string `json:"key"`
}

// Message is one delivered message/send, appchat/send or kf/send_msg.
type Message struct {
	To      string // member userid, "appchat:<id>" or kf external_userid
	KfID    string
	MsgType string
	Text    string // text content, card title+subtitle or menu head
	TaskID  string
	Buttons []Button // card buttons or menu items (Key = click id)
	MediaID string
	MsgID   string
	At      time.Time
	// OnEvent: sent with kf/send_msg_on_event (a welcome code).
	OnEvent bool
	// Replaced is the text an update_template_card put in place of the
	// card's buttons for this member: they are no longer clickable.
	Replaced string
}

// CardUpdate is one accepted update_template_card.
type CardUpdate struct {
	UserIDs      []string
	All          bool // atall: every member the card went to
	ResponseCode string
	TaskID       string
	ReplaceName  string
}

type code struct {
	user, task string
	issued     time.Time
	used       bool
}

type tokenInfo struct {
	secret  string
	expires time.Time
}

// kfMsg is a sync_msg entry (JSON as the API returns it).
type kfMsg map[string]any

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	o   Options
	srv *httptest.Server
	cb  *http.Client

	mu         sync.Mutex
	callback   string
	tokens     map[string]tokenInfo
	tokenSeq   int
	failTokens int // next calls answered 40014
	failNext   map[string][]int
	members    map[string]bool
	names      map[string]string // display names (user/get); the userid when unset
	chats      map[string][]string
	chatNames  map[string]string
	delivered  map[string][]time.Time
	dropped    map[string]int
	sent       []Message
	updates    []CardUpdate
	codes      map[string]*code
	media      map[string]mediaFile
	kf         []kfMsg
	kfMsgIDs   map[string]bool
	kfDup      int
	calls      map[string]int
	seq        int
	lose       map[string]int           // answers to lose, by path
	hang       map[string]chan struct{} // paths whose calls hang until Release
	welcome    map[string]*welcomeState
	robots     map[string][]time.Time // robot key -> accepted posts
	kfLastIn   map[string]time.Time   // customer's last message, by external_userid
	kfSince    map[string]int         // kf/send_msg since then
	kfOver     int                    // kf sends refused with 95001
	uploads    []Upload
	robotOver  int                 // posts refused with 45009 // enter_session codes
	dupSeen    map[string]dupEntry // message/send duplicate check, by request JSON
	dupHits    int                 // requests the duplicate check swallowed
}

// welcomeState is an issued welcome_code: one message, within WelcomeTTL.
type welcomeState struct {
	kfID, ext string
	issued    time.Time
	used      bool
}

// dupEntry is a message/send request remembered by the duplicate check.
type dupEntry struct {
	at    time.Time
	msgID string
}

type mediaFile struct {
	data    []byte
	created time.Time
}

// New starts the fake.
func New(o Options) *Server {
	if o.KfSecret == "" {
		o.KfSecret = o.Secret
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 2 * time.Hour
	}
	if o.MemberLimit <= 0 {
		o.MemberLimit = 30
	}
	if o.MemberWindow <= 0 {
		o.MemberWindow = time.Minute
	}
	if o.MemberHourLimit <= 0 {
		o.MemberHourLimit = 1000
	}
	if o.MemberHourWindow <= 0 {
		o.MemberHourWindow = time.Hour
	}
	if o.KfPageSize <= 0 {
		o.KfPageSize = 1000
	}
	if o.WelcomeTTL <= 0 {
		o.WelcomeTTL = 20 * time.Second
	}
	if o.KfQuota <= 0 {
		o.KfQuota = 5
	}
	if o.KfWindow <= 0 {
		o.KfWindow = 48 * time.Hour
	}
	if o.RobotLimit <= 0 {
		o.RobotLimit = 20
	}
	if o.RobotWindow <= 0 {
		o.RobotWindow = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, tokens: map[string]tokenInfo{}, failNext: map[string][]int{}, members: map[string]bool{}, names: map[string]string{},
		chats: map[string][]string{}, chatNames: map[string]string{}, delivered: map[string][]time.Time{}, dropped: map[string]int{},
		codes: map[string]*code{}, media: map[string]mediaFile{}, kfMsgIDs: map[string]bool{}, calls: map[string]int{},
		lose: map[string]int{}, hang: map[string]chan struct{}{}, dupSeen: map[string]dupEntry{}, welcome: map[string]*welcomeState{},
		robots: map[string][]time.Time{}, kfLastIn: map[string]time.Time{}, kfSince: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.cb = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil}}
	return s
}

// URL is the API base URL to give the channel.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// SetCallback sets the bot's callback URL the fake posts to.
func (s *Server) SetCallback(u string) { s.mu.Lock(); s.callback = u; s.mu.Unlock() }

// AddMember makes a userid a member in the app's visible range.
func (s *Server) AddMember(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.members[id] = true
	}
}

// SetName gives a member a display name, as user/get returns it.
func (s *Server) SetName(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[id] = true
	s.names[id] = name
}

// AddChat creates an appchat with members.
func (s *Server) AddChat(chatID string, members ...string) {
	s.mu.Lock()
	s.chats[chatID] = members
	s.mu.Unlock()
	s.AddMember(members...)
}

// FailTokens makes the next n authenticated calls answer errcode 40014
// (invalid access_token) and forgets the token they carried.
func (s *Server) FailTokens(n int) { s.mu.Lock(); s.failTokens = n; s.mu.Unlock() }

// FailNext makes the next calls of path (e.g. "/cgi-bin/message/send")
// answer the given errcodes, one per call.
func (s *Server) FailNext(path string, codes ...int) {
	s.mu.Lock()
	s.failNext[path] = append(s.failNext[path], codes...)
	s.mu.Unlock()
}

// AddRobot creates a group robot with its webhook key; its posts are
// listed by Sent("robot").
func (s *Server) AddRobot(key string) {
	s.mu.Lock()
	s.robots[key] = nil
	s.mu.Unlock()
}

// KfRefused is how many kf/send_msg calls were refused for the 5-in-48h
// rule (95001).
func (s *Server) KfRefused() int { s.mu.Lock(); defer s.mu.Unlock(); return s.kfOver }

// KfAge moves a customer's last message d into the past (time passing
// for the 48-hour rule).
func (s *Server) KfAge(ext string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.kfLastIn[ext]; ok {
		s.kfLastIn[ext] = t.Add(-d)
	}
}

// RobotRefused is how many robot posts were refused for exceeding the
// robot's limit (45009).
func (s *Server) RobotRefused() int { s.mu.Lock(); defer s.mu.Unlock(); return s.robotOver }

// robotSend is webhook/send: no access token, the key in the query; a
// wrong key is 93000; more than RobotLimit posts in any RobotWindow is
// 45009 ("每个机器人发送的消息不能超过20条/分钟"); text ≤ 2048 bytes,
// markdown ≤ 4096.
func (s *Server) robotSend(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		writeErr(w, 40035, "invalid json")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	posts, ok := s.robots[key]
	if !ok {
		writeErr(w, 93000, "invalid webhook url")
		return
	}
	m := Message{To: "robot", MsgType: str(b["msgtype"])}
	limit := 0
	switch m.MsgType {
	case "text":
		m.Text, limit = str(obj(b["text"])["content"]), 2048
	case "markdown":
		m.Text, limit = str(obj(b["markdown"])["content"]), 4096
	default:
		writeErr(w, 40008, "invalid message type")
		return
	}
	if m.Text == "" {
		writeErr(w, 44004, "empty content")
		return
	}
	if len(m.Text) > limit {
		writeErr(w, 40058, "content exceeds max length")
		return
	}
	now := s.o.Now()
	var keep []time.Time
	for _, t := range posts {
		if now.Sub(t) < s.o.RobotWindow {
			keep = append(keep, t)
		}
	}
	if len(keep) >= s.o.RobotLimit {
		s.robots[key] = keep
		s.robotOver++
		writeErr(w, 45009, "api freq out of limit")
		return
	}
	s.robots[key] = append(keep, now)
	s.seq++
	m.MsgID, m.At = fmt.Sprintf("msg-%d", s.seq), now
	s.sent = append(s.sent, m)
	writeOK(w, nil)
}

// Hang makes every call of path (say "/cgi-bin/user/get" or
// "/cgi-bin/gettoken") hang without an answer until Release(path), or
// until the caller gives up, as a WeCom API that stopped answering does.
func (s *Server) Hang(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hang[path] == nil {
		s.hang[path] = make(chan struct{})
	}
}

// Release ends Hang(path): the calls waiting go on and are answered.
func (s *Server) Release(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.hang[path]; ch != nil {
		close(ch)
		delete(s.hang, path)
	}
}

// LoseAnswers makes the next n calls of path be processed (a message is
// delivered) but their answer lost: the connection closes without a
// response, as when a network drops the reply.
func (s *Server) LoseAnswers(path string, n int) {
	s.mu.Lock()
	s.lose[path] += n
	s.mu.Unlock()
}

// DuplicatesSuppressed is how many message/send requests the duplicate
// check answered ok without delivering them again.
func (s *Server) DuplicatesSuppressed() int { s.mu.Lock(); defer s.mu.Unlock(); return s.dupHits }

// ExpireTokens makes every issued token expired (errcode 42001).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = s.o.Now().Add(-time.Second)
		s.tokens[k] = t
	}
}

// Calls is how often an API path was called.
func (s *Server) Calls(path string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[path] }

// Sent lists delivered messages to a member ("appchat:<id>" for a group,
// the external_userid for kf), oldest first; "" lists all.
func (s *Server) Sent(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.sent {
		if to == "" || m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Dropped is how many messages to a member WeCom would have dropped
// silently for exceeding the per-member limits ("" sums all members).
func (s *Server) Dropped(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user != "" {
		return s.dropped[user]
	}
	n := 0
	for _, d := range s.dropped {
		n += d
	}
	return n
}

// Updates lists accepted update_template_card calls.
func (s *Server) Updates() []CardUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates)
}

// KfDuplicates counts kf/send_msg calls repeating a msgid (not delivered twice).
func (s *Server) KfDuplicates() int { s.mu.Lock(); defer s.mu.Unlock(); return s.kfDup }

// AddMedia stores a file and returns its media id.
func (s *Server) AddMedia(data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("media-%d", s.seq)
	s.media[id] = mediaFile{data: data, created: s.o.Now()}
	return id
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	s.mu.Lock()
	s.calls[path]++
	lose := s.lose[path] > 0
	if lose {
		s.lose[path]--
	}
	hang := s.hang[path]
	s.mu.Unlock()
	if hang != nil {
		// A call that hangs: no answer until Release, or until the caller
		// gives up.
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if lose {
		// Do the work, then drop the connection instead of answering.
		s.route(httptest.NewRecorder(), r)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	s.route(w, r)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "/cgi-bin/webhook/send" {
		s.robotSend(w, r)
		return
	}
	if path == "/cgi-bin/gettoken" {
		s.getToken(w, r)
		return
	}
	q := r.URL.Query()
	secret, errcode := s.auth(q.Get("access_token"))
	if errcode != 0 {
		writeErr(w, errcode, "access_token invalid or expired")
		return
	}
	s.mu.Lock()
	if f := s.failNext[path]; len(f) > 0 {
		s.failNext[path] = f[1:]
		s.mu.Unlock()
		writeErr(w, f[0], "injected failure")
		return
	}
	s.mu.Unlock()
	if path == "/cgi-bin/media/upload" {
		s.mediaUpload(w, r)
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err := json.Unmarshal(raw, &body); err != nil {
			writeErr(w, 47001, "data format error")
			return
		}
	}
	kfPath := strings.HasPrefix(path, "/cgi-bin/kf/")
	if kfPath && secret != s.o.KfSecret {
		writeErr(w, 48002, "api forbidden")
		return
	}
	switch path {
	case "/cgi-bin/message/send":
		s.messageSend(w, body)
	case "/cgi-bin/message/update_template_card":
		s.updateCard(w, body)
	case "/cgi-bin/appchat/send":
		s.appchatSend(w, body)
	case "/cgi-bin/appchat/create":
		s.appchatCreate(w, body)
	case "/cgi-bin/appchat/get":
		s.mu.Lock()
		m, ok := s.chats[q.Get("chatid")]
		s.mu.Unlock()
		if !ok {
			writeErr(w, 86003, "chat not found")
			return
		}
		writeOK(w, map[string]any{"chat_info": map[string]any{"chatid": q.Get("chatid"), "userlist": m}})
	case "/cgi-bin/user/get":
		// A self-built app reads the name of a member in its visible
		// range (since 2022-06 no longer avatar, mobile, email...).
		id := q.Get("userid")
		s.mu.Lock()
		ok, name := s.members[id], s.names[id]
		s.mu.Unlock()
		if !ok {
			writeErr(w, 60111, "userid not found")
			return
		}
		if name == "" {
			name = id
		}
		writeOK(w, map[string]any{"userid": id, "name": name})
	case "/cgi-bin/media/get":
		s.mediaGet(w, q.Get("media_id"))
	case "/cgi-bin/kf/sync_msg":
		s.syncMsg(w, body)
	case "/cgi-bin/kf/send_msg":
		s.kfSend(w, body)
	case "/cgi-bin/kf/send_msg_on_event":
		s.kfSendOnEvent(w, body)
	default:
		writeErr(w, 404, "unknown api "+path)
	}
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
}

func writeOK(w http.ResponseWriter, v map[string]any) {
	if v == nil {
		v = map[string]any{}
	}
	v["errcode"], v["errmsg"] = 0, "ok"
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("corpid") != s.o.CorpID {
		writeErr(w, 40013, "invalid corpid")
		return
	}
	secret := q.Get("corpsecret")
	if secret != s.o.Secret && secret != s.o.KfSecret {
		writeErr(w, 40001, "invalid credential")
		return
	}
	s.mu.Lock()
	s.tokenSeq++
	tok := fmt.Sprintf("tok-%d-%s", s.tokenSeq, randHex(8))
	s.tokens[tok] = tokenInfo{secret: secret, expires: s.o.Now().Add(s.o.TokenTTL)}
	s.mu.Unlock()
	writeOK(w, map[string]any{"access_token": tok, "expires_in": int(s.o.TokenTTL / time.Second)})
}

// auth checks an access token: 40014 unknown (or injected), 42001 expired.
func (s *Server) auth(tok string) (secret string, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	switch {
	case tok == "":
		return "", 41001
	case !ok:
		return "", 40014
	case s.failTokens > 0:
		s.failTokens--
		delete(s.tokens, tok)
		return "", 40014
	case !s.o.Now().Before(t.expires):
		return "", 42001
	}
	return t.secret, 0
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// allow records a delivery to a member within the limits, or a silent drop.
func (s *Server) allow(user string, now time.Time) bool {
	var keep []time.Time
	for _, t := range s.delivered[user] {
		if now.Sub(t) < s.o.MemberHourWindow {
			keep = append(keep, t)
		}
	}
	s.delivered[user] = keep
	short := 0
	for _, t := range keep {
		if now.Sub(t) < s.o.MemberWindow {
			short++
		}
	}
	if short >= s.o.MemberLimit || len(keep) >= s.o.MemberHourLimit {
		s.dropped[user]++
		return false
	}
	s.delivered[user] = append(keep, now)
	return true
}

func (s *Server) messageSend(w http.ResponseWriter, b map[string]any) {
	if int64(toFloat(b["agentid"])) != s.o.AgentID {
		writeErr(w, 40056, "invalid agentid")
		return
	}
	// enable_duplicate_check: "within the interval, a message with the same
	// content (request JSON) is not received again" — answered ok, not
	// delivered. Default interval 1800 s, at most 4 h.
	var dupKey string
	var dupWindow time.Duration
	if toFloat(b["enable_duplicate_check"]) == 1 {
		iv := toFloat(b["duplicate_check_interval"])
		if iv <= 0 {
			iv = 1800
		}
		if iv > 4*3600 {
			writeErr(w, 40058, "duplicate_check_interval exceeds 4 hours")
			return
		}
		dupWindow = time.Duration(iv) * time.Second
		raw, _ := json.Marshal(b) // maps marshal with sorted keys: canonical
		dupKey = string(raw)
		s.mu.Lock()
		e, ok := s.dupSeen[dupKey]
		if ok && s.o.Now().Sub(e.at) < dupWindow {
			s.dupHits++
			s.mu.Unlock()
			writeOK(w, map[string]any{"invaliduser": "", "msgid": e.msgID})
			return
		}
		s.mu.Unlock()
	}
	mt := str(b["msgtype"])
	m := Message{MsgType: mt}
	switch mt {
	case "text":
		m.Text = str(obj(b["text"])["content"])
		if m.Text == "" {
			writeErr(w, 44004, "empty content")
			return
		}
		if len(m.Text) > 2048 {
			writeErr(w, 45002, "content size out of limit")
			return
		}
	case "image", "file":
		m.MediaID = str(obj(b[mt])["media_id"])
		s.mu.Lock()
		f, ok := s.media[m.MediaID]
		s.mu.Unlock()
		if !ok || s.o.Now().Sub(f.created) > 72*time.Hour {
			writeErr(w, 40007, "invalid media_id")
			return
		}
	case "template_card":
		c := obj(b["template_card"])
		if str(c["card_type"]) != "button_interaction" {
			writeErr(w, 40058, "unsupported card_type")
			return
		}
		m.TaskID = str(c["task_id"])
		m.Text = str(obj(c["main_title"])["title"])
		if sub := str(c["sub_title_text"]); sub != "" {
			m.Text += "\n" + sub
		}
		list, _ := c["button_list"].([]any)
		if m.TaskID == "" || len(list) == 0 || len(list) > 6 {
			writeErr(w, 40058, "invalid task_id or button_list")
			return
		}
		for _, x := range list {
			bt := obj(x)
			m.Buttons = append(m.Buttons, Button{Text: str(bt["text"]), Key: str(bt["key"])})
		}
		s.mu.Lock()
		for _, old := range s.sent {
			if old.TaskID == m.TaskID {
				s.mu.Unlock()
				writeErr(w, 42014, "taskid has existed or empty or exceed max len")
				return
			}
		}
		s.mu.Unlock()
	default:
		writeErr(w, 40008, "invalid message type")
		return
	}
	now := s.o.Now()
	var invalid []string
	s.mu.Lock()
	s.seq++
	m.MsgID = fmt.Sprintf("msg-%d", s.seq)
	m.At = now
	for _, u := range strings.Split(str(b["touser"]), "|") {
		if !s.members[u] {
			invalid = append(invalid, u)
			continue
		}
		if !s.allow(u, now) {
			continue // WeCom answers ok and drops it
		}
		mm := m
		mm.To = u
		s.sent = append(s.sent, mm)
	}
	if dupKey != "" {
		s.dupSeen[dupKey] = dupEntry{at: now, msgID: m.MsgID}
	}
	ans := map[string]any{"invaliduser": strings.Join(invalid, "|"), "msgid": m.MsgID}
	if mt == "template_card" {
		// "发送模版卡片消息后，接口会返回一个response_code": one update
		// of the card, within 72 hours.
		rc := "rc-send-" + randHex(8)
		s.codes[rc] = &code{task: m.TaskID, issued: now}
		ans["response_code"] = rc
	}
	s.mu.Unlock()
	writeOK(w, ans)
}

func toFloat(v any) float64 { f, _ := v.(float64); return f }

func (s *Server) updateCard(w http.ResponseWriter, b map[string]any) {
	rc := str(b["response_code"])
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[rc]
	switch {
	case c == nil:
		writeErr(w, 40098, "invalid response_code")
		return
	case c.used:
		writeErr(w, 40098, "response_code already used")
		return
	case s.o.Now().Sub(c.issued) > 72*time.Hour:
		writeErr(w, 40098, "response_code expired")
		return
	}
	var ids []string
	for _, x := range anyList(b["userids"]) {
		ids = append(ids, str(x))
	}
	all := toFloat(b["atall"]) == 1
	name := str(obj(b["button"])["replace_name"])
	if len(ids) == 0 && !all {
		writeErr(w, 40058, "userids, partyids, tagids or atall required")
		return
	}
	c.used = true
	for i := range s.sent {
		if s.sent[i].TaskID == c.task && (all || slices.Contains(ids, s.sent[i].To)) {
			s.sent[i].Replaced = name
		}
	}
	s.updates = append(s.updates, CardUpdate{UserIDs: ids, All: all, ResponseCode: rc, TaskID: c.task, ReplaceName: name})
	writeOK(w, nil)
}

func anyList(v any) []any { l, _ := v.([]any); return l }

func (s *Server) appchatSend(w http.ResponseWriter, b map[string]any) {
	chat := str(b["chatid"])
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.chats[chat]; !ok {
		writeErr(w, 86003, "chat not found")
		return
	}
	s.seq++
	s.sent = append(s.sent, Message{To: "appchat:" + chat, MsgType: str(b["msgtype"]), Text: str(obj(b["text"])["content"]), At: s.o.Now(), MsgID: fmt.Sprintf("msg-%d", s.seq)})
	writeOK(w, nil)
}

// appchatCreate is appchat/create: userlist of 2..2000 members of the
// app's range (86006 otherwise, 40031 for an unknown userid), an owner
// among them, a chatid of ≤ 32 letters and digits not already taken
// (generated when empty); the name is cut to 50 characters.
func (s *Server) appchatCreate(w http.ResponseWriter, b map[string]any) {
	var users []string
	for _, x := range anyList(b["userlist"]) {
		users = append(users, str(x))
	}
	owner, chatID := str(b["owner"]), str(b["chatid"])
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(users) < 2 || len(users) > 2000:
		writeErr(w, 86006, "invalid chat member list size")
		return
	case owner != "" && !slices.Contains(users, owner):
		writeErr(w, 86004, "owner is not in userlist")
		return
	}
	for _, u := range users {
		if !s.members[u] {
			writeErr(w, 40031, "invalid userid list: "+u)
			return
		}
	}
	if chatID == "" {
		chatID = "wr" + randHex(10)
	}
	valid := len(chatID) <= 32
	for _, c := range chatID {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			valid = false
		}
	}
	if !valid {
		writeErr(w, 40035, "invalid chatid")
		return
	}
	if _, ok := s.chats[chatID]; ok {
		writeErr(w, 86215, "chatid exists")
		return
	}
	s.chats[chatID] = users
	s.chatNames[chatID] = string([]rune(str(b["name"]))[:min(50, len([]rune(str(b["name"]))))])
	writeOK(w, map[string]any{"chatid": chatID})
}

// mediaUpload is media/upload: multipart, field "media"; every file more
// than 5 bytes; image ≤ 10 MB, JPG or PNG (40004 otherwise, 40009 for the
// size); file ≤ 20 MB (40006). The media id lives 3 days.
func (s *Server) mediaUpload(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeErr(w, 47001, "data format error")
		return
	}
	f, hdr, err := r.FormFile("media")
	if err != nil {
		writeErr(w, 41005, "media data missing")
		return
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, 64<<20))
	switch {
	case typ != "image" && typ != "file" && typ != "voice" && typ != "video":
		writeErr(w, 40005, "invalid type")
		return
	case len(data) <= 5:
		writeErr(w, 40006, "invalid file size")
		return
	case typ == "image" && !(bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) || bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n"))):
		writeErr(w, 40004, "invalid media type: image must be JPG or PNG")
		return
	case typ == "image" && len(data) > 10<<20:
		writeErr(w, 40009, "invalid image size")
		return
	case len(data) > 20<<20:
		writeErr(w, 40006, "invalid file size")
		return
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("up-%d", s.seq)
	s.media[id] = mediaFile{data: data, created: s.o.Now()}
	s.uploads = append(s.uploads, Upload{Type: typ, Name: hdr.Filename, Data: data, MediaID: id})
	s.mu.Unlock()
	writeOK(w, map[string]any{"type": typ, "media_id": id, "created_at": strconv.FormatInt(s.o.Now().Unix(), 10)})
}

// Upload is one accepted media/upload.
type Upload struct {
	Type, Name, MediaID string
	Data                []byte
}

// Uploads lists accepted media/upload calls.
func (s *Server) Uploads() []Upload { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.uploads) }

// ChatMembers lists an appchat's members and its name (ok false when it
// does not exist).
func (s *Server) ChatMembers(chatID string) (members []string, name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.chats[chatID]
	return slices.Clone(m), s.chatNames[chatID], ok
}

func (s *Server) mediaGet(w http.ResponseWriter, id string) {
	s.mu.Lock()
	f, ok := s.media[id]
	s.mu.Unlock()
	if !ok || s.o.Now().Sub(f.created) > 72*time.Hour {
		writeErr(w, 40007, "invalid media_id")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(f.data)
}

func (s *Server) syncMsg(w http.ResponseWriter, b map[string]any) {
	cur := str(b["cursor"])
	start := 0
	if cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "c"))
		if err != nil || !strings.HasPrefix(cur, "c") {
			writeErr(w, 95000, "invalid cursor")
			return
		}
		start = n
	}
	limit := int(toFloat(b["limit"]))
	if limit <= 0 || limit > s.o.KfPageSize {
		limit = s.o.KfPageSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start = min(start, len(s.kf))
	end := min(start+limit, len(s.kf))
	page := slices.Clone(s.kf[start:end])
	more := 0
	if end < len(s.kf) {
		more = 1
	}
	writeOK(w, map[string]any{"next_cursor": fmt.Sprintf("c%d", end), "has_more": more, "msg_list": page})
}

// kfContent reads a kf message body's content into m; false for a
// msgtype the fake does not take.
func kfContent(m *Message, b map[string]any) bool {
	switch m.MsgType {
	case "text":
		m.Text = str(obj(b["text"])["content"])
	case "msgmenu":
		mm := obj(b["msgmenu"])
		m.Text = str(mm["head_content"])
		for _, x := range anyList(mm["list"]) {
			it := obj(x)
			if str(it["type"]) == "click" {
				c := obj(it["click"])
				m.Buttons = append(m.Buttons, Button{Text: str(c["content"]), Key: str(c["id"])})
			}
		}
	case "image":
		m.MediaID = str(obj(b["image"])["media_id"])
	default:
		return false
	}
	return true
}

// kfSendOnEvent is kf/send_msg_on_event: a text or menu sent with an
// event's code ("通过事件回调下发,仅可使用一次"); the welcome code of
// enter_session works for one message within 20 seconds. A used, expired
// or unknown code is refused.
func (s *Server) kfSendOnEvent(w http.ResponseWriter, b map[string]any) {
	m := Message{MsgType: str(b["msgtype"]), MsgID: str(b["msgid"]), OnEvent: true}
	if (m.MsgType != "text" && m.MsgType != "msgmenu") || !kfContent(&m, b) {
		writeErr(w, 40008, "invalid message type: send_msg_on_event takes text and msgmenu")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wc := s.welcome[str(b["code"])]
	switch {
	case wc == nil:
		writeErr(w, 95000, "invalid code")
		return
	case wc.used:
		writeErr(w, 95000, "code already used")
		return
	case s.o.Now().Sub(wc.issued) > s.o.WelcomeTTL:
		writeErr(w, 95000, "code expired")
		return
	}
	wc.used = true
	s.seq++
	if m.MsgID == "" {
		m.MsgID = fmt.Sprintf("kfmsg-%d", s.seq)
	}
	s.kfMsgIDs[m.MsgID] = true
	m.To, m.KfID, m.At = wc.ext, wc.kfID, s.o.Now()
	s.sent = append(s.sent, m)
	writeOK(w, map[string]any{"msgid": m.MsgID})
}

func (s *Server) kfSend(w http.ResponseWriter, b map[string]any) {
	m := Message{To: str(b["touser"]), KfID: str(b["open_kfid"]), MsgType: str(b["msgtype"]), MsgID: str(b["msgid"])}
	if !kfContent(&m, b) {
		writeErr(w, 40008, "invalid message type")
		return
	}
	if m.To == "" || m.KfID == "" {
		writeErr(w, 95000, "invalid touser or open_kfid")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.MsgID != "" && s.kfMsgIDs[m.MsgID] {
		s.kfDup++
		writeOK(w, map[string]any{"msgid": m.MsgID})
		return
	}
	// "仅当微信客户在主动发送消息给客服后的48小时内,企业可发送消息给客户,
	// 最多可发送5条消息".
	last, wrote := s.kfLastIn[m.To]
	if !wrote || s.o.Now().Sub(last) >= s.o.KfWindow || s.kfSince[m.To] >= s.o.KfQuota {
		s.kfOver++
		writeErr(w, 95001, "send msg count exceed limit or out of the 48 hours after the customer's last message")
		return
	}
	s.kfSince[m.To]++
	s.seq++
	if m.MsgID == "" {
		m.MsgID = fmt.Sprintf("kfmsg-%d", s.seq)
	}
	s.kfMsgIDs[m.MsgID] = true
	m.At = s.o.Now()
	s.sent = append(s.sent, m)
	writeOK(w, map[string]any{"msgid": m.MsgID})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Encrypt seals a plaintext callback the way WeCom does and returns the
// query (msg_signature, timestamp, nonce) and the POST body.
func (s *Server) Encrypt(plain []byte, receiver string) (url.Values, []byte) {
	random := []byte(randHex(8))
	enc, err := util.EncryptMsg(random, plain, receiver, s.o.EncodingAESKey)
	if err != nil {
		panic(err)
	}
	ts := strconv.FormatInt(s.o.Now().Unix(), 10)
	nonce := strconv.Itoa(int(time.Now().UnixNano() % 1e9))
	sig := util.Signature(s.o.Token, ts, nonce, string(enc))
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt><AgentID><![CDATA[%d]]></AgentID></xml>", receiver, enc, s.o.AgentID)
	return url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}, []byte(body)
}

// PostRaw posts a body with a query to the bot's callback URL and returns
// the HTTP status and body.
func (s *Server) PostRaw(q url.Values, body []byte) (int, string, error) {
	s.mu.Lock()
	u := s.callback
	s.mu.Unlock()
	resp, err := s.cb.Post(u+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// Post encrypts a plaintext callback for the fake's corp and posts it.
func (s *Server) Post(plain string) (int, string, error) {
	q, body := s.Encrypt([]byte(plain), s.o.CorpID)
	return s.PostRaw(q, body)
}

// VerifyURL performs WeCom's GET URL verification with echo as the
// plaintext and returns status and answer.
func (s *Server) VerifyURL(echo string) (int, string, error) {
	enc, err := util.EncryptMsg([]byte(randHex(8)), []byte(echo), s.o.CorpID, s.o.EncodingAESKey)
	if err != nil {
		return 0, "", err
	}
	ts := strconv.FormatInt(s.o.Now().Unix(), 10)
	nonce := randHex(4)
	q := url.Values{"msg_signature": {util.Signature(s.o.Token, ts, nonce, string(enc))}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {string(enc)}}
	s.mu.Lock()
	u := s.callback
	s.mu.Unlock()
	resp, err := s.cb.Get(u + "?" + q.Encode())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func cdata(s string) string {
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

func (s *Server) nextMsgID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return strconv.Itoa(1_000_000 + s.seq)
}

// TextXML is the plaintext of a member's text message.
func (s *Server) TextXML(user, text string) string {
	return fmt.Sprintf("<xml><ToUserName>%s</ToUserName><FromUserName>%s</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>%s</Content><MsgId>%s</MsgId><AgentID>%d</AgentID></xml>",
		cdata(s.o.CorpID), cdata(user), s.o.Now().Unix(), cdata(text), s.nextMsgID(), s.o.AgentID)
}

// UserText posts a member's text message.
func (s *Server) UserText(user, text string) (int, error) {
	st, _, err := s.Post(s.TextXML(user, text))
	return st, err
}

// UserImage stores data as media and posts a member's image message.
func (s *Server) UserImage(user string, data []byte) (int, error) {
	id := s.AddMedia(data)
	x := fmt.Sprintf("<xml><ToUserName>%s</ToUserName><FromUserName>%s</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://example.invalid/p.jpg]]></PicUrl><MediaId>%s</MediaId><MsgId>%s</MsgId><AgentID>%d</AgentID></xml>",
		cdata(s.o.CorpID), cdata(user), s.o.Now().Unix(), cdata(id), s.nextMsgID(), s.o.AgentID)
	st, _, err := s.Post(x)
	return st, err
}

// UserLocation posts a member's location message.
func (s *Server) UserLocation(user string) (int, error) {
	x := fmt.Sprintf("<xml><ToUserName>%s</ToUserName><FromUserName>%s</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>31.2</Location_X><Location_Y>121.4</Location_Y><Scale>15</Scale><Label><![CDATA[上海]]></Label><MsgId>%s</MsgId><AgentID>%d</AgentID></xml>",
		cdata(s.o.CorpID), cdata(user), s.o.Now().Unix(), s.nextMsgID(), s.o.AgentID)
	st, _, err := s.Post(x)
	return st, err
}

// MenuXML is the plaintext of an app menu click.
func (s *Server) MenuXML(user, key string) string {
	return fmt.Sprintf("<xml><ToUserName>%s</ToUserName><FromUserName>%s</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey>%s</EventKey><AgentID>%d</AgentID></xml>",
		cdata(s.o.CorpID), cdata(user), s.o.Now().Unix(), cdata(key), s.o.AgentID)
}

// ClickXML issues a fresh response code for a click on a card and returns
// the template_card_event plaintext.
func (s *Server) ClickXML(user, taskID, key string) (plain, responseCode string) {
	s.mu.Lock()
	rc := "rc-" + randHex(8)
	s.codes[rc] = &code{user: user, task: taskID, issued: s.o.Now()}
	s.mu.Unlock()
	return fmt.Sprintf("<xml><ToUserName>%s</ToUserName><FromUserName>%s</FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey>%s</EventKey><TaskId>%s</TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode>%s</ResponseCode><AgentID>%d</AgentID></xml>",
		cdata(s.o.CorpID), cdata(user), s.o.Now().Unix(), cdata(key), cdata(taskID), cdata(rc), s.o.AgentID), rc
}

// Click presses the card button whose text contains label on the latest
// card sent to user that has one, and posts the event.
func (s *Server) Click(user, label string) (status int, responseCode string, err error) {
	card, b, ok := s.FindButton(user, label)
	if !ok {
		return 0, "", fmt.Errorf("wecomfake: no card button %q for %s", label, user)
	}
	x, rc := s.ClickXML(user, card.TaskID, b.Key)
	st, _, err := s.Post(x)
	return st, rc, err
}

// FindButton finds the newest card to user with a button whose text
// contains label.
func (s *Server) FindButton(user, label string) (Message, Button, bool) {
	sent := s.Sent(user)
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].Replaced != "" {
			continue // updated: the buttons are not clickable any more
		}
		for _, b := range sent[i].Buttons {
			if strings.Contains(b.Text, label) {
				return sent[i], b, true
			}
		}
	}
	return Message{}, Button{}, false
}

// kfNotify posts the kf_msg_or_event callback.
func (s *Server) kfNotify(kfID string) (int, error) {
	x := fmt.Sprintf("<xml><ToUserName>%s</ToUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token>%s</Token><OpenKfId>%s</OpenKfId></xml>",
		cdata(s.o.CorpID), s.o.Now().Unix(), cdata("kftok-"+randHex(4)), cdata(kfID))
	st, _, err := s.Post(x)
	return st, err
}

// AddKf appends a sync_msg entry without a callback (a lost callback).
func (s *Server) AddKf(m map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("kfin-%d", s.seq)
	m["msgid"] = id
	if _, ok := m["send_time"]; !ok {
		m["send_time"] = s.o.Now().Unix()
	}
	if o, _ := m["origin"].(int); o == 3 {
		if ext, _ := m["external_userid"].(string); ext != "" {
			s.kfLastIn[ext], s.kfSince[ext] = s.o.Now(), 0
		}
	}
	s.kf = append(s.kf, kfMsg(m))
	return id
}

// KfText is a customer's text (origin 3) followed by the callback.
func (s *Server) KfText(kfID, ext, text string) (int, error) {
	s.AddKf(map[string]any{"open_kfid": kfID, "external_userid": ext, "origin": 3, "msgtype": "text", "text": map[string]any{"content": text}})
	return s.kfNotify(kfID)
}

// KfMenuClick is a customer's click on a msgmenu item (a text message with
// its menu_id) followed by the callback.
func (s *Server) KfMenuClick(kfID, ext, label string) (int, error) {
	for _, m := range slices.Backward(s.Sent(ext)) {
		for _, b := range m.Buttons {
			if strings.Contains(b.Text, label) {
				s.AddKf(map[string]any{"open_kfid": kfID, "external_userid": ext, "origin": 3, "msgtype": "text", "text": map[string]any{"content": b.Text, "menu_id": b.Key}})
				return s.kfNotify(kfID)
			}
		}
	}
	return 0, fmt.Errorf("wecomfake: no menu item %q for %s", label, ext)
}

// KfImage is a customer's image followed by the callback.
func (s *Server) KfImage(kfID, ext string, data []byte) (int, error) {
	id := s.AddMedia(data)
	s.AddKf(map[string]any{"open_kfid": kfID, "external_userid": ext, "origin": 3, "msgtype": "image", "image": map[string]any{"media_id": id}})
	return s.kfNotify(kfID)
}

// KfEnter is the enter_session event (the customer opened the chat).
// The event carries a welcome_code (valid WelcomeTTL, once) for
// kf/send_msg_on_event.
func (s *Server) KfEnter(kfID, ext string) (int, error) {
	code := "wc-" + randHex(4)
	s.mu.Lock()
	s.welcome[code] = &welcomeState{kfID: kfID, ext: ext, issued: s.o.Now()}
	s.mu.Unlock()
	s.AddKf(map[string]any{"open_kfid": kfID, "external_userid": "", "origin": 4, "msgtype": "event",
		"event": map[string]any{"event_type": "enter_session", "open_kfid": kfID, "external_userid": ext, "scene": "123", "welcome_code": code}})
	return s.kfNotify(kfID)
}

// KfNotify posts only the callback.
func (s *Server) KfNotify(kfID string) (int, error) { return s.kfNotify(kfID) }
