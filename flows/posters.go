package flows

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
)

// QR posters (issue 20): a building's poster in the lobby carries the
// deep link t.me/<bot>?start=b_<code>; opening it registers the resident
// with the area and the building already chosen. The code is the area
// and the building, signed (HMAC-SHA256 under Options.PosterKey), so a
// forged one is refused; one whose area or building is no longer served
// is stale and refused too. Nothing is stored: `repairbot poster` makes
// the same code from the configuration without the running bot.

// PosterPrefix starts a poster's /start argument.
const PosterPrefix = "b_"

// posterMAC is how many bytes of the signature a code keeps (64 bits:
// a forgery is one guess in 2^64; the whole code fits Telegram's 64).
const posterMAC = 8

var posterEnc = base64.RawURLEncoding

// PosterCode is the /start argument of a building's poster: "b_", the
// area and the building, then their signature under key.
func PosterCode(key []byte, area, building string) string {
	payload := []byte(area + "." + building)
	return PosterPrefix + posterEnc.EncodeToString(payload) + posterEnc.EncodeToString(posterSum(key, payload))
}

func posterSum(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("repairbot poster v1\x00"))
	m.Write(payload)
	return m.Sum(nil)[:posterMAC]
}

// ReadPosterCode checks a poster's code and returns its area and
// building; ok is false for a code not signed under key (forged, or made
// with another key).
func ReadPosterCode(key []byte, code string) (area, building string, ok bool) {
	rest, found := strings.CutPrefix(code, PosterPrefix)
	macLen := posterEnc.EncodedLen(posterMAC)
	if !found || len(key) == 0 || len(rest) <= macLen {
		return "", "", false
	}
	payload, err1 := posterEnc.DecodeString(rest[:len(rest)-macLen])
	sum, err2 := posterEnc.DecodeString(rest[len(rest)-macLen:])
	if err1 != nil || err2 != nil || !hmac.Equal(sum, posterSum(key, payload)) {
		return "", "", false
	}
	area, building, found = strings.Cut(string(payload), ".")
	return area, building, found && building != ""
}

// PosterSpec is what the poster of one building says, for the renderer
// (Export.Poster, drawn by the sender at send time); the labels are in
// the sender's language.
type PosterSpec struct {
	Org, Area, Building, Call, Link, Footer string
}

// posterFor checks that area and building are served and returns the
// poster's spec; a refusal names the areas or buildings there are.
func (c *call) posterFor(area, building string) (PosterSpec, error) {
	a, ok := c.e.Area(area)
	if !ok {
		return PosterSpec{}, Errorf(CodeInvalid, "areas.unknown", "area", area, "areas", c.areaKeys())
	}
	if len(a.Buildings) > 0 && !slices.Contains(a.Buildings, building) {
		return PosterSpec{}, Errorf(CodeInvalid, "posters.no_building", "area", c.e.areaName(area, c.lang), "buildings", strings.Join(a.Buildings, c.t("order.sep")))
	}
	code := PosterCode(c.e.o.PosterKey, area, building)
	return PosterSpec{Org: c.e.o.OrgName, Area: c.e.areaName(area, c.lang), Building: building,
		Call: c.t("posters.call"), Link: c.e.o.InviteLink(c.ev.From.Chat.Channel, code),
		Footer: c.t("posters.footer", "phone", c.areaPhone(area, c.lang))}, nil
}

// ticketPhone is the service phone of the ticket's area: what a resident
// is told to call about it.
func (c *call) ticketPhone(t *Ticket, l Lang) string { return c.areaPhone(c.e.areaOf(t), l) }

// areaPhone is the area's service phone, or the catalog's service centre.
func (c *call) areaPhone(area string, l Lang) string {
	if a, ok := c.e.Area(area); ok && a.ServicePhone != "" {
		return a.ServicePhone
	}
	return c.servicePhone(l)
}

// cmdPoster makes a building's poster for a lead: "/poster 3栋" in the
// lead's (first) area, "/poster east 3栋" in a named one.
func (c *call) cmdPoster(arg string) error {
	if len(c.e.o.PosterKey) == 0 {
		return Errorf(CodeInvalid, "posters.off")
	}
	fields := strings.Fields(arg)
	var area, building string
	switch len(fields) {
	case 1:
		area, building = c.e.areasOf(c.me)[0], fields[0]
		if c.me.Role == RoleAdmin {
			area = c.e.DefaultAreaKey()
		}
	case 2:
		area, building = fields[0], fields[1]
	default:
		return Errorf(CodeInvalid, "posters.usage", "areas", c.areaKeys())
	}
	if _, ok := c.e.Area(area); ok && !c.e.inArea(c.me, area) {
		return Errorf(CodeForbidden, "areas.not_yours", "area", c.e.areaName(area, c.lang))
	}
	spec, err := c.posterFor(area, building)
	if err != nil {
		return err
	}
	c.exportFile(c.ev.From.Chat, "poster-"+area+"-"+building+".png",
		c.t("posters.made", "area", spec.Area, "building", building, "link", spec.Link),
		Export{Form: ExportPoster, Lang: c.lang, Poster: &spec}, "", PrioNormal)
	c.exportFile(c.ev.From.Chat, "poster-"+area+"-"+building+".pdf", c.t("posters.made_pdf"),
		Export{Form: ExportPosterPDF, Lang: c.lang, Poster: &spec}, "", PrioNormal)
	return nil
}

// posterStart is /start b_<code>: a resident who opened a poster's link
// registers with its area and building chosen; a forged code, or one of
// an area or a building no longer served, is refused.
func (c *call) posterStart(code string) error {
	area, building, ok := ReadPosterCode(c.e.o.PosterKey, code)
	if !ok {
		return Errorf(CodeInvalid, "posters.forged")
	}
	a, served := c.e.Area(area)
	if !served || len(a.Buildings) > 0 && !slices.Contains(a.Buildings, building) {
		return Errorf(CodeConflict, "posters.stale", "phone", c.servicePhone(c.lang))
	}
	if c.me != nil && c.me.Deactivated != nil {
		return Errorf(CodeForbidden, "err.deactivated")
	}
	if c.me != nil && c.me.Registered {
		return c.welcomeBack()
	}
	d := &Dialogue{PersonID: c.ev.From.ID, Kind: dlgRegister, Step: stepName, Started: c.now, Area: area, Building: building}
	c.bump(d)
	c.reply(c.t("register.welcome", "org", c.e.o.OrgName) + "\n\n" +
		c.t("posters.welcome", "area", c.e.areaName(area, c.lang), "building", building) + "\n\n" + c.t("register.ask_name"))
	return c.tx.PutDialogue(d)
}
