// Package ops serves the bot's operations endpoint: GET /healthz for
// liveness probes and GET /metrics in the Prometheus text format. Every
// value is read live when asked for, from the store (Pinger), the outbox
// (Queue) and the channels through their capabilities (bot.HealthChecker,
// bot.StatsReporter); nothing is counted twice. ops knows no channel and
// no store by name.
package ops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/outbox"
)

// Pinger proves the store writable (the bbolt store implements it).
type Pinger interface {
	// Ping commits a tiny write transaction.
	Ping() error
}

// Queue is what the endpoint reads of the outbox (every outbox.Queue
// implements it).
type Queue interface {
	Stats() (outbox.Stats, error)
}

// Options configure the server.
type Options struct {
	// Listen is the address, e.g. "127.0.0.1:9090" (":0" in tests).
	Listen string
	// Store is pinged by every health check; required.
	Store Pinger
	// Outbox gives the queue's depth and counts; required.
	Outbox Queue
	// Channels are the running channels; those implementing
	// bot.HealthChecker add their checks to /healthz, those implementing
	// bot.StatsReporter their counters to /metrics.
	Channels []bot.Channel
	// Engine gives the event, breach and timer counters (nil: not exported).
	Engine *flows.EngineStats
	// Backup writes a hot backup and returns its path (POST /backup, for
	// `repairbot backup` while the bot holds the file); nil disables it.
	// A path with an error is a copy written with a warning.
	Backup func() (string, error)
	// Database names the store's driver for /healthz ("bbolt",
	// "postgres"); empty leaves it out.
	Database string
	// Leading, when set, says whether this replica leads (store/postgres):
	// /healthz reports it as "leader". Nil leaves it out (bbolt: one
	// process, always leading).
	Leading func() bool
	// Failed lists and re-queues failed outbox rows (GET /outbox/failed,
	// POST /outbox/requeue, for `repairbot outbox` while the bot holds the
	// file); nil disables them.
	Failed outbox.Requeuer
	// Token authorises the endpoints that write or show messages
	// (POST /backup, /outbox/...), sent as "Authorization: Bearer <token>";
	// empty disables them (403).
	Token string
	// DataDir is the directory whose file system must keep MinFree bytes
	// free ("disk" check; empty or MinFree 0: not checked). DiskFree
	// measures it (statfs when nil; tests inject a full disk).
	DataDir  string
	MinFree  uint64
	DiskFree func(dir string) (uint64, error)
	// OutboxStall: a channel whose oldest undelivered row is this old,
	// with nothing delivered for as long, fails "<channel>_outbox"
	// (default 10 min).
	OutboxStall time.Duration
	Now         func() time.Time
	Log         zerolog.Logger
}

// eventsFailingAfter is how long events may keep failing, none committing,
// before /healthz fails "events" (a retried update, a parked poison one
// take a few seconds).
const eventsFailingAfter = 10 * time.Second

// Server is the running endpoint. Start starts it, Close stops it.
type Server struct {
	o      Options
	srv    *http.Server
	ln     net.Listener
	reg    *prometheus.Registry
	done   chan struct{}
	handle *prometheus.HistogramVec
	// backingUp lets one backup run at a time.
	backingUp sync.Mutex
}

// ObserveHandle records how long the engine took to handle one event
// (its transaction included), by event kind.
func (s *Server) ObserveHandle(kind flows.EventKind, d time.Duration) {
	s.handle.WithLabelValues(string(kind)).Observe(d.Seconds())
}

// New builds the handler and its private metrics registry without
// listening (tests use Handler directly).
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Outbox == nil {
		return nil, errors.New("ops: store and outbox are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DiskFree == nil {
		o.DiskFree = diskFree
	}
	if o.OutboxStall <= 0 {
		o.OutboxStall = 10 * time.Minute
	}
	s := &Server{o: o, done: make(chan struct{})}
	s.reg = prometheus.NewRegistry()
	s.handle = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "repairbot_handle_seconds",
		Help:    "Time to handle one inbound event, its store transaction included, by event kind.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"kind"})
	if err := s.reg.Register(s.handle); err != nil {
		return nil, err
	}
	if err := s.register(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	if o.Backup != nil {
		mux.HandleFunc("POST /backup", s.backup)
	}
	if o.Failed != nil {
		mux.HandleFunc("GET /outbox/failed", s.outboxFailed)
		mux.HandleFunc("POST /outbox/requeue", s.outboxRequeue)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{o.Log}, ErrorHandling: promhttp.ContinueOnError,
	}))
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	return s, nil
}

// Start builds the server and starts listening on o.Listen.
func Start(o Options) (*Server, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("ops.listen: %w", err)
	}
	s.ln = ln
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.o.Log.Error().Err(err).Msg("ops endpoint stopped")
		}
	}()
	s.o.Log.Info().Str("addr", ln.Addr().String()).Msg("ops endpoint listening (/healthz, /metrics)")
	return s, nil
}

// Handler serves /healthz and /metrics.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// Registry is the server's private metrics registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Addr is the address it listens on ("" before Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops the server, letting a request in flight finish.
func (s *Server) Close() error {
	if s == nil || s.ln == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// Health is the /healthz answer.
type Health struct {
	Status string `json:"status"` // "ok" or "fail"
	// Failing names the failed checks: "store", "outbox", and the
	// channels' own ("telegram_poll").
	Failing []string `json:"failing,omitempty"`
	Store   string   `json:"store"` // "writable" or the error
	// Database is the store's driver ("bbolt", "postgres"), when known.
	Database string `json:"database,omitempty"`
	// Leader says whether this replica leads the ones sharing the
	// database (it sends the outbox and runs the timers); absent on bbolt.
	// Both a leader and a follower are healthy.
	Leader        *bool   `json:"leader,omitempty"`
	OutboxPending int     `json:"outbox_pending"`
	OutboxOldestS float64 `json:"outbox_oldest_age_s"`
	Failed        int     `json:"failed"`
	// LastPollAgeS is the age of the oldest answer among the channels'
	// polling loops (Telegram in polling mode); absent when none polls.
	LastPollAgeS *float64 `json:"last_poll_age_s,omitempty"`
	OutboxError  string   `json:"outbox_error,omitempty"`
	// LastEventAgeS is the age of the last event that committed (absent
	// before the first); Events says why "events" fails.
	LastEventAgeS *float64 `json:"last_event_age_s,omitempty"`
	Events        string   `json:"events,omitempty"`
	// DiskFreeMB is the free space under the data directory (absent when
	// not measured); Disk says why "disk" fails.
	DiskFreeMB *float64 `json:"disk_free_mb,omitempty"`
	Disk       string   `json:"disk,omitempty"`
	// UnreachableSince is, by channel, when its platform stopped answering
	// the sender (RFC 3339, UTC); absent while every platform answers.
	UnreachableSince map[string]string `json:"unreachable_since,omitempty"`
	// Channels holds why a channel's check fails, by channel name; each
	// is written as a top-level key ("telegram": "no getUpdates answer…").
	Channels map[string]string `json:"-"`
}

// MarshalJSON writes Health with each entry of Channels as a key of its
// own after the fixed fields, in name order.
func (h Health) MarshalJSON() ([]byte, error) {
	type fixed Health
	raw, err := json.Marshal(fixed(h))
	if err != nil || len(h.Channels) == 0 {
		return raw, err
	}
	names := make([]string, 0, len(h.Channels))
	for n := range h.Channels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.Write(raw[:len(raw)-1]) // without the closing brace
	for _, n := range names {
		k, _ := json.Marshal(n)
		v, _ := json.Marshal(h.Channels[n])
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Check runs the health checks: a write transaction on the store, the
// last real event commit (a tiny write can succeed while every real one
// fails), the free disk under the data directory, the outbox's numbers
// and each channel's progress, and every channel's own checks (Telegram
// in polling mode: the age of the last getUpdates).
func (s *Server) Check() Health {
	h := Health{Status: "ok", Store: "writable", Database: s.o.Database}
	if s.o.Leading != nil {
		l := s.o.Leading()
		h.Leader = &l
	}
	if err := s.o.Store.Ping(); err != nil {
		h.Failing = append(h.Failing, "store")
		h.Store = "not writable: " + err.Error()
	}
	now := s.o.Now()
	if e := s.o.Engine; e != nil {
		if n := e.LastCommit.Load(); n != 0 {
			a := seconds(now.Sub(time.Unix(0, n)))
			h.LastEventAgeS = &a
		}
		if n := e.FailingSince.Load(); n != 0 {
			if since := time.Unix(0, n); now.Sub(since) >= eventsFailingAfter {
				h.Failing = append(h.Failing, "events")
				h.Events = fmt.Sprintf("no event has committed since %s: every one fails (the log says why: a full disk, a broken store)",
					since.UTC().Format(time.RFC3339))
			}
		}
	}
	if s.o.DataDir != "" && s.o.MinFree > 0 {
		free, err := s.o.DiskFree(s.o.DataDir)
		switch {
		case errors.Is(err, errNoDiskFreeMeasure):
		case err != nil:
			h.Failing = append(h.Failing, "disk")
			h.Disk = "cannot measure the free space: " + err.Error()
		default:
			mb := math.Round(float64(free)/(1<<20)*10) / 10
			h.DiskFreeMB = &mb
			if free < s.o.MinFree {
				h.Failing = append(h.Failing, "disk")
				h.Disk = fmt.Sprintf("%.1f MiB free under the data directory, below ops.min_free_mb (%d MiB)", mb, s.o.MinFree>>20)
			}
		}
	}
	for _, ch := range s.reporters() {
		st := ch.(bot.StatsReporter).SendStats()
		if st.Waiting == 0 || st.Oldest.IsZero() || now.Sub(st.Oldest) < s.o.OutboxStall {
			continue
		}
		last := st.Oldest
		if st.LastSent.After(last) {
			last = st.LastSent
		}
		if idle := now.Sub(last); idle >= s.o.OutboxStall {
			name := ch.Name() + "_outbox"
			h.Failing = append(h.Failing, name)
			s.addDetail(&h, ch.Name(), fmt.Sprintf("%d messages waiting, the oldest for %s, none delivered for %s",
				st.Waiting, now.Sub(st.Oldest).Round(time.Second), idle.Round(time.Second)))
		}
	}
	if st, err := s.o.Outbox.Stats(); err != nil {
		h.Failing = append(h.Failing, "outbox")
		h.OutboxError = err.Error()
	} else {
		h.OutboxPending, h.Failed = st.Pending, st.Failed
		if !st.Oldest.IsZero() {
			h.OutboxOldestS = seconds(now.Sub(st.Oldest))
		}
	}
	for _, ch := range s.reporters() {
		if since := ch.(bot.StatsReporter).SendStats().UnreachableSince; !since.IsZero() {
			if h.UnreachableSince == nil {
				h.UnreachableSince = map[string]string{}
			}
			h.UnreachableSince[ch.Name()] = since.UTC().Format(time.RFC3339)
		}
	}
	for _, ch := range s.o.Channels {
		hc, ok := ch.(bot.HealthChecker)
		if !ok {
			continue
		}
		for _, c := range hc.Health(now) {
			if c.Poll && (h.LastPollAgeS == nil || seconds(c.PollAge) > *h.LastPollAgeS) {
				a := seconds(c.PollAge)
				h.LastPollAgeS = &a
			}
			if !c.OK {
				h.Failing = append(h.Failing, c.Name)
				s.addDetail(&h, ch.Name(), c.Detail)
			}
		}
	}
	if len(h.Failing) > 0 {
		h.Status = "fail"
	}
	return h
}

// addDetail adds why a check of a channel fails to its entry.
func (s *Server) addDetail(h *Health, channel, detail string) {
	if h.Channels == nil {
		h.Channels = map[string]string{}
	}
	if prev := h.Channels[channel]; prev != "" {
		h.Channels[channel] = prev + "; " + detail
	} else {
		h.Channels[channel] = detail
	}
}

// pollAge is the oldest answer among the channels' polling loops; ok is
// false when no channel polls.
func (s *Server) pollAge() (time.Duration, bool) {
	var age time.Duration
	polls := false
	now := s.o.Now()
	for _, ch := range s.o.Channels {
		if hc, ok := ch.(bot.HealthChecker); ok {
			for _, c := range hc.Health(now) {
				if c.Poll {
					age, polls = max(age, c.PollAge), true
				}
			}
		}
	}
	return age, polls
}

// reporters are the channels that count their deliveries.
func (s *Server) reporters() []bot.Channel {
	var out []bot.Channel
	for _, ch := range s.o.Channels {
		if _, ok := ch.(bot.StatsReporter); ok {
			out = append(out, ch)
		}
	}
	return out
}

func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := s.Check()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}

// register adds the metrics, each a function reading the live value.
func (s *Server) register() error {
	stats := func(f func(outbox.Stats) float64) func() float64 {
		return func() float64 {
			st, err := s.o.Outbox.Stats()
			if err != nil {
				return math.NaN()
			}
			return f(st)
		}
	}
	reporters := s.reporters()
	// send sums a counter over every channel that reports them.
	send := func(f func(bot.SendStats) int64) func() float64 {
		return func() float64 {
			var n int64
			for _, ch := range reporters {
				n += f(ch.(bot.StatsReporter).SendStats())
			}
			return float64(n)
		}
	}
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_outbox_pending",
			Help: "Outgoing messages not yet delivered."},
			stats(func(st outbox.Stats) float64 { return float64(st.Pending) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_outbox_oldest_age_seconds",
			Help: "Age of the oldest undelivered outgoing message (0 when none)."},
			stats(func(st outbox.Stats) float64 {
				if st.Oldest.IsZero() {
					return 0
				}
				return max(s.o.Now().Sub(st.Oldest).Seconds(), 0)
			})),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "repairbot_outbox_failed_total",
			Help: "Outgoing messages that failed permanently (rows kept in outbox.failed)."},
			stats(func(st outbox.Stats) float64 { return float64(st.Failed) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "repairbot_sent_total",
			Help: "Messages delivered since start, every channel together."},
			send(func(st bot.SendStats) int64 { return st.Sent })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "repairbot_telegram_429_total",
			Help: "Answers asking the bot to slow down (Telegram 429, WeCom frequency limits) since start, every channel together; the name dates from when Telegram was the only channel."},
			send(func(st bot.SendStats) int64 { return st.Paused })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "repairbot_outbox_given_up_total",
			Help: "Messages given up since start after outbox.give_up_after of transient failures, every channel together (kept as failed rows)."},
			send(func(st bot.SendStats) int64 { return st.GaveUp })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "repairbot_retries_total",
			Help: "Deliveries scheduled for another attempt after a transient failure since start, every channel together."},
			send(func(st bot.SendStats) int64 { return st.Retried })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_up",
			Help: "1 when every /healthz check passes, else 0."},
			func() float64 {
				if s.Check().Status == "ok" {
					return 1
				}
				return 0
			}),
	}
	for _, ch := range reporters {
		r, labels := ch.(bot.StatsReporter), prometheus.Labels{"channel": ch.Name()}
		for _, c := range []struct {
			name, help string
			v          func(bot.SendStats) int64
		}{
			{"repairbot_channel_sent_total", "Messages delivered since start, by channel.", func(st bot.SendStats) int64 { return st.Sent }},
			{"repairbot_channel_retries_total", "Deliveries scheduled for another attempt since start, by channel.", func(st bot.SendStats) int64 { return st.Retried }},
			{"repairbot_channel_paused_total", "Answers asking the bot to slow down since start, by channel.", func(st bot.SendStats) int64 { return st.Paused }},
			{"repairbot_channel_failed_total", "Deliveries that failed permanently since start, by channel.", func(st bot.SendStats) int64 { return st.Failed }},
			{"repairbot_channel_given_up_total", "Messages given up since start after outbox.give_up_after of transient failures, by channel.", func(st bot.SendStats) int64 { return st.GaveUp }},
		} {
			cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help, ConstLabels: labels},
				func() float64 { return float64(c.v(r.SendStats())) }))
		}
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_channel_unreachable_since_seconds",
			Help:        "Unix time since which the channel's platform has not answered a send (0 while it answers).",
			ConstLabels: labels},
			func() float64 {
				if since := r.SendStats().UnreachableSince; !since.IsZero() {
					return float64(since.Unix())
				}
				return 0
			}))
	}
	for _, ch := range s.o.Channels {
		rr, ok := ch.(bot.ReceiveReporter)
		if !ok {
			continue
		}
		labels := prometheus.Labels{"channel": ch.Name()}
		for _, c := range []struct {
			name, help string
			v          func(bot.ReceiveStats) int64
		}{
			{"repairbot_channel_updates_received_total", "Updates that arrived from the platform since start, by channel.", func(st bot.ReceiveStats) int64 { return st.Received }},
			{"repairbot_channel_updates_handled_total", "Updates handled (committed, duplicates included) since start, by channel.", func(st bot.ReceiveStats) int64 { return st.Handled }},
			{"repairbot_channel_offset_resets_total", "Times the stored position in the platform's stream was found ahead of its ids and moved back, since start, by channel.", func(st bot.ReceiveStats) int64 { return st.OffsetResets }},
		} {
			cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help, ConstLabels: labels},
				func() float64 { return float64(c.v(rr.ReceiveStats())) }))
		}
	}
	if _, polls := s.pollAge(); polls {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_last_poll_age_seconds",
			Help: "Seconds since the platform last answered a channel's polling loop (Telegram getUpdates in polling mode; counted from start-up before the first answer)."},
			func() float64 { age, _ := s.pollAge(); return age.Seconds() }))
	}
	if s.o.DataDir != "" {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_disk_free_bytes",
			Help: "Free space on the file system holding the data directory (NaN when it cannot be measured)."},
			func() float64 {
				free, err := s.o.DiskFree(s.o.DataDir)
				if err != nil {
					return math.NaN()
				}
				return float64(free)
			}))
	}
	if e := s.o.Engine; e != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "repairbot_last_event_commit_age_seconds",
			Help: "Seconds since an inbound event last committed (NaN before the first)."},
			func() float64 {
				if n := e.LastCommit.Load(); n != 0 {
					return max(s.o.Now().Sub(time.Unix(0, n)).Seconds(), 0)
				}
				return math.NaN()
			}))
		counter := func(name, help string, v func() int64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
		}
		cs = append(cs,
			counter("repairbot_events_total", "Inbound events handled since start.", e.Events.Load),
			counter("repairbot_events_duplicate_total", "Redelivered events recognised and ignored since start.", e.Duplicates.Load),
			counter("repairbot_events_refused_total", "Events answered as a user mistake (wrong button, bad input) since start.", e.Mistakes.Load),
			counter("repairbot_events_failed_total", "Events that failed internally and will be retried since start.", e.Failures.Load),
			counter("repairbot_sla_breaches_total", "SLA breaches recorded on tickets (late acceptance or arrival) since start.", e.Breaches.Load),
			counter("repairbot_timers_fired_total", "Stored timers fired since start.", e.Timers.Load),
		)
	}
	for _, c := range cs {
		if err := s.reg.Register(c); err != nil {
			return fmt.Errorf("ops: register metric: %w", err)
		}
	}
	return nil
}

// promLogger sends promhttp's errors to zerolog.
type promLogger struct{ l zerolog.Logger }

func (p promLogger) Println(v ...any) { p.l.Error().Msg(fmt.Sprint(v...)) }

// backup writes a hot backup on request and answers its file name (never
// a path: the caller knows the backup directory). It writes, so it needs
// the token, refuses what a browser sends across origins, and runs one at
// a time.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, "POST /backup") {
		return
	}
	if !s.backingUp.TryLock() {
		s.refuse(w, r, http.StatusConflict, "a backup is already being written; ask again when it is done")
		return
	}
	defer s.backingUp.Unlock()
	// A large database takes longer to copy than the server's write
	// timeout allows an answer.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(backupWriteTimeout))
	path, err := s.o.Backup()
	if err != nil && path == "" {
		s.o.Log.Error().Err(err).Msg("backup on request failed")
		answer(w, http.StatusInternalServerError, map[string]string{"error": "the backup failed; the bot's log says why (component ops)"})
		return
	}
	file := filepath.Base(path)
	out := map[string]string{"file": file}
	if err != nil {
		s.o.Log.Error().Err(err).Str("path", path).Msg("backup on request written, but look at this")
		// The warning names copies by file name; strip the directory from
		// anything else it carries.
		out["warning"] = strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
	} else {
		s.o.Log.Info().Str("path", path).Msg("backup on request written")
	}
	answer(w, http.StatusOK, out)
}

// answer writes a JSON answer.
func answer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse answers an error and logs the refusal with the caller's address.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.o.Log.Warn().Int("status", code).Str("remote", r.RemoteAddr).Msg(r.Method + " " + r.URL.Path + " refused: " + msg)
	answer(w, code, map[string]string{"error": msg})
}

// authorize guards the endpoints that write or show messages: the token,
// no cross-origin browser requests, a JSON body if any. It answers the
// refusal itself and reports whether to go on.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, what string) bool {
	// A browser adds Origin (and Sec-Fetch-Site) to a cross-origin post;
	// `repairbot backup` and curl send neither.
	if r.Header.Get("Origin") != "" || (r.Header.Get("Sec-Fetch-Site") != "" && r.Header.Get("Sec-Fetch-Site") != "none") {
		s.refuse(w, r, http.StatusForbidden, "cross-origin requests are refused")
		return false
	}
	if s.o.Token == "" {
		s.refuse(w, r, http.StatusForbidden, what+" is disabled: no ops.token is configured (set [ops] token = \"${OPS_TOKEN}\" and OPS_TOKEN in the environment)")
		return false
	}
	if !bearerOK(r.Header.Get("Authorization"), s.o.Token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="repairbot ops"`)
		s.refuse(w, r, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <ops.token>")
		return false
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			s.refuse(w, r, http.StatusUnsupportedMediaType, "the body, if any, must be application/json")
			return false
		}
	}
	return true
}

// backupWriteTimeout bounds a POST /backup answer (the client waits 5 min).
const backupWriteTimeout = 10 * time.Minute

// bearerOK compares an Authorization header with the token in constant
// time (over hashes, so the length does not show either).
func bearerOK(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// FailedRow is one failed outbox row as GET /outbox/failed lists it:
// where it went and why it failed, not its text (which may carry a
// resident's details).
type FailedRow struct {
	ID       uint64    `json:"id"`
	Created  time.Time `json:"created"`
	Failed   time.Time `json:"failed"`
	To       string    `json:"to"`
	Kind     string    `json:"kind"`
	Ticket   string    `json:"ticket,omitempty"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
}

// FailedRows lists rows for GET /outbox/failed and the command line.
func FailedRows(rows []outbox.Row) []FailedRow {
	out := make([]FailedRow, 0, len(rows))
	for _, r := range rows {
		f := FailedRow{ID: r.ID, Created: r.Created, To: r.Msg.To.String(), Kind: string(r.Msg.Kind),
			Ticket: r.Msg.Ticket, Attempts: r.Attempts, Error: r.LastError}
		if r.Done != nil {
			f.Failed = *r.Done
		}
		out = append(out, f)
	}
	return out
}

// RequeueRequest is the body of POST /outbox/requeue: the failed rows to
// send again, by id, by a fragment of their error, or all of them.
type RequeueRequest struct {
	IDs   []uint64 `json:"ids,omitempty"`
	Error string   `json:"error,omitempty"`
	All   bool     `json:"all,omitempty"`
}

// RequeueAnswer is what POST /outbox/requeue answers.
type RequeueAnswer struct {
	Requeued []uint64 `json:"requeued"`
}

func (s *Server) outboxFailed(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, "GET /outbox/failed") {
		return
	}
	rows, err := s.o.Failed.Rows(outbox.StatusFailed)
	if err != nil {
		s.o.Log.Error().Err(err).Msg("outbox: list failed rows")
		answer(w, http.StatusInternalServerError, map[string]string{"error": "the failed rows cannot be read; the bot's log says why (component ops)"})
		return
	}
	answer(w, http.StatusOK, FailedRows(rows))
}

func (s *Server) outboxRequeue(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, "POST /outbox/requeue") {
		return
	}
	var req RequeueRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		s.refuse(w, r, http.StatusBadRequest, `the body must be JSON: {"ids":[1,2]}, {"error":"text"} or {"all":true}`)
		return
	}
	if len(req.IDs) == 0 && req.Error == "" && !req.All {
		s.refuse(w, r, http.StatusBadRequest, `name the rows: {"ids":[1,2]}, {"error":"text"} or {"all":true}`)
		return
	}
	rows, err := s.o.Failed.Rows(outbox.StatusFailed)
	var done []outbox.Row
	if err == nil {
		done, err = s.o.Failed.Requeue(outbox.Select(rows, req.IDs, req.Error, req.All), s.o.Now())
	}
	if err != nil {
		s.o.Log.Error().Err(err).Msg("outbox: requeue")
		answer(w, http.StatusInternalServerError, map[string]string{"error": "the rows could not be re-queued; the bot's log says why (component ops)"})
		return
	}
	ans := RequeueAnswer{Requeued: []uint64{}}
	for _, row := range done {
		ans.Requeued = append(ans.Requeued, row.ID)
	}
	s.o.Log.Info().Int("rows", len(ans.Requeued)).Str("remote", r.RemoteAddr).Msg("outbox: failed rows re-queued on request")
	answer(w, http.StatusOK, ans)
}
