package ops_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/ops"
)

const opsToken = "0123456789abcdef-ops-token"

// backupServer is an ops server whose backup func is fn.
func backupServer(t *testing.T, token string, fn func() (string, error)) *ops.Server {
	t.Helper()
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{})
	t.Cleanup(func() { st.Close() })
	srv, err := ops.New(ops.Options{Store: st, Outbox: st, Backup: fn, Token: token, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func post(srv *ops.Server, header map[string]string) (int, map[string]string, string) {
	req := httptest.NewRequest(http.MethodPost, "/backup", nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body, rec.Body.String()
}

// POST /backup writes, so it needs the token, refuses what a browser sends
// across origins, and answers a file name, never a path.
func TestBackupEndpointGuards(t *testing.T) {
	const file = "/srv/repairbot/data/backups/repair-manual-20261127-033000Z.db"
	bearer := "Bearer " + opsToken
	for _, tc := range []struct {
		name     string
		token    string // configured
		header   map[string]string
		code     int
		want     string // in the body
		backedUp bool
	}{
		{"no token configured", "", map[string]string{"Authorization": bearer}, http.StatusForbidden, "no ops.token is configured", false},
		{"no Authorization", opsToken, nil, http.StatusUnauthorized, "missing or wrong token", false},
		{"wrong token", opsToken, map[string]string{"Authorization": "Bearer 0123456789abcdef-ops-tokeN"}, http.StatusUnauthorized, "missing or wrong token", false},
		{"token as a prefix", opsToken, map[string]string{"Authorization": "Bearer " + opsToken[:10]}, http.StatusUnauthorized, "missing or wrong token", false},
		{"basic auth", opsToken, map[string]string{"Authorization": "Basic " + opsToken}, http.StatusUnauthorized, "missing or wrong token", false},
		{"a cross-origin form post (text/plain)", opsToken, map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, http.StatusForbidden, "cross-origin", false},
		{"a cross-site fetch, even with the token", opsToken, map[string]string{"Authorization": bearer, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "cross-origin", false},
		{"text/plain with the token", opsToken, map[string]string{"Authorization": bearer, "Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, "application/json", false},
		{"the token", opsToken, map[string]string{"Authorization": bearer}, http.StatusOK, `"file":"repair-manual-20261127-033000Z.db"`, true},
		{"the token, JSON", opsToken, map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, http.StatusOK, `"file":"repair-manual-20261127-033000Z.db"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := backupServer(t, tc.token, func() (string, error) { calls.Add(1); return file, nil })
			code, _, raw := post(srv, tc.header)
			if code != tc.code || !strings.Contains(raw, tc.want) {
				t.Fatalf("%d %s, want %d with %q", code, raw, tc.code, tc.want)
			}
			if got := calls.Load() == 1; got != tc.backedUp {
				t.Fatalf("backup ran %d times", calls.Load())
			}
			if strings.Contains(raw, "/srv/") {
				t.Fatalf("the answer reveals a path: %s", raw)
			}
		})
	}
}

// A failure answers without the error's paths (the log has them); a copy
// written with a warning answers the file and the warning, directory
// stripped.
func TestBackupEndpointAnswersNoPaths(t *testing.T) {
	srv := backupServer(t, opsToken, func() (string, error) {
		return "", errors.New("backup: write /srv/repairbot/data/backups/repair-manual-x.db: no space left on device")
	})
	code, body, raw := post(srv, map[string]string{"Authorization": "Bearer " + opsToken})
	if code != http.StatusInternalServerError || body["error"] == "" || strings.Contains(raw, "/srv/") {
		t.Fatalf("failure: %d %s", code, raw)
	}

	dir := "/srv/repairbot/data/backups"
	srv = backupServer(t, opsToken, func() (string, error) {
		return dir + "/repair-manual-20261127-033000Z.db", errors.New("backup: the new copy holds fewer tickets than an older one: " +
			"repair-20261126-033000Z.db (5 tickets) is kept; delete old copy: remove " + dir + "/repair-20261120-033000Z.db: permission denied")
	})
	code, body, raw = post(srv, map[string]string{"Authorization": "Bearer " + opsToken})
	if code != http.StatusOK || body["file"] != "repair-manual-20261127-033000Z.db" || !strings.Contains(body["warning"], "fewer tickets") ||
		!strings.Contains(body["warning"], "remove repair-20261120-033000Z.db") || strings.Contains(raw, "/srv/") {
		t.Fatalf("warning: %d %s", code, raw)
	}
}

// One backup at a time: a second request while one is being written gets
// 409 and writes nothing; the next one after it goes through.
func TestBackupEndpointOneAtATime(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := backupServer(t, opsToken, func() (string, error) {
		if calls.Add(1) == 1 {
			<-release
		}
		return "/b/repair-manual-20261127-033000Z.db", nil
	})
	auth := map[string]string{"Authorization": "Bearer " + opsToken}
	var wg sync.WaitGroup
	var first int
	wg.Add(1)
	go func() { defer wg.Done(); first, _, _ = post(srv, auth) }()
	for deadline := time.Now().Add(5 * time.Second); calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the first backup never started")
		}
		time.Sleep(time.Millisecond)
	}
	if code, _, raw := post(srv, auth); code != http.StatusConflict || !strings.Contains(raw, "already being written") {
		t.Fatalf("second while the first runs: %d %s", code, raw)
	}
	close(release)
	wg.Wait()
	if first != http.StatusOK {
		t.Fatalf("first: %d", first)
	}
	if code, _, _ := post(srv, auth); code != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after the first finished: %d, %d backups", code, calls.Load())
	}
}
