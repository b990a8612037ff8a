package telegram_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
)

// The webhook server lets go of a client that sends its headers or its
// body too slowly, or keeps a connection idle: without read, write and
// idle timeouts each such client held a socket and a goroutine for as long
// as it liked (only the headers had a limit).
func TestE2EWebhookTimeouts(t *testing.T) {
	const limit = 300 * time.Millisecond
	r := newRig(t, rigOptions{Mode: "webhook", WebhookTimeouts: telegram.WebhookTimeouts{
		ReadHeader: limit, Read: limit, Write: 2 * time.Second, Idle: limit}})
	addr := r.channel().WebhookAddr()
	for _, tc := range []struct {
		name string
		send func(t *testing.T, c net.Conn)
	}{
		{"headers never finish", func(t *testing.T, c net.Conn) {
			write(t, c, "POST "+e2eHook+" HTTP/1.1\r\nHost: bot\r\n")
		}},
		{"body never finishes", func(t *testing.T, c net.Conn) {
			write(t, c, "POST "+e2eHook+" HTTP/1.1\r\nHost: bot\r\n"+secretHeader+": "+e2eSecret+
				"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"update_id\":")
		}},
		{"idle after an answer", func(t *testing.T, c net.Conn) {
			write(t, c, "GET "+e2eHook+" HTTP/1.1\r\nHost: bot\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Close {
				t.Fatalf("first answer %d (close %v), want 405 on a kept-alive connection", resp.StatusCode, resp.Close)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tc.send(t, c)
			// The server must close the connection well within 10 × the limit.
			start := time.Now()
			if err := c.SetReadDeadline(start.Add(10 * limit)); err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(io.Discard, c)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the server still holds the connection after %s", time.Since(start).Round(time.Millisecond))
			}
		})
	}
	// The bot is still there for Telegram.
	if code := r.mustPost([]byte(`{"update_id":7001,"message":{"message_id":1,"date":1,"chat":{"id":5001,"type":"private"},"from":{"id":5001,"first_name":"A"},"text":"/help"}}`), e2eSecret); code != http.StatusOK {
		t.Fatalf("a real update after the slow clients: %d", code)
	}
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.Copy(c, strings.NewReader(s)); err != nil {
		t.Fatal(err)
	}
}
