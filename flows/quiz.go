package flows

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Acknowledgements: everyone who executes the SOP confirms each new
// version ("read and understood"), after a short quiz when configured,
// and is reminded every day until they do.

// quiz is up to three questions from the definition: the door rule, the
// minimum tests, and a price that changed in this version.
type quizQ struct {
	key     string
	kv      []any
	options []int
	right   int
}

func (c *call) quiz(v *SOPVersion) []quizQ {
	if !c.e.o.Governance.Quiz || v == nil || v.SOP == nil {
		return nil
	}
	s := v.SOP
	opts := func(right int) []int {
		out := []int{right + 2, right}
		if right > 1 {
			out = append(out, right-1)
		}
		sort.Ints(out)
		return out
	}
	qs := []quizQ{
		{key: "quiz.rings", options: opts(s.MaxRings), right: s.MaxRings},
		{key: "quiz.tests", options: opts(s.MinTests), right: s.MinTests},
	}
	for _, ch := range v.Changes {
		if ch.Kind != "price_changed" {
			continue
		}
		code := strings.Fields(ch.What)[0]
		if p, ok := s.price(code); ok {
			yuan := int(p.Cents / 100)
			qs = append(qs, quizQ{key: "quiz.price", kv: []any{"name", ch.What}, options: opts(yuan), right: yuan})
		}
		break
	}
	return qs
}

// askQuiz sends question i of version v. Each button carries the answers
// given so far, which quizAnswer checks again: a forged payload cannot
// skip ahead without knowing every right answer, i.e. without passing.
func (c *call) askQuiz(v *SOPVersion, i int, prev []string) {
	q := c.quiz(v)[i]
	var row []Button
	for _, o := range q.options {
		label := strconv.Itoa(o)
		row = append(row, Button{Text: label, Data: EncodePayload(vbQuiz, strconv.Itoa(v.Number), strconv.Itoa(i), strings.Join(prev, "."), label)})
	}
	c.reply(c.t("quiz.head", "i", i+1, "n", len(c.quiz(v)))+"\n"+c.t(q.key, q.kv...), row)
}

// ackTarget re-checks an "ack" or "qz" tap: the version on the button
// still current, not acknowledged yet.
func (c *call) ackTarget(args []string, n int) (*SOPVersion, error) {
	if len(args) != n {
		return nil, Errorf(CodeInvalid, "err.bad_button")
	}
	v, err := c.currentVersion()
	if err != nil {
		return nil, err
	}
	if v == nil || strconv.Itoa(v.Number) != args[0] {
		return nil, Errorf(CodeConflict, "sop.ack_replaced")
	}
	done, err := c.acked(v.Number)
	if err != nil {
		return nil, err
	}
	if done {
		return nil, Errorf(CodeConflict, "sop.ack_already", "n", v.Number)
	}
	return v, nil
}

// ack handles "read and understood".
func (c *call) ack(args []string) error {
	v, err := c.ackTarget(args, 1)
	if err != nil {
		return err
	}
	if len(c.quiz(v)) > 0 {
		c.toast = c.t("ok")
		c.askQuiz(v, 0, nil)
		return nil
	}
	return c.recordAck(v, 0)
}

func (c *call) acked(n int) (bool, error) {
	acks, err := c.tx.Acks(n)
	if err != nil {
		return false, err
	}
	for _, a := range acks {
		if a.PersonID == c.me.ID {
			return true, nil
		}
	}
	return false, nil
}

func (c *call) recordAck(v *SOPVersion, quiz int) error {
	if err := c.tx.PutAck(Ack{Version: v.Number, PersonID: c.me.ID, At: c.now, Quiz: quiz}); err != nil {
		return err
	}
	c.toast = c.t("sop.ack_done", "n", v.Number)
	c.reply(c.t("sop.ack_done", "n", v.Number))
	return nil
}

// quizAnswer handles "qz|version|question|answers so far|choice".
func (c *call) quizAnswer(args []string) error {
	v, err := c.ackTarget(args, 4)
	if err != nil {
		return err
	}
	qs := c.quiz(v)
	i, err1 := strconv.Atoi(args[1])
	choice, err2 := strconv.Atoi(args[3])
	if err1 != nil || err2 != nil || i < 0 || i >= len(qs) {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	var prev []string
	if args[2] != "" {
		prev = strings.Split(args[2], ".")
	}
	if len(prev) != i {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	for k, a := range prev {
		if a != strconv.Itoa(qs[k].right) {
			return Errorf(CodeInvalid, "err.bad_button")
		}
	}
	if choice != qs[i].right {
		return Errorf(CodeInvalid, "quiz.wrong")
	}
	if i+1 < len(qs) {
		c.toast = c.t("quiz.right")
		c.askQuiz(v, i+1, append(prev, args[3]))
		return nil
	}
	return c.recordAck(v, len(qs))
}

// ackRemind chases those who have not acknowledged the current version.
func (c *call) ackRemind(n int) error {
	v, err := c.currentVersion()
	if err != nil || v == nil || v.Number != n {
		return err // a newer version has its own reminder
	}
	missing, err := c.missingAcks(v.Number)
	if err != nil || len(missing) == 0 {
		return err
	}
	var names []string
	for _, p := range missing {
		names = append(names, p.Name)
		m := c.versionNotice(*v, p.Lang, p.Chat)
		m.Text = c.tl(p.Lang, "sop.ack_reminder") + "\n" + m.Text
		m.Priority = PrioReminder
		c.send(m)
	}
	if err := c.toLeads("sop.ack_missing", "n", v.Number, "names", strings.Join(names, "、")); err != nil {
		return err
	}
	return c.tx.PutTimer(Timer{Key: tmAckRemind + ":" + strconv.Itoa(n), Due: c.now.Add(24 * time.Hour), Kind: tmAckRemind, Version: n})
}

func (c *call) missingAcks(n int) ([]*Person, error) {
	acks, err := c.tx.Acks(n)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, a := range acks {
		done[a.PersonID] = true
	}
	staff, err := c.staff()
	if err != nil {
		return nil, err
	}
	var out []*Person
	for _, p := range staff {
		if !done[p.ID] {
			out = append(out, p)
		}
	}
	return out, nil
}
