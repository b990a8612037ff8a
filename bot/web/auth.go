package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/repairbot/repairbot/flows"
)

// sessionCookie carries the session token; the store knows only its
// hash (flows.ConsoleTokenHash).
const sessionCookie = "rb_session"

// maxForm bounds a form's body: the longest is a phone report.
const maxForm = 32 << 10

// visitor is the person behind a request, as their session says.
type visitor struct {
	person  *flows.Person
	session *flows.ConsoleSession
	token   string // the session token from the cookie
	lang    flows.Lang
	texts   flows.Texts
}

func (v *visitor) t(key string, kv ...any) string { return v.texts.T(v.lang, key, kv...) }

// sees reports whether the visitor may see the ticket: a lead or a
// clerk their areas' (Person.InArea, the check Authorize makes), an admin
// every one. Another area's ticket is not found for them.
func (v *visitor) sees(t *flows.Ticket) bool { return v.person.InArea(t.AreaKey()) }

// csrf is the session's form token: an HMAC of the session token, so it
// needs no storage, differs per session and cannot be made without the
// cookie.
func (v *visitor) csrf() string {
	m := hmac.New(sha256.New, []byte(v.token))
	m.Write([]byte("repairbot console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newToken returns 32 random bytes, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// formKey is a one-time key a rendered form carries: the event it sends
// is deduplicated on it, so a form submitted twice acts once.
func formKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// validToken reports whether s can be a token newToken made.
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

var errNoSession = errors.New("web: no valid session")

// lookup finds the session of a token and its person, and checks that
// the person may still use the console (their role today, as in chat).
func (c *Channel) lookup(ctx context.Context, token string) (*visitor, error) {
	if !validToken(token) {
		return nil, errNoSession
	}
	v := &visitor{token: token, texts: c.o.Texts}
	err := c.o.Store.View(ctx, func(tx flows.Tx) error {
		s, err := tx.ConsoleSession(flows.ConsoleTokenHash(token))
		if errors.Is(err, flows.ErrNotFound) {
			return errNoSession
		}
		if err != nil {
			return err
		}
		if !c.o.Now().Before(s.Expires) {
			return errNoSession
		}
		p, err := tx.Person(s.PersonID)
		if errors.Is(err, flows.ErrNotFound) {
			return errNoSession
		}
		if err != nil {
			return err
		}
		v.session, v.person = s, p
		return nil
	})
	if err != nil {
		return nil, err
	}
	if flows.MayUseConsole(v.person) != nil {
		return nil, errNoSession
	}
	v.lang = v.person.Lang
	if v.lang == "" {
		v.lang = c.o.DefaultLang
	}
	return v, nil
}

// visitor authenticates a request; without a valid session it answers
// the login hint (401) and ok is false.
func (c *Channel) visitor(w http.ResponseWriter, r *http.Request) (*visitor, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		c.loginNeeded(w, r)
		return nil, false
	}
	v, err := c.lookup(r.Context(), ck.Value)
	if errors.Is(err, errNoSession) {
		c.clearCookie(w, r, sessionCookie)
		c.loginNeeded(w, r)
		return nil, false
	}
	if err != nil {
		c.internal(w, r, nil, err)
		return nil, false
	}
	return v, true
}

// loginNeeded answers a request without a session.
func (c *Channel) loginNeeded(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("partial") != "" || r.URL.Path == c.base+"/events" {
		http.Error(w, "login needed", http.StatusUnauthorized)
		return
	}
	c.fail(w, r, nil, http.StatusUnauthorized, "web.login.needed")
}

// sameOrigin refuses a form posted from another site: the browser says
// where it came from (Sec-Fetch-Site, Origin). SameSite=Strict already
// keeps the cookie off such a post; this guards the login form too. The
// origin may be this request's host or the public URL's (behind a proxy
// that rewrites Host).
func (c *Channel) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" && site != "none" {
		return false
	}
	switch o := r.Header.Get("Origin"); o {
	case "":
		return true // not a browser's post from a page
	case "null":
		// Referrer-Policy: no-referrer makes a browser send "null": then
		// its Sec-Fetch-Site must say the post came from this site.
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	pub, err := url.Parse(c.o.PublicURL)
	return err == nil && pub.Host != "" && strings.EqualFold(u.Host, pub.Host)
}

// form reads a posted form of a visitor: from this site, within its size,
// with the session's CSRF token (compared in constant time). It answers
// the refusal itself and returns false.
func (c *Channel) form(w http.ResponseWriter, r *http.Request, v *visitor) bool {
	if !c.sameOrigin(r) {
		c.fail(w, r, v, http.StatusForbidden, "web.err.csrf")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.bad_request")
		return false
	}
	return c.csrfOK(w, r, v)
}

// csrfOK checks the parsed form's CSRF token against the session's.
func (c *Channel) csrfOK(w http.ResponseWriter, r *http.Request, v *visitor) bool {
	got := r.PostForm.Get("csrf")
	if v == nil || subtle.ConstantTimeCompare([]byte(got), []byte(v.csrf())) != 1 {
		c.fail(w, r, v, http.StatusForbidden, "web.err.csrf")
		return false
	}
	return true
}

// eventKey is the dedupe key of the event a form sends: the form's
// one-time key under the session, so no one else's form can collide.
func eventKey(r *http.Request, v *visitor) (string, bool) {
	k := r.PostForm.Get("k")
	if len(k) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(k); err != nil {
		return "", false
	}
	return "web:" + v.session.Hash[:16] + ":" + k, true
}

// handle sends a console action to the engine as the visitor.
func (c *Channel) handle(ctx context.Context, v *visitor, key string, req flows.ConsoleRequest) (flows.Result, error) {
	return c.o.Engine.Handle(ctx, consoleEvent(v, key, req))
}

// consoleEvent is the event of a console action taken by the visitor.
func consoleEvent(v *visitor, key string, req flows.ConsoleRequest) flows.Event {
	return flows.Event{Key: key, Kind: flows.EvConsole, Console: &req,
		From: flows.Sender{ID: v.person.ID, Chat: v.person.Chat, Name: v.person.Name, LangCode: string(v.lang)}}
}

// cookie sets a cookie of the console: HttpOnly, SameSite=Strict, under
// the console's path, Secure behind TLS.
func (c *Channel) cookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: c.base + "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.o.SecureCookies || r.TLS != nil})
}

func (c *Channel) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	c.cookie(w, r, name, "", -1)
}

// ---- login and logout ----

type loginData struct {
	Token, Name string
	OK          bool
	Error       string
}

// loginPage shows the button that redeems a login link. Opening the link
// changes nothing (a chat app's link preview fetches it): the button's
// POST does.
func (c *Channel) loginPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("t")
	v := &visitor{lang: c.o.DefaultLang, texts: c.o.Texts}
	d := loginData{Token: tok}
	status := http.StatusOK
	key := ""
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		if !validToken(tok) {
			key = "console.link_invalid"
			return nil
		}
		l, err := tx.ConsoleLink(flows.ConsoleTokenHash(tok))
		switch {
		case errors.Is(err, flows.ErrNotFound):
			key = "console.link_invalid"
			return nil
		case err != nil:
			return err
		case l.Used != nil:
			key = "console.link_used"
		case !c.o.Now().Before(l.Expires):
			key = "console.link_expired"
		}
		if p, err := tx.Person(l.PersonID); err == nil {
			d.Name = p.Name
			if p.Lang != "" {
				v.lang = p.Lang
			}
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, nil, err)
		return
	}
	if key != "" {
		d.Error, status = v.t(key), http.StatusForbidden
	}
	d.OK = key == ""
	c.render(w, r, status, "login", v, v.t("web.login.title"), d)
}

// login redeems the link for a session through the engine and sets the
// cookie.
func (c *Channel) login(w http.ResponseWriter, r *http.Request) {
	guest := &visitor{lang: c.o.DefaultLang, texts: c.o.Texts}
	if !c.sameOrigin(r) {
		c.fail(w, r, guest, http.StatusForbidden, "web.err.csrf")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, guest, http.StatusBadRequest, "web.err.bad_request")
		return
	}
	tok := r.PostForm.Get("t")
	if !validToken(tok) {
		c.render(w, r, http.StatusForbidden, "login", guest, guest.t("web.login.title"), loginData{Error: guest.t("console.link_invalid")})
		return
	}
	session := newToken()
	res, err := c.o.Engine.Handle(r.Context(), flows.Event{Kind: flows.EvConsole, From: flows.Sender{LangCode: string(c.o.DefaultLang)},
		Console: &flows.ConsoleRequest{Action: flows.ConsoleLogin, Args: map[string]string{
			"link": flows.ConsoleTokenHash(tok), "session": flows.ConsoleTokenHash(session)}}})
	if err != nil {
		c.internal(w, r, guest, err)
		return
	}
	if res.Alert {
		c.render(w, r, http.StatusForbidden, "login", guest, guest.t("web.login.title"), loginData{Error: res.Toast})
		return
	}
	c.cookie(w, r, sessionCookie, session, 0)
	c.flash(w, r, res.Toast, false)
	http.Redirect(w, r, c.base+"/", http.StatusSeeOther)
}

// logout ends this session (or with all=1 every session of the person)
// through the engine and clears the cookie.
func (c *Channel) logout(w http.ResponseWriter, r *http.Request, v *visitor) {
	if !c.form(w, r, v) {
		return
	}
	args := map[string]string{"session": v.session.Hash}
	if r.PostForm.Get("all") == "1" {
		args = map[string]string{"all": "1"}
	}
	res, err := c.handle(r.Context(), v, "", flows.ConsoleRequest{Action: flows.ConsoleLogout, Args: args})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if res.Alert {
		c.fail(w, r, v, http.StatusForbidden, "web.err.forbidden")
		return
	}
	c.clearCookie(w, r, sessionCookie)
	c.render(w, r, http.StatusOK, "message", &visitor{lang: v.lang, texts: c.o.Texts}, v.t("web.login.logged_out"), messageData{Text: v.t("web.login.logged_out")})
}
