package web

import (
	"io/fs"
	"net/http"

	"github.com/repairbot/repairbot/flows"
)

// page is one row of the console's table of pages and actions: its
// method and path (under the console's prefix), its navigation entry, and
// its handler, which runs for a visitor whose session passed and who may
// use the console (flows.MayUseConsole). An area's page (parts, staff,
// the roster, the price list, the fee-question queue, callbacks) is one
// more row, its template and its catalog keys; its changes are console
// actions (flows routes.go), so the engine checks them.
type page struct {
	method, path string
	// nav is the catalog key of its entry in the navigation ("" for none).
	nav string
	// action, when set, is the console action whose row decides who sees
	// the entry (flows.ConsoleAllows); without one, everyone who may use
	// the console sees it. The handler still checks nothing itself: the
	// engine decides every change.
	action string
	// cmd, when set, is the chat command whose rows decide who may open
	// the page (flows.CommandAllows): a read page shows what that command
	// shows in chat, to the same people. It is checked on every request.
	cmd   string
	serve func(c *Channel, w http.ResponseWriter, r *http.Request, v *visitor)
}

// pages are the console's pages and actions, in navigation order.
var pages []page

func init() {
	// Assigned here, not in the declaration: handlers reach the table
	// again (the navigation), which a declaration may not.
	pages = []page{
		{method: "GET", path: "/{$}", nav: "web.nav.board", serve: (*Channel).board},
		{method: "GET", path: "/t/{id}", serve: (*Channel).ticket},
		{method: "GET", path: "/t/{id}/photo/{sha}", serve: (*Channel).photo},
		{method: "POST", path: "/t/{id}/act/{action}", serve: (*Channel).ticketAction},
		{method: "GET", path: "/new", nav: "web.nav.new_ticket", action: flows.ConsolePhoneTicket, serve: (*Channel).newTicket},
		{method: "POST", path: "/new", serve: (*Channel).fileTicket},
		{method: "POST", path: "/t/{id}/paper", serve: (*Channel).paper},
		// Customer service's work (office.go).
		{method: "GET", path: "/fees", nav: "web.nav.fees", cmd: "fees", serve: (*Channel).fees},
		{method: "GET", path: "/daily", nav: "web.nav.daily", cmd: "daily", serve: (*Channel).daily},
		// The management pages (manage.go); their forms post /do/<action>.
		{method: "GET", path: "/staff", nav: "web.nav.staff", cmd: "staff", serve: (*Channel).staff},
		{method: "GET", path: "/roster", nav: "web.nav.roster", cmd: "duty", serve: (*Channel).roster},
		{method: "GET", path: "/training", nav: "web.nav.training", cmd: "training", serve: (*Channel).training},
		{method: "GET", path: "/stock", nav: "web.nav.stock", cmd: "stock", serve: (*Channel).stock},
		{method: "GET", path: "/prices", nav: "web.nav.prices", cmd: "sop", serve: (*Channel).prices},
		{method: "GET", path: "/reviews", nav: "web.nav.reviews", cmd: "review", serve: (*Channel).reviews},
		// The records (records.go): the files chat's commands send, the KPI
		// page, the phone-callback list and the QC queue, each opening
		// exactly for whom its command does.
		{method: "GET", path: "/t/{id}/order.xlsx", cmd: "order", serve: (*Channel).orderFile},
		{method: "GET", path: "/daily/tasks.xlsx", cmd: "daily", serve: (*Channel).dailyTasks},
		{method: "GET", path: "/daily/log.xlsx", cmd: "daily", serve: (*Channel).dailyLog},
		{method: "GET", path: "/month/log.xlsx", cmd: "month", serve: (*Channel).monthLog},
		{method: "GET", path: "/stats", nav: "web.nav.stats", cmd: "stats", serve: (*Channel).stats},
		{method: "GET", path: "/stats/chart/{form}", cmd: "stats", serve: (*Channel).chart},
		{method: "GET", path: "/stats/kpi.xlsx", cmd: "stats", serve: (*Channel).kpiBook},
		{method: "GET", path: "/callbacks", nav: "web.nav.callbacks", cmd: "callbacks", serve: (*Channel).callbacks},
		{method: "GET", path: "/qc", nav: "web.nav.qc", cmd: "qc", serve: (*Channel).qc},
		{method: "POST", path: "/do/{action}", serve: (*Channel).officeAction},
		{method: "GET", path: "/events", serve: (*Channel).events},
		{method: "POST", path: "/logout", serve: (*Channel).logout},
	}
	pages = append(pages, areaPages...) // the areas' page (areas.go)
}

// navItem is an entry of the navigation as a visitor sees it.
type navItem struct {
	Path, Label string
	Current     bool
}

// nav lists the navigation entries v may use.
func (c *Channel) nav(v *visitor, current string) []navItem {
	var out []navItem
	for _, p := range pages {
		if p.nav == "" || (p.action != "" && flows.ConsoleAllows(p.action, v.person, nil) != nil) || (p.cmd != "" && flows.CommandAllows(p.cmd, v.person) != nil) {
			continue
		}
		path := p.path
		if path == "/{$}" {
			path = "/"
		}
		out = append(out, navItem{Path: c.base + path, Label: v.t(p.nav), Current: p.nav == current})
	}
	return out
}

// routes builds the handler: the pages behind the session check, the
// login pages and the embedded assets without it, and the headers every
// answer carries.
func (c *Channel) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range pages {
		p := p
		mux.Handle(p.method+" "+c.base+p.path, c.secure(func(w http.ResponseWriter, r *http.Request) {
			v, ok := c.visitor(w, r)
			if !ok {
				return
			}
			if p.cmd != "" && flows.CommandAllows(p.cmd, v.person) != nil {
				c.fail(w, r, v, http.StatusForbidden, "web.err.forbidden")
				return
			}
			p.serve(c, w, r, v)
		}))
	}
	mux.Handle("GET "+c.base+"/login", c.secure(c.loginPage))
	mux.Handle("POST "+c.base+"/login", c.secure(c.login))
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET "+c.base+"/static/", c.assets(http.StripPrefix(c.base+"/static/", http.FileServerFS(static))))
	if c.base != "" {
		mux.Handle("GET "+c.base, http.RedirectHandler(c.base+"/", http.StatusMovedPermanently))
	}
	mux.Handle("/", c.secure(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, "web.err.not_found")
	}))
	return mux
}

// secure sets the headers of every page: nothing from elsewhere (scripts,
// styles, frames, form targets), no referrer (a login link carries its
// token), no caching of personal data.
func (c *Channel) secure(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h(w, r)
	})
}

// assets serves the embedded CSS and JS, cacheable for an hour.
func (c *Channel) assets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
