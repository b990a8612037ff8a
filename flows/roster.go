package flows

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The weekly duty pattern (值班表) as data: seeded once from the
// configuration's [[duty]] (Options.DutySeed), then edited in chat by the
// leads (/duty week, a day, a shift). People are person ids, so a WeCom
// technician is on duty like a Telegram one. The leads' temporary on/off
// changes (duty.go) still apply on top of it.

// RosterTx holds the weekly duty pattern.
type RosterTx interface {
	// Roster returns the stored pattern; ErrNotFound before it is seeded.
	Roster() (*Roster, error)
	// PutRoster stores the pattern, replacing the one stored.
	PutRoster(r *Roster) error
}

// Roster is the weekly duty pattern: shifts by weekday.
type Roster struct {
	// Shifts in the order people are paged (a day's first shift first).
	Shifts []RosterShift `json:"shifts"`
	// NextID numbers the next shift; ids are never reused.
	NextID int `json:"next_id"`
	// Source is where the pattern started: RosterFromConfig or RosterFromChat.
	Source string `json:"source"`
	// Rev counts the edits.
	Rev     int       `json:"rev"`
	Updated time.Time `json:"updated"`
	By      string    `json:"by"`
}

// Roster sources.
const (
	RosterFromConfig = "config" // seeded from [[duty]]
	RosterFromChat   = "chat"   // no configured pattern: started by a lead's first edit
)

// RosterShift is one shift of the week: People are on duty on Day from
// From to To (minutes after local midnight). A To at or before From runs
// past midnight into the next day (To equal to From is 24 hours), like
// the configuration's shifts.
type RosterShift struct {
	ID     int          `json:"id"`
	Day    time.Weekday `json:"day"`
	From   int          `json:"from"`
	To     int          `json:"to"`
	People []string     `json:"people"`
	// Area is the area whose on-duty people the shift lists (areas.go);
	// empty on a shift from before areas: the default area.
	Area string `json:"area,omitempty"`
}

// length is the shift's duration in minutes.
func (s RosterShift) length() int {
	n := s.To - s.From
	if n <= 0 {
		n += 24 * 60
	}
	return n
}

// covers reports whether the shift includes local time t.
func (s RosterShift) covers(t time.Time) bool {
	wd, now := t.Weekday(), t.Hour()*60+t.Minute()
	if wd == s.Day && now >= s.From && now < s.From+s.length() {
		return true
	}
	return (s.Day+1)%7 == wd && now < s.From+s.length()-24*60
}

// OnDutyAt lists the person ids on duty at t (in loc) by the pattern, each
// once, in the order of the shifts.
func (r *Roster) OnDutyAt(t time.Time, loc *time.Location) []string {
	if r == nil {
		return nil
	}
	lt := t.In(loc)
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Shifts {
		if !s.covers(lt) {
			continue
		}
		for _, id := range s.People {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Shift returns the shift with that id, nil when there is none.
func (r *Roster) Shift(id int) *RosterShift {
	for i := range r.Shifts {
		if r.Shifts[i].ID == id {
			return &r.Shifts[i]
		}
	}
	return nil
}

// Day lists the shifts that start on day wd, by start time.
func (r *Roster) Day(wd time.Weekday) []RosterShift {
	var out []RosterShift
	for _, s := range r.Shifts {
		if s.Day == wd {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From < out[j].From })
	return out
}

// seedRoster is the pattern the store starts with: the configured one.
func seedRoster(seed []RosterShift, now time.Time) *Roster {
	r := &Roster{Source: RosterFromChat, Updated: now, By: ActorSystem}
	if len(seed) > 0 {
		r.Source = RosterFromConfig
	}
	for _, s := range seed {
		r.NextID++
		s.ID = r.NextID
		s.People = append([]string(nil), s.People...)
		r.Shifts = append(r.Shifts, s)
	}
	return r
}

// roster reads the stored pattern, or the seed when none is stored yet.
func (c *call) roster() (*Roster, error) {
	r, err := c.tx.Roster()
	if errors.Is(err, ErrNotFound) {
		return seedRoster(c.e.o.DutySeed, c.now), nil
	}
	return r, err
}

// ensureRoster stores the seed once, at the first tick: from then on the
// stored pattern is the roster, whatever the configuration says.
func (c *call) ensureRoster() error {
	if _, err := c.tx.Roster(); !errors.Is(err, ErrNotFound) {
		return err
	}
	return c.tx.PutRoster(seedRoster(c.e.o.DutySeed, c.now))
}

// dayNames are the short names /duty takes for a weekday, by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekOrder is the week as the roster shows it, Monday first.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// clockText renders minutes after midnight as HH:MM.
func clockText(m int) string { return fmt.Sprintf("%02d:%02d", m/60%24, m%60) }

// Roster edits in chat. Steps and choice values are stored: never change one.
const stepShiftHours = "shift_hours"

// Person event actions of the roster. Values are stored.
const (
	PevDutyAdded   = "duty_added"   // Ref: "shift:<id>"; Note: the day and hours
	PevDutyRemoved = "duty_removed" // Ref: "shift:<id>"; Note: the day and hours
	PevDutyHours   = "duty_hours"   // the hours of one's shift changed; Ref: "shift:<id>"; From/To: the hours; Note: the day
)

// cmdDuty shows who is on duty now with the temporary on/off buttons
// (/duty), the weekly pattern (/duty week), a day (/duty mon) or a shift
// (/duty s3), each with its edit buttons.
func (c *call) cmdDuty(arg string) error {
	arg = strings.ToLower(strings.TrimSpace(arg))
	switch {
	case arg == "":
		return c.dutyNow()
	case arg == "week":
		return c.rosterWeek()
	}
	if wd, ok := c.weekdayNamed(arg); ok {
		return c.rosterDay(wd)
	}
	if id, err := strconv.Atoi(strings.TrimPrefix(arg, "s")); err == nil && strings.HasPrefix(arg, "s") {
		return c.rosterShift(id)
	}
	return Errorf(CodeInvalid, "roster.usage")
}

// weekdayNamed reads a day: "mon".."sun", or its label in either language.
func (c *call) weekdayNamed(s string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if s == n || s == strings.ToLower(c.tl(LangZH, "roster.day."+n)) || s == strings.ToLower(c.tl(LangEN, "roster.day."+n)) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// dayLabelOf is a weekday's name in the sender's language.
func (c *call) dayLabelOf(wd time.Weekday) string { return c.t("roster.day." + dayNames[wd]) }

// namesOf lists the names of person ids (the id itself for someone unknown).
func (c *call) namesOf(ids []string) (string, error) {
	var names []string
	for _, id := range ids {
		p, err := c.person(id)
		if err != nil {
			return "", err
		}
		switch {
		case p == nil:
			names = append(names, id)
		case p.Deactivated != nil:
			names = append(names, c.t("roster.left_name", "name", p.Name))
		default:
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return c.t("duty.nobody"), nil
	}
	return strings.Join(names, "、"), nil
}

// shiftText is a shift's hours and people.
func (c *call) shiftText(s RosterShift) (string, error) {
	names, err := c.namesOf(s.People)
	if err != nil {
		return "", err
	}
	return c.t("roster.shift", "id", s.ID, "from", clockText(s.From), "to", clockText(s.To), "names", names), nil
}

// rosterWeek shows the weekly pattern with a button per day.
func (c *call) rosterWeek() error {
	r, err := c.roster()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(c.t("roster.week_head"))
	var row []Button
	var rows [][]Button
	for _, wd := range weekOrder {
		var parts []string
		for _, s := range r.Day(wd) {
			text, err := c.shiftText(s)
			if err != nil {
				return err
			}
			parts = append(parts, text)
		}
		line := c.t("roster.none")
		if len(parts) > 0 {
			line = strings.Join(parts, c.t("order.sep"))
		}
		b.WriteString("\n" + c.t("roster.day_line", "day", c.dayLabelOf(wd), "shifts", line))
		row = append(row, CommandArgButton(c.dayLabelOf(wd), "duty", dayNames[wd]))
		if len(row) == 4 {
			rows, row = append(rows, row), nil
		}
	}
	rows = append(rows, row)
	if r.Rev > 0 {
		by := r.By
		if p, err := c.person(r.By); err == nil && p != nil {
			by = p.Name
		}
		b.WriteString("\n" + c.t("roster.edited", "by", by, "time", c.localTime(r.Updated)))
	} else if r.Source == RosterFromConfig {
		b.WriteString("\n" + c.t("roster.from_config"))
	}
	c.reply(b.String(), rows...)
	return nil
}

// rosterDay shows one weekday's shifts with their edit buttons.
func (c *call) rosterDay(wd time.Weekday) error {
	r, err := c.roster()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(c.t("roster.day_head", "day", c.dayLabelOf(wd)))
	var rows [][]Button
	shifts := r.Day(wd)
	if len(shifts) == 0 {
		b.WriteString("\n" + c.t("roster.none"))
	}
	for _, s := range shifts {
		text, err := c.shiftText(s)
		if err != nil {
			return err
		}
		b.WriteString("\n" + text)
		rows = append(rows, []Button{CommandArgButton(c.t("btn.shift_edit", "id", s.ID, "from", clockText(s.From), "to", clockText(s.To)), "duty", "s"+strconv.Itoa(s.ID))})
	}
	rows = append(rows, []Button{{Text: c.t("btn.shift_add"), Data: EncodePayload(vbRosterAdd, dayNames[wd])}},
		[]Button{CommandArgButton(c.t("btn.roster_week"), "duty", "week")})
	c.reply(b.String(), rows...)
	return nil
}

// rosterShift shows one shift with a button per team member to put them
// on or off it (any channel: the person id), and to change its hours or
// delete it.
func (c *call) rosterShift(id int) error {
	r, err := c.roster()
	if err != nil {
		return err
	}
	s := r.Shift(id)
	if s == nil {
		return Errorf(CodeNotFound, "roster.err_no_shift", "id", id)
	}
	text, err := c.shiftText(*s)
	if err != nil {
		return err
	}
	var rows [][]Button
	for _, role := range []Role{RoleTechnician, RoleLead} {
		ps, err := c.tx.PeopleByRole(role)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if !p.Active() {
				continue
			}
			b := Button{Text: c.t("btn.shift_on", "name", p.Name), Data: EncodePayload(vbRosterPerson, strconv.Itoa(id), p.ID, "on")}
			if contains(s.People, p.ID) {
				b = Button{Text: c.t("btn.shift_off", "name", p.Name), Data: EncodePayload(vbRosterPerson, strconv.Itoa(id), p.ID, "off")}
			}
			rows = append(rows, fitting([]Button{b})...)
		}
	}
	rows = append(rows, []Button{
		{Text: c.t("btn.shift_hours"), Data: EncodePayload(vbRosterHours, strconv.Itoa(id))},
		{Text: c.t("btn.shift_delete"), Data: EncodePayload(vbRosterDelete, strconv.Itoa(id))},
	}, []Button{CommandArgButton(c.t("btn.roster_day", "day", c.dayLabelOf(s.Day)), "duty", dayNames[s.Day])})
	c.reply(c.t("roster.shift_head", "day", c.dayLabelOf(s.Day))+"\n"+text, rows...)
	return nil
}

// rosterEdit applies change to the stored pattern (the seed when none
// is stored yet) and stores it with who and when.
func (c *call) rosterEdit(change func(r *Roster) error) (*Roster, error) {
	r, err := c.roster()
	if err != nil {
		return nil, err
	}
	if err := change(r); err != nil {
		return nil, err
	}
	r.Rev++
	r.Updated, r.By = c.now, c.me.ID
	return r, c.tx.PutRoster(r)
}

// shiftArg reads the shift id of a roster button.
func shiftArg(s string) (int, error) {
	id, err := strconv.Atoi(s)
	if err != nil || id < 1 {
		return 0, Errorf(CodeInvalid, "err.bad_button")
	}
	return id, nil
}

// rosterPerson puts a person on or off a shift ("rsp|<shift>|<person>|on|off").
func (c *call) rosterPerson(args []string) error {
	if len(args) != 3 || (args[2] != "on" && args[2] != "off") {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	id, err := shiftArg(args[0])
	if err != nil {
		return err
	}
	p, err := c.person(args[1])
	if err != nil {
		return err
	}
	if !p.Active() || !p.Role.IsStaff() {
		return Errorf(CodeInvalid, "reassign.bad_target")
	}
	on := args[2] == "on"
	var changed *RosterShift
	if _, err := c.rosterEdit(func(r *Roster) error {
		s := r.Shift(id)
		if s == nil {
			return Errorf(CodeNotFound, "roster.err_no_shift", "id", id)
		}
		if contains(s.People, p.ID) == on {
			return Errorf(CodeConflict, "roster.err_already", "name", p.Name)
		}
		if on {
			s.People = append(s.People, p.ID)
		} else {
			var keep []string
			for _, x := range s.People {
				if x != p.ID {
					keep = append(keep, x)
				}
			}
			s.People = keep
		}
		changed = s
		return nil
	}); err != nil {
		return err
	}
	action := PevDutyRemoved
	if on {
		action = PevDutyAdded
	}
	if err := c.tx.AppendPersonEvent(PersonEvent{PersonID: p.ID, At: c.now, Actor: c.me.ID, Action: action, Ref: "shift:" + strconv.Itoa(id),
		Note: dayNames[changed.Day] + " " + clockText(changed.From) + "-" + clockText(changed.To)}); err != nil {
		return err
	}
	c.toast = c.t("ok")
	return c.rosterShift(id)
}

// rosterDelete removes a shift ("rsd|<shift>").
func (c *call) rosterDelete(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	id, err := shiftArg(args[0])
	if err != nil {
		return err
	}
	var gone RosterShift
	if _, err := c.rosterEdit(func(r *Roster) error {
		for i, s := range r.Shifts {
			if s.ID == id {
				gone = s
				r.Shifts = append(r.Shifts[:i:i], r.Shifts[i+1:]...)
				return nil
			}
		}
		return Errorf(CodeNotFound, "roster.err_no_shift", "id", id)
	}); err != nil {
		return err
	}
	for _, pid := range gone.People {
		if err := c.tx.AppendPersonEvent(PersonEvent{PersonID: pid, At: c.now, Actor: c.me.ID, Action: PevDutyRemoved, Ref: "shift:" + strconv.Itoa(id),
			Note: dayNames[gone.Day] + " " + clockText(gone.From) + "-" + clockText(gone.To)}); err != nil {
			return err
		}
	}
	c.toast = c.t("ok")
	return c.rosterDay(gone.Day)
}

// rosterAsk asks for a shift's hours: a new shift on a day
// ("rsa|<day>"), or new hours of a shift ("rse|<shift>").
func (c *call) rosterAsk(args []string, edit bool) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgShift, Step: stepShiftHours, Started: c.now}
	if edit {
		id, err := shiftArg(args[0])
		if err != nil {
			return err
		}
		r, err := c.roster()
		if err != nil {
			return err
		}
		if r.Shift(id) == nil {
			return Errorf(CodeNotFound, "roster.err_no_shift", "id", id)
		}
		d.ShiftID = id
	} else {
		if _, ok := c.weekdayNamed(args[0]); !ok {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		d.Weekday = args[0]
	}
	c.bump(d)
	c.toast = c.t("ok")
	c.reply(c.t("roster.ask_hours"))
	return c.tx.PutDialogue(d)
}

// parseHours reads "08:00-20:00" (also "8:00—20:00", full-width colons)
// into minutes after midnight.
func parseHours(s string) (from, to int, ok bool) {
	s = strings.NewReplacer("：", ":", "—", "-", "–", "-", "－", "-", "~", "-", "～", "-", " ", "").Replace(strings.TrimSpace(s))
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	clock := func(x string) (int, bool) {
		h, m, ok := strings.Cut(x, ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
			return 0, false
		}
		return (hh*60 + mm) % (24 * 60), true
	}
	from, ok1 := clock(a)
	to, ok2 := clock(b)
	return from, to, ok1 && ok2
}

// shiftInput takes the hours of a new or changed shift.
func (c *call) shiftInput(d *Dialogue) error {
	text, err := c.textField(maxShiftText)
	if err != nil {
		return err
	}
	id, err := c.setShiftHours(d.ShiftID, d.Weekday, text)
	if err != nil {
		return err
	}
	if err := c.tx.DeleteDialogue(d.PersonID); err != nil {
		return err
	}
	return c.rosterShift(id)
}

// maxShiftText bounds a shift's typed hours.
const maxShiftText = 20

// setShiftHours gives shift id its hours, or (id 0) adds a shift on the
// named weekday with them, and returns the shift's id: the chat's typed
// answer and the console's form both end here.
func (c *call) setShiftHours(shiftID int, weekday, text string) (int, error) {
	from, to, ok := parseHours(text)
	if !ok {
		return 0, Errorf(CodeInvalid, "roster.err_hours", "text", text)
	}
	var id int
	var people []string
	var before string
	if _, err := c.rosterEdit(func(r *Roster) error {
		if shiftID != 0 {
			s := r.Shift(shiftID)
			if s == nil {
				return Errorf(CodeNotFound, "roster.err_no_shift", "id", shiftID)
			}
			before = clockText(s.From) + "-" + clockText(s.To)
			s.From, s.To = from, to
			id, people = s.ID, s.People
			return nil
		}
		wd, ok := c.weekdayNamed(weekday)
		if !ok {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		r.NextID++
		r.Shifts = append(r.Shifts, RosterShift{ID: r.NextID, Day: wd, From: from, To: to})
		id = r.NextID
		return nil
	}); err != nil {
		return 0, err
	}
	// Everyone on a shift whose hours changed has it in their record.
	r, err := c.roster()
	if err != nil {
		return 0, err
	}
	s := r.Shift(id)
	for _, pid := range people {
		if err := c.tx.AppendPersonEvent(PersonEvent{PersonID: pid, At: c.now, Actor: c.me.ID, Action: PevDutyHours, Ref: "shift:" + strconv.Itoa(id),
			From: before, To: clockText(s.From) + "-" + clockText(s.To), Note: dayNames[s.Day]}); err != nil {
			return 0, err
		}
	}
	return id, nil
}
