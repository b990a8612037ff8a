package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/repairbot/repairbot/flows"
)

// The management pages: staff with their skills and certificates, the
// duty roster, training, spare-parts stock and movements, the price list,
// and the SOP's reviews with their actions. Each reads through the
// store's read side, opens for those whose chat command shows the same
// (the page's cmd row), and offers only the forms whose console rows let
// the visitor act; every form posts a console action (/do/<action>) that
// the engine checks against the chat row it names.

// qualReader is the engine's read of the qualification rules, for their
// labels (flows.Engine.QualRules).
type qualReader interface{ QualRules() flows.QualRules }

func (c *Channel) qualRules() flows.QualRules {
	if q, ok := c.o.Domain.(qualReader); ok {
		return q.QualRules()
	}
	return flows.QualRules{}
}

// label finds a key's label in a list of keyed labels, or the key.
func label(l flows.Lang, key string, keys []string, labels []flows.Label) string {
	for i, k := range keys {
		if k == key {
			if s := labels[i].In(l); s != "" {
				return s
			}
		}
	}
	return key
}

// ---- staff, skills and certificates ----

type certView struct {
	ID, Type, Number, ValidUntil, NextReview, Status string
	Warn, CanVerify, CanReview, CanRevoke            bool
}

type staffView struct {
	ID, Name, Role, RoleKey, Phone string
	Active                         bool
	Skills                         []string
	Certs                          []certView
}

type staffData struct {
	People    []staffView
	Roles     []option
	Skills    []option
	Levels    []option
	CertTypes []option
	Holders   []option
	Upload    bool
	Can       map[string]bool
}

// staffRoles are the roles the staff page lists, in its order.
var staffRoles = []flows.Role{flows.RoleTechnician, flows.RoleLead, flows.RoleDispatcher, flows.RoleAdmin}

// staff lists the team by role (leavers marked), each with skills and
// certificates (expiry and 复审 dates, the ones due within 60 days marked).
func (c *Channel) staff(w http.ResponseWriter, r *http.Request, v *visitor) {
	q := c.qualRules()
	d := &staffData{Can: can(v, flows.ConsoleStaffRole, flows.ConsoleStaffLeave, flows.ConsoleSkill, flows.ConsoleCertVerify, flows.ConsoleCertReviewed,
		flows.ConsoleCertRefuse, flows.ConsoleCertRevoke, flows.ConsoleCertNew), Upload: c.o.Media != nil}
	var skillKeys, levelKeys, certKeys []string
	var skillLabels, levelLabels, certLabels []flows.Label
	for _, s := range q.Skills {
		skillKeys, skillLabels = append(skillKeys, s.Key), append(skillLabels, s.Labels)
		d.Skills = append(d.Skills, option{Value: s.Key, Label: s.Labels.In(v.lang)})
	}
	for _, l := range q.Levels {
		levelKeys, levelLabels = append(levelKeys, l.Key), append(levelLabels, l.Labels)
		d.Levels = append(d.Levels, option{Value: l.Key, Label: l.Labels.In(v.lang)})
	}
	d.Levels = append(d.Levels, option{Value: "-", Label: v.t("web.staff.remove_skill")})
	for _, ct := range q.CertTypes {
		certKeys, certLabels = append(certKeys, ct.Key), append(certLabels, ct.Labels)
		d.CertTypes = append(d.CertTypes, option{Value: ct.Key, Label: ct.Labels.In(v.lang)})
	}
	for _, role := range []flows.Role{flows.RoleTechnician, flows.RoleLead, flows.RoleDispatcher} {
		d.Roles = append(d.Roles, option{Value: string(role), Label: v.t("web.role." + string(role))})
	}
	today := c.o.Now().In(c.o.Domain.Location())
	soon := flows.Date{Y: today.Year(), M: today.Month(), D: today.Day()}.AddDate(0, 0, 60)
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		for _, role := range staffRoles {
			ps, err := tx.PeopleByRole(role)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if !p.Registered {
					continue
				}
				sv := staffView{ID: p.ID, Name: p.Name, Role: v.t("web.role." + string(p.Role)), RoleKey: string(p.Role), Phone: flows.MaskPhone(p.Phone), Active: p.Deactivated == nil}
				if sv.Active && (role == flows.RoleTechnician || role == flows.RoleLead) {
					d.Holders = append(d.Holders, option{Value: p.ID, Label: p.Name})
				}
				skills, err := tx.Skills(p.ID)
				if err != nil {
					return err
				}
				for _, s := range skills {
					sv.Skills = append(sv.Skills, label(v.lang, s.Skill, skillKeys, skillLabels)+" · "+label(v.lang, s.Level, levelKeys, levelLabels))
				}
				certs, err := tx.CertsByPerson(p.ID)
				if err != nil {
					return err
				}
				for _, ct := range certs {
					cv := certView{ID: ct.ID, Type: label(v.lang, ct.Type, certKeys, certLabels), Number: ct.Number,
						ValidUntil: dateText(v, ct.ValidUntil), NextReview: dateText(v, ct.NextReview)}
					switch {
					case ct.Revoked != nil:
						cv.Status = v.t("web.staff.cert_revoked")
					case ct.Verified == nil:
						cv.Status, cv.CanVerify = v.t("web.staff.cert_unverified"), true
					default:
						cv.Status, cv.CanRevoke = v.t("web.staff.cert_verified"), true
					}
					if ct.Revoked == nil {
						cv.CanReview = !ct.NextReview.IsZero()
						for _, due := range []flows.Date{ct.ValidUntil, ct.NextReview} {
							if !due.IsZero() && !due.After(soon) {
								cv.Warn = true
							}
						}
					}
					sv.Certs = append(sv.Certs, cv)
				}
				d.People = append(d.People, sv)
			}
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	sort.SliceStable(d.People, func(i, j int) bool { return d.People[i].Active && !d.People[j].Active })
	c.renderNav(w, r, http.StatusOK, "staff", "web.nav.staff", v, v.t("web.staff.title"), d)
}

func dateText(v *visitor, d flows.Date) string {
	if d.IsZero() {
		return v.t("web.ticket.none")
	}
	return d.String()
}

// ---- the duty roster ----

type shiftView struct {
	ID                 int
	Day, Hours, HoursV string
	People, Absent     []option
}

type overrideView struct{ Name, Until, What string }

type rosterData struct {
	Shifts    []shiftView
	Overrides []overrideView
	Staff     []option
	Days      []option
	Stored    bool
	Can       map[string]bool
}

// roster shows the weekly duty pattern, shift by shift with who is on it,
// and the live changes; a lead puts people on or off a shift, removes one,
// or puts someone on or off duty now, adds a shift or changes its hours.
func (c *Channel) roster(w http.ResponseWriter, r *http.Request, v *visitor) {
	d := &rosterData{Can: can(v, flows.ConsoleDuty, flows.ConsoleRosterPerson, flows.ConsoleRosterDelete, flows.ConsoleRosterAdd, flows.ConsoleRosterHours)}
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		d.Days = append(d.Days, option{Value: flows.DayName(wd), Label: v.t("web.roster.day" + strconv.Itoa(int(wd)))})
	}
	loc := c.o.Domain.Location()
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		names := personNames(tx)
		techs, err := tx.PeopleByRole(flows.RoleTechnician)
		if err != nil {
			return err
		}
		for _, p := range techs {
			if p.Active() {
				d.Staff = append(d.Staff, option{Value: p.ID, Label: p.Name})
			}
		}
		ro, err := tx.Roster()
		if err == nil {
			d.Stored = true
			for _, s := range ro.Shifts {
				sv := shiftView{ID: s.ID, Day: v.t("web.roster.day" + strconv.Itoa(int(s.Day))), Hours: fmt.Sprintf("%02d:%02d–%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60),
					HoursV: fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)}
				on := map[string]bool{}
				for _, id := range s.People {
					on[id] = true
					sv.People = append(sv.People, option{Value: id, Label: names(id)})
				}
				for _, o := range d.Staff {
					if !on[o.Value] {
						sv.Absent = append(sv.Absent, o)
					}
				}
				d.Shifts = append(d.Shifts, sv)
			}
		}
		ovs, err := tx.DutyOverrides()
		if err != nil {
			return err
		}
		now := c.o.Now()
		for _, o := range ovs {
			if !o.Until.After(now) {
				continue
			}
			what := v.t("web.roster.on_now")
			if o.Off {
				what = v.t("web.roster.off_now")
			}
			d.Overrides = append(d.Overrides, overrideView{Name: names(o.PersonID), Until: o.Until.In(loc).Format("01-02 15:04"), What: what})
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "roster", "web.nav.roster", v, v.t("web.roster.title"), d)
}

// ---- training ----

type sessionView struct {
	ID, Topic, Start, Place, Trainer, Status string
	Invitees, Attendance                     []string
	Cancellable, Attendable                  bool
	People                                   []option
}

type trainingData struct {
	Sessions []sessionView
	Covers   []option
	Staff    []option
	Groups   []option
	Me       string
	Can      map[string]bool
}

// coverReader is the engine's list of what a session can cover
// (flows.Engine.TrainingCovers), for the scheduling form.
type coverReader interface {
	TrainingCovers(l flows.Lang) (values, labels []string)
}

// training lists the sessions from 30 days back to 90 ahead with their
// invitees' answers and the attendance recorded; a lead schedules one or
// cancels one, the trainer or a lead records attendance once it started.
func (c *Channel) training(w http.ResponseWriter, r *http.Request, v *visitor) {
	d := &trainingData{Can: can(v, flows.ConsoleTrainingCancel, flows.ConsoleTrainingNew, flows.ConsoleTrainingAttend), Me: v.person.Name}
	if cr, ok := c.o.Domain.(coverReader); ok {
		values, labels := cr.TrainingCovers(v.lang)
		for i := range values {
			d.Covers = append(d.Covers, option{Value: values[i], Label: labels[i]})
		}
	}
	for _, g := range []struct{ value, key string }{{"g:behind", "btn.invite_behind"}, {"g:techs", "btn.invite_techs"}, {"g:all", "btn.invite_all"}} {
		d.Groups = append(d.Groups, option{Value: g.value, Label: v.t(g.key)})
	}
	now := c.o.Now()
	lb := c.labels(v)
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		names := personNames(tx)
		for _, role := range staffRoles {
			ps, err := tx.PeopleByRole(role)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if p.Active() {
					d.Staff = append(d.Staff, option{Value: p.ID, Label: p.Name})
				}
			}
		}
		ss, err := tx.SessionsBetween(now.AddDate(0, 0, -30), now.AddDate(0, 0, 90))
		if err != nil {
			return err
		}
		for _, s := range ss {
			sv := sessionView{ID: s.ID, Topic: s.Topic, Start: c.localTime(s.Start), Place: s.Place, Trainer: s.TrainerName,
				Status: lb.optional("web.training.status_"+s.Status, s.Status), Cancellable: s.Status == flows.SessionScheduled && s.Start.After(now),
				// Offered to whom chat offers the buttons (its trainer, a lead); the engine decides.
				Attendable: s.Status != flows.SessionCancelled && !now.Before(s.Start) && (v.person.Role.IsLead() || (s.TrainerID != "" && s.TrainerID == v.person.ID))}
			for _, id := range s.People() {
				sv.People = append(sv.People, option{Value: id, Label: names(id)})
			}
			for _, in := range s.Invitees {
				sv.Invitees = append(sv.Invitees, names(in.PersonID)+" "+lb.optional("web.training.answer_"+in.Answer, in.Answer))
			}
			for _, a := range s.Attendance {
				mark := v.t("web.training.absent")
				if a.Present {
					mark = v.t("web.training.present")
				}
				if a.Result != "" {
					mark += " · " + lb.optional("web.training.result_"+a.Result, a.Result)
				}
				sv.Attendance = append(sv.Attendance, names(a.PersonID)+" "+mark)
			}
			d.Sessions = append(d.Sessions, sv)
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "training", "web.nav.training", v, v.t("web.training.title"), d)
}

// ---- spare parts ----

type levelView struct {
	Code, Name, Store, Qty, Value, Min string
	Low, Retired                       bool
}

type moveView struct {
	Seq, At, Kind, Part, From, To, Qty, Value, Ref, Actor, Reason string
}

type purchaseView struct {
	ID, Part, Store, Qty, Why, By, At, Status string
	Open                                      bool
}

type stockData struct {
	Levels      []levelView
	Moves       []moveView
	Purchases   []purchaseView
	Deliverable []option
	Stores      []option
	Parts       []option
	Upload      bool
	Can         map[string]bool
}

// maxMoves is how many of the latest stock movements the page lists.
const maxMoves = 50

// stock shows every store's levels (below the minimum marked), the open
// purchase requests a lead decides, and the latest movements of the
// ledger; a lead retires a catalog item or brings it back. Staff record a
// delivery against an approved purchase (with its note's photo) and
// return a job's unused parts; a lead adjusts a store to a count.
func (c *Channel) stock(w http.ResponseWriter, r *http.Request, v *visitor) {
	d := &stockData{Can: can(v, flows.ConsolePurchaseOK, flows.ConsolePurchaseNo, flows.ConsoleItemRetire, flows.ConsoleStockReceive, flows.ConsoleStockReturn, flows.ConsoleStockCount,
		flows.ConsoleStockBuy),
		Upload: c.o.Media != nil}
	lb := c.labels(v)
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		names := personNames(tx)
		stores := map[string]string{}
		locs, err := tx.StockLocations()
		if err != nil {
			return err
		}
		for _, l := range locs {
			stores[l.ID] = l.Name
			d.Stores = append(d.Stores, option{Value: l.ID, Label: l.Name})
		}
		parts := map[string]*flows.Part{}
		if err := tx.EachPart(func(p *flows.Part) error {
			parts[p.Code] = p
			d.Parts = append(d.Parts, option{Value: p.Code, Label: p.Code + " " + p.Name})
			for _, s := range p.Stores {
				lv, err := tx.StockLevel(p.Code, s)
				if err != nil {
					return err
				}
				store := stores[s]
				if store == "" {
					store = s
				}
				d.Levels = append(d.Levels, levelView{Code: p.Code, Name: p.Name, Store: store, Qty: fmt.Sprintf("%d %s", lv.Qty, p.Unit),
					Value: flows.Money(lv.Value), Min: strconv.FormatInt(p.MinStock, 10), Low: lv.Qty < p.MinStock, Retired: p.Retired})
			}
			if len(p.Stores) == 0 {
				d.Levels = append(d.Levels, levelView{Code: p.Code, Name: p.Name, Qty: "0", Value: flows.Money(0), Min: strconv.FormatInt(p.MinStock, 10), Retired: p.Retired})
			}
			return nil
		}); err != nil {
			return err
		}
		prs, err := tx.OpenPurchaseRequests()
		if err != nil {
			return err
		}
		for _, pr := range prs {
			name := pr.Part
			if p := parts[pr.Part]; p != nil {
				name = p.Code + " " + p.Name
			}
			d.Purchases = append(d.Purchases, purchaseView{ID: pr.ID, Part: name, Store: stores[pr.Store], Qty: strconv.FormatInt(pr.Qty, 10), Why: pr.Why,
				By: names(pr.RequestedBy), At: c.localTime(pr.Requested), Status: lb.optional("web.stock.status_"+string(pr.Status), string(pr.Status)),
				Open: pr.Status == flows.PurchaseRequested})
			if pr.Status.Open() {
				d.Deliverable = append(d.Deliverable, option{Value: pr.ID, Label: fmt.Sprintf("%s · %s · %s %d/%d", pr.ID, name, stores[pr.Store], pr.Received, pr.Qty)})
			}
		}
		var moves []moveView
		if err := tx.EachStockMove(0, func(m *flows.StockMove) error {
			moves = append(moves, moveView{Seq: strconv.FormatUint(m.Seq, 10), At: c.localTime(m.PostedAt), Kind: lb.optional("web.stock.move_"+string(m.Kind), string(m.Kind)),
				Part: m.Part, From: m.From, To: m.To, Qty: strconv.FormatInt(m.Qty, 10), Value: flows.Money(m.Value), Ref: m.Ref, Actor: names(m.Actor), Reason: m.Reason})
			if len(moves) > 4*maxMoves {
				moves = append(moves[:0], moves[len(moves)-maxMoves:]...) // keep the tail while walking
			}
			return nil
		}); err != nil {
			return err
		}
		if len(moves) > maxMoves {
			moves = moves[len(moves)-maxMoves:]
		}
		for i := len(moves) - 1; i >= 0; i-- {
			d.Moves = append(d.Moves, moves[i]) // newest first
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "stock", "web.nav.stock", v, v.t("web.stock.title"), d)
}

// ---- the price list ----

type priceView struct {
	Code, NameZH, NameEN, UnitZH, UnitEN, Price string
}

type pricesData struct {
	Version string
	Prices  []priceView
	History []string
	// NotInFile is set when the version in force was made in the console:
	// the SOP file lacks it (flows.SourceConsole).
	NotInFile string
	Can       map[string]bool
}

// prices shows the price list of the SOP in force and its versions; a
// lead changes a line or adds one, which makes a new SOP version.
func (c *Channel) prices(w http.ResponseWriter, r *http.Request, v *visitor) {
	d := &pricesData{Can: can(v, flows.ConsolePriceSet)}
	if s := c.o.Domain.SOP(); s != nil {
		d.Version = s.Version
		for _, p := range s.Prices {
			d.Prices = append(d.Prices, priceView{Code: p.Code, NameZH: p.Name[flows.LangZH], NameEN: p.Name[flows.LangEN],
				UnitZH: p.Unit[flows.LangZH], UnitEN: p.Unit[flows.LangEN], Price: strings.TrimPrefix(flows.Money(p.Cents), "¥")})
		}
	}
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		vs, err := tx.SOPVersions()
		if err != nil {
			return err
		}
		names := personNames(tx)
		if len(vs) > 0 && vs[len(vs)-1].Source == flows.SourceConsole {
			d.NotInFile = v.t("web.prices.not_in_file", "n", vs[len(vs)-1].Number)
		}
		for i := len(vs) - 1; i >= 0 && len(d.History) < 10; i-- {
			sv := vs[i]
			line := v.t("web.prices.version", "n", sv.Number, "label", sv.Label, "time", c.localTime(sv.Created), "by", names(sv.Author), "changes", len(sv.Changes))
			if sv.Source == flows.SourceConsole {
				line += " · " + v.t("web.prices.from_console")
			}
			d.History = append(d.History, line)
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "prices", "web.nav.prices", v, v.t("web.prices.title"), d)
}

// ---- reviews and actions ----

type actionView struct {
	What, Owner, Due, Status, Review string
	N                                int
	Mine                             bool
}

type reviewView struct {
	ID, Trigger, Opened, Deadline, Owner, Status string
	Tickets                                      []string
	Suggestions                                  int
	Actions                                      []actionView
}

type reviewsData struct {
	Reviews []reviewView
	Can     map[string]bool
}

// reviews lists the SOP reviews, newest first, with their trigger,
// deadline and owner, the suggestions gathered and the improvement
// actions with their owners and due dates; an action's owner marks it
// done with the evidence.
func (c *Channel) reviews(w http.ResponseWriter, r *http.Request, v *visitor) {
	d := &reviewsData{Can: can(v, flows.ConsoleActionDone)}
	lb := c.labels(v)
	loc := c.o.Domain.Location()
	err := c.o.Store.View(r.Context(), func(tx flows.Tx) error {
		names := personNames(tx)
		rs, err := tx.Reviews()
		if err != nil {
			return err
		}
		for _, rv := range rs {
			vw := reviewView{ID: rv.ID, Trigger: lb.optional("web.reviews.trigger_"+rv.Trigger, rv.Trigger), Opened: c.localTime(rv.Opened),
				Deadline: c.localTime(rv.Deadline), Owner: names(rv.Owner), Status: lb.optional("web.reviews.status_"+rv.Status, rv.Status),
				Tickets: rv.Tickets, Suggestions: len(rv.Suggestions)}
			if rv.Report != nil {
				for _, a := range rv.Report.Actions {
					status := v.t("web.reviews.action_open")
					if a.Done != nil {
						status = v.t("web.reviews.action_done", "time", a.Done.In(loc).Format("2006-01-02"))
					}
					vw.Actions = append(vw.Actions, actionView{What: a.Text, Owner: names(a.Owner), Due: a.Due.In(loc).Format("2006-01-02"), Status: status,
						Review: rv.ID, N: a.N, Mine: a.Done == nil && a.Owner == v.person.ID})
				}
			}
			d.Reviews = append(d.Reviews, vw)
		}
		return nil
	})
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.renderNav(w, r, http.StatusOK, "reviews", "web.nav.reviews", v, v.t("web.reviews.title"), d)
}
