package flows

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Training in chat (/training): a lead schedules a session (topic, time,
// length, place, trainer, what it covers, who is invited) in a dialogue;
// the invitees answer going / not going by buttons; reminders go out a
// day and an hour before (stored timers); from its start the trainer or a
// lead records attendance and pass / fail by buttons. Everyone sees their
// own due and past training and hours; a lead sees who is behind. A new
// SOP version is a training need for everyone who executes the SOP
// (QualRules.TrainingNeeds: the acknowledgement and quiz are self-study,
// and the configuration says whether a session is also needed).

// Steps of the scheduling dialogue. They are stored: never change one.
const (
	stepTrTopic    = "training_topic"
	stepTrStart    = "training_start"
	stepTrLength   = "training_length"
	stepTrPlace    = "training_place"
	stepTrTrainer  = "training_trainer"
	stepTrCovers   = "training_covers"
	stepTrInvite   = "training_invite"
	stepTrConfirm  = "training_confirm"
	trainerMe      = "me"
	trainDone      = "done"
	trainSchedule  = "save"
	trainDrop      = "drop"
	inviteBehind   = "g:behind"
	inviteTechs    = "g:techs"
	inviteEveryone = "g:all"
)

// Attendance button values (tat|<session>|<person>|<value>).
const (
	attPresent = "p"
	attAbsent  = "a"
	attPass    = "pass"
	attFail    = "fail"
)

// sessionLengths are the length buttons, in minutes.
var sessionLengths = []int{60, 90, 120, 240, 480}

// Reminders before a session.
var sessionReminders = []struct {
	name   string
	before time.Duration
}{{"24h", 24 * time.Hour}, {"1h", time.Hour}}

// cmdTraining shows the sender's training (due, upcoming, past, hours),
// and to a lead who is behind; /training <session id> shows a session.
func (c *call) cmdTraining(arg string) error {
	if id := strings.TrimSpace(arg); id != "" {
		return c.sessionCard(strings.ToUpper(id))
	}
	text, rows, err := c.myTraining(c.me)
	if err != nil {
		return err
	}
	if c.me.Role.IsLead() {
		behind, err := c.behindText()
		if err != nil {
			return err
		}
		text += "\n\n" + behind
		rows = append(rows, []Button{CommandArgButton(c.t("btn.training_new"), "training", "new")})
	}
	c.reply(text, rows...)
	return nil
}

// trainingInput gathers what TrainingNeeds reads about p.
func (c *call) trainingInput(p *Person) (TrainingInput, error) {
	var in TrainingInput
	v, err := c.currentVersion()
	if err != nil {
		return in, err
	}
	in.SOP = v
	if v != nil {
		acks, err := c.tx.Acks(v.Number)
		if err != nil {
			return in, err
		}
		for i := range acks {
			if acks[i].PersonID == p.ID {
				in.Ack = &acks[i]
			}
		}
	}
	if in.Sessions, err = c.tx.SessionsByPerson(p.ID); err != nil {
		return in, err
	}
	in.Certs, err = c.tx.CertsByPerson(p.ID)
	return in, err
}

// needText renders one training need with what is done of it.
func (c *call) needText(n TrainingNeed, l Lang) string {
	mark := "⏳"
	if n.Met {
		mark = "✅"
	}
	var parts []string
	if n.SelfStudy {
		parts = append(parts, c.tl(l, "training.self_study", "mark", doneMark(n.SelfStudyDone)))
	}
	if n.Session && n.Kind == NeedSOP {
		parts = append(parts, c.tl(l, "training.session_part", "mark", doneMark(n.SessionDone)))
	}
	s := mark + " " + n.Text.Text(c.e.o.Texts, l)
	if len(parts) > 0 {
		s += "（" + strings.Join(parts, c.tl(l, "order.sep")) + "）"
	}
	return s
}

func doneMark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

// myTraining is p's training page: needs, upcoming invitations with their
// answer buttons, attended sessions and this year's hours.
func (c *call) myTraining(p *Person) (string, [][]Button, error) {
	in, err := c.trainingInput(p)
	if err != nil {
		return "", nil, err
	}
	needs := c.e.quals().TrainingNeeds(p, in, c.now, c.e.o.Location)
	var b strings.Builder
	b.WriteString(c.t("training.head", "name", p.Name))
	if len(needs) == 0 {
		b.WriteString("\n" + c.t("training.no_needs"))
	}
	for _, n := range needs {
		b.WriteString("\n" + c.needText(n, c.lang))
	}
	var rows [][]Button
	var upcoming, past []string
	for _, s := range in.Sessions {
		switch {
		case s.Status == SessionScheduled && c.now.Before(s.End()):
			line := c.sessionLine(s)
			answer := ""
			if inv := s.Invitee(p.ID); inv != nil {
				answer = c.t("training.answer." + strings.ReplaceAll(answerOrNone(inv.Answer), "_", ""))
				if c.now.Before(s.Start) {
					rows = append(rows, fitting(c.answerButtons(s, c.lang))...)
				}
			}
			upcoming = append(upcoming, line+" — "+answer)
		case s.Status == SessionDone:
			if a := s.Attended(p.ID); a != nil {
				past = append(past, c.t("training.past_line", "session", c.sessionLine(s), "result", c.attendText(a, c.lang),
					"hours", hours(s.creditFor(p.ID))))
			}
		}
	}
	if len(upcoming) > 0 {
		b.WriteString("\n" + c.t("training.upcoming") + "\n" + strings.Join(upcoming, "\n"))
	}
	if len(past) > 0 {
		b.WriteString("\n" + c.t("training.past") + "\n" + strings.Join(past, "\n"))
	}
	year := time.Date(c.now.In(c.e.o.Location).Year(), 1, 1, 0, 0, 0, 0, c.e.o.Location)
	b.WriteString("\n" + c.t("staff.training_hours", "hours", hours(TrainingMinutes(in.Sessions, p.ID, year, time.Time{}))))
	return b.String(), rows, nil
}

func answerOrNone(a string) string {
	if a == "" {
		return "none"
	}
	return a
}

// attendText renders an attendance record.
func (c *call) attendText(a *Attendance, l Lang) string {
	switch {
	case !a.Present:
		return c.tl(l, "training.absent")
	case a.Result == ResultPass:
		return c.tl(l, "training.passed")
	case a.Result == ResultFail:
		return c.tl(l, "training.failed")
	}
	return c.tl(l, "training.present")
}

// sessionLine is a session's one-line summary.
func (c *call) sessionLine(s *Session) string {
	return c.t("training.session_line", "id", s.ID, "time", c.localTime(s.Start), "topic", s.Topic, "place", s.Place, "trainer", s.TrainerName,
		"hours", hours(s.Minutes))
}

// behindText lists the people who execute the SOP and owe training.
func (c *call) behindText() (string, error) {
	people, err := c.staff()
	if err != nil {
		return "", err
	}
	q := c.e.quals()
	var lines []string
	for _, p := range people {
		in, err := c.trainingInput(p)
		if err != nil {
			return "", err
		}
		var owed []string
		for _, n := range q.TrainingNeeds(p, in, c.now, c.e.o.Location) {
			if !n.Met {
				owed = append(owed, n.Text.Text(c.e.o.Texts, c.lang))
			}
		}
		if len(owed) > 0 {
			lines = append(lines, c.t("training.behind_line", "name", p.Name, "needs", strings.Join(owed, c.t("order.sep"))))
		}
	}
	if len(lines) == 0 {
		return c.t("training.behind_none"), nil
	}
	return c.t("training.behind_head", "n", len(lines)) + "\n" + strings.Join(lines, "\n"), nil
}

// answerButtons are an invitation's going / not going buttons.
func (c *call) answerButtons(s *Session, l Lang) []Button {
	return []Button{
		{Text: c.tl(l, "btn.training_going", "id", s.ID), Data: EncodePayload(vbTrainAnswer, s.ID, "y")},
		{Text: c.tl(l, "btn.training_not_going", "id", s.ID), Data: EncodePayload(vbTrainAnswer, s.ID, "n")},
	}
}

// sessionCard shows a session: details, invitees and their answers, and
// for its trainer or a lead the attendance buttons once it has started
// (and, for a lead, cancelling it before).
func (c *call) sessionCard(id string) error {
	s, err := c.tx.Session(id)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "quals.err_no_session", "id", id)
	}
	if err != nil {
		return err
	}
	manager := c.me.Role.IsLead() || (s.TrainerID != "" && s.TrainerID == c.me.ID)
	if !manager && s.Invitee(c.me.ID) == nil && s.Attended(c.me.ID) == nil {
		return Errorf(CodeForbidden, "training.err_not_yours", "id", id)
	}
	var b strings.Builder
	b.WriteString(c.sessionLine(s))
	b.WriteString("\n" + c.t("training.status."+s.Status))
	if len(s.Covers) > 0 {
		b.WriteString("\n" + c.t("training.covers", "list", c.coversText(s.Covers)))
	}
	var rows [][]Button
	for _, pid := range s.People() {
		p, err := c.person(pid)
		if err != nil {
			return err
		}
		name := pid
		if p != nil {
			name = p.Name
		}
		state := ""
		if inv := s.Invitee(pid); inv != nil {
			state = c.t("training.answer." + strings.ReplaceAll(answerOrNone(inv.Answer), "_", ""))
		}
		if a := s.Attended(pid); a != nil {
			state += " · " + c.attendText(a, c.lang)
		}
		b.WriteString("\n" + c.t("training.invitee_line", "name", name, "state", state))
		if manager && !c.now.Before(s.Start) && s.Status != SessionCancelled {
			rows = append(rows, fitting([]Button{
				{Text: c.t("btn.att_present", "name", name), Data: EncodePayload(vbTrainAttend, s.ID, pid, attPresent)},
				{Text: c.t("btn.att_absent"), Data: EncodePayload(vbTrainAttend, s.ID, pid, attAbsent)},
				{Text: c.t("btn.att_pass"), Data: EncodePayload(vbTrainAttend, s.ID, pid, attPass)},
				{Text: c.t("btn.att_fail"), Data: EncodePayload(vbTrainAttend, s.ID, pid, attFail)},
			})...)
		}
	}
	if c.me.Role.IsLead() && s.Status == SessionScheduled && c.now.Before(s.Start) {
		rows = append(rows, fitting([]Button{{Text: c.t("btn.training_cancel"), Data: EncodePayload(vbTrainCancel, s.ID)}})...)
	}
	if inv := s.Invitee(c.me.ID); inv != nil && s.Status == SessionScheduled && c.now.Before(s.Start) {
		rows = append(rows, fitting(c.answerButtons(s, c.lang))...)
	}
	c.reply(b.String(), rows...)
	return nil
}

// coversText lists what a session covers.
func (c *call) coversText(cs []Cover) string {
	q := c.e.quals()
	var parts []string
	for _, cv := range cs {
		switch cv.Kind {
		case CoverSOP:
			parts = append(parts, c.t("training.cover_sop", "n", cv.Key))
		case CoverCert:
			parts = append(parts, q.CertLabel(cv.Key).In(c.lang))
		default:
			parts = append(parts, q.SkillLabel(cv.Key).In(c.lang))
		}
	}
	return strings.Join(parts, c.t("order.sep"))
}

// trainingNew starts the scheduling dialogue (/training new).
func (c *call) trainingNew() error {
	d := &Dialogue{PersonID: c.me.ID, Kind: dlgSession, Step: stepTrTopic, Started: c.now, SessionDraft: &Session{}}
	return c.sessionPrompt(d)
}

// sessionPrompt asks for the draft's next part.
func (c *call) sessionPrompt(d *Dialogue) error {
	c.bump(d)
	if err := c.tx.PutDialogue(d); err != nil {
		return err
	}
	s := d.SessionDraft
	switch d.Step {
	case stepTrTopic:
		c.reply(c.t("training.ask_topic"))
	case stepTrStart:
		c.reply(c.t("training.ask_start"))
	case stepTrLength:
		var row []Button
		for _, m := range sessionLengths {
			row = append(row, DialogueButton(c.t("training.hours", "hours", hours(m)), d.Seq, strconv.Itoa(m)))
		}
		c.reply(c.t("training.ask_length"), row)
	case stepTrPlace:
		c.reply(c.t("training.ask_place"))
	case stepTrTrainer:
		c.reply(c.t("training.ask_trainer"), []Button{DialogueButton(c.t("btn.training_me", "name", c.me.Name), d.Seq, trainerMe)})
	case stepTrCovers:
		var rows [][]Button
		for _, cv := range c.coverChoices() {
			text := c.coversText([]Cover{cv})
			if hasCover(s.Covers, cv) {
				text = "✓ " + text
			}
			rows = append(rows, []Button{DialogueButton(text, d.Seq, cv.Kind+":"+cv.Key)})
		}
		rows = append(rows, []Button{DialogueButton(c.t("btn.training_next"), d.Seq, trainDone)})
		c.reply(c.t("training.ask_covers"), rows...)
	case stepTrInvite:
		rows := [][]Button{
			{DialogueButton(c.t("btn.invite_behind"), d.Seq, inviteBehind)},
			{DialogueButton(c.t("btn.invite_techs"), d.Seq, inviteTechs), DialogueButton(c.t("btn.invite_all"), d.Seq, inviteEveryone)},
		}
		people, err := c.staff()
		if err != nil {
			return err
		}
		for _, p := range people {
			text := p.Name
			if s.Invitee(p.ID) != nil {
				text = "✓ " + text
			}
			rows = append(rows, fitting([]Button{DialogueButton(text, d.Seq, "p:"+p.ID)})...)
		}
		rows = append(rows, []Button{DialogueButton(c.t("btn.training_next"), d.Seq, trainDone)})
		c.reply(c.t("training.ask_invite", "n", len(s.Invitees)), rows...)
	case stepTrConfirm:
		preview := *s
		if err := c.e.quals().CheckSession(&preview, c.now); err != nil {
			return err
		}
		var names []string
		for _, inv := range s.Invitees {
			if p, err := c.person(inv.PersonID); err == nil && p != nil {
				names = append(names, p.Name)
			}
		}
		c.reply(c.t("training.confirm", "session", strings.TrimSpace(c.sessionLine(&preview)), "covers", dash(c.coversText(s.Covers)),
			"invitees", strings.Join(names, c.t("order.sep"))),
			[]Button{DialogueButton(c.t("btn.training_schedule"), d.Seq, trainSchedule), DialogueButton(c.t("btn.cert_cancel"), d.Seq, trainDrop)})
	}
	return nil
}

// coverChoices are what a session can cover: the SOP version in force,
// each certificate type, each skill.
func (c *call) coverChoices() []Cover {
	var out []Cover
	if n := c.e.sopNum.Load(); n > 0 {
		out = append(out, Cover{Kind: CoverSOP, Key: strconv.FormatInt(n, 10)})
	}
	q := c.e.quals()
	for _, ct := range q.CertTypes {
		out = append(out, Cover{Kind: CoverCert, Key: ct.Key})
	}
	for _, s := range q.Skills {
		out = append(out, Cover{Kind: CoverSkill, Key: s.Key})
	}
	return out
}

func hasCover(cs []Cover, cv Cover) bool {
	for _, x := range cs {
		if x == cv {
			return true
		}
	}
	return false
}

// parseSessionTime reads a session's start typed by a lead: "2026-12-03
// 14:00", "12-03 14:00", "12/3 14:00" (this year, or the next when the
// date has passed). It must be after now and within a year.
func parseSessionTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(strings.NewReplacer("：", ":", "／", "/", "－", "-", "  ", " ").Replace(s))
	local := now.In(loc)
	for _, layout := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-1-2 15:04", "2006/1/2 15:04"} {
		if at, err := time.ParseInLocation(layout, s, loc); err == nil {
			return at, nil
		}
	}
	for _, layout := range []string{"01-02 15:04", "1-2 15:04", "01/02 15:04", "1/2 15:04"} {
		at, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		at = time.Date(local.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), 0, 0, loc)
		if at.Before(local.Add(-24 * time.Hour)) {
			at = at.AddDate(1, 0, 0)
		}
		return at, nil
	}
	return time.Time{}, errors.New("unrecognised time")
}

// sessionInput takes a typed part of the draft.
func (c *call) sessionInput(d *Dialogue) error {
	if d.SessionDraft == nil {
		return c.tx.DeleteDialogue(d.PersonID)
	}
	max, ok := sessionTextMax[d.Step]
	if !ok {
		return Errorf(CodeInvalid, "err.use_buttons")
	}
	text, err := c.textField(max)
	if err != nil {
		return err
	}
	if err := c.sessionTyped(d, text); err != nil {
		return err
	}
	return c.sessionPrompt(d)
}

// sessionTextMax are the steps of a draft that take typed text, with the
// longest answer each takes.
var sessionTextMax = map[string]int{stepTrTopic: maxTopic, stepTrStart: 40, stepTrLength: 10, stepTrPlace: maxPlace, stepTrTrainer: maxPlace}

// sessionTyped takes the answer to the draft's current typed step and
// moves it to the next: the chat's typed answers and the console's form
// fields, checked alike.
func (c *call) sessionTyped(d *Dialogue, text string) error {
	s := d.SessionDraft
	switch d.Step {
	case stepTrTopic:
		s.Topic, d.Step = text, stepTrStart
	case stepTrStart:
		at, err := parseSessionTime(text, c.now, c.e.o.Location)
		if err != nil {
			return Errorf(CodeInvalid, "training.err_time", "text", text)
		}
		switch {
		case !at.After(c.now):
			return Errorf(CodeInvalid, "quals.err_session_past")
		case at.After(c.now.AddDate(1, 0, 0)):
			return Errorf(CodeInvalid, "training.err_far")
		}
		s.Start, d.Step = at.UTC(), stepTrLength
	case stepTrLength:
		n, err := strconv.Atoi(text)
		if err != nil || n < 15 || n > maxSessionMins {
			return Errorf(CodeInvalid, "quals.err_session_length", "max", maxSessionMins/60)
		}
		s.Minutes, d.Step = n, stepTrPlace
	case stepTrPlace:
		s.Place, d.Step = text, stepTrTrainer
	case stepTrTrainer:
		s.TrainerID, s.TrainerName = "", text
		if p, err := c.person(text); err != nil {
			return err
		} else if p.Active() && hasRole(staffAll, p.Role) {
			s.TrainerID, s.TrainerName = p.ID, p.Name // a person id typed: they record attendance too
		}
		d.Step = stepTrCovers
	default:
		return Errorf(CodeInvalid, "err.use_buttons")
	}
	return nil
}

// sessionChoice takes a button of the draft's current step.
func (c *call) sessionChoice(d *Dialogue, v string) error {
	s := d.SessionDraft
	if s == nil {
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	c.toast = c.t("ok")
	switch d.Step {
	case stepTrLength:
		n, err := strconv.Atoi(v)
		if err != nil || n < 15 || n > maxSessionMins {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		s.Minutes, d.Step = n, stepTrPlace
	case stepTrTrainer:
		if v != trainerMe {
			return Errorf(CodeInvalid, "err.bad_button")
		}
		s.TrainerID, s.TrainerName, d.Step = c.me.ID, c.me.Name, stepTrCovers
	case stepTrCovers:
		if v == trainDone {
			d.Step = stepTrInvite
			break
		}
		kind, key, _ := strings.Cut(v, ":")
		cv := Cover{Kind: kind, Key: key}
		if !hasCover(c.coverChoices(), cv) {
			return Errorf(CodeInvalid, "quals.err_cover", "what", v)
		}
		if hasCover(s.Covers, cv) {
			var keep []Cover
			for _, x := range s.Covers {
				if x != cv {
					keep = append(keep, x)
				}
			}
			s.Covers = keep
		} else {
			s.Covers = append(s.Covers, cv)
		}
	case stepTrInvite:
		if v == trainDone {
			if len(s.Invitees) == 0 {
				return Errorf(CodeInvalid, "training.err_no_invitees")
			}
			d.Step = stepTrConfirm
			break
		}
		if err := c.inviteChoice(s, v); err != nil {
			return err
		}
	case stepTrConfirm:
		switch v {
		case trainSchedule:
			return c.sessionSchedule(d)
		case trainDrop:
			c.reply(c.t("cancel.done"))
			return c.tx.DeleteDialogue(d.PersonID)
		}
		return Errorf(CodeInvalid, "err.bad_button")
	default:
		return Errorf(CodeConflict, "err.stale_prompt")
	}
	return c.sessionPrompt(d)
}

// inviteChoice adds a group, or toggles one person, in the draft's invitees.
func (c *call) inviteChoice(s *Session, v string) error {
	people, err := c.staff()
	if err != nil {
		return err
	}
	add := func(id string) {
		if s.Invitee(id) == nil {
			s.Invitees = append(s.Invitees, Invitee{PersonID: id})
		}
	}
	if id, ok := strings.CutPrefix(v, "p:"); ok {
		for _, p := range people {
			if p.ID != id {
				continue
			}
			if s.Invitee(id) != nil {
				var keep []Invitee
				for _, inv := range s.Invitees {
					if inv.PersonID != id {
						keep = append(keep, inv)
					}
				}
				s.Invitees = keep
			} else {
				add(id)
			}
			return nil
		}
		return Errorf(CodeNotFound, "quals.err_no_person", "who", id)
	}
	q := c.e.quals()
	for _, p := range people {
		switch v {
		case inviteEveryone:
			add(p.ID)
		case inviteTechs:
			if p.Role == RoleTechnician {
				add(p.ID)
			}
		case inviteBehind:
			in, err := c.trainingInput(p)
			if err != nil {
				return err
			}
			for _, n := range q.TrainingNeeds(p, in, c.now, c.e.o.Location) {
				if !n.Met && c.sessionMeets(s, n) {
					add(p.ID)
				}
			}
		default:
			return Errorf(CodeInvalid, "err.bad_button")
		}
	}
	return nil
}

// sessionMeets reports whether the draft covers what need n asks for.
func (c *call) sessionMeets(s *Session, n TrainingNeed) bool {
	switch n.Kind {
	case NeedSOP:
		return n.Session && s.covers(CoverSOP, n.Key)
	case NeedRefresher:
		return s.covers(CoverCert, n.Type)
	}
	return false
}

// sessionSchedule stores the session, invites everyone (each with their
// answer buttons) and sets its reminders and its attendance call.
func (c *call) sessionSchedule(d *Dialogue) error {
	if err := c.scheduleSession(*d.SessionDraft); err != nil {
		return err
	}
	return c.tx.DeleteDialogue(d.PersonID)
}

// scheduleSession stores a drafted session, invites everyone and sets
// its timers: the chat's confirmation and the console's form.
func (c *call) scheduleSession(draft Session) error {
	s, err := c.e.quals().ScheduleSession(c.tx, c.me.ID, draft, c.now)
	if err != nil {
		return c.localised(err)
	}
	for _, r := range sessionReminders {
		if due := s.Start.Add(-r.before); due.After(c.now) {
			if err := c.tx.PutTimer(Timer{Key: tmTrainRemind + ":" + s.ID + ":" + r.name, Due: due, Kind: tmTrainRemind, Session: s.ID}); err != nil {
				return err
			}
		}
	}
	if err := c.tx.PutTimer(Timer{Key: tmTrainAttend + ":" + s.ID, Due: s.Start, Kind: tmTrainAttend, Session: s.ID}); err != nil {
		return err
	}
	for _, inv := range s.Invitees {
		p, err := c.person(inv.PersonID)
		if err != nil {
			return err
		}
		if p.Active() && p.ID != c.me.ID {
			c.send(Message{To: p.Chat, Priority: PrioNormal, Text: c.tl(p.Lang, "training.invited", "by", c.me.Name, "session", c.sessionLineIn(s, p.Lang),
				"covers", dash(c.coversTextIn(s.Covers, p.Lang))), Buttons: fitting(c.answerButtons(s, p.Lang))})
		}
	}
	c.reply(c.t("training.scheduled", "id", s.ID, "n", len(s.Invitees)))
	return nil
}

// sessionLineIn is sessionLine in another person's language.
func (c *call) sessionLineIn(s *Session, l Lang) string {
	return c.tl(l, "training.session_line", "id", s.ID, "time", c.localTime(s.Start), "topic", s.Topic, "place", s.Place, "trainer", s.TrainerName,
		"hours", hours(s.Minutes))
}

// coversTextIn is coversText in another person's language.
func (c *call) coversTextIn(cs []Cover, l Lang) string {
	saved := c.lang
	c.lang = l
	defer func() { c.lang = saved }()
	return c.coversText(cs)
}

// trainAnswer records an invitee's going / not going ("tra|<session>|y|n").
func (c *call) trainAnswer(args []string) error {
	if len(args) != 2 || (args[1] != "y" && args[1] != "n") {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	s, err := c.e.quals().AnswerSession(c.tx, c.me.ID, args[0], args[1] == "y", c.now)
	if err != nil {
		return c.localised(err)
	}
	key := "training.answered_going"
	if args[1] == "n" {
		key = "training.answered_not_going"
	}
	c.toast = c.t(key, "id", s.ID)
	c.reply(c.toast)
	return nil
}

// trainAttend records one person's attendance ("tat|<session>|<person>|<value>"):
// the session's trainer or a lead, from its start.
func (c *call) trainAttend(args []string) error {
	if len(args) != 3 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	s, err := c.tx.Session(args[0])
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "quals.err_no_session", "id", args[0])
	}
	if err != nil {
		return err
	}
	if !c.me.Role.IsLead() && (s.TrainerID == "" || s.TrainerID != c.me.ID) {
		return Errorf(CodeForbidden, "training.err_attendance")
	}
	a := Attendance{PersonID: args[1]}
	switch args[2] {
	case attPresent:
		a.Present = true
	case attPass:
		a.Present, a.Result = true, ResultPass
	case attFail:
		a.Present, a.Result = true, ResultFail
	case attAbsent:
	default:
		return Errorf(CodeInvalid, "err.bad_button")
	}
	if _, err := c.e.quals().RecordAttendance(c.tx, c.me.ID, s.ID, a, c.now); err != nil {
		return c.localised(err)
	}
	c.toast = c.t("ok")
	return c.sessionCard(s.ID)
}

// trainCancel cancels a scheduled session ("trx|<session>"); the
// invitees are told and its timers end.
func (c *call) trainCancel(args []string) error {
	if len(args) != 1 {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	s, err := c.e.quals().CancelSession(c.tx, c.me.ID, args[0], "", c.now)
	if err != nil {
		return c.localised(err)
	}
	for _, key := range []string{tmTrainAttend + ":" + s.ID, tmTrainRemind + ":" + s.ID + ":24h", tmTrainRemind + ":" + s.ID + ":1h"} {
		if err := c.tx.DeleteTimer(key); err != nil {
			return err
		}
	}
	for _, inv := range s.Invitees {
		if p, err := c.person(inv.PersonID); err != nil {
			return err
		} else if p.Active() && p.ID != c.me.ID {
			c.tell(p, "training.cancelled", []any{"session", c.sessionLineIn(s, p.Lang)})
		}
	}
	c.toast = c.t("ok")
	c.reply(c.t("training.cancelled_done", "id", s.ID))
	return nil
}

// trainRemind reminds the invitees who did not decline of a session.
func (c *call) trainRemind(id string) error {
	s, err := c.tx.Session(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil || s.Status != SessionScheduled || !c.now.Before(s.Start) {
		return err
	}
	for _, inv := range s.Invitees {
		if inv.Answer == AnswerNotGoing {
			continue
		}
		p, err := c.person(inv.PersonID)
		if err != nil {
			return err
		}
		if !p.Active() {
			continue
		}
		var buttons [][]Button
		if inv.Answer == "" {
			buttons = fitting(c.answerButtons(s, p.Lang))
		}
		c.send(Message{To: p.Chat, Priority: PrioReminder, Text: c.tl(p.Lang, "training.remind", "session", c.sessionLineIn(s, p.Lang)), Buttons: buttons})
	}
	return nil
}

// trainAttendCall asks the trainer (or the lead who scheduled it) to
// record attendance when the session starts.
func (c *call) trainAttendCall(id string) error {
	s, err := c.tx.Session(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil || s.Status == SessionCancelled {
		return err
	}
	who := s.TrainerID
	if p, err := c.person(who); err != nil {
		return err
	} else if !p.Active() {
		who = s.CreatedBy
	}
	p, err := c.person(who)
	if err != nil || !p.Active() {
		return err
	}
	c.send(Message{To: p.Chat, Priority: PrioReminder, Text: c.tl(p.Lang, "training.attend_call", "session", c.sessionLineIn(s, p.Lang)),
		Buttons: [][]Button{{CommandArgButton(c.tl(p.Lang, "btn.training_attendance"), "training", s.ID)}}})
	return nil
}
