package testkit

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// Front is a round-robin load balancer in front of replicas' webhook
// listeners, the webhook URL the fake Bot API posts to: a reverse proxy
// that hands each post to the next replica in turn, and to the one after
// it when that one refuses the connection (it is dead or not yet
// listening). A post that no replica took, or whose replica broke off
// with it (died), answers 502: the fake posts it again later, as
// Telegram does.
type Front struct {
	srv     *httptest.Server
	tr      *http.Transport
	mu      sync.Mutex
	targets []*frontTarget
	next    atomic.Uint64
	overlap atomic.Int64 // posts that began while another replica had one in flight
	refused atomic.Int64 // connections refused (tried at the next replica)
	failed  atomic.Int64 // posts that no replica answered
}

type frontTarget struct {
	addr   string
	handed atomic.Int64 // posts the replica answered
	busy   atomic.Int64 // posts in flight at the replica
}

// FrontStats are what a Front counted.
type FrontStats struct {
	// Handed is how many posts each replica answered, in the order of
	// the targets.
	Handed []int64
	// Overlap is how many posts began while another replica had one in
	// flight (both replicas handled updates at the same time).
	Overlap int64
	// Refused is how many connections a replica refused (the post was
	// tried at the next one).
	Refused int64
	// Failed is how many posts no replica answered (502).
	Failed int64
}

// NewFront starts a front for the replicas listening at targets (host:port
// each; more may be added later with Add). It stops when tb ends.
func NewFront(tb testing.TB, targets ...string) *Front {
	tb.Helper()
	// A new connection each time: a dead replica is noticed as a refused
	// connection, never as a kept-alive one gone stale.
	f := &Front{tr: &http.Transport{DisableKeepAlives: true}}
	for _, t := range targets {
		f.Add(t)
	}
	proxy := &httputil.ReverseProxy{
		// RoundTrip picks the host.
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.URL.Scheme = "http" },
		Transport: f,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			f.failed.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	f.srv = httptest.NewServer(proxy)
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the front's base URL (the webhook URL is it and the path).
func (f *Front) URL() string { return f.srv.URL }

// Add adds a replica listening at target (host:port), for one whose
// address is known only once it listens.
func (f *Front) Add(target string) {
	f.mu.Lock()
	f.targets = append(f.targets, &frontTarget{addr: target})
	f.mu.Unlock()
}

// Stats returns what the front counted so far.
func (f *Front) Stats() FrontStats {
	f.mu.Lock()
	targets := f.targets
	f.mu.Unlock()
	s := FrontStats{Handed: make([]int64, len(targets)), Overlap: f.overlap.Load(), Refused: f.refused.Load(), Failed: f.failed.Load()}
	for i, t := range targets {
		s.Handed[i] = t.handed.Load()
	}
	return s
}

var errNoReplica = errors.New("no replica yet")

// RoundTrip tries the replicas from the next one in turn.
func (f *Front) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	targets := f.targets
	f.mu.Unlock()
	if len(targets) == 0 {
		return nil, errNoReplica
	}
	start := int(f.next.Add(1))
	var last error
	for i := range targets {
		t := targets[(start+i)%len(targets)]
		out := req.Clone(req.Context())
		out.URL.Host, out.Host = t.addr, t.addr
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		t.busy.Add(1)
		for _, o := range targets {
			if o != t && o.busy.Load() > 0 {
				f.overlap.Add(1)
				break
			}
		}
		resp, err := f.tr.RoundTrip(out)
		t.busy.Add(-1)
		if err == nil {
			t.handed.Add(1)
			return resp, nil
		}
		last = err
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, err // it took the post and broke off: the fake retries
		}
		f.refused.Add(1)
	}
	return nil, last
}
