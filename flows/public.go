package flows

import (
	"strings"
	"unicode/utf8"
)

// Public areas and facilities (SOP 4.3, 2.0; the 公共设施设备维修单): a
// public-facility report says where the fault is — a building, floor or
// area typed, or a listed public asset — instead of the reporter's home;
// its visit has no door or entry-consent steps (they are household_only
// in the SOP file) and no price; its work order is signed off by the
// reporter or, when configured, by a lead.

// PublicAsset is a listed public facility a report can name.
type PublicAsset struct {
	Key    string
	Labels map[Lang]string
}

// Who signs a public work order off (Options.PublicSignoff, Ticket.Signer).
const (
	SignoffReporter = "reporter"
	SignoffLead     = "lead"
)

// maxPlace is the longest typed place of a public fault.
const maxPlace = 100

func (e *Engine) publicAsset(key string) (PublicAsset, bool) {
	for _, a := range e.o.PublicAssets {
		if a.Key == key {
			return a, true
		}
	}
	return PublicAsset{}, false
}

// promptPlace asks where a public fault is.
func (c *call) promptPlace(d *Dialogue) error {
	d.Step = stepPlace
	c.bump(d)
	var rows [][]Button
	var row []Button
	for _, a := range c.e.o.PublicAssets {
		row = append(row, DialogueButton(a.Labels[c.lang], d.Seq, "asset:"+a.Key))
		if len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	key := "report.ask_place"
	if len(rows) > 0 {
		key = "report.ask_place_assets"
	}
	c.reply(c.t(key, "max", maxPlace), rows...)
	return c.tx.PutDialogue(d)
}

// placeChoice is a listed asset tapped at the place question.
func (c *call) placeChoice(d *Dialogue, v string) error {
	a, ok := c.e.publicAsset(strings.TrimPrefix(v, "asset:"))
	if !ok || !strings.HasPrefix(v, "asset:") {
		return Errorf(CodeInvalid, "err.bad_button")
	}
	d.Asset, d.Place = a.Key, a.Labels[c.e.o.DefaultLang]
	c.toast = a.Labels[c.lang]
	return c.placeGiven(d) // already reported? (repeats.go)
}

// placeInput is the place typed at the place question; a listed asset's
// name (in any language) names that asset.
func (c *call) placeInput(d *Dialogue) error {
	text, err := c.placeText()
	if err != nil {
		return err
	}
	d.Asset, d.Place = c.e.assetNamed(text), text
	return c.placeGiven(d) // already reported? (repeats.go)
}

// placeText is a place typed: one line, spaces collapsed, at most maxPlace.
func (c *call) placeText() (string, error) {
	if c.ev.Kind != EvText {
		return "", Errorf(CodeInvalid, "err.text_expected")
	}
	text := strings.Join(strings.Fields(cleanText(c.ev.Text, 0)), " ")
	if text == "" {
		return "", Errorf(CodeInvalid, "err.empty")
	}
	if n := utf8.RuneCountInString(text); n > maxPlace {
		return "", Errorf(CodeInvalid, "err.too_long", "n", n, "max", maxPlace)
	}
	return text, nil
}

// assetNamed is the key of the listed public asset a typed place names
// (any of its labels, spaces and letter case aside), "" for none.
func (e *Engine) assetNamed(place string) string {
	p := normPlace(place)
	for _, a := range e.o.PublicAssets {
		for _, l := range a.Labels {
			if normPlace(l) == p {
				return a.Key
			}
		}
	}
	return ""
}

// isPublicPlace reports whether the ticket names a public place rather
// than a home (public orders reported before places were asked have the
// reporter's address).
func isPublicPlace(t *Ticket) bool { return t.Kind == OrderPublic && t.Place != "" }

// signoffBy is who signs the ticket's work order off.
func (c *call) signoffBy(t *Ticket) string {
	if t.Kind == OrderPublic && c.e.o.PublicSignoff == SignoffLead {
		return SignoffLead
	}
	return ""
}
