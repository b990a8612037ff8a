//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/internal/testkit"
)

var (
	crashReplicasDefault = crashVariant{name: "default", kills: 4, residents: 8, techs: 2,
		upMin: 500 * time.Millisecond, upMax: 2500 * time.Millisecond, downMin: 100 * time.Millisecond, downMax: 500 * time.Millisecond,
		spread: 8 * time.Second, load: 90 * time.Second, replays: 1, replicas: 2}
	crashReplicasLong = crashVariant{name: "long", kills: 16, residents: 18, techs: 3,
		upMin: 300 * time.Millisecond, upMax: 4 * time.Second, downMin: 50 * time.Millisecond, downMax: 800 * time.Millisecond,
		spread: 45 * time.Second, load: 8 * time.Minute, replays: 1, replicas: 2}
)

// crashHookConnections is how many webhook posts the fake keeps in flight
// (tgfake Options.WebhookConnections).
const crashHookConnections = 8

// crashTakeoverMax is how soon after the leader's death another replica
// must lead (issue 19).
const crashTakeoverMax = 10 * time.Second

// TestCrashReplicas is TestCrash for replicas: two real binaries against
// one PostgreSQL database ([store] driver = "postgres", dsn =
// "${DATABASE_URL}") and the fake Bot API in webhook mode, each replica
// with its own webhook listener and /healthz, behind a round-robin front
// (testkit.Front, the fake's webhook URL) that alternates
// between them and tries the other when one refuses the connection; the
// fake posts up to 8 updates at once, as Telegram does, so both replicas
// handle updates at the same time. The same scripted conversations run
// (see TestCrash) while the killer, 4 times, finds the leader by the
// replicas' /healthz ("leader":true),
// SIGKILLs it, measures how long until the survivor's /healthz says it
// leads (at most 10 s; it campaigns every 2 s and PostgreSQL drops a dead
// process's session, and its leader lock, at once) and restarts the dead
// one after a short pause. A post the front could not hand over (the
// replica died with it) fails, and the fake posts it again, as Telegram
// does. When the load is done and both replicas are quiet, the fake posts
// every update once more (tgfake Redeliver), to both replicas in turn:
// the store must not change (each is recognised by its dedupe mark). Then
// TestCrash's checks run on the PostgreSQL store, and:
//
//  7. only the leader delivers: each replica reaches the fake through a
//     proxy of its own that records its sends (sendMessage, edits, …);
//     between two kills every send comes from one replica, the one that
//     then led (the killed one's sends in flight at its death aside);
//  8. every takeover took at most 10 s (the times are logged).
//
// Duplicates are TestCrash's check 3: only sends in flight when a leader
// died, at most [outbox] workers per kill, each with its twin sent after
// the death (by the new leader); the count is logged.
//
// It needs a PostgreSQL server (REPAIRBOT_PG_DSN, e.g. eval
// "$(.ci/pg-start)"); without one it skips, saying how, and with
// REPAIRBOT_PG_REQUIRED=1 it fails. -crash.seed / CRASH_SEED replay a
// schedule as for TestCrash, -crash.long / CRASH_LONG=1 run 16 kills with
// 18 residents and 3 technicians; CRASH_FOLLOWERSENDS=1 (or
// -crash.followersends) builds the bot with the dispatcher ignoring the
// leader lock (-tags crashtest_followersends): that run must fail.
func TestCrashReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	v := crashReplicasDefault
	if *crashLongFlag || os.Getenv("CRASH_LONG") == "1" {
		v = crashReplicasLong
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
	t.Logf("replica crash test, %s variant: %d replicas on PostgreSQL in webhook mode, %d leader kills, %d residents, %d technicians; seed %d (rerun with -crash.seed=%d)",
		v.name, v.replicas, v.kills, v.residents, v.techs, seed, seed)
	if crashFollowerSends() {
		t.Log("CRASH_FOLLOWERSENDS: the bot is built with every replica's dispatcher sending, leader or not; this run must FAIL")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replica crash test failed; seed %d (rerun with -crash.seed=%d)", seed, seed)
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

// crashFollowerSends says whether the bot is to be built with every
// replica delivering the outbox, leader or not (the proof that
// TestCrashReplicas notices).
func crashFollowerSends() bool {
	return *crashFollowerSendsFlag || os.Getenv("CRASH_FOLLOWERSENDS") == "1"
}

// setupReplicas gives the rig its replicas: the front, each replica's
// proxy to the fake and its process on the PostgreSQL database.
func (r *crashRig) setupReplicas(dir, bin string) {
	t := r.t
	hooks := make([]string, r.v.replicas)
	for i := range hooks {
		hooks[i] = crashFreeAddr(t)
		r.opsAddrs = append(r.opsAddrs, crashFreeAddr(t))
	}
	r.front = testkit.NewFront(t, hooks...)
	for i := range hooks {
		api := r.apiProxy(i)
		rdir := filepath.Join(dir, fmt.Sprintf("replica-%d", i+1))
		if err := os.MkdirAll(rdir, 0o755); err != nil {
			t.Fatal(err)
		}
		r.bots = append(r.bots, crashProcessWith(t, rdir, bin, crashSetup{apiURL: api.URL, dataDir: filepath.Join(rdir, "data"),
			dsn: r.dsn, webhookListen: hooks[i], webhookURL: r.front.URL() + "/telegram/webhook", opsListen: r.opsAddrs[i]}))
	}
}

// crashFreeAddr is a loopback address nobody listens on (a restarted
// replica listens on the same one again).
func crashFreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// ---- each replica's way to the fake ----

// crashSend is one call of a replica that delivers an outbox row.
type crashSend struct {
	replica int
	method  string
	at      time.Time // when the call reached the proxy
}

// crashSendMethods are the Bot API methods only the outbox dispatcher
// calls (answerCallbackQuery is the receiving replica's, setMyCommands
// every replica's at start-up).
var crashSendMethods = map[string]bool{"sendmessage": true, "sendphoto": true, "senddocument": true,
	"editmessagetext": true, "editmessagereplymarkup": true, "editmessagecaption": true, "deletemessage": true}

// apiProxy is a replica's proxy to the fake, the replica's api_url: it
// records the replica's sends.
func (r *crashRig) apiProxy(replica int) *httptest.Server {
	t := r.t
	u, err := url.Parse(r.fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	// A replica killed with a call on its way breaks its request: the
	// fake never sees it, and the dead replica reads no answer.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		method := strings.ToLower(req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:])
		if crashSendMethods[method] && !strings.HasPrefix(req.URL.Path, "/file/") {
			r.mu.Lock()
			r.sends = append(r.sends, crashSend{replica: replica, method: method, at: time.Now()})
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// ---- the leader and its kills ----

// health reads replica i's /healthz: whether it answers and whether it
// says it leads.
func (r *crashRig) health(i int) (up, leading bool) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + r.opsAddrs[i] + "/healthz")
	if err != nil {
		return false, false
	}
	defer resp.Body.Close()
	var h struct {
		Leader *bool `json:"leader"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.Leader == nil {
		return true, false
	}
	return true, *h.Leader
}

// leader waits up to timeout until exactly one replica says it leads and
// returns it.
func (r *crashRig) leader(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	var says []int
	for {
		says = says[:0]
		for i := range r.bots {
			if _, l := r.health(i); l {
				says = append(says, i)
			}
		}
		if len(says) == 1 {
			return says[0], nil
		}
		if len(says) > 1 {
			return -1, fmt.Errorf("replicas %v all say they lead", says)
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("no replica leads after %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaderKiller SIGKILLs the leading replica v.kills times (after a
// random uptime, two kills in three right after traffic as in killer),
// measures how long until another replica leads, and restarts the dead
// one after a random pause once the survivor leads.
func (r *crashRig) leaderKiller(rng *rand.Rand) {
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	for n := 1; n <= r.v.kills; n++ {
		for i, b := range r.bots {
			if _, ok := b.WaitOutput(crashReady, 30*time.Second); !ok {
				r.fail("killer: replica %d is not up before kill %d", i+1, n)
				return
			}
		}
		time.Sleep(between(r.v.upMin, r.v.upMax))
		lead, err := r.leader(15 * time.Second)
		if err != nil {
			r.fail("killer: before kill %d: %v", n, err)
			return
		}
		busy := rng.IntN(3) > 0
		jitter := between(0, 10*time.Millisecond)
		if busy {
			select {
			case <-r.traffic:
			default:
			}
			select {
			case <-r.traffic:
				time.Sleep(jitter)
			case <-time.After(5 * time.Second):
				busy = false
			}
		}
		alive, started, dead := r.bots[lead].Kill()
		took, next := time.Duration(-1), -1
		for time.Since(dead) < crashTakeoverMax+5*time.Second {
			for i := range r.bots {
				if i == lead {
					continue
				}
				if _, l := r.health(i); l {
					took, next = time.Since(dead), i
				}
			}
			if next >= 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.mu.Lock()
		r.takeovers = append(r.takeovers, took)
		r.mu.Unlock()
		time.Sleep(between(r.v.downMin, r.v.downMax))
		restart := time.Now()
		if err := r.bots[lead].Start(); err != nil {
			r.fail("killer: restart after kill %d: %v", n, err)
		}
		r.mu.Lock()
		r.kills = append(r.kills, crashKill{n: n, start: started, dead: dead, restart: restart,
			lastSend: dead.Add(time.Second), resend: dead, alive: alive, busy: busy, replica: lead})
		r.mu.Unlock()
	}
}

// ---- settling ----

// redeliverAll has the fake post every update again, through the front
// to both replicas in turn, and fails the test if that changed the store:
// every one must be recognised by its dedupe mark, on whichever replica.
func (r *crashRig) redeliverAll() {
	t := r.t
	first := r.firstUpdate()
	if first == 0 {
		return
	}
	st, err := r.openDB()
	if err != nil {
		t.Errorf("redelivery: open the store: %v", err)
		return
	}
	defer st.Close()
	before, err := r.snapshot(st)
	if err != nil {
		t.Errorf("redelivery: %v", err)
		return
	}
	top := r.fake.Confirmed()
	served := r.fake.Redeliver(first)
	if !r.fake.WaitFor(60*time.Second, func() bool { return r.fake.Confirmed() >= top && r.fake.Pending() == 0 }) {
		t.Errorf("redelivery: the replicas did not take the %d updates posted again within 60 s (%d pending)", served, r.fake.Pending())
	}
	after, err := r.snapshot(st)
	if err != nil {
		t.Errorf("redelivery: %v", err)
		return
	}
	diffs := before.diff(after)
	for _, d := range diffs {
		t.Errorf("check 6: the %d updates, posted again at the end, were processed twice: %s", served, d)
	}
	r.mu.Lock()
	r.replays = append(r.replays, crashReplay{from: first, to: top, redelivered: served, changes: len(diffs)})
	r.mu.Unlock()
}

// ---- checks ----

// checkReplicas checks 7 and 8 (see TestCrashReplicas).
func (r *crashRig) checkReplicas(kills []crashKill) {
	t := r.t
	r.mu.Lock()
	sends := append([]crashSend(nil), r.sends...)
	takeovers := append([]time.Duration(nil), r.takeovers...)
	stopAt := r.stopAt
	r.mu.Unlock()

	// 8: takeovers.
	var took []string
	for i, d := range takeovers {
		switch {
		case d < 0:
			t.Errorf("check 8: after kill %d no replica led within %s", i+1, crashTakeoverMax+5*time.Second)
			took = append(took, "none")
		case d > crashTakeoverMax:
			t.Errorf("check 8: after kill %d the survivor led only %s after the leader died (at most %s)", i+1, d.Round(time.Millisecond), crashTakeoverMax)
			fallthrough
		default:
			took = append(took, d.Round(time.Millisecond).String())
		}
	}
	if len(takeovers) < r.v.kills {
		t.Errorf("check 8: only %d of %d leader kills happened", len(takeovers), r.v.kills)
	}

	// 7: one sender between two kills. Epoch e runs from kill e's death
	// (the start for e = 0) to kill e+1's; the checked sends end with the
	// redelivery at the end (the graceful stops that follow hand the lead
	// over without a kill).
	sort.Slice(sends, func(i, j int) bool { return sends[i].at.Before(sends[j].at) })
	perEpoch := make([]map[int]int, len(kills)+1)
	for i := range perEpoch {
		perEpoch[i] = map[int]int{}
	}
	checked, late := 0, 0
	for _, s := range sends {
		if !stopAt.IsZero() && s.at.After(stopAt) {
			break
		}
		e := sort.Search(len(kills), func(k int) bool { return kills[k].dead.After(s.at) })
		if e > 0 && s.replica == kills[e-1].replica && s.at.Before(kills[e-1].lastSend) && s.at.Before(kills[e-1].restart) {
			late++ // the dead leader's call, on its way at its death
			continue
		}
		perEpoch[e][s.replica]++
		checked++
	}
	for e, by := range perEpoch {
		if len(by) > 1 {
			from := "the start"
			if e > 0 {
				from = fmt.Sprintf("kill %d", e)
			}
			to := "the end"
			if e < len(kills) {
				to = fmt.Sprintf("kill %d", e+1)
			}
			var who []string
			for rep, n := range by {
				who = append(who, fmt.Sprintf("replica %d: %d", rep+1, n))
			}
			sort.Strings(who)
			t.Errorf("check 7: between %s and %s more than one replica delivered the outbox (%s): only the leader may", from, to, strings.Join(who, ", "))
			continue
		}
		if e < len(kills) {
			for rep := range by {
				if rep != kills[e].replica {
					t.Errorf("check 7: before kill %d replica %d delivered, but replica %d led (/healthz)", e+1, rep+1, kills[e].replica+1)
				}
			}
		}
	}
	if checked == 0 {
		t.Error("check 7: no send recorded")
	}
	fs := r.front.Stats()
	handed := make([]string, len(fs.Handed))
	for i, n := range fs.Handed {
		handed[i] = strconv.FormatInt(n, 10)
	}
	t.Logf("replicas: takeovers after the leader's SIGKILL: %s (at most %s); %d sends checked, each by the leader of its time (and %d calls of a killed leader that reached its proxy after its death); the front handed posts %s to replicas 1/2 (%d while the other replica had one in flight), %d connections refused, %d posts failed and were posted again",
		strings.Join(took, " "), crashTakeoverMax, checked, late, strings.Join(handed, "/"), fs.Overlap, fs.Refused, fs.Failed)
}
