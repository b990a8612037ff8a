package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// APIError is a non-zero errcode in WeCom's JSON envelope.
type APIError struct {
	Code int
	Msg  string
	Path string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wecom %s: errcode %d: %s", e.Path, e.Code, e.Msg)
}

// Errcodes the channel acts on.
const (
	errInvalidToken  = 40014 // invalid access_token
	errTokenExpired  = 42001 // access_token expired
	errTokenExpired2 = 42009 // suite/provider token expired (treated alike)
	errInvalidCred   = 40001 // invalid secret or token
	errBusy          = -1    // system busy: retry
	errFreqLimit     = 45009 // API frequency over the limit: retry later
	errFreqLimit2    = 45033 // too many concurrent calls
	errInvalidMedia  = 40007 // invalid media_id (expired after 3 days)
	errTaskIDExists  = 42014 // "taskid has existed or empty or exceed max len"
)

// tokenError reports the errcodes after which the cached token is dropped.
func tokenError(code int) bool {
	return code == errInvalidToken || code == errTokenExpired || code == errTokenExpired2 || code == errInvalidCred
}

// permanentCodes are answers that retrying cannot change: the address or
// the request is wrong, or the platform refuses this server.
var permanentCodes = map[int]string{
	60020: "IP not in the app's trusted IP list",
	81013: "user not in the app's visible range",
	40003: "invalid userid",
	60111: "userid not found",
	81014: "user not in the app's visible range",
	86003: "appchat not found",
	86004: "appchat invalid",
	40008: "invalid message type",
	44004: "empty text",
	45002: "content too long",
	40058: "invalid parameter",
	41001: "access_token missing",
	95000: "kf: invalid parameter",
	95013: "kf: session ended",
	95018: "kf: cannot send in this session state",
}

// permanentAPI reports an errcode no retry can fix.
func permanentAPI(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	if _, ok := permanentCodes[ae.Code]; ok {
		return true
	}
	// 4xxxx and 6xxxx-9xxxx are request problems, except frequency limits
	// and token trouble (handled by retrying).
	switch {
	case ae.Code == errBusy, ae.Code == errFreqLimit, ae.Code == errFreqLimit2, tokenError(ae.Code):
		return false
	case ae.Code >= 40000:
		return true
	}
	return false
}

// client calls the WeCom API with one cached access token per secret.
type client struct {
	base   string
	corpID string
	http   *http.Client
	now    func() time.Time

	mu     sync.Mutex
	tokens map[string]*cachedToken // by secret
	// refreshed counts token fetches (for tests and metrics).
	refreshed int
}

type cachedToken struct {
	value   string
	expires time.Time
	// fetch serialises concurrent refreshes of the same secret: a channel
	// of one slot rather than a mutex, so a caller whose context ends
	// stops waiting for a refresh that hangs (a mutex would hold every
	// caller, the callbacks' included, behind one stuck request).
	fetch chan struct{}
}

func newClient(base, corpID string, hc *http.Client, now func() time.Time) *client {
	return &client{base: strings.TrimRight(base, "/"), corpID: corpID, http: hc, now: now, tokens: map[string]*cachedToken{}}
}

func (c *client) entry(secret string) *cachedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.tokens[secret]
	if e == nil {
		e = &cachedToken{fetch: make(chan struct{}, 1)}
		c.tokens[secret] = e
	}
	return e
}

// token returns a valid access token, fetching one when none is cached or
// the cached one is (nearly) expired.
func (c *client) token(ctx context.Context, secret string) (string, error) {
	e := c.entry(secret)
	c.mu.Lock()
	v, exp := e.value, e.expires
	c.mu.Unlock()
	if v != "" && c.now().Before(exp) {
		return v, nil // the common case takes no turn
	}
	select {
	case e.fetch <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("wecom gettoken: waiting for another refresh: %w", ctx.Err())
	}
	defer func() { <-e.fetch }()
	c.mu.Lock()
	v, exp = e.value, e.expires
	c.mu.Unlock()
	if v != "" && c.now().Before(exp) {
		return v, nil
	}
	q := url.Values{"corpid": {c.corpID}, "corpsecret": {secret}}
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.do(ctx, http.MethodGet, "/cgi-bin/gettoken", q, nil, &r); err != nil {
		return "", err
	}
	if r.AccessToken == "" {
		return "", errors.New("wecom gettoken: empty access_token")
	}
	life := time.Duration(r.ExpiresIn) * time.Second
	// Refresh early: a token that expires in flight fails the call.
	margin := min(life/10, 5*time.Minute)
	c.mu.Lock()
	e.value, e.expires = r.AccessToken, c.now().Add(life-margin)
	c.refreshed++
	c.mu.Unlock()
	return r.AccessToken, nil
}

// drop forgets a token the platform refused, unless it was already replaced.
func (c *client) drop(secret, value string) {
	e := c.entry(secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.value == value {
		e.value, e.expires = "", time.Time{}
	}
}

// Refreshes is how many access tokens were fetched.
func (c *client) refreshes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refreshed
}

// call performs an API method with the access token of secret. On a token
// errcode (40014, 42001, 42009, 40001) the token is dropped and the call
// retried once with a fresh one.
func (c *client) call(ctx context.Context, secret, method, path string, q url.Values, body, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, secret)
		if err != nil {
			return err
		}
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("access_token", tok)
		err = c.do(ctx, method, path, qq, body, out)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && tokenError(ae.Code) {
			c.drop(secret, tok)
			continue
		}
		return err
	}
}

// envelope is the part of every answer that says whether it worked.
type envelope struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// do sends one request and decodes the JSON answer into out after checking
// the errcode. Every request is bounded by the client's timeout.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("wecom %s: read: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wecom %s: HTTP %d", path, resp.StatusCode)
	}
	return decode(path, raw, out)
}

func decode(path string, raw []byte, out any) error {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("wecom %s: undecodable answer", path)
	}
	if env.ErrCode != 0 {
		return &APIError{Code: env.ErrCode, Msg: env.ErrMsg, Path: path}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("wecom %s: decode: %w", path, err)
		}
	}
	return nil
}

func (c *client) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("wecom %s: encode: %w", path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("wecom %s: bad request", path)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Net errors quote the URL, which carries the access token or the
		// robot's key: drop it, and hide a token in what remains.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("wecom %s: %s", path, redactToken(err.Error()))
	}
	return resp, nil
}

// redactToken hides access_token=... in an error text.
func redactToken(s string) string {
	i := strings.Index(s, "access_token=")
	for i >= 0 {
		j := i + len("access_token=")
		k := j
		for k < len(s) && s[k] != '&' && s[k] != '"' && s[k] != ' ' && s[k] != ':' {
			k++
		}
		s = s[:j] + "***" + s[k:]
		n := strings.Index(s[j+3:], "access_token=")
		if n < 0 {
			break
		}
		i = j + 3 + n
	}
	return s
}

// download fetches media/get: the file's bytes, or an APIError when the
// platform answers with a JSON envelope (an expired media id). The token
// is dropped and the call retried once on a token errcode.
func (c *client) download(ctx context.Context, secret, mediaID string, max int64) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, secret)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, http.MethodGet, "/cgi-bin/media/get", url.Values{"access_token": {tok}, "media_id": {mediaID}}, nil)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("wecom media/get: read: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("wecom media/get: HTTP %d", resp.StatusCode)
		}
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct == "application/json" || ct == "text/plain" {
			err := decode("/cgi-bin/media/get", data, nil)
			var ae *APIError
			if attempt == 0 && errors.As(err, &ae) && tokenError(ae.Code) {
				c.drop(secret, tok)
				continue
			}
			if err == nil {
				err = errors.New("wecom media/get: no file in the answer")
			}
			return nil, err
		}
		return data, nil
	}
}
