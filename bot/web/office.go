package web

import (
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The office's other work: the actions that name no ticket (each posts
// one console action; the engine checks it against the chat row it
// names), the paper sign-off's photo upload, customer service's fee
// questions and the day's reconciliation.

// officeFields are the fields each console action that names no ticket
// passes to the engine, as they are.
var officeFields = map[string][]string{
	flows.ConsoleFeeAnswer:      {"ticket", "text"},
	flows.ConsoleFeeClose:       {"ticket"},
	flows.ConsoleStaffRole:      {"person", "role"},
	flows.ConsoleStaffLeave:     {"person"},
	flows.ConsoleSkill:          {"person", "skill", "level"},
	flows.ConsoleCertVerify:     {"cert"},
	flows.ConsoleCertReviewed:   {"cert"},
	flows.ConsoleDuty:           {"person", "on"},
	flows.ConsoleRosterPerson:   {"shift", "person", "on"},
	flows.ConsoleRosterDelete:   {"shift"},
	flows.ConsoleTrainingCancel: {"session"},
	flows.ConsolePurchaseOK:     {"request"},
	flows.ConsolePurchaseNo:     {"request"},
	flows.ConsoleItemRetire:     {"part"},
	flows.ConsolePriceSet:       {"code", "price", "name_zh", "name_en", "unit_zh", "unit_en"},
	flows.ConsoleQCReview:       {"ticket", "score", "findings", "note", "spot"},
	flows.ConsoleRosterAdd:      {"day", "hours"},
	flows.ConsoleRosterHours:    {"shift", "hours"},
	flows.ConsoleCertNew:        {"person", "type", "number", "authority", "issued", "until", "review"},
	flows.ConsoleCertRefuse:     {"cert", "reason"},
	flows.ConsoleCertRevoke:     {"cert", "reason"},
	flows.ConsoleTrainingNew:    {"topic", "start", "minutes", "place", "trainer", "covers", "invite"},
	flows.ConsoleTrainingAttend: {"session", "person", "mark"},
	flows.ConsoleActionDone:     {"review", "n", "evidence"},
	flows.ConsoleStockBuy:       {"part", "store", "qty", "reason"},
	flows.ConsoleStockReceive:   {"request", "qty", "supplier", "cost"},
	flows.ConsoleStockReturn:    {"ticket", "part", "qty"},
	flows.ConsoleStockCount:     {"store", "part", "qty", "reason"},
}

// listFields are fields a form sends once per ticked box (the QC
// findings, a session's covers and invitees), passed on comma-separated.
var listFields = map[string]bool{"findings": true, "covers": true, "invite": true}

// uploadActions are the actions whose form carries a photo (multipart):
// a delivery's note, a certificate's card.
var uploadActions = map[string]bool{flows.ConsoleStockReceive: true, flows.ConsoleCertNew: true}

// backTo is where an office form returns: its own page, named by the
// form (a path of the console, never another site), or the board.
func (c *Channel) backTo(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, c.base+"/") || strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
		return c.base + "/"
	}
	return u.RequestURI()
}

// officeAction posts a console action that names no ticket. Refused, the
// engine's answer is shown with its status; done, the page it came from
// shows it.
func (c *Channel) officeAction(w http.ResponseWriter, r *http.Request, v *visitor) {
	action := r.PathValue("action")
	fields, ok := officeFields[action]
	if !ok || flows.ConsoleTicketAction(action) {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	upload := uploadActions[action]
	switch {
	case upload && c.o.Media == nil:
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	case upload:
		if !c.uploadForm(w, r, v) {
			return
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	case !c.form(w, r, v):
		return
	}
	key, ok := eventKey(r, v)
	if !ok {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.bad_request")
		return
	}
	args := map[string]string{}
	for _, f := range fields {
		args[f] = r.PostForm.Get(f)
		if listFields[f] {
			args[f] = strings.Join(r.PostForm[f], ",")
		}
	}
	ev := consoleEvent(v, key, flows.ConsoleRequest{Action: action, Args: args})
	if upload {
		if err := c.keepPhoto(r, &ev); err != nil {
			c.internal(w, r, v, err)
			return
		}
	}
	res, err := c.o.Engine.Handle(r.Context(), ev)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	back := c.backTo(r.PostForm.Get("back"))
	if res.Alert && !res.Duplicate {
		c.refused(w, r, v, refusedStatus(res.Refused), res.Toast, back)
		return
	}
	c.answer(w, r, v, res, back)
}

// refused shows an engine's refusal with a way back to the page.
func (c *Channel) refused(w http.ResponseWriter, r *http.Request, v *visitor, status int, text, back string) {
	c.render(w, r, status, "message", v, text, messageData{Text: text, Error: true, Back: back})
}

// maxUpload bounds a paper sign-off's form: the photo within the media
// store's limit, and the form's few fields.
func (c *Channel) maxUpload() int64 { return c.o.Media.Max + 64<<10 }

// paper takes the photo of a signed paper work order: kept by the media
// store (content-addressed, checked to be an image within its limit), then
// posted with the console's paper action; the engine answers a missing,
// oversized or non-image photo as chat does.
func (c *Channel) paper(w http.ResponseWriter, r *http.Request, v *visitor) {
	id := r.PathValue("id")
	if c.o.Media == nil {
		c.fail(w, r, v, http.StatusNotFound, "web.err.not_found")
		return
	}
	if !c.uploadForm(w, r, v) {
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	if r.PostForm.Get("ticket") != id {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.ticket_mismatch")
		return
	}
	key, ok := eventKey(r, v)
	if !ok {
		c.fail(w, r, v, http.StatusBadRequest, "web.err.bad_request")
		return
	}
	ev := consoleEvent(v, key, flows.ConsoleRequest{Action: flows.ConsolePaper, Ticket: id, Args: map[string]string{"note": r.PostForm.Get("note")}})
	if err := c.keepPhoto(r, &ev); err != nil {
		c.internal(w, r, v, err)
		return
	}
	res, err := c.o.Engine.Handle(r.Context(), ev)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if res.Alert && !res.Duplicate {
		c.showTicket(w, r, v, id, refusedStatus(res.Refused), &flashMsg{Text: res.Toast, Error: true})
		return
	}
	c.answer(w, r, v, res, c.base+"/t/"+id)
}

// uploadForm reads a form with a photo (multipart): from this origin,
// within the media store's limit, with the session's CSRF token. Refused,
// it has answered.
func (c *Channel) uploadForm(w http.ResponseWriter, r *http.Request, v *visitor) bool {
	if !c.sameOrigin(r) {
		c.fail(w, r, v, http.StatusForbidden, "web.err.csrf")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, c.maxUpload())
	err := r.ParseMultipartForm(1 << 20)
	if errors.Is(err, http.ErrNotMultipart) {
		// A form without a file input (sent by hand): its fields are
		// read, the engine answers the missing photo as chat does.
		r.MultipartForm = &multipart.Form{}
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.fail(w, r, v, http.StatusRequestEntityTooLarge, "err.photo_too_large", "max", c.o.Media.Max>>20)
			return false
		}
		c.fail(w, r, v, http.StatusBadRequest, "web.err.bad_request")
		return false
	}
	if !c.csrfOK(w, r, v) {
		_ = r.MultipartForm.RemoveAll()
		return false
	}
	return true
}

// keepPhoto has the media store keep the form's photo, when it has one,
// for the event (Event.Photo); the engine answers a missing, oversized or
// non-image photo as chat does.
func (c *Channel) keepPhoto(r *http.Request, ev *flows.Event) error {
	f, hdr, err := r.FormFile("photo")
	if err != nil {
		return nil // none sent
	}
	defer f.Close()
	ev.Photo = &flows.Photo{Size: hdr.Size}
	return c.o.Media.Keep(ev, f)
}

// can lists which of the actions v may take now (their rows in the
// engine); a page offers only those.
func can(v *visitor, actions ...string) map[string]bool {
	out := map[string]bool{}
	for _, a := range actions {
		out[a] = flows.ConsoleAllows(a, v.person, nil) == nil
	}
	return out
}

// ---- the fee questions ----

type feeAnswerView struct{ By, At, Text string }

type feeView struct {
	Ticket, State, Address, Resident, Asked, Total string
	Answers                                        []feeAnswerView
}

type feesData struct {
	Questions []feeView
	Can       map[string]bool
}

// fees is customer service's queue of the residents' fee questions,
// oldest first, each with its answer and close forms.
func (c *Channel) fees(w http.ResponseWriter, r *http.Request, v *visitor) {
	lb := c.labels(v)
	d := &feesData{Can: can(v, flows.ConsoleFeeAnswer, flows.ConsoleFeeClose)}
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		qs, err := tx.OpenFeeQuestions()
		if err != nil {
			return err
		}
		names := personNames(tx)
		for _, q := range qs {
			fv := feeView{Ticket: q.TicketID, Resident: names(q.By), Asked: c.localTime(q.Asked), Total: flows.Money(q.Total)}
			if t, err := tx.Ticket(q.TicketID); err == nil {
				if !v.sees(t) {
					continue // another area's question
				}
				fv.State, fv.Address = lb.state(t.State), t.Building+" / "+t.Unit+" / "+t.Room
			} else if !errors.Is(err, flows.ErrNotFound) {
				return err
			}
			for _, a := range q.Answers {
				fv.Answers = append(fv.Answers, feeAnswerView{By: names(a.By), At: c.localTime(a.At), Text: a.Text})
			}
			d.Questions = append(d.Questions, fv)
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "fees", "web.nav.fees", v, v.t("web.fees.title"), d)
}

// personNames names people by id within a read, each read once.
func personNames(tx flows.Tx) func(id string) string {
	seen := map[string]string{}
	return func(id string) string {
		if n, ok := seen[id]; ok {
			return n
		}
		n := id
		if p, err := tx.Person(id); err == nil && p.Name != "" {
			n = p.Name
		}
		seen[id] = n
		return n
	}
}

// ---- the day's reconciliation ----

// dailyReader is the engine's read of a day's task list and its
// reconciliation (flows.Engine.Daily).
type dailyReader interface {
	Daily(tx flows.Tx, day string) (*flows.DailyList, bool, error)
}

type dailyLine struct {
	Ticket, Category, State, Assignee, Handed string
}

type dailyData struct {
	Day, Prev, Next string
	// Exports offers the day's forms (/daily's files); Month a month's
	// repair log (/month's), MonthValue the day's month.
	Exports, Month      bool
	MonthValue          string
	Archived, Available bool
	Mismatches, Missing []string
	Lines               []dailyLine
}

// daily shows a day's reconciliation differences (tickets of the repair
// log not in an approved handover), who has not handed over, and the
// day's task list: the list archived at the end of that day, or the day
// so far.
func (c *Channel) daily(w http.ResponseWriter, r *http.Request, v *visitor) {
	loc := c.o.Domain.Location()
	day, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("day"), loc)
	if err != nil {
		now := c.o.Now().In(loc)
		day = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	}
	d := &dailyData{Day: day.Format("2006-01-02"), Prev: day.AddDate(0, 0, -1).Format("2006-01-02"), Next: day.AddDate(0, 0, 1).Format("2006-01-02")}
	d.Exports, d.MonthValue = c.exportsOn(), day.Format("2006-01")
	d.Month = d.Exports && flows.CommandAllows("month", v.person) == nil
	dr, ok := c.o.Domain.(dailyReader)
	if ok {
		lb := c.labels(v)
		d.Available = true
		err = c.o.Store.View(r.Context(), func(tx flows.Tx) error {
			list, archived, err := dr.Daily(tx, day.Format("20060102"))
			if err != nil {
				return err
			}
			d.Archived, d.Missing = archived, list.Missing
			var hidden []string
			for _, ln := range list.Lines {
				t, err := tx.Ticket(ln.Ticket)
				if err != nil && !errors.Is(err, flows.ErrNotFound) {
					return err
				}
				if t == nil || !v.sees(t) {
					hidden = append(hidden, ln.Ticket) // another area's
					continue
				}
				dl := dailyLine{Ticket: ln.Ticket, Category: lb.category(ln.Category), State: lb.state(ln.State), Assignee: ln.Assignee}
				if dl.Assignee == "" {
					dl.Assignee = v.t("web.unassigned")
				}
				if ln.Handed != "" {
					dl.Handed = lb.optional("handover.status_"+ln.Handed, ln.Handed)
				}
				d.Lines = append(d.Lines, dl)
			}
			// A mismatch names its ticket.
			for _, m := range list.Mismatches {
				if !slices.ContainsFunc(hidden, func(id string) bool { return strings.Contains(m, id) }) {
					d.Mismatches = append(d.Mismatches, m)
				}
			}
			return nil
		})
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
	}
	c.renderNav(w, r, http.StatusOK, "daily", "web.nav.daily", v, v.t("web.daily.title", "date", d.Day), d)
}
