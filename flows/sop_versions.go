package flows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SOP versions: a definition that differs from the latest stored one
// becomes a new version with a computed change summary (steps, rules,
// prices); /sop shows the version in force and its history.

// sopHash fingerprints a definition.
func sopHash(s *SOP) string {
	raw, _ := json.Marshal(s)
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:8])
}

// SOPLabel is how tickets and messages name the procedure in force.
func (e *Engine) SOPLabel() string {
	n := e.sopNum.Load()
	if n == 0 {
		return e.SOP().Version
	}
	return fmt.Sprintf("v%d (%s)", n, e.SOP().Version)
}

// InstallSOP makes def the procedure in force. A definition that differs
// from the latest stored one becomes a new version with a computed change
// summary, and everyone who executes the SOP is asked to acknowledge it.
func (e *Engine) InstallSOP(ctx context.Context, def *SOP, author string) (int, bool, error) {
	var n int
	var changed bool
	err := e.o.Store.Update(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, now: e.o.Now().UTC(), lang: e.o.DefaultLang, ev: Event{Kind: EvNone, From: Sender{ID: author}}}
		var err error
		n, changed, err = c.installSOP(def, author)
		if err != nil {
			return err
		}
		return c.flush()
	})
	return n, changed, err
}

func (c *call) installSOP(def *SOP, author string) (int, bool, error) {
	if err := def.Validate(); err != nil {
		return 0, false, err
	}
	versions, err := c.tx.SOPVersions()
	if err != nil {
		return 0, false, err
	}
	hash := sopHash(def)
	if len(versions) > 0 && versions[len(versions)-1].Hash == hash {
		last := versions[len(versions)-1]
		c.e.sop.Store(def)
		c.e.sopNum.Store(int64(last.Number))
		return last.Number, false, nil
	}
	v := SOPVersion{Number: len(versions) + 1, Label: def.Version, Hash: hash, Effective: def.Effective, Author: author, Created: c.now, SOP: def}
	if len(versions) > 0 {
		v.Changes = diffSOP(versions[len(versions)-1].SOP, def)
	}
	if err := c.tx.PutSOPVersion(v); err != nil {
		return 0, false, err
	}
	c.e.sop.Store(def)
	c.e.sopNum.Store(int64(v.Number))
	if v.Number > 1 {
		// Everyone who executes the SOP reads the change and confirms it.
		staff, err := c.staff()
		if err != nil {
			return 0, false, err
		}
		for _, p := range staff {
			c.send(c.versionNotice(v, p.Lang, p.Chat))
		}
		if err := c.tx.PutTimer(Timer{Key: tmAckRemind + ":" + strconv.Itoa(v.Number), Due: c.now.Add(24 * time.Hour), Kind: tmAckRemind, Version: v.Number}); err != nil {
			return 0, false, err
		}
	}
	return v.Number, true, nil
}

// versionNotice announces a version with its changes and the ack button.
func (c *call) versionNotice(v SOPVersion, l Lang, to Address) Message {
	var b strings.Builder
	b.WriteString(c.tl(l, "sop.new_version", "n", v.Number, "label", v.Label, "effective", v.Effective))
	for _, ch := range v.Changes {
		b.WriteString("\n• " + c.changeText(ch, l))
	}
	return Message{To: to, Text: b.String(), Priority: PrioNormal,
		Buttons: [][]Button{{{Text: c.tl(l, "btn.sop_ack"), Data: EncodePayload(vbAck, strconv.Itoa(v.Number))}}}}
}

// changeText renders one change in a language.
func (c *call) changeText(ch SOPChange, l Lang) string {
	return c.tl(l, "sopchg."+ch.Kind, "what", ch.What, "old", ch.Old, "new", ch.New)
}

// diffSOP computes what changed between two definitions: steps, rules and prices.
func diffSOP(a, b *SOP) []SOPChange {
	var out []SOPChange
	rule := func(name string, x, y int) {
		if x != y {
			out = append(out, SOPChange{Kind: "rule_changed", What: name, Old: strconv.Itoa(x), New: strconv.Itoa(y)})
		}
	}
	rule("max_rings", a.MaxRings, b.MaxRings)
	rule("max_knocks", a.MaxKnocks, b.MaxKnocks)
	rule("min_tests", a.MinTests, b.MinTests)
	steps := map[string]Step{}
	for _, s := range a.Steps {
		steps[s.ID] = s
	}
	seen := map[string]bool{}
	for i, s := range b.Steps {
		seen[s.ID] = true
		old, ok := steps[s.ID]
		switch {
		case !ok:
			out = append(out, SOPChange{Kind: "step_added", What: s.ID, New: s.Title[LangZH]})
		case old.Kind != s.Kind || old.HouseholdOnly != s.HouseholdOnly || old.MinPhotos() != s.MinPhotos() || fmt.Sprint(old.Title) != fmt.Sprint(s.Title) || fmt.Sprint(old.Hint) != fmt.Sprint(s.Hint) || a.index(s.ID) != i:
			out = append(out, SOPChange{Kind: "step_changed", What: s.ID, New: s.Title[LangZH]})
		}
	}
	for _, s := range a.Steps {
		if !seen[s.ID] {
			out = append(out, SOPChange{Kind: "step_removed", What: s.ID, Old: s.Title[LangZH]})
		}
	}
	prices := map[string]PriceItem{}
	for _, p := range a.Prices {
		prices[p.Code] = p
	}
	seen = map[string]bool{}
	for _, p := range b.Prices {
		seen[p.Code] = true
		old, ok := prices[p.Code]
		switch {
		case !ok:
			out = append(out, SOPChange{Kind: "price_added", What: p.Code + " " + p.Name[LangZH], New: Money(p.Cents)})
		case old.Cents != p.Cents:
			out = append(out, SOPChange{Kind: "price_changed", What: p.Code + " " + p.Name[LangZH], Old: Money(old.Cents), New: Money(p.Cents)})
		case fmt.Sprint(old.Name) != fmt.Sprint(p.Name) || fmt.Sprint(old.Unit) != fmt.Sprint(p.Unit):
			out = append(out, SOPChange{Kind: "price_renamed", What: p.Code + " " + p.Name[LangZH]})
		}
	}
	for _, p := range a.Prices {
		if !seen[p.Code] {
			out = append(out, SOPChange{Kind: "price_removed", What: p.Code + " " + p.Name[LangZH], Old: Money(p.Cents)})
		}
	}
	notes := map[string]CareNote{}
	for _, n := range a.CareNotes {
		notes[n.ID] = n
	}
	seen = map[string]bool{}
	for _, n := range b.CareNotes {
		seen[n.ID] = true
		old, ok := notes[n.ID]
		switch {
		case !ok:
			out = append(out, SOPChange{Kind: "care_added", What: n.ID, New: n.Text[LangZH]})
		case old.Category != n.Category || fmt.Sprint(old.Text) != fmt.Sprint(n.Text):
			out = append(out, SOPChange{Kind: "care_changed", What: n.ID, Old: old.Text[LangZH], New: n.Text[LangZH]})
		}
	}
	for _, n := range a.CareNotes {
		if !seen[n.ID] {
			out = append(out, SOPChange{Kind: "care_removed", What: n.ID, Old: n.Text[LangZH]})
		}
	}
	return out
}

// currentVersion returns the latest stored version.
func (c *call) currentVersion() (*SOPVersion, error) {
	vs, err := c.tx.SOPVersions()
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	v := vs[len(vs)-1]
	return &v, nil
}

// cmdSOP shows the version in force, its history and who acknowledged it.
func (c *call) cmdSOP(string) error {
	vs, err := c.tx.SOPVersions()
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		c.reply(c.t("sop.none"))
		return nil
	}
	cur := vs[len(vs)-1]
	var b strings.Builder
	b.WriteString(c.t("sop.current", "n", cur.Number, "label", cur.Label, "effective", cur.Effective, "steps", len(cur.SOP.Steps), "prices", len(cur.SOP.Prices)))
	for _, ch := range cur.Changes {
		b.WriteString("\n• " + c.changeText(ch, c.lang))
	}
	b.WriteString("\n" + c.t("sop.history"))
	for i := len(vs) - 1; i >= 0 && i >= len(vs)-5; i-- {
		b.WriteString("\n" + c.t("sop.history_line", "n", vs[i].Number, "label", vs[i].Label, "date", c.localTime(vs[i].Created), "changes", len(vs[i].Changes)))
	}
	if c.me.Role.IsLead() {
		missing, err := c.missingAcks(cur.Number)
		if err != nil {
			return err
		}
		var names []string
		for _, p := range missing {
			names = append(names, p.Name)
		}
		if len(names) > 0 {
			b.WriteString("\n" + c.t("sop.ack_status_missing", "names", strings.Join(names, "、")))
		} else {
			b.WriteString("\n" + c.t("sop.ack_status_all"))
		}
	}
	c.reply(b.String())
	return nil
}

// cmdSOPReload re-reads the definition ("/sop reload").
func (c *call) cmdSOPReload() error {
	if c.e.o.Governance.LoadSOP == nil {
		return Errorf(CodeInvalid, "sop.no_file")
	}
	def, err := c.e.o.Governance.LoadSOP()
	if err != nil {
		c.reply(c.t("sop.reload_failed", "err", err.Error()))
		return nil
	}
	n, changed, err := c.installSOP(def, c.me.ID)
	if err != nil {
		return err
	}
	if !changed {
		c.reply(c.t("sop.reload_same", "n", n))
		return nil
	}
	c.reply(c.t("sop.reload_new", "n", n))
	return nil
}
