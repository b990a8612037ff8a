//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/crashtest"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/sop"
	"github.com/repairbot/repairbot/store"
	"github.com/repairbot/repairbot/store/postgres"
	"github.com/repairbot/repairbot/store/postgres/pgstoretest"
)

var (
	crashLongFlag = flag.Bool("crash.long", false, "TestCrash: run the long variant (at least 20 SIGKILLs, more residents); CRASH_LONG=1 does the same")
	crashSeedFlag = flag.Uint64("crash.seed", 0, "TestCrash: seed of the kill schedule and the load (0 picks one); CRASH_SEED=<n> does the same")
	crashNoDedupe = flag.Bool("crash.nodedupe", false, "TestCrash: build the bot with dedupe broken (-tags crashtest_nodedupe): the test must FAIL; CRASH_NODEDUPE=1 does the same")

	crashFollowerSendsFlag = flag.Bool("crash.followersends", false, "TestCrashReplicas: build the bot with every replica delivering the outbox, leader or not (-tags crashtest_followersends): the test must FAIL; CRASH_FOLLOWERSENDS=1 does the same")
)

const (
	crashToken = "123456789:CRASH-token-for-the-fake-Bot-API-server"
	crashGroup = int64(-1001234567890)
	crashAdmin = int64(1001)
	// crashWorkers is [outbox] workers: how many sends can be in flight
	// when the process dies, so how many duplicates one kill may cause.
	crashWorkers = 4
)

// crashVariant sizes one run.
type crashVariant struct {
	name             string
	kills            int
	residents, techs int
	upMin, upMax     time.Duration // how long the bot runs before the next kill
	downMin, downMax time.Duration // how long it stays dead
	spread           time.Duration // residents start at random moments within this
	load             time.Duration // bound on the scripted load, restarts included
	// replays is how many kills are followed by a redelivery of committed
	// updates (see crashRig.replay); with replicas, 1 is the redelivery of
	// every update at the end (crashRig.redeliverAll).
	replays int
	// replicas, when above 1, runs that many processes on PostgreSQL in
	// webhook mode behind a round-robin front and kills the leader (see
	// TestCrashReplicas).
	replicas int
}

var (
	crashDefault = crashVariant{name: "default", kills: 3, residents: 6, techs: 2,
		upMin: 300 * time.Millisecond, upMax: 3 * time.Second, downMin: 50 * time.Millisecond, downMax: 500 * time.Millisecond,
		spread: 6 * time.Second, load: 90 * time.Second, replays: 2}
	crashLong = crashVariant{name: "long", kills: 24, residents: 18, techs: 3,
		upMin: 200 * time.Millisecond, upMax: 4 * time.Second, downMin: 20 * time.Millisecond, downMax: 800 * time.Millisecond,
		spread: 45 * time.Second, load: 8 * time.Minute, replays: 10}
)

// TestCrash checks that the bot survives SIGKILL at random moments.
//
// It builds the real binary, starts the fake Bot API (tgfake) in the test
// process and runs the binary against it over loopback with a config file
// in a temp dir. A scripted load then runs concurrent conversations: an
// admin invites technicians, residents register (name, shared contact,
// building, unit, room) and report a fault (category, description, no
// photos, household, as soon as possible); one resident in six cancels, and
// the technicians accept the other tickets from the group card and walk
// them one to four steps (accept, on my way, arrived, doorbell). Every user
// action is an update queued in the fake, so the script does not care
// whether the bot is up; every wait for a reply is bounded by the load's
// deadline and simply outlasts restarts.
//
// Meanwhile a killer goroutine SIGKILLs the process at random moments and
// restarts it after a short random pause: 3 kills by default. Two kills in
// three are aimed at traffic (0-10 ms after the fake sees a user action or
// a message from the bot), where a kill can fall between a fetch and its
// commit or between a send and its delivery mark; the others land
// anywhere. When the load is done the bot, once up, runs until the fake
// has no unconfirmed update and no traffic for a few seconds, gets SIGTERM
// (it must exit 0) and the bbolt file is opened; if rows are still pending
// it is started again (bounded).
//
// After some kills (2 by default) the dead bot's stored offset is rewound,
// to its first update or by up to 30, and the fake serves those committed
// updates again (tgfake Redeliver), as Telegram does for a bot that polls
// with an older offset than it confirmed (an offset lost, or a database
// restored from an older copy); newer updates are held back meanwhile
// (tgfake Hold). The bot runs until it has polled past them and is stopped:
// the store must be exactly as before (no new outbox row other than
// command menus, the same tickets, audit trails, dialogues and people),
// i.e. every redelivered update was recognised by its dedupe mark and had
// no effect. CRASH_NODEDUPE=1 (or -crash.nodedupe) builds the bot with its
// dedupe check broken (-tags crashtest_nodedupe): that run must fail.
// Then the test checks:
//
//  1. every ticket number a resident was told about exists and is theirs,
//     each resident has exactly the one ticket they reported, and no
//     ticket exists that its resident was never told about;
//  2. every ticket's state is the To of the last state change in its audit
//     trail, and is the state the script last saw confirmed;
//  3. the outbox has no pending or failed rows; every delivered send row
//     names a message the fake really holds, with that text; every other
//     message the bot sent is a duplicate of a delivered one, sent by a run
//     that was SIGKILLed (a send in flight at the kill) with its twin sent
//     after the restart, at most [outbox] workers per kill; the count is
//     logged;
//  4. no resident is left with a registration or report dialogue;
//  5. every update the fake handed out has its dedupe mark in the store
//     (nothing lost), and the bot logged no error and did not exit on its
//     own;
//  6. every update had its effects once: the redeliveries above changed
//     nothing, and no button tap was answered twice (answerCallbackQuery is
//     called once per tap, however often the tap was handed out).
//
// The seed of the kill schedule is logged; -crash.seed=N (or CRASH_SEED=N)
// replays the same schedule and load (timing still varies).
//
// The long variant does 24 kills with 18 residents and 3 technicians
// (several minutes):
//
//	go test -run TestCrash -v -crash.long -timeout 20m .
//	CRASH_LONG=1 go test -run TestCrash -v -timeout 20m .
//
// (The flag exists only in this package's test binary: pass it with "."
// as the package, not ./...) -short skips the test.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	v := crashDefault
	if *crashLongFlag || os.Getenv("CRASH_LONG") == "1" {
		v = crashLong
	}
	seed := *crashSeedFlag
	if seed == 0 {
		if s, err := strconv.ParseUint(os.Getenv("CRASH_SEED"), 10, 64); err == nil {
			seed = s
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash test, %s variant: %d kills (%d followed by a redelivery of committed updates), %d residents, %d technicians; seed %d (rerun with -crash.seed=%d)",
		v.name, v.kills, v.replays, v.residents, v.techs, seed, seed)
	if crashBrokenDedupe() {
		t.Log("CRASH_NODEDUPE: the bot is built with its dedupe check broken; this run must FAIL")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("crash test failed; seed %d (rerun with -crash.seed=%d)", seed, seed)
		}
	})
	r := newCrashRig(t, v, seed)
	began := time.Now()
	r.runLoad()
	loadDur := time.Since(began)
	settleAt := time.Now()
	rounds := r.settle()
	settleDur := time.Since(settleAt)
	r.check()
	t.Logf("timing: build %s, load %s, settle %s (%d round(s)), total %s",
		r.buildDur.Round(time.Millisecond), loadDur.Round(time.Millisecond), settleDur.Round(time.Millisecond), rounds,
		(r.buildDur + time.Since(began)).Round(time.Millisecond))
}

// TestCrashStopDuringStartup sends SIGTERM at moments spread over the
// bot's first 60 ms, i.e. during start-up. A stop request is not a failure:
// the process must exit 0, or die of the signal when it arrives before
// main installed its handler (as safe for the store as a kill). It must not
// exit with an error. (It found that a stop during start-up used to exit 1
// blaming org.sop_file: the cancelled context failed the SOP installation.)
func TestCrashStopDuringStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	dir := t.TempDir()
	bin := crashBuild(t, dir)
	fake := tgfake.New(tgfake.Options{Token: crashToken})
	t.Cleanup(fake.Close)
	fake.AddGroup(crashGroup, "Repair team")
	p := crashProcess(t, dir, bin, fake.URL(), filepath.Join(dir, "data"))
	clean, signalled := 0, 0
	for d := time.Duration(0); d <= 60*time.Millisecond; d += 2 * time.Millisecond {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(d)
		code, err := p.Term(20 * time.Second)
		logs := p.Logs()
		switch {
		case err != nil:
			t.Errorf("SIGTERM %s after start: %v", d, err)
		case code == 0:
			clean++
		case code == -1:
			signalled++
		default:
			t.Errorf("SIGTERM %s after start: exit status %d, want 0; output:\n%s", d, code, crashtest.TailFile(logs[len(logs)-1], 1500))
		}
	}
	t.Logf("%d runs: %d clean exits, %d ended by the signal before the handler was installed", p.Runs(), clean, signalled)
}

// ---- the rig ----

type crashRig struct {
	t        *testing.T
	v        crashVariant
	seed     uint64
	fake     *tgfake.Server
	texts    *i18n.Catalog
	bots     []*crashtest.Process // one, or the replicas
	dbPath   string               // the bbolt file (one process)
	dsn      string               // the PostgreSQL database (replicas)
	buildDur time.Duration

	// The replicas' plumbing (see replicas_test.go).
	front     *testkit.Front
	opsAddrs  []string // each replica's /healthz
	takeovers []time.Duration

	// lastEntry is when the fake last saw traffic (a user action or a
	// bot call that changed a chat), for the quiet check; traffic is
	// signalled on each such event, for busy kills.
	lastEntry atomic.Int64
	traffic   chan struct{}

	residents []tgfake.User
	techs     []tgfake.User
	admin     tgfake.User

	mu      sync.Mutex
	sends   []crashSend // the replicas' sends (apiProxy)
	stopAt  time.Time   // the replicas' graceful stops begin
	updates []int64
	errs    []string
	kills   []crashKill
	replays []crashReplay
	tickets map[string]*crashTicket // by ticket id
	byRes   map[int64]*crashTicket  // by resident user id
}

// crashKill is one SIGKILL: the run it ended was started at start, was
// dead at dead, and the next run started at restart. A send it had in
// flight reaches the fake before lastSend (the restart; a replica's
// survivor keeps running, so: soon after its death) and may go out again
// from resend on: by the next run (restart), or by the replica that takes
// over (dead).
type crashKill struct {
	n                    int
	start, dead, restart time.Time
	lastSend, resend     time.Time
	alive                bool // the process was running when killed
	busy                 bool // right after traffic (see killer)
	replica              int  // which replica was killed (the leader)
}

// crashTicket is what the script knows about one ticket.
type crashTicket struct {
	id       string
	resident int64
	tech     int64       // 0: no technician touches it
	want     flows.State // last state the script saw confirmed
	tried    flows.State // state of the last action sent
}

func newCrashRig(t *testing.T, v crashVariant, seed uint64) *crashRig {
	t.Helper()
	dir := t.TempDir()
	r := &crashRig{t: t, v: v, seed: seed, texts: i18n.MustLoad(flows.LangEN),
		dbPath:  filepath.Join(dir, "data", "repair.db"),
		tickets: map[string]*crashTicket{}, byRes: map[int64]*crashTicket{}}

	if v.replicas > 1 {
		r.dsn = pgstoretest.DSN(t) // skips, saying how, without a server
	}
	began := time.Now()
	bin := crashBuild(t, dir)
	r.buildDur = time.Since(began)

	fo := tgfake.Options{Token: crashToken}
	if v.replicas > 1 {
		// As Telegram: several posts at once, so the replicas handle
		// updates concurrently (a group's taps among them).
		fo.WebhookConnections = crashHookConnections
	}
	r.fake = tgfake.New(fo)
	t.Cleanup(r.fake.Close)
	r.fake.AddGroup(crashGroup, "Repair team")
	r.traffic = make(chan struct{}, 1)
	r.fake.OnEntry(func(tgfake.Entry) {
		r.lastEntry.Store(time.Now().UnixNano())
		select {
		case r.traffic <- struct{}{}:
		default:
		}
	})
	if v.replicas > 1 {
		r.setupReplicas(dir, bin)
	} else {
		r.bots = []*crashtest.Process{crashProcess(t, dir, bin, r.fake.URL(), filepath.Dir(r.dbPath))}
	}

	r.admin = tgfake.User{ID: crashAdmin, FirstName: "Admin Chen", LanguageCode: "en"}
	for j := 0; j < v.techs; j++ {
		r.techs = append(r.techs, tgfake.User{ID: 2001 + int64(j), FirstName: fmt.Sprintf("Tech %c", 'A'+j), LanguageCode: "en"})
	}
	for i := 0; i < v.residents; i++ {
		r.residents = append(r.residents, tgfake.User{ID: 3001 + int64(i), FirstName: fmt.Sprintf("Resident %02d", i+1), LanguageCode: "en"})
	}
	return r
}

// crashBrokenDedupe says whether the bot is to be built with its dedupe
// check broken (the proof that the harness notices).
func crashBrokenDedupe() bool { return *crashNoDedupe || os.Getenv("CRASH_NODEDUPE") == "1" }

// crashBuild builds the binary into dir (the build cache makes repeats
// cheap) and returns its path.
func crashBuild(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "repairbot")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test needs the go command to build the binary: %v", err)
	}
	args := []string{"build", "-o", bin}
	var tags []string
	if crashBrokenDedupe() {
		tags = append(tags, "crashtest_nodedupe")
	}
	if crashFollowerSends() {
		tags = append(tags, "crashtest_followersends")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	if out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashSetup is what a bot process's config says beyond the shared
// settings: where the Bot API is, where the store is and how updates
// arrive.
type crashSetup struct {
	apiURL  string
	dataDir string
	// dsn, when set, puts the store on PostgreSQL ([store] driver =
	// "postgres", dsn = "${DATABASE_URL}" with DATABASE_URL = dsn in the
	// child's environment) instead of the bbolt file in dataDir.
	dsn string
	// webhookListen and webhookURL, when set, receive updates in webhook
	// mode instead of polling getUpdates.
	webhookListen, webhookURL string
	// opsListen, when set, serves /healthz there.
	opsListen string
	// extra is appended to the config (sections of its own).
	extra []string
}

// crashWebhookSecret is [telegram] webhook_secret in webhook mode.
const crashWebhookSecret = "crash-webhook-secret"

// crashProcess writes a config for the fake at apiURL with the store in
// dataDir and returns the bot process (not started); it is killed when the
// test ends, and its logs are shown if the test failed.
func crashProcess(t testing.TB, dir, bin, apiURL, dataDir string, extra ...string) *crashtest.Process {
	t.Helper()
	return crashProcessWith(t, dir, bin, crashSetup{apiURL: apiURL, dataDir: dataDir, extra: extra})
}

// crashProcessWith is crashProcess for any setup.
func crashProcessWith(t testing.TB, dir, bin string, c crashSetup) *crashtest.Process {
	t.Helper()
	cfgPath := filepath.Join(dir, "config.toml")
	receive := "mode = \"polling\"\npoll_timeout = \"1s\"\nwebhook_secret = \"\""
	if c.webhookListen != "" {
		receive = fmt.Sprintf("mode = \"webhook\"\nwebhook_listen = '%s'\nwebhook_url = '%s'\nwebhook_secret = \"${TELEGRAM_WEBHOOK_SECRET}\"",
			c.webhookListen, c.webhookURL)
	}
	storeCfg := "lock_timeout = \"10s\""
	if c.dsn != "" {
		storeCfg = "driver = \"postgres\"\ndsn = \"${DATABASE_URL}\""
	}
	opsCfg := ""
	if c.opsListen != "" {
		opsCfg = fmt.Sprintf("\n[ops]\nlisten = '%s'\n", c.opsListen)
	}
	// Outbox budgets: the highest config validation allows; the fake does
	// not enforce limits, but the group's 20 a minute paces the cards.
	cfg := fmt.Sprintf(`[telegram]
token = "${TELEGRAM_TOKEN}"
api_url = '%s'
%s
group_id = %d
admins = [%d]
bot_username = '%s'

[store]
data_dir = '%s'
%s

[org]
name = "Crash Test Gardens"
default_lang = "en"

[outbox]
per_chat_per_second = 30.0
group_per_minute = 20.0
global_per_second = 30.0
base_backoff = "100ms"
max_backoff = "1s"
workers = %d
# The script taps each ticket's own card and checks one message per card
# row; digests (on by default) fold a backlog of cards into one message.
digest = false

[log]
level = "info"
format = "json"
%s`, c.apiURL, receive, crashGroup, crashAdmin, tgfake.DefaultBotUsername, c.dataDir, storeCfg, crashWorkers, opsCfg) + strings.Join(c.extra, "\n")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TELEGRAM_TOKEN": crashToken, "TELEGRAM_WEBHOOK_SECRET": crashWebhookSecret, "DATABASE_URL": c.dsn}
	for k, v := range env {
		t.Setenv(k, v)
	}
	if _, err := config.Load(cfgPath); err != nil {
		t.Fatalf("the crash test's config is invalid: %v", err)
	}
	p := &crashtest.Process{Path: bin, Args: []string{"-config", cfgPath}, Dir: dir, Env: os.Environ()}
	for k, v := range env {
		p.Env = append(p.Env, k+"="+v)
	}
	t.Cleanup(func() {
		p.Kill() // registered after the fake, so it runs before the fake closes
		if t.Failed() {
			t.Logf("bot logs in %s (tails):\n%s", filepath.Base(dir), p.LogTails(2, 6000))
		}
	})
	return p
}

func (r *crashRig) T(key string, kv ...interface{}) string {
	return r.texts.T(flows.LangEN, key, kv...)
}

func (r *crashRig) fail(format string, args ...interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *crashRig) recordUpdate(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, id)
}

// ---- the load ----

// runLoad starts the bot, plays the conversations while the killer kills,
// and returns when both are done.
func (r *crashRig) runLoad() {
	t := r.t
	for _, b := range r.bots {
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.v.load)
	defer cancel()

	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		rng := rand.New(rand.NewPCG(r.seed, 0x6b696c6c))
		if len(r.bots) > 1 {
			r.leaderKiller(rng)
		} else {
			r.killer(rng)
		}
	}()

	// Technicians: the admin invites them one after the other; each joins
	// and then works the tickets routed to them, in order.
	jobs := make([]chan *crashTicket, len(r.techs))
	codes := make([]chan string, len(r.techs))
	for j := range r.techs {
		jobs[j] = make(chan *crashTicket, len(r.residents))
		codes[j] = make(chan string, 1)
	}
	var staff sync.WaitGroup
	staff.Add(1)
	go func() {
		defer staff.Done()
		used := map[string]bool{}
		for j := range r.techs {
			code, err := r.invite(ctx, used)
			if err != nil {
				r.fail("admin: invite for %s: %v", r.techs[j].FirstName, err)
			}
			codes[j] <- code
		}
	}()
	for j, tech := range r.techs {
		staff.Add(1)
		go func() {
			defer staff.Done()
			joined := false
			if code := <-codes[j]; code != "" {
				if err := r.join(ctx, tech, code); err != nil {
					r.fail("%s: joining: %v", tech.FirstName, err)
				} else {
					joined = true
				}
			}
			for tk := range jobs[j] {
				if !joined {
					continue
				}
				if err := r.work(ctx, tech, tk); err != nil {
					r.fail("%s on %s: %v", tech.FirstName, tk.id, err)
				}
			}
		}()
	}

	// Residents, starting at random moments within v.spread so that the
	// kills find traffic.
	var res sync.WaitGroup
	rng := rand.New(rand.NewPCG(r.seed, 0x6c6f6164))
	for i, u := range r.residents {
		res.Add(1)
		delay := time.Duration(rng.Int64N(int64(r.v.spread)))
		go func() {
			defer res.Done()
			time.Sleep(delay)
			if err := r.resident(ctx, i, u, jobs); err != nil {
				r.fail("%s: %v", u.FirstName, err)
			}
		}()
	}
	res.Wait()
	for _, ch := range jobs {
		close(ch)
	}
	staff.Wait()
	<-killerDone
	r.mu.Lock()
	errs := append([]string(nil), r.errs...)
	r.mu.Unlock()
	for _, e := range errs {
		t.Errorf("load: %s", e)
	}
}

// killer SIGKILLs the bot v.kills times at random moments and restarts it
// after a random pause. A kill at a uniformly random moment mostly finds
// the bot idle (handling an update or delivering a message takes a few
// milliseconds), so about two kills in three are "busy" ones: after the
// random uptime the killer waits for the next traffic the fake sees (a user
// action, which the bot fetches at once, or a message the bot just sent)
// and kills 0-10 ms later, inside the window between a send and its
// delivery mark or between a fetch and its commit.
func (r *crashRig) killer(rng *rand.Rand) {
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	for n := 1; n <= r.v.kills; n++ {
		time.Sleep(between(r.v.upMin, r.v.upMax))
		busy := rng.IntN(3) > 0
		jitter := between(0, 10*time.Millisecond)
		if busy {
			select {
			case <-r.traffic: // drop a stale signal
			default:
			}
			select {
			case <-r.traffic:
				time.Sleep(jitter)
			case <-time.After(5 * time.Second):
				busy = false
			}
		}
		alive, started, dead := r.bots[0].Kill()
		time.Sleep(between(r.v.downMin, r.v.downMax))
		// About v.replays kills are followed by a redelivery of committed
		// updates: each kill by chance, and the last ones surely while
		// fewer have been.
		replay := n > r.v.kills-r.v.replays || rng.IntN(r.v.kills) < r.v.replays
		r.mu.Lock()
		if len(r.replays) >= r.v.replays {
			replay = false
		}
		r.mu.Unlock()
		restart := time.Now()
		if replay {
			r.replay(rng, n) // starts the bot at restart, stops it gracefully
		}
		if err := r.bots[0].Start(); err != nil {
			r.fail("killer: restart after kill %d: %v", n, err)
		}
		r.mu.Lock()
		r.kills = append(r.kills, crashKill{n: n, start: started, dead: dead, restart: restart, lastSend: restart, resend: restart, alive: alive, busy: busy})
		r.mu.Unlock()
	}
}

// crashReplay is one redelivery of committed updates after a kill.
type crashReplay struct {
	kill        int
	from, to    int64 // the updates [from, to) were committed and served again
	redelivered int   // how many updates that is
	changes     int   // what they changed in the store (must be 0)
}

// replay rewinds the dead bot's stored offset and has the fake serve the
// committed updates from there again, holding newer ones back; it runs
// the bot until it has polled past them, stops it, and fails the load if
// any of them changed the store (see TestCrash).
func (r *crashRig) replay(rng *rand.Rand, n int) {
	st, err := store.Open(r.dbPath, store.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		r.fail("replay after kill %d: open the store: %v", n, err)
		return
	}
	var cur int64
	err = st.View(context.Background(), func(tx flows.Tx) error {
		v, err := tx.Cursor(crashOffsetCursor)
		if err == nil && v != "" {
			cur, err = strconv.ParseInt(v, 10, 64)
		}
		return err
	})
	first := r.firstUpdate()
	if err != nil || first == 0 || cur <= first {
		st.Close()
		if err != nil {
			r.fail("replay after kill %d: read the offset: %v", n, err)
		}
		return // nothing committed yet
	}
	from := first // one replay in three goes back to the very first update
	if rng.IntN(3) > 0 {
		from = max(first, cur-1-rng.Int64N(30))
	}
	before, err := r.snapshot(st)
	if err == nil {
		err = st.Update(context.Background(), func(tx flows.Tx) error {
			return tx.SetCursor(crashOffsetCursor, strconv.FormatInt(from, 10))
		})
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.fail("replay after kill %d: %v", n, err)
		return
	}
	r.fake.Hold(cur)
	defer r.fake.Release()
	r.fake.Redeliver(from)
	served := 0 // committed updates handed out again: the confirmed ones and those not yet confirmed
	for _, u := range r.fake.History() {
		if u.ID >= from && u.ID < cur {
			served++
		}
	}
	if err := r.bots[0].Start(); err != nil {
		r.fail("replay after kill %d: start: %v", n, err)
		return
	}
	if !r.fake.WaitFor(30*time.Second, func() bool { return r.fake.Confirmed() >= cur }) {
		r.fail("replay after kill %d: the bot did not poll past the redelivered updates [%d, %d) within 30 s", n, from, cur)
	}
	if code, err := r.bots[0].Term(30 * time.Second); err != nil || code != 0 {
		r.fail("replay after kill %d: graceful stop: exit status %d, %v (want 0)", n, code, err)
	}
	st, err = store.Open(r.dbPath, store.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		r.fail("replay after kill %d: reopen the store: %v", n, err)
		return
	}
	after, err := r.snapshot(st)
	st.Close()
	if err != nil {
		r.fail("replay after kill %d: %v", n, err)
		return
	}
	diffs := before.diff(after)
	for _, d := range diffs {
		r.fail("replay after kill %d: the committed updates [%d, %d), served again, were processed twice: %s", n, from, cur, d)
	}
	r.mu.Lock()
	r.replays = append(r.replays, crashReplay{kill: n, from: from, to: cur, redelivered: served, changes: len(diffs)})
	r.mu.Unlock()
}

// crashOffsetCursor is bot/telegram's stored getUpdates offset.
const crashOffsetCursor = "tg.offset"

func (r *crashRig) firstUpdate() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first int64
	for _, id := range r.updates {
		if first == 0 || id < first {
			first = id
		}
	}
	return first
}

// crashSnap is what a replay must not change: outbox rows (command menus
// aside: every start sends the staff theirs), tickets with their audit
// trails, dialogues and people.
type crashSnap struct {
	rows      map[uint64]string
	tickets   map[string]string
	dialogues map[string]string
	people    int
}

// crashDB is what the checks read of a store, whichever driver holds it:
// its transactions (flows.Tx) and its outbox rows.
type crashDB interface {
	flows.Store
	Rows(status string) ([]outbox.Row, error)
	Stats() (outbox.Stats, error)
	Close() error
}

var (
	_ crashDB = (*store.Store)(nil)
	_ crashDB = (*postgres.Store)(nil)
)

// openDB opens the store the bot used: the bbolt file (the bot must be
// stopped) or the PostgreSQL database (the replicas may run).
func (r *crashRig) openDB() (crashDB, error) {
	if r.dsn != "" {
		st, err := postgres.Open(context.Background(), r.dsn, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := store.Open(r.dbPath, store.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (r *crashRig) snapshot(st crashDB) (crashSnap, error) {
	s := crashSnap{rows: map[uint64]string{}, tickets: map[string]string{}, dialogues: map[string]string{}}
	for _, which := range []string{outbox.StatusPending, outbox.StatusDelivered, outbox.StatusFailed} {
		rows, err := st.Rows(which)
		if err != nil {
			return s, err
		}
		for _, row := range rows {
			if row.Msg.Kind != flows.KindMenu {
				s.rows[row.ID] = fmt.Sprintf("%s to %s: %q", row.Msg.Kind, row.Msg.To, crashClip(row.Msg.Text))
			}
		}
	}
	counted := false
	if cs, ok := st.(interface{ Counts() (store.Counts, error) }); ok {
		c, err := cs.Counts()
		if err != nil {
			return s, err
		}
		s.people, counted = c.People, true
	}
	users := append(append([]tgfake.User{r.admin}, r.techs...), r.residents...)
	err := st.View(context.Background(), func(tx flows.Tx) error {
		open, err := tx.OpenTickets()
		if err != nil {
			return err
		}
		all := map[string]*flows.Ticket{}
		for _, tk := range open {
			all[tk.ID] = tk
		}
		for _, u := range users {
			pid := telegram.PersonID(u.ID)
			if !counted {
				switch _, err := tx.Person(pid); {
				case err == nil:
					s.people++
				case !errors.Is(err, flows.ErrNotFound):
					return err
				}
			}
			mine, err := tx.TicketsByResident(pid, 0)
			if err != nil {
				return err
			}
			for _, tk := range mine {
				all[tk.ID] = tk
			}
			switch d, err := tx.Dialogue(pid); {
			case errors.Is(err, flows.ErrNotFound):
			case err != nil:
				return err
			default:
				s.dialogues[pid] = fmt.Sprintf("%s at %q (seq %d)", d.Kind, d.Step, d.Seq)
			}
		}
		for id, tk := range all {
			evs, err := tx.TicketEvents(id)
			if err != nil {
				return err
			}
			s.tickets[id] = fmt.Sprintf("%s, assignee %q, %d audit events", tk.State, tk.AssigneeID, len(evs))
		}
		return nil
	})
	return s, err
}

// diff lists what changed from s to t.
func (s crashSnap) diff(t crashSnap) []string {
	var out []string
	for id, row := range t.rows {
		if _, ok := s.rows[id]; !ok {
			out = append(out, fmt.Sprintf("new outbox row %d (%s)", id, row))
		}
	}
	for _, m := range []struct {
		what string
		a, b map[string]string
	}{{"ticket", s.tickets, t.tickets}, {"dialogue of", s.dialogues, t.dialogues}} {
		for k, v := range m.b {
			if m.a[k] != v {
				out = append(out, fmt.Sprintf("%s %s: %q, was %q", m.what, k, v, m.a[k]))
			}
		}
		for k, v := range m.a {
			if _, ok := m.b[k]; !ok {
				out = append(out, fmt.Sprintf("%s %s is gone (was %q)", m.what, k, v))
			}
		}
	}
	if s.people != t.people {
		out = append(out, fmt.Sprintf("%d people, was %d", t.people, s.people))
	}
	sort.Strings(out)
	return out
}

// top is the id of the newest bot message in chat (0 if none).
func (r *crashRig) top(chat int64) int {
	ms := r.fake.Messages(chat)
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].ID
}

// await waits, until the load's deadline, for the first bot message in
// chat newer than after that satisfies pred.
func (r *crashRig) await(ctx context.Context, chat int64, after int, what string, pred func(tgfake.Message) bool) (tgfake.Message, error) {
	d := time.Minute
	if dl, ok := ctx.Deadline(); ok {
		d = time.Until(dl)
	}
	m, ok := r.fake.WaitMessage(chat, d, func(m tgfake.Message) bool { return m.ID > after && pred(m) })
	if !ok {
		return m, fmt.Errorf("%s: no such bot message in chat %d after #%d by the load deadline; last bot messages there:\n%s",
			what, chat, after, crashDump(r.fake.Messages(chat), 4))
	}
	return m, nil
}

// act performs one user action (an update queued in the fake, whether the
// bot is up or not) and waits for the reply in chat that satisfies pred.
func (r *crashRig) act(ctx context.Context, chat int64, what string, do func() (int64, error), pred func(tgfake.Message) bool) (tgfake.Message, error) {
	before := r.top(chat)
	id, err := do()
	if err != nil {
		return tgfake.Message{}, fmt.Errorf("%s: %w", what, err)
	}
	r.recordUpdate(id)
	return r.await(ctx, chat, before, what, pred)
}

func (r *crashRig) say(u tgfake.User, text string) func() (int64, error) {
	return func() (int64, error) { return r.fake.SendText(u, u.ID, text), nil }
}

func (r *crashRig) tap(u tgfake.User, chat int64, m tgfake.Message, label string) func() (int64, error) {
	return func() (int64, error) { return r.fake.Tap(u, chat, m.ID, label) }
}

func crashText(sub string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return strings.Contains(m.Text+m.Caption, sub) }
}

func crashAll(preds ...func(tgfake.Message) bool) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool {
		for _, p := range preds {
			if !p(m) {
				return false
			}
		}
		return true
	}
}

func crashDump(ms []tgfake.Message, n int) string {
	if len(ms) > n {
		ms = ms[len(ms)-n:]
	}
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "  #%d %q buttons=%v\n", m.ID, m.Text+m.Caption, m.Inline)
	}
	return b.String()
}

// invite has the admin create a technician invite and returns its code.
func (r *crashRig) invite(ctx context.Context, used map[string]bool) (string, error) {
	// The reply is the first invite with a new code: a copy of the previous
	// invite (in flight at a kill, sent again after the restart) may come
	// first.
	m, err := r.act(ctx, r.admin.ID, "/invite technician", r.say(r.admin, "/invite technician"),
		func(m tgfake.Message) bool { c := crashInviteCode(m.Text); return c != "" && !used[c] })
	if err != nil {
		return "", err
	}
	code := crashInviteCode(m.Text)
	used[code] = true
	return code, nil
}

// crashInviteCode is the code of the invite link in text, if any.
func crashInviteCode(text string) string {
	i := strings.Index(text, "?start=")
	if i < 0 {
		return ""
	}
	if f := strings.Fields(text[i+len("?start="):]); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (r *crashRig) join(ctx context.Context, tech tgfake.User, code string) error {
	welcome := r.T("invite.welcome", "name", tech.FirstName, "role", r.T("role.technician.property"))
	_, err := r.act(ctx, tech.ID, "/start <invite>", r.say(tech, "/start "+code), crashText(welcome))
	return err
}

// crashPlan says how far resident i's ticket goes: -1 the resident
// cancels it, 0 nobody touches it, 1..4 a technician accepts it, is on the
// way, has arrived, has rung the bell.
func crashPlan(i int) int { return []int{4, 3, 2, 1, -1, 0}[i%6] }

var crashTicketRE = regexp.MustCompile(`BX-\d{8}-\d{4}`)

// resident registers, reports one fault and, by plan, cancels it or hands
// it to a technician.
func (r *crashRig) resident(ctx context.Context, i int, u tgfake.User, jobs []chan *crashTicket) error {
	cats := config.DefaultCategories()
	cat := cats[i%len(cats)].EN
	name := u.FirstName
	building, unit, room := fmt.Sprintf("Building %d", i%4+1), fmt.Sprintf("Unit %d", i%3+1), fmt.Sprintf("%d%02d", i%20+1, i%7+1)
	phone := fmt.Sprintf("+86138%08d", 10000+i)
	desc := fmt.Sprintf("Fault #%d under test: the %s is broken and needs a look", i+1, strings.ToLower(cat))

	steps := []struct {
		what string
		do   func(prev tgfake.Message) func() (int64, error)
		want func(tgfake.Message) bool
	}{
		{"/start", func(tgfake.Message) func() (int64, error) { return r.say(u, "/start") }, crashText(r.T("register.ask_name"))},
		{"name", func(tgfake.Message) func() (int64, error) { return r.say(u, name) },
			crashAll(crashText(r.T("register.ask_phone", "name", name)), func(m tgfake.Message) bool { return len(m.Reply) > 0 })},
		{"shared contact", func(tgfake.Message) func() (int64, error) {
			return func() (int64, error) { return r.fake.SendContact(u, phone, true), nil }
		}, crashAll(crashText(r.T("register.ask_building")), func(m tgfake.Message) bool { return m.RemoveKeyboard })},
		{"building", func(tgfake.Message) func() (int64, error) { return r.say(u, building) }, crashText(r.T("register.ask_unit"))},
		{"unit", func(tgfake.Message) func() (int64, error) { return r.say(u, unit) }, crashText(r.T("register.ask_room"))},
		{"room", func(tgfake.Message) func() (int64, error) { return r.say(u, room) },
			crashAll(crashText(name), hasButton(r.T("btn.report")))},
		{"tap report", func(prev tgfake.Message) func() (int64, error) { return r.tap(u, u.ID, prev, r.T("btn.report")) },
			crashAll(crashText(r.T("report.ask_category")), hasButton(cat))},
		{"tap category", func(prev tgfake.Message) func() (int64, error) { return r.tap(u, u.ID, prev, cat) },
			crashText(r.T("report.ask_desc", "category", cat, "max", 1000))},
		{"description", func(tgfake.Message) func() (int64, error) { return r.say(u, desc) }, hasButton(r.T("btn.no_more_photos"))},
		{"no photos", func(prev tgfake.Message) func() (int64, error) {
			return r.tap(u, u.ID, prev, r.T("btn.no_more_photos"))
		},
			hasButton(r.T("btn.kind_household"))},
		{"household", func(prev tgfake.Message) func() (int64, error) {
			return r.tap(u, u.ID, prev, r.T("btn.kind_household"))
		},
			hasButton(r.T("btn.asap"))},
		{"asap", func(prev tgfake.Message) func() (int64, error) { return r.tap(u, u.ID, prev, r.T("btn.asap")) },
			func(m tgfake.Message) bool { return crashTicketRE.MatchString(m.Text) }},
	}
	var prev tgfake.Message
	for _, s := range steps {
		m, err := r.act(ctx, u.ID, s.what, s.do(prev), s.want)
		if err != nil {
			return err
		}
		prev = m
	}
	id := crashTicketRE.FindString(prev.Text)
	tk := &crashTicket{id: id, resident: u.ID, want: flows.StateNew, tried: flows.StateNew}
	plan := crashPlan(i)
	if plan > 0 {
		tk.tech = r.techs[i%len(r.techs)].ID
	}
	r.mu.Lock()
	r.tickets[id], r.byRes[u.ID] = tk, tk
	r.mu.Unlock()
	switch {
	case plan < 0:
		r.setTried(tk, flows.StateCancelled)
		ask, err := r.act(ctx, u.ID, "cancel "+id, r.tap(u, u.ID, prev, r.T("btn.cancel_ticket", "ticket", id)),
			hasButton(r.T("btn.cancel_confirm")))
		if err != nil {
			return err
		}
		if _, err := r.act(ctx, u.ID, "confirm cancel "+id, r.tap(u, u.ID, ask, r.T("btn.cancel_confirm")),
			crashText(r.T("cancel.ticket_done", "ticket", id))); err != nil {
			return err
		}
		r.setWant(tk, flows.StateCancelled)
	case plan > 0:
		jobs[i%len(r.techs)] <- tk
	}
	return nil
}

func (r *crashRig) setTried(tk *crashTicket, s flows.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tk.tried = s
}

func (r *crashRig) setWant(tk *crashTicket, s flows.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tk.want = s
}

// work has a technician accept a ticket from the group card and walk it
// as far as its plan says.
func (r *crashRig) work(ctx context.Context, tech tgfake.User, tk *crashTicket) error {
	id := tk.id
	depth := crashPlan(int(tk.resident - 3001))
	accept := r.T("btn.accept")
	card, err := r.await(ctx, crashGroup, 0, "dispatch card of "+id, crashAll(crashText(id), hasButton(accept)))
	if err != nil {
		return err
	}
	onTheWay, arrived := r.T("btn.on_the_way"), r.T("btn.arrived")
	r.setTried(tk, flows.StateAccepted)
	job, err := r.act(ctx, tech.ID, "accept "+id, r.tap(tech, crashGroup, card, accept),
		crashAll(crashText(r.T("job.assigned", "ticket", id)), hasButton(onTheWay)))
	if err != nil {
		return err
	}
	r.setWant(tk, flows.StateAccepted)
	if depth < 2 {
		return nil
	}
	r.setTried(tk, flows.StateOnTheWay)
	way, err := r.act(ctx, tech.ID, "on my way "+id, r.tap(tech, tech.ID, job, onTheWay),
		crashAll(crashText(r.T("job.on_the_way", "ticket", id)), hasButton(arrived)))
	if err != nil {
		return err
	}
	r.setWant(tk, flows.StateOnTheWay)
	if depth < 3 {
		return nil
	}
	def := sop.Default()
	head, _, _ := strings.Cut(r.T("step.head"), "{n}")
	head = strings.ReplaceAll(head, "{ticket}", id)
	bell := r.T("btn.has_bell")
	r.setTried(tk, flows.StateOnSite)
	door, err := r.act(ctx, tech.ID, "arrived "+id, r.tap(tech, tech.ID, way, arrived), crashAll(crashText(head), hasButton(bell)))
	if err != nil {
		return err
	}
	r.setWant(tk, flows.StateOnSite)
	if depth < 4 {
		return nil
	}
	// The door step asks first whether the home has a doorbell (SOP 4.1.2).
	// The answer edits the step card in place: wait for the card itself to
	// show it (or a newer message).
	ring := r.T("step.door_bell", "n", 0, "max", def.MaxRings)
	upd, err := r.tap(tech, tech.ID, door, bell)()
	if err != nil {
		return fmt.Errorf("doorbell %s: %w", id, err)
	}
	r.recordUpdate(upd)
	_, err = r.await(ctx, tech.ID, door.ID-1, "doorbell "+id, crashAll(crashText(head), crashText(ring)))
	return err
}

// ---- settling ----

// crashReady is the bot's log line once Run has returned: the receive
// loop, the sender and the jobs are running.
const crashReady = `"message":"repairbot running"`

// settle lets the bot finish: once it is up it runs until the fake has
// nothing unconfirmed and has seen no traffic for a while, then gets
// SIGTERM and must exit 0; if the store still has pending rows it is
// started again. It returns the rounds used.
func (r *crashRig) settle() int {
	t := r.t
	const rounds = 6
	for round := 1; round <= rounds; round++ {
		var readyAt time.Time
		for i, b := range r.bots {
			if !b.Running() {
				if err := b.Start(); err != nil {
					t.Fatal(err)
				}
			}
			// SIGTERM before the bot is up is another test (see
			// TestCrashStopDuringStartup): wait until it is.
			at, ok := b.WaitOutput(crashReady, 30*time.Second)
			if !ok {
				t.Fatalf("settle round %d: bot %d did not start within 30 s", round, i+1)
			}
			if at.After(readyAt) {
				readyAt = at
			}
		}
		if !r.waitQuiet(readyAt, 4*time.Second, 90*time.Second) {
			t.Errorf("settle round %d: the bot did not go quiet within 90 s (%d updates unconfirmed)", round, r.fake.Pending())
		}
		if round == 1 && len(r.bots) > 1 {
			r.redeliverAll() // every update once more, to every replica
		}
		r.mu.Lock()
		if r.stopAt.IsZero() {
			r.stopAt = time.Now()
		}
		r.mu.Unlock()
		for i, b := range r.bots {
			if code, err := b.Term(30 * time.Second); err != nil || code != 0 {
				t.Errorf("graceful stop of bot %d (round %d): exit status %d, %v (want 0)", i+1, round, code, err)
			}
		}
		st, err := r.openDB()
		if err != nil {
			t.Fatalf("open the store after the run: %v", err)
		}
		s, err := st.Stats()
		_ = st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if s.Pending == 0 && r.fake.Pending() == 0 {
			return round
		}
		t.Logf("settle round %d: %d outbox rows and %d updates still pending; running the bot again", round, s.Pending, r.fake.Pending())
	}
	t.Errorf("the bot did not settle in %d rounds", rounds)
	return rounds
}

// waitQuiet waits until no update is unconfirmed and neither the fake nor
// the bot (up since since) did anything for quiet, which is longer than
// the group's 3 s message interval.
func (r *crashRig) waitQuiet(since time.Time, quiet, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		last := time.Unix(0, r.lastEntry.Load())
		if last.Before(since) {
			last = since
		}
		if r.fake.Pending() == 0 && time.Since(last) >= quiet {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// ---- checks ----

func (r *crashRig) check() {
	t := r.t
	st, err := r.openDB()
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	r.mu.Lock()
	kills := append([]crashKill(nil), r.kills...)
	updates := append([]int64(nil), r.updates...)
	r.mu.Unlock()

	var told map[string]int64
	var tickets int
	err = st.View(context.Background(), func(tx flows.Tx) error {
		var err error
		if told, err = r.checkResidents(tx); err != nil { // 1 and 4
			return err
		}
		tickets, err = r.checkTickets(tx, told) // 2
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dups := r.checkOutbox(st, kills) // 3
	var redelivered int
	err = st.View(context.Background(), func(tx flows.Tx) error {
		var err error
		redelivered, err = r.checkUpdates(tx, updates) // 5
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	warns := r.checkLogs()
	extraAnswers := r.checkAnswers() // 6
	r.mu.Lock()
	replays := append([]crashReplay(nil), r.replays...)
	r.mu.Unlock()
	replayed, twice := 0, 0
	var spans []string
	for _, rp := range replays {
		replayed += rp.redelivered
		twice += rp.changes
		if rp.kill == 0 {
			spans = append(spans, fmt.Sprintf("%d at the end", rp.redelivered))
		} else {
			spans = append(spans, fmt.Sprintf("%d after kill %d", rp.redelivered, rp.kill))
		}
	}
	if len(replays) < r.v.replays {
		t.Errorf("check 6: only %d of %d redeliveries of committed updates happened", len(replays), r.v.replays)
	}

	alive := 0
	var ups []string
	for _, k := range kills {
		if k.alive {
			alive++
		}
		mode := "idle"
		if k.busy {
			mode = "busy"
		}
		ups = append(ups, k.dead.Sub(k.start).Round(10*time.Millisecond).String()+"/"+mode)
	}
	if alive < r.v.kills {
		t.Errorf("only %d of %d kills hit a running process", alive, r.v.kills)
	}
	t.Logf("measured: %d SIGKILLs (uptime/moment: %s), %d runs, %d updates (%d handed out more than once), %d committed updates redelivered (%s), %d changes from processing one twice, %d answers to a tap beyond the first, %d tickets, %d duplicate deliveries (allowed up to %d: %d per kill), %d warnings in the logs",
		alive, strings.Join(ups, " "), r.runs(), len(updates), redelivered, replayed, strings.Join(spans, ", "), twice, extraAnswers, tickets, dups, alive*crashWorkers, crashWorkers, warns)
	if len(r.bots) > 1 {
		r.checkReplicas(kills)
	}
}

// runs is how many times the bot processes were started.
func (r *crashRig) runs() int {
	n := 0
	for _, b := range r.bots {
		n += b.Runs()
	}
	return n
}

// checkAnswers checks 6 for taps: answerCallbackQuery once per tap,
// however often the tap was handed out (a redelivered tap is recognised
// and not answered again). It returns the answers beyond the first.
func (r *crashRig) checkAnswers() int {
	extra := 0
	for _, u := range r.fake.History() {
		if cq := u.CallbackQuery; cq != nil {
			if n := r.fake.AnswerCalls(cq.ID); n > 1 {
				extra += n - 1
				r.t.Errorf("check 6: the tap in update %d (%q) was answered %d times (handed out %d times)", u.ID, cq.Data, n, r.fake.Delivered(u.ID))
			}
		}
	}
	return extra
}

// checkResidents checks 1 (from the residents' side) and 4 and returns
// every ticket number a resident was told, with that resident.
func (r *crashRig) checkResidents(tx flows.Tx) (map[string]int64, error) {
	t := r.t
	told := map[string]int64{}
	for _, u := range r.residents {
		pid := telegram.PersonID(u.ID)
		ids := map[string]bool{}
		for _, m := range r.fake.Messages(u.ID) {
			for _, id := range crashTicketRE.FindAllString(m.Text+m.Caption, -1) {
				ids[id] = true
			}
		}
		for id := range ids {
			told[id] = u.ID
			tk, err := tx.Ticket(id)
			if errors.Is(err, flows.ErrNotFound) {
				t.Errorf("check 1: %s was told about ticket %s, which does not exist", u.FirstName, id)
				continue
			}
			if err != nil {
				return nil, err
			}
			if tk.ResidentID != pid {
				t.Errorf("check 1: %s was told about ticket %s, which belongs to %s", u.FirstName, id, tk.ResidentID)
			}
		}
		mine, err := tx.TicketsByResident(pid, 0)
		if err != nil {
			return nil, err
		}
		var got []string
		for _, tk := range mine {
			got = append(got, tk.ID)
			if !ids[tk.ID] {
				t.Errorf("check 1: %s has ticket %s (%s) but was never told about it", u.FirstName, tk.ID, tk.State)
			}
		}
		r.mu.Lock()
		exp := r.byRes[u.ID]
		r.mu.Unlock()
		if exp != nil && (len(mine) != 1 || mine[0].ID != exp.id) {
			t.Errorf("check 1: %s reported once (%s) but has tickets %v", u.FirstName, exp.id, got)
		}
		p, err := tx.Person(pid)
		switch {
		case errors.Is(err, flows.ErrNotFound):
			t.Errorf("check 1: %s is not registered", u.FirstName)
		case err != nil:
			return nil, err
		case !p.Registered || p.Role != flows.RoleResident || p.Name != u.FirstName || p.Phone == "":
			t.Errorf("check 1: %s's profile is wrong: %+v", u.FirstName, *p)
		}
		d, err := tx.Dialogue(pid)
		switch {
		case errors.Is(err, flows.ErrNotFound):
		case err != nil:
			return nil, err
		case d.Kind == "report" || d.Kind == "register":
			t.Errorf("check 4: %s is stuck in a %s dialogue at step %q (seq %d, updated %s)", u.FirstName, d.Kind, d.Step, d.Seq, d.Updated.Format(time.RFC3339Nano))
		}
	}
	for _, tech := range r.techs {
		p, err := tx.Person(telegram.PersonID(tech.ID))
		if err != nil {
			t.Errorf("check 1: technician %s: %v", tech.FirstName, err)
			continue
		}
		if p.Role != flows.RoleTechnician {
			t.Errorf("check 1: %s has role %q, want technician", tech.FirstName, p.Role)
		}
	}
	return told, nil
}

// checkTickets checks 2 on every ticket in the store (and 1 from the
// tickets' side) and returns how many there are.
func (r *crashRig) checkTickets(tx flows.Tx, told map[string]int64) (int, error) {
	t := r.t
	all := map[string]*flows.Ticket{}
	// Every ticket of the days involved, by number, and every open one
	// or any resident's, in case numbering skipped.
	days := map[string]bool{}
	for id := range told {
		days[id[3:11]] = true
	}
	for day := range days {
		for n := 1; ; n++ {
			tk, err := tx.Ticket(fmt.Sprintf("BX-%s-%04d", day, n))
			if errors.Is(err, flows.ErrNotFound) {
				break
			}
			if err != nil {
				return 0, err
			}
			all[tk.ID] = tk
		}
	}
	open, err := tx.OpenTickets()
	if err != nil {
		return 0, err
	}
	for _, tk := range open {
		all[tk.ID] = tk
	}
	for _, u := range r.residents {
		mine, err := tx.TicketsByResident(telegram.PersonID(u.ID), 0)
		if err != nil {
			return 0, err
		}
		for _, tk := range mine {
			all[tk.ID] = tk
		}
	}
	for id, tk := range all {
		evs, err := tx.TicketEvents(id)
		if err != nil {
			return 0, err
		}
		var last *flows.TicketEvent
		for i := range evs {
			if evs[i].To != "" {
				last = &evs[i]
			}
		}
		switch {
		case last == nil:
			t.Errorf("check 2: ticket %s (%s) has no state change in its audit trail", id, tk.State)
		case last.To != tk.State:
			t.Errorf("check 2: ticket %s is %q but its last state change (#%d %s, %s -> %s) says %q", id, tk.State, last.Seq, last.Action, last.From, last.To, last.To)
		}
		if len(evs) == 0 || evs[0].Action != "reported" {
			t.Errorf("check 2: ticket %s's audit trail does not start with the report: %+v", id, evs)
		}
		if _, ok := told[id]; !ok {
			t.Errorf("check 1: ticket %s (resident %s, %s) exists but no resident was told about it", id, tk.ResidentID, tk.State)
		}
		if r.countGroup(id) == 0 {
			t.Errorf("check 3: ticket %s never got a card in the group", id)
		}
		r.mu.Lock()
		exp := r.tickets[id]
		var want, tried flows.State
		var tech int64
		if exp != nil {
			want, tried, tech = exp.want, exp.tried, exp.tech
		}
		r.mu.Unlock()
		if exp == nil {
			continue
		}
		if tk.State != want && tk.State != tried {
			t.Errorf("check 2: ticket %s is %q; the script last saw %q confirmed (and last tried %q)", id, tk.State, want, tried)
		}
		if tech != 0 && tk.State != flows.StateNew && tk.AssigneeID != telegram.PersonID(tech) {
			t.Errorf("check 2: ticket %s is assigned to %q, want %s", id, tk.AssigneeID, telegram.PersonID(tech))
		}
	}
	if len(all) != len(r.residents) {
		t.Errorf("check 1: %d tickets in the store for %d residents who reported once each", len(all), len(r.residents))
	}
	return len(all), nil
}

// checkUpdates checks 5: every update the script caused was handed to the
// bot and has its dedupe mark. It returns how many were handed out more
// than once (a kill between fetching and committing).
func (r *crashRig) checkUpdates(tx flows.Tx, updates []int64) (int, error) {
	t := r.t
	redelivered := 0
	for _, id := range updates {
		switch n := r.fake.Delivered(id); {
		case n == 0:
			t.Errorf("check 5: update %d was never handed to the bot", id)
		case n > 1:
			redelivered++
		}
		seen, err := tx.Seen(telegram.UpdateKey(id))
		if err != nil {
			return 0, err
		}
		if !seen {
			t.Errorf("check 5: update %d has no dedupe mark in the store: it was lost", id)
		}
	}
	if n := r.fake.Pending(); n != 0 {
		t.Errorf("check 5: %d updates still unconfirmed in the fake", n)
	}
	return redelivered, nil
}

// countGroup counts the group messages that mention id.
func (r *crashRig) countGroup(id string) int {
	n := 0
	for _, m := range r.fake.Messages(crashGroup) {
		if strings.Contains(m.Text, id) {
			n++
		}
	}
	return n
}

type crashMsgKey struct {
	chat int64
	id   int
}

// checkOutbox verifies check 3 and returns the number of duplicates.
func (r *crashRig) checkOutbox(st crashDB, kills []crashKill) int {
	t := r.t
	for _, which := range []string{outbox.StatusPending, outbox.StatusFailed} {
		rows, err := st.Rows(which)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			t.Errorf("check 3: outbox row %d to %s is %s after the run (attempts %d, last error %q): %q",
				row.ID, row.Msg.To, which, row.Attempts, row.LastError, crashClip(row.Msg.Text))
		}
	}
	done, err := st.Rows(outbox.StatusDelivered)
	if err != nil {
		t.Fatal(err)
	}
	sends := map[crashMsgKey]tgfake.Entry{}
	for _, e := range r.fake.Entries() {
		switch e.Kind {
		case "bot_send", "bot_photo", "bot_document":
			sends[crashMsgKey{e.ChatID, e.MessageID}] = e
		}
	}
	claimed := map[crashMsgKey]uint64{}
	rowsByID := map[uint64]outbox.Row{}
	for _, row := range done {
		rowsByID[row.ID] = row
	}
	delivered := 0
	// New messages first, then edits (an edit of a card that never arrived
	// is sent as a new message).
	sort.SliceStable(done, func(i, j int) bool { return done[i].Msg.Kind != flows.KindEdit && done[j].Msg.Kind == flows.KindEdit })
	for _, row := range done {
		if row.Status != outbox.StatusDelivered {
			continue // superseded edits
		}
		if row.Msg.Kind == flows.KindMenu {
			// setMyCommands for the person's chat: no message to find.
			if got := r.fake.Commands()["chat:"+row.Msg.To.Chat+"/"]; len(got) == 0 {
				t.Errorf("check 3: delivered menu row %d, but chat %s has no menu", row.ID, row.Msg.To.Chat)
			}
			continue
		}
		delivered++
		chat, err1 := strconv.ParseInt(row.Msg.To.Chat, 10, 64)
		mid, err2 := strconv.Atoi(row.PlatformID)
		if err1 != nil || err2 != nil {
			t.Errorf("check 3: delivered row %d has chat %q and message id %q", row.ID, row.Msg.To.Chat, row.PlatformID)
			continue
		}
		k := crashMsgKey{chat, mid}
		e, isSend := sends[k]
		if row.Msg.Kind == flows.KindEdit {
			if _, ok := r.fake.Message(chat, mid); !ok {
				t.Errorf("check 3: edit row %d was delivered to message %d in chat %d, which the fake does not have", row.ID, mid, chat)
			}
			if _, taken := claimed[k]; isSend && !taken {
				claimed[k] = row.ID
			}
			continue
		}
		if !isSend {
			t.Errorf("check 3: row %d is marked delivered as message %d in chat %d, which the bot never sent: %q", row.ID, mid, chat, crashClip(row.Msg.Text))
			continue
		}
		if other, taken := claimed[k]; taken {
			t.Errorf("check 3: rows %d and %d both claim message %d in chat %d", other, row.ID, mid, chat)
		}
		claimed[k] = row.ID
		if want := strings.TrimSpace(row.Msg.Text); want != "" && !strings.HasPrefix(want, strings.TrimSuffix(e.Text, "…")) {
			t.Errorf("check 3: row %d was delivered as message %d in chat %d with text %q, want %q", row.ID, mid, chat, crashClip(e.Text), crashClip(want))
		}
	}
	// Every message no row claims must be a copy of a claimed one, sent
	// by a run that was SIGKILLed while the send was in flight, the twin
	// going out after the restart.
	perKill := map[int]int{}
	dups := 0
	for k, e := range sends {
		if _, ok := claimed[k]; ok {
			continue
		}
		dups++
		var twin *tgfake.Entry
		for k2, e2 := range sends {
			if _, ok := claimed[k2]; ok && k2.chat == k.chat && e2.Text == e.Text && crashSameButtons(e.Buttons, e2.Buttons) && e2.At.After(e.At) {
				if twin == nil || e2.At.Before(twin.At) {
					twin = &e2
				}
			}
		}
		if twin == nil {
			// No later twin: is it a resend of a row already marked
			// delivered (an earlier copy that the row claims)?
			for k2, e2 := range sends {
				id, ok := claimed[k2]
				if !ok || k2.chat != k.chat || e2.Text != e.Text || !crashSameButtons(e.Buttons, e2.Buttons) || !e2.At.Before(e.At) {
					continue
				}
				row := rowsByID[id]
				if row.Done != nil && row.Done.Before(e.At) {
					t.Errorf("check 3: outbox row %d (%q) was delivered as message %d in chat %d and marked delivered at %s, "+
						"then sent AGAIN as message %d at %s: a delivered row was dispatched a second time (no kill involved; see "+
						"bot/telegram/sender.go: Sender.dispatch reads Store.Pending before taking s.mu, so a delivery that finishes "+
						"in between leaves a stale pending row that inflight no longer guards)",
						id, crashClip(e.Text), k2.id, k.chat, row.Done.Local().Format("15:04:05.000"), k.id, e.At.Format("15:04:05.000"))
				} else {
					t.Errorf("check 3: message %d in chat %d (%s) repeats message %d, which row %d claims, and no kill explains it: %q",
						k.id, k.chat, e.At.Format("15:04:05.000"), k2.id, id, crashClip(e.Text))
				}
				twin = &e2
				break
			}
			if twin == nil {
				t.Errorf("check 3: message %d in chat %d (%s) matches no delivered row and is no copy of a delivered message: %q",
					k.id, k.chat, e.At.Format("15:04:05.000"), crashClip(e.Text))
			}
			continue
		}
		var kill *crashKill
		for i := range kills {
			if kl := &kills[i]; kl.alive && !e.At.Before(kl.start) && e.At.Before(kl.lastSend) && !twin.At.Before(kl.resend) {
				kill = kl
				break
			}
		}
		if kill == nil {
			t.Errorf("check 3: message %q went to chat %d twice (%s and %s) without a SIGKILL of the sending run in between",
				crashClip(e.Text), k.chat, e.At.Format("15:04:05.000"), twin.At.Format("15:04:05.000"))
			continue
		}
		perKill[kill.n]++
		t.Logf("duplicate (send in flight at kill %d): chat %d, messages %d and %d: %q", kill.n, k.chat, k.id, twin.MessageID, crashClip(e.Text))
	}
	for n, c := range perKill {
		if c > crashWorkers {
			t.Errorf("check 3: kill %d caused %d duplicates, more than the %d sends that can be in flight", n, c, crashWorkers)
		}
	}
	if delivered == 0 {
		t.Error("check 3: no delivered rows at all")
	}
	return dups
}

func crashSameButtons(a, b [][]tgfake.Button) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func crashClip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// checkLogs fails on error lines, panics and poison-update skips in the
// bot's logs and returns the number of warnings.
func (r *crashRig) checkLogs() int {
	t := r.t
	var logs, crashes []string
	for _, b := range r.bots {
		logs, crashes = append(logs, b.Logs()...), append(crashes, b.Crashes()...)
	}
	for _, c := range crashes {
		t.Errorf("check 5: the bot %s", c)
	}
	warns := 0
	for _, p := range logs {
		f, err := os.Open(p)
		if err != nil {
			t.Error(err)
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.Contains(line, `"level":"warn"`):
				warns++
			case strings.Contains(line, `"level":"error"`), strings.Contains(line, `"level":"fatal"`), strings.Contains(line, `"level":"panic"`),
				strings.HasPrefix(line, "panic:"), strings.HasPrefix(line, "fatal error:"):
				t.Errorf("check 5: %s: %s", filepath.Base(p), line)
			}
		}
		f.Close()
	}
	return warns
}
