package main

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// tokenShape is what a Telegram bot token looks like: "<bot id>:<secret>".
var tokenShape = regexp.MustCompile(`\d{6,}:[A-Za-z0-9_-]{30,}`)

// With debug logging on, the logs must still carry no token and no phone
// number, and nothing the demo prints may look like a token. The
// transcript (stdout) legitimately shows the technician's private job
// message with the resident's phone, so the phone is checked in the logs.
func TestDemoLogsKeepSecrets(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			// The bot logs from several goroutines; os.Stderr takes
			// concurrent writes, a bare bytes.Buffer does not.
			var out, logs lockedBuffer
			if err := run([]string{"demo", "-v", "-lang", lang, "-data", t.TempDir()}, &out, &logs); err != nil {
				t.Fatalf("demo failed: %v\nstderr:\n%s", err, logs.String())
			}
			if logs.Len() == 0 {
				t.Fatal("-v produced no logs; the test would prove nothing")
			}
			if !strings.Contains(logs.String(), "update handled") {
				t.Fatalf("debug logs missing (no \"update handled\" line):\n%s", logs.String())
			}
			for name, text := range map[string]string{"stdout": out.String(), "stderr": logs.String()} {
				if strings.Contains(text, demoToken) {
					t.Errorf("%s contains the bot token", name)
				}
				if m := tokenShape.FindAllString(text, 3); len(m) > 0 {
					t.Errorf("%s contains token-shaped strings: %q", name, m)
				}
			}
			for _, phone := range []string{"8613800138000", "13800138000"} {
				if i := strings.Index(logs.String(), phone); i >= 0 {
					t.Errorf("logs contain the resident's phone %s: …%s…", phone, excerpt(logs.String(), i))
				}
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// excerpt returns the line around byte offset i.
func excerpt(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		return s[start:]
	}
	return s[start : i+end]
}
