package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// pageNames are the templates, each parsed with the layout.
var pageNames = []string{"board", "ticket", "new", "login", "message", "fees", "daily", "staff", "roster", "training", "stock", "prices", "reviews", "stats", "callbacks", "qc"}

func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		// key is a fresh one-time form key for each form a page renders.
		t, err := template.New(name).Funcs(template.FuncMap{"key": formKey}).ParseFS(templateFS, "templates/layout.tmpl", "templates/"+name+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// T renders a catalog key in the visitor's language (templates call it).
func (v *visitor) T(key string, kv ...any) string { return v.t(key, kv...) }

// view is what the layout renders around a page.
type view struct {
	L     *visitor
	Title string
	Base  string
	Nav   []navItem
	// Who and Role name the visitor (empty for a guest).
	Who, Role string
	CSRF      string
	Flash     *flashMsg
	// Live subscribes the page to the event stream.
	Live bool
	Lang string
	// Path is the page's own address, where its forms come back to.
	Path string
	Page any
}

type messageData struct {
	Text  string
	Error bool
	// Back is the page to return to ("" for the board).
	Back string
}

// flashMsg is the answer to the last action, shown once after its
// redirect.
type flashMsg struct {
	Text  string `json:"t"`
	Error bool   `json:"e,omitempty"`
}

const flashCookie = "rb_flash"

// flash keeps an action's answer for the page its redirect shows.
func (c *Channel) flash(w http.ResponseWriter, r *http.Request, text string, isErr bool) {
	if text == "" {
		return
	}
	raw, _ := json.Marshal(flashMsg{Text: text, Error: isErr})
	c.cookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString(raw), 60)
}

// takeFlash reads and clears the flash.
func (c *Channel) takeFlash(w http.ResponseWriter, r *http.Request) *flashMsg {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	c.clearCookie(w, r, flashCookie)
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var f flashMsg
	if json.Unmarshal(raw, &f) != nil || f.Text == "" {
		return nil
	}
	return &f
}

// render writes a page in the layout.
func (c *Channel) render(w http.ResponseWriter, r *http.Request, status int, name string, v *visitor, title string, data any) {
	c.renderNav(w, r, status, name, "", v, title, data)
}

func (c *Channel) renderNav(w http.ResponseWriter, r *http.Request, status int, name, nav string, v *visitor, title string, data any) {
	c.renderFlash(w, r, status, name, nav, v, title, data, nil)
}

// renderFlash renders a page with an answer to show (nil: the one a
// redirect left, if any).
func (c *Channel) renderFlash(w http.ResponseWriter, r *http.Request, status int, name, nav string, v *visitor, title string, data any, fl *flashMsg) {
	if v == nil {
		v = &visitor{lang: c.o.DefaultLang, texts: c.o.Texts}
	}
	if fl == nil {
		fl = c.takeFlash(w, r)
	}
	vw := view{L: v, Title: title, Base: c.base, Page: data, Lang: string(v.lang), Flash: fl, Path: r.URL.RequestURI()}
	if v.person != nil {
		vw.Nav = c.nav(v, nav)
		vw.Who, vw.Role, vw.CSRF = v.person.Name, v.t("web.role."+string(v.person.Role)), v.csrf()
		vw.Live = name == "board" || name == "ticket"
	}
	var buf bytes.Buffer
	if err := c.tpl[name].ExecuteTemplate(&buf, "layout", vw); err != nil {
		c.o.Log.Error().Err(err).Str("page", name).Msg("render")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail answers with a message page.
func (c *Channel) fail(w http.ResponseWriter, r *http.Request, v *visitor, status int, key string, kv ...any) {
	if v == nil {
		v = &visitor{lang: c.o.DefaultLang, texts: c.o.Texts}
	}
	text := v.t(key, kv...)
	c.render(w, r, status, "message", v, text, messageData{Text: text, Error: status >= 400})
}

// internal logs an internal error (never shown) and answers 500.
func (c *Channel) internal(w http.ResponseWriter, r *http.Request, v *visitor, err error) {
	c.o.Log.Error().Err(err).Str("path", r.URL.Path).Msg("console request failed")
	c.fail(w, r, v, http.StatusInternalServerError, "web.err.internal")
}

// ---- shared renderings ----

// localTime renders an instant in the organisation's time zone.
func (c *Channel) localTime(t time.Time) string {
	return t.In(c.o.Domain.Location()).Format("2006-01-02 15:04")
}

func (c *Channel) clock(t time.Time) string { return t.In(c.o.Domain.Location()).Format("15:04") }

// age renders how long ago t was, coarse enough for a glance (the chat's
// /open uses the same keys).
func age(v *visitor, now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Hour:
		return v.t("age.minutes", "n", int(d.Minutes()))
	case d < 48*time.Hour:
		return v.t("age.hours", "n", int(d.Hours()), "m", int(d.Minutes())%60)
	}
	return v.t("age.days", "n", int(d.Hours())/24)
}

// labels are the names a page shows for the engine's keys.
type labels struct {
	v     *visitor
	cats  map[string]flows.Category
	ems   map[string]flows.EmergencyType
	order []flows.Category
}

func (c *Channel) labels(v *visitor) *labels {
	l := &labels{v: v, cats: map[string]flows.Category{}, ems: map[string]flows.EmergencyType{}, order: c.o.Domain.Categories()}
	for _, cat := range l.order {
		l.cats[cat.Key] = cat
	}
	for _, em := range c.o.Domain.Emergencies() {
		l.ems[em.Key] = em
	}
	return l
}

func (l *labels) category(key string) string {
	if cat, ok := l.cats[key]; ok {
		if s := cat.Labels[l.v.lang]; s != "" {
			return s
		}
		for _, s := range cat.Labels {
			return s
		}
	}
	return key
}

func (l *labels) emergency(key string) string {
	if em, ok := l.ems[key]; ok {
		if s := em.Labels[l.v.lang]; s != "" {
			return s
		}
	}
	return key
}

func (l *labels) state(s flows.State) string { return l.v.t("web.state." + string(s)) }

// optional renders a catalog key that may be missing (an audit action a
// newer area added), falling back to the raw name.
func (l *labels) optional(key, raw string) string {
	s := l.v.t(key)
	if strings.HasPrefix(s, "⟦") {
		return raw
	}
	return s
}
