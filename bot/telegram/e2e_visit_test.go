package telegram_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/sop"
)

// tapNewest taps the button containing label on the newest bot message in
// chat that has one, then waits until the bot has handled it and sent
// everything it wanted. The answer must not be a refusal.
func (r *rig) tapNewest(u tgfake.User, chat int64, label string) {
	r.t.Helper()
	var found tgfake.Message
	for _, m := range r.fake.Messages(chat) {
		for _, row := range m.Inline {
			for _, b := range row {
				if strings.Contains(b.Text, label) {
					found = m
				}
			}
		}
	}
	if found.ID == 0 {
		r.t.Fatalf("chat %d: no button %q (last: %q)", chat, label, lastText(r.fake, chat))
	}
	n := len(r.fake.CallbackAnswers())
	if _, err := r.fake.Tap(u, chat, found.ID, label); err != nil {
		r.t.Fatal(err)
	}
	r.settle()
	if !r.fake.WaitFor(e2eWait, func() bool { return len(r.fake.CallbackAnswers()) > n }) {
		r.t.Fatalf("tap %q not answered", label)
	}
	if a := r.fake.CallbackAnswers()[n]; a.ShowAlert {
		r.t.Fatalf("tap %q refused: %s", label, a.Text)
	}
}

func lastText(f *tgfake.Server, chat int64) string {
	if m, ok := f.Last(chat); ok {
		return m.Text
	}
	return ""
}

// photo sends a photo and waits until it is handled.
func (r *rig) photo(u tgfake.User) {
	r.t.Helper()
	r.fake.SendPhoto(u, u.ID, "", 90_000)
	r.settle()
	time.Sleep(0) // settle waited for the commit and the outbox
}

// walkVisit walks the whole on-site checklist through HTTP from the
// "arrived" button to the resident's sign-off card, as a technician and a
// resident would: door (there is a doorbell) and entry consent (household
// orders) on the resident's phone, plan with a
// photo, a quote from the price list agreed by the resident (household
// orders), protection photo, repair, cleanup photo, three tests, a typical
// care note, sign-off request.
func (r *rig) walkVisit(tech, res tgfake.User, household bool) {
	r.t.Helper()
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.arrived"))
	if household { // a public area has no door and no home to enter
		r.tapNewest(tech, tech.ID, r.T(tech, "btn.has_bell"))
		r.tapNewest(tech, tech.ID, r.T(tech, "btn.ring", "n", 0, "max", 3))
		r.tapNewest(tech, tech.ID, r.T(tech, "btn.answered"))
		r.tapNewest(res, res.ID, r.T(res, "btn.entry_ok"))
	}
	r.say(tech, "角阀老化漏水，更换角阀 / worn angle valve, replace it", withButton(r.T(tech, "btn.next")))
	r.photo(tech)
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.next"))
	if household {
		r.tapNewest(tech, tech.ID, r.T(tech, "btn.quote_add"))
		r.tapNewest(tech, tech.ID, "W02")
		r.tapNewest(tech, tech.ID, "1")
		r.tapNewest(tech, tech.ID, r.T(tech, "btn.quote_send"))
		r.tapNewest(res, res.ID, r.T(res, "btn.quote_ok"))
	}
	r.photo(tech) // belongings covered
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.next"))
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.repair_done"))
	r.photo(tech) // cleaned up
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.next"))
	for i := 0; i < 3; i++ {
		r.tapNewest(tech, tech.ID, r.T(tech, "btn.test_pass", "n", i, "min", 3))
	}
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.next"))
	r.tapNewest(tech, tech.ID, "▫️") // the first typical care note of the SOP
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.care_done"))
	r.codeFault(tech, household)
	r.tapNewest(tech, tech.ID, r.T(tech, "btn.signoff"))
}

// codeFault codes a water ticket's fault at the sign-off step by its
// buttons (tap, leak, wear, replaced) and names a public order's asset.
func (r *rig) codeFault(tech tgfake.User, household bool) {
	r.t.Helper()
	lang := flows.LangZH
	if strings.HasPrefix(tech.LanguageCode, "en") {
		lang = flows.LangEN
	}
	def := sop.Default()
	for _, c := range [][2]string{{flows.FaultComponentLevel, "TAP"}, {flows.FaultSymptomLevel, "LEAK"}, {flows.FaultCauseLevel, "WEAR"}, {flows.FaultActionLevel, "REPLACE"}} {
		r.tapNewest(tech, tech.ID, flows.FaultLabel(def, "water", c[0], c[1], lang))
	}
	if !household {
		r.say(tech, "3栋 电梯 2号 / Building 3 lift 2", withButton(r.T(tech, "btn.signoff")))
	}
}

// Photos are kept as content-addressed copies in the data directory; a file
// sent as a photo that is not an image is refused with a clear answer.
func TestE2EPhotoCopiesAndNotAnImage(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.register(zhRes, zhHome)
	prompt := r.openReport(zhRes, nil)
	r.pickCategory(zhRes, prompt, "water")
	r.say(zhRes, "厨房漏水", withButton(r.T(zhRes, "btn.no_more_photos")))
	r.fake.SendPhoto(zhRes, zhRes.ID, "", 64_000)
	r.settle()
	var dl flows.Dialogue
	_ = r.store().View(context.Background(), func(tx flows.Tx) error {
		d, err := tx.Dialogue(telegram.PersonID(zhRes.ID))
		if err == nil {
			dl = *d
		}
		return err
	})
	if len(dl.Photos) != 1 || len(dl.Photos[0].SHA256) != 64 {
		t.Fatalf("photo not copied: %+v", dl.Photos)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.path), "photos", dl.Photos[0].Local)); err != nil {
		t.Fatalf("copy missing: %v", err)
	}
	top := r.top(zhRes.ID)
	r.fake.SendDocument(zhRes, zhRes.ID, "scan.heic", "image/heic", 2048) // typed as an image; the fake has no HEIC bytes for it
	r.next(zhRes.ID, top, "not an image", withText(r.T(zhRes, "err.not_image")))
}

// A public-facility order walks the same checklist through HTTP, in both
// languages, without the price step; the sign-off shows the public form.
func TestE2EPublicOrderVisit(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"zh-hans", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			admin := tgfake.User{ID: adminID, FirstName: "陈主管", LanguageCode: lang}
			tech := tgfake.User{ID: 2001, FirstName: "张师傅", LanguageCode: lang}
			res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: lang}
			home := zhHome
			if lang == "en" {
				home = enHome
			}
			r := newRig(t, rigOptions{})
			r.hire(admin, tech, "technician")
			r.register(res, home)
			id, _ := r.report(res, reportSpec{desc: "楼道灯不亮 / corridor light out", public: true})
			r.acceptJob2(tech, id)
			top := r.top(res.ID)
			r.walkVisit(tech, res, false)
			card := r.next(res.ID, top, "sign-off card", withButton(r.T(res, "btn.fixed")))
			if !strings.Contains(card.Text, r.T(res, "order.form.public.property")) || strings.Contains(card.Text, "¥") {
				t.Errorf("public work order: %q", card.Text)
			}
			r.tapNewest(res, res.ID, r.T(res, "btn.fixed"))
			r.tapNewest(tech, tech.ID, r.T(tech, "btn.goodbye"))
			r.tapNewest(res, res.ID, "5⭐")
			if tk := r.ticket(id); tk.State != flows.StateClosed || tk.Kind != flows.OrderPublic || tk.Visit.Quote != nil {
				t.Errorf("ticket %+v", tk)
			}
			r.noFailedRows()
		})
	}
}

// acceptJob2 is acceptJob for any technician.
func (r *rig) acceptJob2(tech tgfake.User, id string) tgfake.Message {
	r.t.Helper()
	top := r.top(tech.ID)
	r.tap(tech, e2eGroup, r.card(id), r.G("btn.accept"))
	return r.next(tech.ID, top, "job for "+id, withText(r.T(tech, "job.assigned", "ticket", id)))
}

// A busy morning: eight reports arrive together while the group's budget
// is 20 a minute. The backlog goes out folded into digest cards (no 429,
// well within a minute); a technician takes a job from a digest, and that
// ticket's card is then posted on its own, showing who took it.
func TestE2EDigestUnderGroupBudget(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{Enforce: true, Send: &telegram.SendLimits{
		PerChatPerSecond: 1, GroupPerMinute: 20, GlobalPerSecond: 30,
		BaseBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		DigestAfter: 2 * time.Second, // the reports trickle in over a few seconds here
	}})
	r.hire(zhAdmin, zhTech, "technician")
	residents := r.seedResidents(8, 3201, "+86138001381")
	ids := make([]string, len(residents))
	t.Run("residents", func(t *testing.T) {
		for i, u := range residents {
			t.Run(u.FirstName, func(t *testing.T) {
				t.Parallel()
				ids[i], _ = r.with(t).report(u, reportSpec{desc: fmt.Sprintf("%s家漏水", u.FirstName)})
			})
		}
	})
	if t.Failed() {
		return
	}
	r.settleWithin(60 * time.Second)
	if n := r.fake.TooMany(); n != 0 {
		t.Errorf("%d answers were 429", n)
	}
	group := r.fake.Messages(e2eGroup)
	var digest tgfake.Message
	offered := map[string]bool{}
	for _, m := range group {
		for _, id := range ids {
			if strings.Contains(m.Text, id) {
				offered[id] = true
			}
		}
		if strings.HasPrefix(m.Text, "📦") && digest.ID == 0 {
			digest = m
		}
	}
	if len(offered) != len(ids) || digest.ID == 0 || len(group) >= len(ids) {
		t.Fatalf("%d group messages for %d tickets (offered %d, digest %v)", len(group), len(ids), len(offered), digest.ID != 0)
	}
	// Take the last ticket of the digest by its own button.
	last := digest.Inline[len(digest.Inline)-1][0]
	if _, err := r.fake.Tap(zhTech, e2eGroup, digest.ID, last.Text); err != nil {
		t.Fatal(err)
	}
	r.settleWithin(30 * time.Second)
	var taken string
	for _, id := range ids {
		if strings.HasSuffix(last.Text, id[len(id)-4:]) {
			taken = id
		}
	}
	if tk := r.ticket(taken); tk.State != flows.StateAccepted {
		t.Fatalf("ticket %s from the digest: %s", taken, tk.State)
	}
	own := false
	for _, m := range r.fake.Messages(e2eGroup) {
		if m.ID > digest.ID && strings.Contains(m.Text, taken) && strings.Contains(m.Text, "张师傅 已接单") {
			own = true
		}
	}
	if !own {
		t.Error("the accepted ticket's card was not posted on its own")
	}
	if d, _ := r.fake.Message(e2eGroup, digest.ID); d.Edits != 0 {
		t.Error("the digest was edited (it would overwrite the other tickets)")
	}
}

// The technician's step card is one Telegram message edited in place
// (editMessageText with the new buttons) while their taps move the visit;
// it is posted anew only for news (the resident's consent and agreement)
// and after their own text or photo, and then the old card loses its
// buttons (editMessageReplyMarkup). A tap on an old card's button is
// answered as outdated.
func TestE2EStepCardEditedInPlace(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.hire(zhAdmin, zhTech, "technician")
	r.register(zhRes, zhHome)
	id, _ := r.report(zhRes, reportSpec{desc: "厨房水管漏水"})
	r.acceptJob2(zhTech, id)
	start := len(r.fake.Entries())
	r.walkVisit(zhTech, zhRes, true)
	r.settle()
	var cards []tgfake.Message
	for _, m := range r.fake.Messages(zhTech.ID) {
		if strings.Contains(m.Text, "🔧 "+id) { // a notice may head the card
			cards = append(cards, m)
		}
	}
	// Arrival, consent, plan, plan photo, quote agreed, two photos: 7 cards
	// for the whole checklist, every older one without buttons; the last,
	// closed at the sign-off, keeps only the paper signature's button.
	if len(cards) != 7 {
		t.Fatalf("%d step card messages, want 7:\n%s", len(cards), dump(cards))
	}
	edits := 0
	paper := r.T(zhTech, "btn.paper_signed")
	for i, m := range cards {
		edits += m.Edits
		last := i == len(cards)-1
		if !last && len(m.Inline) != 0 || last && (len(m.Inline) != 1 || len(m.Inline[0]) != 1 || m.Inline[0][0].Text != paper) {
			t.Errorf("card %d (#%d) has buttons: %v", i+1, m.ID, m.Inline)
		}
	}
	last := cards[len(cards)-1]
	if !strings.Contains(last.Text, r.T(zhTech, "step.closed.done", "ticket", id)[:20]) || last.Edits == 0 {
		t.Errorf("the last card does not say the sign-off was asked for: %+v", last)
	}
	if edits < 15 {
		t.Errorf("only %d edits of the cards", edits)
	}
	sends := 0
	for _, e := range r.fake.Entries()[start:] {
		if e.ChatID == zhTech.ID && e.Kind == "bot_send" {
			sends++
		}
	}
	if sends != len(cards) {
		t.Errorf("%d messages to the technician during the visit, want only the %d cards", sends, len(cards))
	}
	// Retired cards leave the card index; the last one stays.
	for n := 1; n <= len(cards); n++ {
		_, ok, err := r.store().Card(flows.StepCardKey(id, n))
		if err != nil || ok != (n == len(cards)) {
			t.Errorf("card %d indexed %v (%v)", n, ok, err)
		}
	}
	// Back to the repair: the first card's help button, as it was sent,
	// is outdated now (help itself is allowed again).
	r.tapNewest(zhRes, zhRes.ID, r.T(zhRes, "btn.not_fixed"))
	r.settle()
	if m, _ := r.fake.Message(zhTech.ID, cards[len(cards)-1].ID); len(m.Inline) != 0 {
		t.Errorf("the closed card keeps its buttons after the rework's new card: %v", m.Inline)
	}
	var ring string
	for _, e := range r.fake.Entries()[start:] {
		if e.MessageID == cards[0].ID && e.Kind == "bot_send" {
			for _, row := range e.Buttons {
				for _, b := range row {
					if strings.Contains(b.Text, r.T(zhTech, "btn.help")) {
						ring = b.Data
					}
				}
			}
		}
	}
	if ring == "" {
		t.Fatal("the first card was sent without a help button")
	}
	ans := r.tapData(zhTech, zhTech.ID, cards[0].ID, ring)
	a, _ := r.fake.CallbackAnswer(ans.Data)
	if want := r.T(zhTech, "err.card_outdated", "ticket", id); ans.Text != want || !a.ShowAlert {
		t.Errorf("old card's button answered %q (alert %v), want %q", ans.Text, a.ShowAlert, want)
	}
	r.noFailedRows()
}
