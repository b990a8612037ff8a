package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Default option values.
const (
	DefaultBotID       int64 = 7000000001
	DefaultBotUsername       = "repair_demo_bot"
	DefaultMaxLongPoll       = time.Second
)

// botFirstName is the first name reported by getMe.
const botFirstName = "Repair Bot"

// maxBodyBytes caps request bodies (Telegram accepts uploads up to 50 MB).
const maxBodyBytes = 60 << 20

// Options configures a fake server.
type Options struct {
	// Token is the bot token the server accepts; required.
	Token string
	// BotID is the bot's user id (default 7000000001).
	BotID int64
	// BotUsername is the bot's username without "@" (default "repair_demo_bot").
	BotUsername string
	// EnforceLimits turns on flood control for sendMessage, sendPhoto,
	// sendDocument, editMessageText, editMessageReplyMarkup and
	// editMessageCaption: per private chat 1 message per second with a burst
	// of 3, per group (chat id < 0) 20 messages per rolling 60 s, globally 30
	// messages per rolling second. Beyond that the server answers 429 "Too
	// Many Requests: retry after N" with parameters.retry_after = N.
	EnforceLimits bool
	// MaxLongPoll caps the getUpdates timeout (default 1s) so tests stay fast.
	MaxLongPoll time.Duration
	// WebhookConnections is how many webhook posts may be in flight at
	// once (at most the webhook's max_connections), as Telegram delivers
	// on up to max_connections parallel connections: updates are posted
	// in id order as connections free up, a failed one is retried with
	// backoff while the others go on, and updates of one chat may be in
	// flight together, so the bot must dedupe and serialise a chat
	// itself. 0 or 1 posts one update at a time, in order, the next only
	// after the previous one was answered with 2xx.
	WebhookConnections int
}

// Server is a running fake Telegram Bot API server. All methods are safe for
// concurrent use.
type Server struct {
	opts Options
	ts   *httptest.Server
	bot  models.User

	closeOnce sync.Once
	closeCh   chan struct{}
	whMu      sync.Mutex // serialises webhook (re)configuration
	whClient  *http.Client
	whTrans   *http.Transport
	flushMu   sync.Mutex // serialises OnEntry delivery

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool

	// updates
	nextUpdateID int64
	pending      []models.Update
	confirmed    int64
	delivered    map[int64]int
	// history is every update ever queued, in id order, so Redeliver can
	// serve confirmed ones again; holdFrom > 0 keeps updates with
	// update_id >= holdFrom out of getUpdates answers (Hold).
	history  []models.Update
	holdFrom int64
	allowed  map[string]bool // nil: every update type
	pollGen  uint64

	// chats
	privateOK map[int64]bool
	users     map[int64]User
	groups    map[int64]string
	blocked   map[int64]bool
	chats     map[int64]*chatState

	// files
	files   map[string]*fileRec
	paths   map[string]*fileRec
	fileSeq int64

	// callback queries
	querySeq int64
	queries  map[string]*queryRec
	answers  []CallbackAnswer
	// answerCalls counts answerCallbackQuery calls per query id, refused
	// ones (already answered) included.
	answerCalls map[string]int

	commands map[string][]models.BotCommand
	calls    map[string]int
	tooMany  int
	failures map[string][]apiError
	// outage > 0 answers every Bot API call with that HTTP status (Outage);
	// outageCalls counts the calls refused so.
	outage      int
	outageCalls int
	limits      limiter
	otherSeq    int64
	webhook     *webhookState
	whInfo      webhookStatus
	entries     []Entry
	entryQ      []Entry
	entryFns    []func(Entry)
}

// New starts a fake server on a local port. Call Close when done.
func New(opts Options) *Server {
	if opts.Token == "" {
		panic("tgfake: Options.Token is required")
	}
	if opts.BotID == 0 {
		opts.BotID = DefaultBotID
	}
	if opts.BotUsername == "" {
		opts.BotUsername = DefaultBotUsername
	}
	if opts.MaxLongPoll <= 0 {
		opts.MaxLongPoll = DefaultMaxLongPoll
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 5 * time.Second}
	s := &Server{
		opts:         opts,
		bot:          models.User{ID: opts.BotID, IsBot: true, FirstName: botFirstName, Username: opts.BotUsername},
		closeCh:      make(chan struct{}),
		whTrans:      tr,
		whClient:     &http.Client{Transport: tr, Timeout: 10 * time.Second},
		changed:      make(chan struct{}),
		nextUpdateID: 100000001,
		delivered:    map[int64]int{},
		privateOK:    map[int64]bool{},
		users:        map[int64]User{},
		groups:       map[int64]string{},
		blocked:      map[int64]bool{},
		chats:        map[int64]*chatState{},
		files:        map[string]*fileRec{},
		paths:        map[string]*fileRec{},
		queries:      map[string]*queryRec{},
		answerCalls:  map[string]int{},
		commands:     map[string][]models.BotCommand{},
		calls:        map[string]int{},
		failures:     map[string][]apiError{},
		limits:       newLimiter(),
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL returns the base URL of the server, suitable for bot.WithServerURL.
func (s *Server) URL() string { return s.ts.URL }

// Close stops webhook delivery, wakes pending long polls and shuts the HTTP
// server down. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.whMu.Lock()
		s.mu.Lock()
		s.closed = true
		wh := s.webhook
		s.webhook = nil
		close(s.closeCh)
		s.notifyLocked()
		s.mu.Unlock()
		if wh != nil {
			wh.stop()
		}
		s.whMu.Unlock()
		s.ts.Close()
		s.whTrans.CloseIdleConnections()
	})
}

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// apiError is a failed API answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

func forbidden(desc string) *apiError {
	return &apiError{code: http.StatusForbidden, desc: "Forbidden: " + desc}
}

var (
	errUnauthorized = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"}
	errNotFound     = &apiError{code: http.StatusNotFound, desc: "Not Found"}
)

type respParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

type envelope struct {
	OK          bool        `json:"ok"`
	Result      any         `json:"result,omitempty"`
	ErrorCode   int         `json:"error_code,omitempty"`
	Description string      `json:"description,omitempty"`
	Parameters  *respParams `json:"parameters,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: ` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorEnvelope(e *apiError) (int, envelope) {
	env := envelope{OK: false, ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 {
		env.Parameters = &respParams{RetryAfter: e.retryAfter}
	}
	return e.code, env
}

func writeError(w http.ResponseWriter, e *apiError) {
	status, env := errorEnvelope(e)
	writeJSON(w, status, env)
}

// call is one parsed API request.
type call struct {
	ctx    context.Context
	method string // lower case
	p      map[string]string
	files  map[string]*upload
}

// upload is a file part of a multipart request.
type upload struct {
	name string
	data []byte
}

func (c *call) has(k string) bool {
	_, ok := c.p[k]
	return ok
}

func (c *call) str(k string) string { return c.p[k] }

// int64 parses an integer parameter; ok is false when it is absent.
func (c *call) int64(k string) (v int64, ok bool, err error) {
	raw, present := c.p[k]
	raw = strings.TrimSpace(raw)
	if !present || raw == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(raw, 10, 64)
	return v, true, err
}

func (c *call) intOr(k string, def int) int {
	v, ok, err := c.int64(k)
	if !ok || err != nil {
		return def
	}
	return int(v)
}

func (c *call) boolean(k string) bool {
	switch strings.ToLower(strings.TrimSpace(c.p[k])) {
	case "true", "1", "yes":
		return true
	}
	return false
}

type handlerFunc func(s *Server, c *call) (any, *apiError)

// handlers maps lower-case method names to implementations.
var handlers map[string]handlerFunc

func init() {
	handlers = map[string]handlerFunc{
		"getme":                  (*Server).hGetMe,
		"getupdates":             (*Server).hGetUpdates,
		"setwebhook":             (*Server).hSetWebhook,
		"deletewebhook":          (*Server).hDeleteWebhook,
		"getwebhookinfo":         (*Server).hGetWebhookInfo,
		"sendmessage":            (*Server).hSendMessage,
		"sendphoto":              (*Server).hSendPhoto,
		"senddocument":           (*Server).hSendDocument,
		"editmessagetext":        (*Server).hEditMessageText,
		"editmessagereplymarkup": (*Server).hEditMessageReplyMarkup,
		"editmessagecaption":     (*Server).hEditMessageCaption,
		"answercallbackquery":    (*Server).hAnswerCallbackQuery,
		"setmycommands":          (*Server).hSetMyCommands,
		"getmycommands":          (*Server).hGetMyCommands,
		"deletemycommands":       (*Server).hDeleteMyCommands,
		"getfile":                (*Server).hGetFile,
		"deletemessage":          (*Server).hDeleteMessage,
		"sendchataction":         (*Server).hSendChatAction,
		"getchat":                (*Server).hGetChat,
	}
	for _, m := range []string{
		"logout", "close", "setmydescription", "setmyshortdescription", "setmyname",
		"setchatmenubutton", "setmydefaultadministratorrights", "pinchatmessage",
		"unpinchatmessage", "unpinallchatmessages", "setmessagereaction", "leavechat",
		"deletemessages",
	} {
		handlers[m] = func(*Server, *call) (any, *apiError) { return true, nil }
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/file/bot"):
		s.serveFile(w, r, strings.TrimPrefix(path, "/file/bot"))
	case strings.HasPrefix(path, "/bot"):
		s.serveMethod(w, r, strings.TrimPrefix(path, "/bot"))
	default:
		writeError(w, errNotFound)
	}
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, rest string) {
	token, method, _ := strings.Cut(rest, "/")
	if token != s.opts.Token {
		writeError(w, errUnauthorized)
		return
	}
	method = strings.TrimPrefix(method, "test/")
	lower := strings.ToLower(method)
	s.mu.Lock()
	down := s.outage
	if down != 0 {
		s.outageCalls++
		s.notifyLocked()
	}
	s.mu.Unlock()
	if down != 0 {
		// What a reverse proxy in front of a dead Bot API answers: an HTML
		// page, no JSON envelope.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(down)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>\n",
			down, http.StatusText(down), down, http.StatusText(down))
		return
	}
	status, env := s.dispatch(r, method, lower)
	s.mu.Lock()
	s.calls[lower]++
	if status == http.StatusTooManyRequests {
		s.tooMany++
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.flushEntries()
	writeJSON(w, status, env)
}

// dispatch runs one API method and returns the HTTP status and envelope.
func (s *Server) dispatch(r *http.Request, method, lower string) (int, envelope) {
	h, ok := handlers[lower]
	if !ok || method == "" {
		return errorEnvelope(errNotFound)
	}
	params, files, perr := parseRequest(r)
	if perr != nil {
		return errorEnvelope(perr)
	}
	if e := s.takeFailure(lower); e != nil {
		return errorEnvelope(e)
	}
	c := &call{ctx: r.Context(), method: lower, p: params, files: files}
	res, e := h(s, c)
	if e != nil {
		return errorEnvelope(e)
	}
	env := envelope{OK: true, Result: res}
	if d, ok := res.(describedTrue); ok {
		env.Result = true
		env.Description = string(d)
	}
	return http.StatusOK, env
}

// describedTrue is a `true` result with a description, like "Webhook was set".
type describedTrue string

func (s *Server) takeFailure(method string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.failures[method]
	if len(q) == 0 {
		return nil
	}
	e := q[0]
	if len(q) == 1 {
		delete(s.failures, method)
	} else {
		s.failures[method] = q[1:]
	}
	return &e
}

// parseRequest flattens query string and body (multipart, urlencoded or
// JSON) into string parameters. Non-string JSON values keep their raw JSON
// text.
func parseRequest(r *http.Request) (map[string]string, map[string]*upload, *apiError) {
	params := map[string]string{}
	files := map[string]*upload{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	if r.Body == nil {
		return params, files, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, nil, badRequest("can't read request body")
	}
	if len(body) > maxBodyBytes {
		return nil, nil, &apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, files, nil
	}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				// go-telegram sends an unterminated, empty form for
				// parameterless methods; keep what was read so far.
				if len(params) == 0 && len(files) == 0 {
					break
				}
				return nil, nil, badRequest("can't parse multipart body")
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, nil, badRequest("can't parse multipart body")
			}
			name := part.FormName()
			if part.FileName() != "" {
				files[name] = &upload{name: part.FileName(), data: data}
			} else {
				params[name] = string(data)
			}
		}
	case ct == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, badRequest("can't parse urlencoded body")
		}
		for k, v := range vals {
			if len(v) > 0 {
				params[k] = v[0]
			}
		}
	default: // application/json or anything that looks like JSON
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, nil, badRequest("can't parse JSON object")
		}
		for k, raw := range m {
			t := bytes.TrimSpace(raw)
			switch {
			case bytes.Equal(t, []byte("null")):
			case len(t) > 0 && t[0] == '"':
				var str string
				if err := json.Unmarshal(t, &str); err != nil {
					return nil, nil, badRequest("can't parse JSON object")
				}
				params[k] = str
			default:
				params[k] = string(t)
			}
		}
	}
	return params, files, nil
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, path, _ := strings.Cut(rest, "/")
	if token != s.opts.Token {
		writeError(w, errUnauthorized)
		return
	}
	s.mu.Lock()
	f := s.paths[path]
	s.mu.Unlock()
	if f == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		writeError(w, errNotFound)
		return
	}
	data := f.content()
	w.Header().Set("Content-Type", f.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

// chatObject returns the models.Chat for a known chat id. s.mu must be held.
func (s *Server) chatObject(chatID int64) models.Chat {
	if chatID < 0 {
		t := models.ChatTypeGroup
		if chatID <= -1000000000000 {
			t = models.ChatTypeSupergroup
		}
		title, ok := s.groups[chatID]
		if !ok {
			title = fmt.Sprintf("Group %d", -chatID)
		}
		return models.Chat{ID: chatID, Type: t, Title: title}
	}
	u := s.users[chatID]
	return models.Chat{ID: chatID, Type: models.ChatTypePrivate, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
}

func (s *Server) botUser() User {
	return User{ID: s.bot.ID, FirstName: s.bot.FirstName, Username: s.bot.Username}
}
