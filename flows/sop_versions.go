package flows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// InstallSOP makes def, the SOP file as read at start-up, the procedure
// in force. A definition that differs from the latest stored one becomes
// a new version with a computed change summary, and everyone who executes
// the SOP is asked to acknowledge it. When the version in force has
// changes made in the console that the file lacks, they are not undone:
// that version stays in force and the error is a *SOPFileLacks naming
// them (the caller warns; /sop reload says the same).
func (e *Engine) InstallSOP(ctx context.Context, def *SOP, author string) (int, bool, error) {
	var n int
	var changed bool
	var lacks *SOPFileLacks
	err := e.o.Store.Update(ctx, func(tx Tx) error {
		c := &call{e: e, tx: tx, now: e.o.Now().UTC(), lang: e.o.DefaultLang, ev: Event{Kind: EvNone, From: Sender{ID: author}}}
		var err error
		n, changed, err = c.installFile(def, author)
		if errors.As(err, &lacks) {
			return c.keepInForce()
		}
		if err != nil {
			return err
		}
		return c.flush()
	})
	if err == nil && lacks != nil {
		return lacks.Version, false, lacks
	}
	return n, changed, err
}

// SOPFileLacks is the SOP file missing changes made in the console to the
// version in force: installing the file would silently undo them, so it is
// not installed. Changes are what the file would undo, from the file's
// definition to the version in force.
type SOPFileLacks struct {
	Version int
	Changes []SOPChange
}

func (e *SOPFileLacks) Error() string {
	var what []string
	for _, ch := range e.Changes {
		what = append(what, ch.Kind+" "+ch.What)
	}
	return fmt.Sprintf("the SOP file lacks %d change(s) made in the console to version %d (%s): it was not installed; write them into the file, or /sop reload force to install the file as it is",
		len(e.Changes), e.Version, strings.Join(what, "; "))
}

// keepInForce makes the latest stored version the procedure in force.
func (c *call) keepInForce() error {
	vs, err := c.tx.SOPVersions()
	if err != nil || len(vs) == 0 {
		return err
	}
	last := vs[len(vs)-1]
	c.e.sop.Store(last.SOP)
	c.e.sopNum.Store(int64(last.Number))
	return nil
}

// installFile installs def as read from the SOP file, unless the version
// in force has console changes the file lacks (a *SOPFileLacks).
func (c *call) installFile(def *SOP, author string) (int, bool, error) {
	if err := def.Validate(); err != nil {
		return 0, false, err
	}
	lacks, err := c.fileLacks(def)
	if err != nil {
		return 0, false, err
	}
	if lacks != nil {
		return 0, false, lacks
	}
	return c.installSOP(def, author, "")
}

// fileLacks compares the SOP file's definition with the version in
// force: when that version (or those before it, back to the last one read
// from the file) was made in the console, every item the console changed
// must read in the file as it reads in force; the ones that do not are
// what installing the file would undo. nil when nothing would be.
func (c *call) fileLacks(def *SOP) (*SOPFileLacks, error) {
	vs, err := c.tx.SOPVersions()
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	cur := vs[len(vs)-1]
	if cur.Source != SourceConsole {
		return nil, nil
	}
	i := len(vs) - 1
	for i > 0 && vs[i].Source == SourceConsole {
		i--
	}
	touched := map[string]bool{}
	for _, ch := range diffSOP(vs[i].SOP, cur.SOP) {
		touched[changeKey(ch)] = true
	}
	out := &SOPFileLacks{Version: cur.Number}
	for _, ch := range diffSOP(def, cur.SOP) {
		if touched[changeKey(ch)] {
			out.Changes = append(out.Changes, ch)
		}
	}
	if len(out.Changes) == 0 {
		return nil, nil
	}
	return out, nil
}

// changeKey names the item a change is about: its kind's family (price,
// step, rule, care) and its code or id.
func changeKey(ch SOPChange) string {
	family, _, _ := strings.Cut(ch.Kind, "_")
	code, _, _ := strings.Cut(ch.What, " ")
	return family + ":" + code
}

// lacksText lists what the file lacks, each as the change installing it
// would make (from the file to the version in force, read backwards).
func (c *call) lacksText(l *SOPFileLacks) string {
	var b strings.Builder
	for _, ch := range l.Changes {
		b.WriteString("\n• " + c.changeText(ch, c.lang))
	}
	return b.String()
}

// installSOP stores def as a new version when it differs from the
// latest, from source (SOPVersion.Source).
func (c *call) installSOP(def *SOP, author, source string) (int, bool, error) {
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
	v := SOPVersion{Number: len(versions) + 1, Label: def.Version, Hash: hash, Effective: def.Effective, Author: author, Created: c.now, SOP: def, Source: source}
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
	n, changed, err := c.installFile(def, c.me.ID)
	var lacks *SOPFileLacks
	if errors.As(err, &lacks) {
		// Nothing changes: the console's changes stay in force until the
		// file has them, or a lead overwrites them on purpose.
		c.reply(c.t("sop.reload_kept", "n", lacks.Version, "count", len(lacks.Changes), "list", c.lacksText(lacks)))
		return nil
	}
	return c.reloaded(n, changed, err)
}

// cmdSOPReloadForce installs the SOP file as it is ("/sop reload force"),
// undoing the console's changes it lacks, which the answer lists.
func (c *call) cmdSOPReloadForce() error {
	if c.e.o.Governance.LoadSOP == nil {
		return Errorf(CodeInvalid, "sop.no_file")
	}
	def, err := c.e.o.Governance.LoadSOP()
	if err != nil {
		c.reply(c.t("sop.reload_failed", "err", err.Error()))
		return nil
	}
	if err := def.Validate(); err != nil {
		return err
	}
	lacks, err := c.fileLacks(def)
	if err != nil {
		return err
	}
	n, changed, err := c.installSOP(def, c.me.ID, "")
	if err == nil && changed && lacks != nil {
		c.reply(c.t("sop.reload_forced", "n", n, "count", len(lacks.Changes), "list", c.lacksText(lacks)))
		return nil
	}
	return c.reloaded(n, changed, err)
}

func (c *call) reloaded(n int, changed bool, err error) error {
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
