package wecom

import (
	"context"
	"net"
	"net/http"
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
