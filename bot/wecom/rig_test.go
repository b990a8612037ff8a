package wecom_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/media"
)

const (
	corpID  = "ww0123456789abcdef"
	agentID = int64(1000002)
	secret  = "app-secret"
	kfSec   = "kf-secret"
	cbToken = "QDG6eK"
	aesKey  = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	kfID    = "wkKF001"
	groupID = "techs"
	admin   = "admin01"
	wait    = 10 * time.Second
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// jpeg is the smallest thing media.Kind takes for a JPEG.
var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 200)...)

type rigOptions struct {
	Send       *wecom.SendLimits
	KfPageSize int
	// MemberWindow scales the fake's per-member minute (default 2s, the
	// sender's budget likewise) so tests need not wait minutes.
	MemberWindow time.Duration
	// DupInterval is the channel's DuplicateCheckInterval (0: default).
	DupInterval time.Duration
	// WelcomeTTL is the fake's welcome_code lifetime (0: 20s).
	WelcomeTTL time.Duration
	// Robot makes the dispatch group the group robot (robotKey) instead
	// of the appchat; RobotWindow scales its minute (default 2s).
	Robot       bool
	RobotWindow time.Duration
	// Exports renders the messages' exports (nil: none, as without records).
	Exports bot.Exporter
	// Blobs, when set, keeps the media store's copies instead of files
	// (as the database does for replicas).
	Blobs media.Blobs
}

// robotKey is the test robot's webhook key (a secret: never logged).
const robotKey = "5fd7c1a2-9e0b-4c55-8d3e-robotsecret1"

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type rig struct {
	t     testing.TB
	o     rigOptions
	fake  *wecomfake.Server
	texts *i18n.Catalog
	path  string
	logs  *logBuf
	hook  *httptest.Server

	mu  sync.Mutex
	st  testkit.Store
	eng *flows.Engine
	ch  *wecom.Channel
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	if o.MemberWindow == 0 {
		o.MemberWindow = 2 * time.Second
	}
	if o.RobotWindow == 0 {
		o.RobotWindow = 2 * time.Second
	}
	fake := wecomfake.New(wecomfake.Options{CorpID: corpID, AgentID: agentID, Secret: secret, KfSecret: kfSec,
		Token: cbToken, EncodingAESKey: aesKey, MemberWindow: o.MemberWindow, KfPageSize: o.KfPageSize, WelcomeTTL: o.WelcomeTTL, RobotWindow: o.RobotWindow})
	t.Cleanup(fake.Close)
	fake.AddChat(groupID, "tech01", "tech02")
	fake.AddMember(admin)
	fake.AddRobot(robotKey)
	r := &rig{t: t, o: o, fake: fake, texts: i18n.MustLoad(flows.LangZH), path: filepath.Join(t.TempDir(), "repair.db"), logs: &logBuf{}}
	r.hook = httptest.NewServer(nil)
	t.Cleanup(r.hook.Close)
	fake.SetCallback(r.hook.URL + "/wecom/callback")
	t.Cleanup(func() {
		if t.Failed() {
			s := r.logs.String()
			if len(s) > 30000 {
				s = s[len(s)-30000:]
			}
			t.Logf("channel log (tail):\n%s", s)
		}
	})
	t.Cleanup(r.stop)
	r.start()
	return r
}

func (r *rig) start() {
	r.t.Helper()
	st := testkit.MustOpen(r.t, r.path, testkit.Options{NoSync: true})
	group, key := wecom.GroupAddress(groupID), ""
	if r.o.Robot {
		group, key = wecom.RobotAddress(), robotKey
	}
	opts := flowstest.Base(r.t, st, nil)
	opts.Texts, opts.Location, opts.DefaultLang = r.texts, shanghai, flows.LangZH
	opts.Group, opts.Admins = group, map[string]bool{wecom.PersonID(admin): true}
	opts.OrgName = "阳光花园物业"
	eng, err := flows.NewEngine(opts)
	if err != nil {
		r.t.Fatal(err)
	}
	limits := wecom.SendLimits{Member: wecom.Budget{N: 30, Per: r.o.MemberWindow}, Kf: wecom.Budget{N: 30, Per: r.o.MemberWindow}, AppChat: wecom.Budget{N: 200, Per: r.o.MemberWindow}, Robot: wecom.Budget{N: 20, Per: r.o.RobotWindow}, GlobalPerSecond: 1000, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	if r.o.Send != nil {
		limits = *r.o.Send
	}
	ch, err := wecom.New(wecom.Options{
		CorpID: corpID, AgentID: agentID, Secret: secret, Token: cbToken, EncodingAESKey: aesKey,
		KfEnabled: true, KfSecret: kfSec, APIURL: r.fake.URL(),
		Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Log: zerolog.New(r.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger(),
			Media: &media.Store{Dir: filepath.Join(filepath.Dir(r.path), "photos"), Max: 10 << 20, Blobs: r.o.Blobs}, Texts: r.texts, Exports: r.o.Exports},
		Send:        limits,
		HTTPTimeout: 5 * time.Second, DuplicateCheckInterval: r.o.DupInterval, RobotKey: key, RobotHint: r.T("group.robot_hint"),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := ch.Open(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.hook.Config.Handler = ch.Handler()
	r.mu.Lock()
	r.st, r.eng, r.ch = st, eng, ch
	r.mu.Unlock()
}

func (r *rig) stop() {
	r.mu.Lock()
	ch, st := r.ch, r.st
	r.ch, r.st, r.eng = nil, nil, nil
	r.mu.Unlock()
	if ch != nil {
		_ = ch.Close()
	}
	if st != nil {
		_ = st.Close()
	}
}

func (r *rig) restart() { r.t.Helper(); r.stop(); r.start() }

func (r *rig) store() testkit.Store { r.mu.Lock(); defer r.mu.Unlock(); return r.st }

func (r *rig) channel() *wecom.Channel { r.mu.Lock(); defer r.mu.Unlock(); return r.ch }

func (r *rig) T(key string, kv ...any) string { return r.texts.T(flows.LangZH, key, kv...) }

// eventually polls cond until it holds or the wait is over.
func (r *rig) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle waits until the outbox is empty.
func (r *rig) settle() {
	r.t.Helper()
	r.eventually("an empty outbox", func() bool {
		s, err := r.store().Stats()
		return err == nil && s.Pending == 0
	})
}

type pred func(wecomfake.Message) bool

func withText(s string) pred {
	return func(m wecomfake.Message) bool { return strings.Contains(m.Text, s) }
}

func withButton(label string) pred {
	return func(m wecomfake.Message) bool {
		for _, b := range m.Buttons {
			if strings.Contains(b.Text, label) {
				return true
			}
		}
		return false
	}
}

// next waits for a message to `to` after the first `after` ones that
// satisfies p.
func (r *rig) next(to string, after int, what string, p pred) wecomfake.Message {
	r.t.Helper()
	var got wecomfake.Message
	r.eventually(what+" for "+to, func() bool {
		sent := r.fake.Sent(to)
		for _, m := range sent[min(after, len(sent)):] {
			if p(m) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func (r *rig) top(to string) int { return len(r.fake.Sent(to)) }

// say has a member type text and waits for the reply matching p.
func (r *rig) say(user, text string, p pred) wecomfake.Message {
	r.t.Helper()
	before := r.top(user)
	if st, err := r.fake.UserText(user, text); err != nil || st != 200 {
		r.t.Fatalf("post %q: %d %v", text, st, err)
	}
	return r.next(user, before, "reply to "+text, p)
}

// click presses a card button and waits for a message matching p.
func (r *rig) click(user, label string, p pred) (wecomfake.Message, string) {
	r.t.Helper()
	before := r.top(user)
	st, rc, err := r.fake.Click(user, label)
	if err != nil || st != 200 {
		r.t.Fatalf("click %q: %d %v", label, st, err)
	}
	return r.next(user, before, "after clicking "+label, p), rc
}

// update waits for the card update that used response code rc.
func (r *rig) update(rc string) wecomfake.CardUpdate {
	r.t.Helper()
	var u wecomfake.CardUpdate
	r.eventually("update_template_card with "+rc, func() bool {
		for _, x := range r.fake.Updates() {
			if x.ResponseCode == rc {
				u = x
				return true
			}
		}
		return false
	})
	return u
}

func (r *rig) kfSay(ext, text string, p pred) wecomfake.Message {
	r.t.Helper()
	before := r.top(ext)
	if st, err := r.fake.KfText(kfID, ext, text); err != nil || st != 200 {
		r.t.Fatalf("kf post %q: %d %v", text, st, err)
	}
	return r.next(ext, before, "kf reply to "+text, p)
}

func (r *rig) kfClick(ext, label string, p pred) wecomfake.Message {
	r.t.Helper()
	before := r.top(ext)
	if st, err := r.fake.KfMenuClick(kfID, ext, label); err != nil || st != 200 {
		r.t.Fatalf("kf click %q: %d %v", label, st, err)
	}
	return r.next(ext, before, "kf after clicking "+label, p)
}

// hire has the admin invite a technician who joins with the code on WeCom.
func (r *rig) hire(user string) {
	r.t.Helper()
	m := r.say(admin, "/invite technician", withText("/start "))
	i := strings.Index(m.Text, "/start ")
	code := strings.Fields(m.Text[i+len("/start "):])[0]
	r.say(user, "/start "+code, withText(r.T("invite.welcome", "name", user, "role", r.T("role.technician.property"))))
}

func (r *rig) ticket(id string) *flows.Ticket {
	r.t.Helper()
	var tk *flows.Ticket
	err := r.store().View(context.Background(), func(tx flows.Tx) error {
		var err error
		tk, err = tx.Ticket(id)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return tk
}
