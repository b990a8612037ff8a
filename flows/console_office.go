package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The console's doors to customer service's and the management's chat
// actions that take typed input in a dialogue there: the answer to a fee
// question and a price-list line. Authorised by the chat rows their
// console rows name (routes.go); they run the chat's own functions.

// consoleFeeAnswer sends customer service's answer to a fee question
// (chat: the fee_answer button, then the typed answer; answerFee).
func (c *call) consoleFeeAnswer(_ *Ticket, args map[string]string) error {
	id := strings.TrimSpace(args["ticket"])
	if !aTicket(id) {
		return Errorf(CodeInvalid, "web.err.bad_request")
	}
	if err := c.checkArea(verbs[vbFeeAnswer].area, []string{id}); err != nil { // its row's area column
		return err
	}
	text, err := c.consoleReason(args["text"])
	if err != nil {
		if fe := (*Error)(nil); errors.As(err, &fe) && fe.Key == "console.reason_required" {
			return Errorf(CodeInvalid, "console.answer_required")
		}
		return err
	}
	q, err := c.openQuestion(id)
	if err != nil {
		return err
	}
	return c.answerFee(q, text)
}

// priceCode is a price-list code the console accepts: what fits a
// button's payload and reads in a URL.
var priceCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,12}$`)

// consolePriceSet changes one line of the price list in force, or adds
// it, and installs the result as a new SOP version (installSOP, as /sop
// reload does): the change summary lists it, and everyone who executes
// the SOP is asked to acknowledge it. Names left empty keep the line's.
func (c *call) consolePriceSet(_ *Ticket, args map[string]string) error {
	code := strings.TrimSpace(args["code"])
	if !priceCode.MatchString(code) {
		return Errorf(CodeInvalid, "console.price_code")
	}
	cents, ok := ParseYuan(args["price"])
	if !ok {
		return Errorf(CodeInvalid, "console.price_amount")
	}
	cur := c.e.SOP()
	if cur == nil {
		return Errorf(CodeInvalid, "sop.no_file")
	}
	def, err := copySOP(cur)
	if err != nil {
		return err
	}
	i := def.priceIndex(code)
	if i < 0 {
		def.Prices = append(def.Prices, PriceItem{Code: code, Name: map[Lang]string{}, Unit: map[Lang]string{}})
		i = len(def.Prices) - 1
	}
	p := &def.Prices[i]
	if p.Name == nil {
		p.Name = map[Lang]string{}
	}
	if p.Unit == nil {
		p.Unit = map[Lang]string{}
	}
	for _, f := range []struct {
		key string
		to  map[Lang]string
		l   Lang
	}{{"name_zh", p.Name, LangZH}, {"name_en", p.Name, LangEN}, {"unit_zh", p.Unit, LangZH}, {"unit_en", p.Unit, LangEN}} {
		v := cleanText(strings.TrimSpace(args[f.key]), 0)
		if len([]rune(v)) > c.e.o.MaxNameLen {
			return Errorf(CodeInvalid, "console.field_too_long", "field", c.t("web.field."+f.key), "n", len([]rune(v)), "max", c.e.o.MaxNameLen)
		}
		if v != "" {
			f.to[f.l] = v
		}
	}
	if p.Name[LangZH] == "" || p.Name[LangEN] == "" {
		return Errorf(CodeInvalid, "console.price_names")
	}
	p.Cents = cents
	if err := def.Validate(); err != nil {
		return Errorf(CodeInvalid, "console.price_invalid")
	}
	n, changed, err := c.installSOP(def, c.me.ID, SourceConsole)
	if err != nil {
		return err
	}
	if !changed {
		c.reply(c.t("sop.reload_same", "n", n))
		return nil
	}
	c.reply(c.t("console.price_saved", "code", code, "price", Money(cents), "n", n))
	return nil
}

func (s *SOP) priceIndex(code string) int {
	for i, p := range s.Prices {
		if p.Code == code {
			return i
		}
	}
	return -1
}

// copySOP is a deep copy of a definition, to change without touching the
// one in force.
func copySOP(s *SOP) (*SOP, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("copy sop: %w", err)
	}
	var out SOP
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("copy sop: %w", err)
	}
	return &out, nil
}

// Daily is a day's task list with its reconciliation of the repair log
// against the technicians' handovers (handover.go), read in tx for a page
// that shows it: the one archived at the end of that day, or the day so
// far. It writes nothing. day is YYYYMMDD (local).
func (e *Engine) Daily(tx Tx, day string) (list *DailyList, archived bool, err error) {
	if _, err := time.Parse("20060102", day); err != nil {
		return nil, false, Errorf(CodeInvalid, "daily.usage")
	}
	list, err = tx.DailyList(day)
	if err == nil {
		return list, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	c := &call{e: e, tx: tx, now: e.o.Now().UTC(), lang: e.o.DefaultLang, ev: Event{Kind: EvNone}}
	list, _, err = c.buildDaily(day)
	return list, false, err
}

// QualRules are the skills, levels and certificate types in force, for
// a page that names them (a copy: the page cannot change them).
func (e *Engine) QualRules() QualRules { return e.o.Quals }

// CommandAllows reports whether p may run the command ("staff", or a
// subcommand "sop reload") by its rows: the console's read pages open
// for exactly those who may read the same in chat.
func CommandAllows(cmd string, p *Person) error {
	return consoleAction{Cmd: cmd}.allows(p)
}
