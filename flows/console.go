package flows

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The office console (bot/web): a person asks the bot for a one-time link
// (/console), opens it in a browser and works in a session with the role
// they have in chat. Every change made there arrives as an EvConsole event
// and goes through the console table (routes.go): ticket actions through
// Authorize and their Transitions row, the others through their Access
// row, so the rules, the audit trail and the chat cards are the same
// whichever door a change came through.

// ConsoleOptions configure the console's login.
type ConsoleOptions struct {
	// Link turns a login token into the address the person opens; ok is
	// false when no console is configured (the web channel provides it:
	// bot.LoginLinker). Nil: /console answers that there is none.
	Link func(token string) (link string, ok bool)
	// LinkTTL is how long a link may be opened (default 10 minutes).
	LinkTTL time.Duration
	// SessionTTL is how long a session lasts (default 12 hours).
	SessionTTL time.Duration
}

func (o *ConsoleOptions) defaults() {
	if o.LinkTTL <= 0 {
		o.LinkTTL = 10 * time.Minute
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
}

// ConsoleLink is a one-time login link, stored under the hash of its
// token (ConsoleTokenHash); the token itself is only in the message that
// carried it.
type ConsoleLink struct {
	Hash     string     `json:"hash"`
	PersonID string     `json:"person_id"`
	Created  time.Time  `json:"created"`
	Expires  time.Time  `json:"expires"`
	Used     *time.Time `json:"used,omitempty"`
}

// ConsoleSession is a browser's session, stored under the hash of the
// token its cookie carries.
type ConsoleSession struct {
	Hash     string    `json:"hash"`
	PersonID string    `json:"person_id"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	// Link is the hash of the link that opened it.
	Link string `json:"link"`
}

// ConsoleTx holds the console's links and sessions.
type ConsoleTx interface {
	ConsoleLink(hash string) (*ConsoleLink, error)
	PutConsoleLink(l *ConsoleLink) error
	ConsoleSession(hash string) (*ConsoleSession, error)
	PutConsoleSession(s *ConsoleSession) error
	// DeleteConsoleSession removes a session; a missing one is not an error.
	DeleteConsoleSession(hash string) error
	// ConsoleSessions lists a person's sessions, ordered by hash.
	ConsoleSessions(personID string) ([]*ConsoleSession, error)
	// PruneConsole deletes the links and sessions that expired before t
	// and returns how many.
	PruneConsole(before time.Time) (int, error)
}

// ConsoleRequest is an action taken in the console: a row of the console
// table, the ticket it is about (for ticket actions) and the form's
// fields the action reads.
type ConsoleRequest struct {
	Action string
	Ticket string
	Args   map[string]string
}

// ConsoleTokenHash is how a console token (a link's or a session's) is
// stored and looked up: hex SHA-256.
func ConsoleTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// isTokenHash reports whether s has the form ConsoleTokenHash returns.
func isTokenHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// MayUseConsole reports whether p may work in the console at all: the
// /console command's row decides, so a session has exactly the access the
// person has in chat, re-read on every request.
func MayUseConsole(p *Person) error {
	row, _ := findCommand("console", "")
	if row == nil || !row.Allows(p) {
		deny := "err.leads_only"
		if row != nil {
			deny = row.Deny
		}
		return Errorf(CodeForbidden, deny)
	}
	return nil
}

// ConsoleAllows reports whether p may take the console action now (on t,
// for a ticket action): the rows the engine checks when the action
// arrives, for the console to offer only what would pass. It never
// replaces that check.
func ConsoleAllows(action string, p *Person, t *Ticket) error {
	row, ok := consoleActions[action]
	if !ok {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if row.Act != "" {
		if t == nil {
			return Errorf(CodeInvalid, "web.err.bad_request")
		}
		return Authorize(row.Act, p, t)
	}
	return row.allows(p)
}

// allows is the row's check for an action that names no ticket: the
// chat button's row it names (Verb), the command's (Cmd: a subcommand
// passes its command's row too), or its own Access.
func (row consoleAction) allows(p *Person) error {
	a := row.Access
	switch {
	case row.Verb != "":
		v, ok := verbs[row.Verb]
		if !ok {
			return Errorf(CodeInvalid, "web.err.bad_request")
		}
		a = v.Access
	case row.Cmd != "":
		name, arg, _ := strings.Cut(row.Cmd, " ")
		cmd, sub := findCommand(name, arg)
		if cmd == nil || (arg != "" && sub == nil) {
			return Errorf(CodeInvalid, "web.err.bad_request")
		}
		if !cmd.Allows(p) {
			return Errorf(CodeForbidden, cmd.Deny)
		}
		if sub != nil {
			a = sub.Access
		} else {
			a = cmd.Access
		}
	}
	if !a.Allows(p) {
		return Errorf(CodeForbidden, a.Deny)
	}
	return nil
}

// ConsoleActions lists the console's actions, sorted: each has its row
// (and its catalog key web.audit.<action>).
func ConsoleActions() []string {
	out := make([]string, 0, len(consoleActions))
	for a := range consoleActions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// ConsoleVerb is the chat button a console action is (its Verb row), ""
// for one that is not: tests hold the two to the same design.
func ConsoleVerb(action string) string { return consoleActions[action].Verb }

// ConsoleTicketAction reports whether the console action is about one
// ticket (its row names a ticket action).
func ConsoleTicketAction(action string) bool { return consoleActions[action].Act != "" }

// console handles an EvConsole event through its row.
func (c *call) console() error {
	req := c.ev.Console
	if req == nil {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	row, ok := consoleActions[req.Action]
	if !ok {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if row.Act == "" {
		if err := row.allows(c.me); err != nil {
			return err
		}
		if row.run == nil {
			return c.consoleVerb(row, req.Args)
		}
		return row.run(c, nil, req.Args)
	}
	t, err := c.mustTicket(req.Ticket)
	if err != nil {
		return err
	}
	if err := Authorize(row.Act, c.me, t); err != nil {
		return err
	}
	if t.Visit == nil {
		t.Visit = &Visit{}
	}
	return row.run(c, t, req.Args)
}

// consoleVerb runs the chat button a row names with the form's fields,
// in the row's order, as its arguments: they must have the shape the
// bot's own buttons carry, as a tapped payload must.
func (c *call) consoleVerb(row consoleAction, args map[string]string) error {
	v := verbs[row.Verb]
	list := make([]string, len(row.Fields))
	for i, f := range row.Fields {
		list[i] = strings.TrimSpace(args[f])
	}
	if !v.args.check(list) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if err := c.checkArea(v.area, list); err != nil { // the verb's area column, as for a tap
		return err
	}
	return v.run(c, list)
}

// ---- login ----

// cmdConsole answers /console with a one-time link.
func (c *call) cmdConsole(string) error {
	link := c.e.o.Console.Link
	if link == nil {
		return Errorf(CodeInvalid, "console.off")
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(c.e.o.Rand, b); err != nil {
		return fmt.Errorf("console token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	url, ok := link(token)
	if !ok {
		return Errorf(CodeInvalid, "console.off")
	}
	if _, err := c.tx.PruneConsole(c.now); err != nil {
		return err
	}
	l := &ConsoleLink{Hash: ConsoleTokenHash(token), PersonID: c.me.ID, Created: c.now, Expires: c.now.Add(c.e.o.Console.LinkTTL)}
	if err := c.tx.PutConsoleLink(l); err != nil {
		return err
	}
	c.reply(c.t("console.link", "link", url, "minutes", int(c.e.o.Console.LinkTTL/time.Minute)))
	return nil
}

// cmdConsoleLogout ends every console session of the sender.
func (c *call) cmdConsoleLogout() error {
	n, err := c.endSessions(c.me.ID)
	if err != nil {
		return err
	}
	c.reply(c.t("console.logged_out", "n", n))
	return nil
}

func (c *call) endSessions(personID string) (int, error) {
	ss, err := c.tx.ConsoleSessions(personID)
	if err != nil {
		return 0, err
	}
	for _, s := range ss {
		if err := c.tx.DeleteConsoleSession(s.Hash); err != nil {
			return 0, err
		}
	}
	return len(ss), nil
}

// consoleLogin redeems a link (by its hash) for a session (the hash of a
// token the console generated and keeps only in the browser's cookie).
// The link is the credential: whoever holds it logs in as its person, once,
// within its time, and only while that person may use the console.
func (c *call) consoleLogin(_ *Ticket, args map[string]string) error {
	linkHash, sessHash := args["link"], args["session"]
	if !isTokenHash(linkHash) || !isTokenHash(sessHash) {
		return Errorf(CodeForbidden, "console.link_invalid")
	}
	l, err := c.tx.ConsoleLink(linkHash)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeForbidden, "console.link_invalid")
	}
	if err != nil {
		return err
	}
	if l.Used != nil {
		return Errorf(CodeForbidden, "console.link_used")
	}
	if !c.now.Before(l.Expires) {
		return Errorf(CodeForbidden, "console.link_expired")
	}
	p, err := c.person(l.PersonID)
	if err != nil {
		return err
	}
	if err := MayUseConsole(p); err != nil {
		return err
	}
	c.me, c.lang = p, p.Lang
	if c.lang == "" {
		c.lang = c.e.o.DefaultLang
	}
	now := c.now
	l.Used = &now
	if err := c.tx.PutConsoleLink(l); err != nil {
		return err
	}
	if _, err := c.tx.PruneConsole(c.now); err != nil {
		return err
	}
	s := &ConsoleSession{Hash: sessHash, PersonID: p.ID, Created: c.now, Expires: c.now.Add(c.e.o.Console.SessionTTL), Link: linkHash}
	if err := c.tx.PutConsoleSession(s); err != nil {
		return err
	}
	c.reply(c.t("console.welcome", "name", p.Name))
	return nil
}

// consoleLogout ends the session whose hash the console sends (its own),
// or with all=1 every session of the sender.
func (c *call) consoleLogout(_ *Ticket, args map[string]string) error {
	if args["all"] == "1" {
		n, err := c.endSessions(c.me.ID)
		if err != nil {
			return err
		}
		c.reply(c.t("console.logged_out", "n", n))
		return nil
	}
	h := args["session"]
	if !isTokenHash(h) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	s, err := c.tx.ConsoleSession(h)
	if errors.Is(err, ErrNotFound) {
		c.reply(c.t("console.logged_out", "n", 0))
		return nil
	}
	if err != nil {
		return err
	}
	if s.PersonID != c.me.ID {
		return Errorf(CodeForbidden, "web.err.bad_request")
	}
	if err := c.tx.DeleteConsoleSession(h); err != nil {
		return err
	}
	c.reply(c.t("console.logged_out", "n", 1))
	return nil
}

// ---- a lead's actions ----

// consoleAssign gives the ticket to a technician (reassigns it when it has
// one): the chat's reassign, with the technician picked in a list.
func (c *call) consoleAssign(t *Ticket, args map[string]string) error {
	return c.reassign(t, []string{args["technician"]})
}

// cancelByLead cancels a ticket with the lead's reason: the audit trail
// keeps it, the card says so, the technician and the resident are told.
func (c *call) cancelByLead(t *Ticket, args map[string]string) error {
	reason, err := c.consoleReason(args["reason"])
	if err != nil {
		return err
	}
	tech, err := c.person(t.AssigneeID)
	if err != nil {
		return err
	}
	t.CancelledBy = c.me.ID
	if err := c.endByLead(t, ActLeadCancel, reason); err != nil { // manage.go: as in chat
		return err
	}
	if tech != nil {
		c.tell(tech, "console.cancelled_job", []any{"ticket", t.ID, "reason", reason})
	}
	res, err := c.resident(t)
	if err != nil {
		return err
	}
	c.tell(res, "console.cancelled_resident", []any{"ticket", t.ID, "reason", reason, "phone", c.ticketPhone(t, langOf(res, c.e.o.DefaultLang))})
	c.reply(c.t("console.cancelled", "ticket", t.ID))
	return nil
}

// ---- customer service's actions ----

// officeResidentSeq numbers the residents customer service registers from
// a phone call: they have no chat, so their id names no channel
// ("office:<n>"), and nothing is ever sent to them.
const officeResidentSeq = "office_residents"

// phoneTicket files a ticket for a resident who phoned: an existing one
// (args["resident"], a person id) or one registered from the form (name,
// phone, building, unit, room). The resident gets the ticket number in
// chat when they have one; the card goes to the group as for any report.
func (c *call) phoneTicket(_ *Ticket, args map[string]string) error {
	cat, ok := c.e.cats[args["category"]]
	if !ok {
		return Errorf(CodeInvalid, "console.bad_category")
	}
	if cat.Emergency != "" {
		// An emergency runs its own ladder from the reporter's chat
		// (emergency.go); from a phone call it is not built yet.
		return Errorf(CodeInvalid, "console.emergency_by_phone", "phone", c.servicePhone(c.lang))
	}
	desc := cleanText(args["description"], 0)
	if desc == "" {
		return Errorf(CodeInvalid, "console.desc_required")
	}
	if n := utf8.RuneCountInString(desc); n > c.e.o.MaxDescription {
		return Errorf(CodeInvalid, "err.too_long", "n", n, "max", c.e.o.MaxDescription)
	}
	kind := OrderKind(args["kind"])
	if kind != OrderHousehold && kind != OrderPublic {
		return Errorf(CodeInvalid, "console.bad_kind")
	}
	at, err := c.consoleTime(args["when"], args["time"])
	if err != nil {
		return err
	}
	res, err := c.phoneResident(args)
	if err != nil {
		return err
	}
	d := &Dialogue{Category: cat.Key, Description: desc, Kind2: kind}
	t, err := c.fileTicket(res, d, at, "")
	if err != nil {
		return err
	}
	if err := c.event(t, "phone_intake", StateNew, StateNew, ""); err != nil {
		return err
	}
	c.created = t.ID
	if !res.Chat.IsZero() {
		l := langOf(res, c.e.o.DefaultLang)
		c.tell(res, "console.phone_ticket", []any{"ticket", t.ID, "category", c.categoryLabel(t.Category, l), "when", c.whenText(t, l)},
			[]Button{TicketButton(c.tl(l, "btn.cancel_ticket", "ticket", t.ID), ActCancel, t.ID)})
	}
	c.reply(c.t("console.ticket_created", "ticket", t.ID, "name", res.Name))
	return c.dispatchNew(t)
}

// consoleTime reads the form's timing: as soon as possible, tomorrow
// morning or afternoon, or a time typed as residents type it in chat.
func (c *call) consoleTime(when, typed string) (*time.Time, error) {
	loc := c.e.o.Location
	local := c.now.In(loc)
	tomorrow := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	switch when {
	case "asap", "":
		return nil, nil
	case "tam":
		at := tomorrow.Add(9 * time.Hour)
		return &at, nil
	case "tpm":
		at := tomorrow.Add(14 * time.Hour)
		return &at, nil
	case "other":
		at, err := ParseAgreedTime(typed, c.now, loc)
		if err != nil {
			return nil, Errorf(CodeInvalid, "report.bad_time", "example", local.Add(24*time.Hour).Format("01-02")+" 15:00")
		}
		return &at, nil
	}
	return nil, Errorf(CodeInvalid, "web.err.bad_request")
}

// phoneResident finds the resident a phone report is for, or registers
// them; a phone number another resident already has is refused (pick
// that resident instead), so a person is not registered twice.
func (c *call) phoneResident(args map[string]string) (*Person, error) {
	if id := args["resident"]; id != "" {
		p, err := c.person(id)
		if err != nil {
			return nil, err
		}
		if p == nil || !p.Registered || p.Role != RoleResident {
			return nil, Errorf(CodeInvalid, "console.no_resident")
		}
		return p, nil
	}
	field := func(key string, max int) (string, error) {
		v := cleanText(args[key], 0)
		if v == "" {
			return "", Errorf(CodeInvalid, "console.field_required", "field", c.t("web.field."+key))
		}
		if n := utf8.RuneCountInString(v); n > max {
			return "", Errorf(CodeInvalid, "console.field_too_long", "field", c.t("web.field."+key), "n", n, "max", max)
		}
		return v, nil
	}
	p := &Person{Role: RoleResident, Registered: true, Lang: c.e.o.DefaultLang, Created: c.now, Updated: c.now}
	var err error
	if p.Name, err = field("name", c.e.o.MaxNameLen); err != nil {
		return nil, err
	}
	if p.Phone = normalizePhone(args["phone"]); p.Phone == "" {
		return nil, Errorf(CodeInvalid, "console.phone_invalid")
	}
	for _, f := range []struct {
		key string
		to  *string
	}{{"building", &p.Building}, {"unit", &p.Unit}, {"room", &p.Room}} {
		if *f.to, err = field(f.key, c.e.o.MaxAddressPart); err != nil {
			return nil, err
		}
	}
	residents, err := c.tx.PeopleByRole(RoleResident)
	if err != nil {
		return nil, err
	}
	for _, r := range residents {
		if r.Phone != "" && SamePhone(r.Phone, p.Phone) {
			return nil, Errorf(CodeConflict, "console.phone_exists", "name", r.Name, "address", personAddress(r))
		}
	}
	n, err := c.tx.NextSeq(officeResidentSeq)
	if err != nil {
		return nil, err
	}
	p.ID = "office:" + strconv.Itoa(n)
	if err := c.tx.PutPerson(p); err != nil {
		return nil, err
	}
	return p, nil
}

// SamePhone reports whether two numbers are one, however typed: the same
// digits, or one with a country code (up to three digits) before the other.
func SamePhone(a, b string) bool {
	a, b = PhoneDigits(a), PhoneDigits(b)
	if len(a) < len(b) {
		a, b = b, a
	}
	return len(b) >= 7 && len(a)-len(b) <= 3 && strings.HasSuffix(a, b)
}

// PhoneDigits is a phone number's digits only, for matching a number
// however it was typed.
func PhoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
