package wecom

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestNetErrorsHideSecrets: a request that fails on the network is
// reported without its URL, which carries the access token or the group
// robot's key.
func TestNetErrorsHideSecrets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	c := newClient(base, "corp", &http.Client{Timeout: 2 * time.Second}, time.Now)
	const key, token = "5fd7c1a2-robot-secret-key", "TOKEN-abcdef-secret"
	for _, q := range []url.Values{{"key": {key}}, {"access_token": {token}}} {
		err := c.do(context.Background(), http.MethodPost, "/cgi-bin/webhook/send", q, map[string]any{"msgtype": "text"}, nil)
		if err == nil {
			t.Fatal("a request to a closed port succeeded")
		}
		if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), base) {
			t.Fatalf("the error quotes the URL: %v", err)
		}
	}
}

// TestTokenWaitHonoursContext: while one refresh of the access token
// hangs, another caller stops waiting for it when its own context ends
// (the lock was a mutex that ignored contexts, so a callback's bounded
// lookup waited as long as the sender's stuck request).
func TestTokenWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(`{"errcode":0,"access_token":"T","expires_in":7200}`))
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(srv.URL, "corp", &http.Client{Timeout: time.Minute}, time.Now)
	stuck := make(chan error, 1)
	go func() { _, err := c.token(context.Background(), "s"); stuck <- err }()
	time.Sleep(50 * time.Millisecond) // the first caller holds the refresh
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.token(ctx, "s")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("second caller: %v after %s; want its deadline, promptly", err, time.Since(start))
	}
	release <- struct{}{}
	if err := <-stuck; err != nil {
		t.Fatalf("the first refresh: %v", err)
	}
}
