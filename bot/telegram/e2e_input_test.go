package telegram_test

// Bad input through HTTP, and Telegram's text limits.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
)

var (
	zhAdmin = tgfake.User{ID: adminID, FirstName: "陈主管", LanguageCode: "zh-hans"}
	zhTech  = tgfake.User{ID: 2001, FirstName: "张师傅", LanguageCode: "zh-hans"}
	zhTech2 = tgfake.User{ID: 2002, FirstName: "赵师傅", LanguageCode: "zh-hans"}
	zhRes   = tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}
	zhRes2  = tgfake.User{ID: 3002, FirstName: "李雷", LanguageCode: "zh-hans"}
)

// atDesc registers zhRes and opens a report at the description step.
func (r *rig) atDesc() {
	r.t.Helper()
	r.register(zhRes, zhHome)
	r.pickCategory(zhRes, r.openReport(zhRes, nil), "water")
}

// atPhotos goes one step further, to the photo step.
func (r *rig) atPhotos() tgfake.Message {
	r.t.Helper()
	r.atDesc()
	return r.say(zhRes, "厨房水管漏水", withButton(r.T(zhRes, "btn.no_more_photos")))
}

// sendThen performs a user action in u's private chat and returns the reply.
func (r *rig) sendThen(u tgfake.User, what string, act func()) tgfake.Message {
	r.t.Helper()
	before := r.top(u.ID)
	act()
	return r.next(u.ID, before, what, nil)
}

func wantText(t *testing.T, got tgfake.Message, want string) {
	t.Helper()
	if got.Text != want {
		t.Fatalf("bot said %q, want %q", got.Text, want)
	}
}

func wantAlert(t *testing.T, got tgfake.Entry, want string) {
	t.Helper()
	if got.Text != want {
		t.Fatalf("callback answer %q, want %q", got.Text, want)
	}
}

// 7. Every kind of bad input gets one clear answer and breaks nothing.
func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	res, res2 := zhRes, zhRes2
	cases := []struct {
		name string
		run  func(t *testing.T, r *rig)
	}{
		{"text where a button is expected", func(t *testing.T, r *rig) {
			r.register(res, zhHome)
			prompt := r.openReport(res, nil)
			wantText(t, r.say(res, "水管", nil), r.T(res, "err.use_buttons"))
			r.pickCategory(res, prompt, "water") // the buttons still work
		}},
		{"photo at the name step", func(t *testing.T, r *rig) {
			r.say(res, "/start", withText(r.T(res, "register.ask_name")))
			m := r.sendThen(res, "reply to a photo", func() { r.fake.SendPhoto(res, res.ID, "王芳", 50_000) })
			wantText(t, m, r.T(res, "err.text_expected"))
			r.say(res, "王芳", withText(r.T(res, "register.ask_phone", "name", "王芳")))
		}},
		{"sticker", func(t *testing.T, r *rig) {
			r.atDesc()
			m := r.sendThen(res, "reply to a sticker", func() { r.fake.SendSticker(res, res.ID) })
			wantText(t, m, r.T(res, "err.unsupported_in_step", "prompt", r.T(res, "hint.desc")))
			r.say(res, "漏水", withButton(r.T(res, "btn.no_more_photos")))
		}},
		{"PDF document as a photo", func(t *testing.T, r *rig) {
			photos := r.atPhotos()
			m := r.sendThen(res, "reply to a PDF", func() { r.fake.SendDocument(res, res.ID, "invoice.pdf", "application/pdf", 80_000) })
			wantText(t, m, r.T(res, "err.unsupported_in_step", "prompt", r.T(res, "hint.photos")))
			id, _ := r.finishReport(res, photos, reportSpec{})
			if n := len(r.ticket(id).Photos); n != 0 {
				t.Errorf("the PDF became one of %d photos", n)
			}
		}},
		{"photo larger than 10 MB", func(t *testing.T, r *rig) {
			r.atPhotos()
			m := r.sendThen(res, "reply to a huge photo", func() { r.fake.SendPhoto(res, res.ID, "", 11<<20) })
			wantText(t, m, r.T(res, "err.photo_too_large", "max", 10))
			m = r.sendThen(res, "reply to a normal photo", func() { r.fake.SendPhoto(res, res.ID, "", 2<<20) })
			wantText(t, m, r.T(res, "report.photo_saved", "n", 1, "max", 3)) // the big one was not counted
		}},
		{"5000-character description", func(t *testing.T, r *rig) {
			r.atDesc()
			wantText(t, r.say(res, strings.Repeat("漏", 5000), nil), r.T(res, "err.too_long", "n", 5000, "max", 1000))
			r.say(res, "漏水", withText(r.T(res, "report.ask_photos", "max", 3)))
		}},
		{"unknown command", func(t *testing.T, r *rig) {
			r.register(res, zhHome)
			wantText(t, r.say(res, "/frobnicate now", nil), r.T(res, "err.unknown_command", "command", "frobnicate"))
			// A command for another bot in the group is not ours to answer.
			r.fake.SendText(res, e2eGroup, "/frobnicate@other_bot")
			r.settle()
			if n := len(r.fake.Messages(e2eGroup)); n != 0 {
				t.Errorf("the bot answered another bot's command in the group (%d messages)", n)
			}
		}},
		{"forged callback data longer than 64 bytes", func(t *testing.T, r *rig) {
			done := r.register(res, zhHome)
			data := flows.EncodePayload(string(flows.ActCancel), strings.Repeat("BX-20261127-0001", 5))
			if len(data) <= 64 {
				t.Fatalf("payload only %d bytes", len(data))
			}
			before := len(r.fake.Messages(res.ID))
			ans := r.tapData(res, res.ID, done.ID, data)
			wantAlert(t, ans, r.T(res, "err.bad_button"))
			r.settle()
			if n := len(r.fake.Messages(res.ID)); n != before {
				t.Errorf("a forged button produced %d messages", n-before)
			}
		}},
		{"stale Accept on a cancelled card", func(t *testing.T, r *rig) {
			r.hire(zhAdmin, zhTech, "technician")
			r.register(res, zhHome)
			id, ack := r.report(res, reportSpec{desc: "门锁坏了", category: "door"})
			card := r.card(id)
			accept := buttonData(card, r.G("btn.accept"))
			r.cancelTicket(res, ack, id)
			card = r.next(e2eGroup, card.ID-1, "card cancelled", func(m tgfake.Message) bool { return m.ID == card.ID && m.Edits == 1 })
			if card.Inline != nil {
				t.Errorf("cancelled card keeps buttons %v", card.Inline)
			}
			techTop := r.top(zhTech.ID)
			ans := r.tapData(zhTech, e2eGroup, card.ID, accept)
			wantAlert(t, ans, r.T(zhTech, "err.stale", "ticket", id))
			r.settle()
			if tk := r.ticket(id); tk.State != flows.StateCancelled || tk.AssigneeID != "" {
				t.Errorf("ticket after a stale accept: %s %q", tk.State, tk.AssigneeID)
			}
			if m, _ := r.fake.Message(e2eGroup, card.ID); m.Edits != 1 {
				t.Errorf("card edited %d times", m.Edits)
			}
			if r.top(zhTech.ID) != techTop {
				t.Error("the technician got a message for a cancelled ticket")
			}
		}},
		{"button on someone else's ticket", func(t *testing.T, r *rig) {
			r.register(res, zhHome)
			r.register(res2, profile{"李雷", "+8613900139000", "5栋", "1单元", "301"})
			id, ack := r.report(res, reportSpec{desc: "灯不亮", category: "electricity"})
			cancel := buttonData(ack, r.T(res, "btn.cancel_ticket", "ticket", id))
			ans := r.tapData(res2, res2.ID, r.top(res2.ID), cancel)
			wantAlert(t, ans, r.T(res2, "err.not_your_ticket", "ticket", id))
			r.settle()
			if tk := r.ticket(id); tk.State != flows.StateNew {
				t.Errorf("someone else cancelled the ticket: %s", tk.State)
			}
		}},
		{"invite code used twice", func(t *testing.T, r *rig) {
			code := r.inviteCode(zhAdmin, "technician")
			r.say(zhTech, "/start "+code, withText(r.T(zhTech, "invite.welcome", "name", zhTech.FirstName, "role", r.T(zhTech, "role.technician.property"))))
			wantText(t, r.say(zhTech2, "/start "+code, nil), r.T(zhTech2, "invite.used"))
			r.noPerson(zhTech2)
		}},
		{"expired invite", func(t *testing.T, r *rig) {
			code := r.inviteCode(zhAdmin, "technician")
			r.advance(72*time.Hour + time.Minute) // InviteTTL is 72 h
			wantText(t, r.say(zhTech, "/start "+code, nil), r.T(zhTech, "invite.expired"))
			r.noPerson(zhTech)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{})
			tc.run(t, r)
			r.settle()
			r.noFailedRows()
		})
	}
}

// noPerson checks that u has no profile.
func (r *rig) noPerson(u tgfake.User) {
	r.t.Helper()
	err := r.store().View(context.Background(), func(tx flows.Tx) error {
		p, err := tx.Person(telegram.PersonID(u.ID))
		if err == nil && p.Registered {
			r.t.Errorf("%s registered as %s", u.FirstName, p.Role)
		}
		return nil
	})
	if err != nil && !errors.Is(err, flows.ErrNotFound) {
		r.t.Fatal(err)
	}
}

// An image sent "as a file" (uncompressed) is accepted as a report photo,
// but the technician is sent it with sendPhoto, which Telegram refuses for
// a document's file_id: the photo never reaches the technician.
func TestE2EImageSentAsFileReachesTheTechnician(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.hire(zhAdmin, zhTech, "technician")
	photos := r.atPhotos()
	m := r.sendThen(zhRes, "reply to an image file", func() { r.fake.SendDocument(zhRes, zhRes.ID, "leak.jpg", "image/jpeg", 3<<20) })
	wantText(t, m, r.T(zhRes, "report.photo_saved", "n", 1, "max", 3))
	id, _ := r.finishReport(zhRes, photos, reportSpec{})
	techTop := r.top(zhTech.ID)
	r.tap(zhTech, e2eGroup, r.card(id), r.G("btn.accept"))
	r.settle()
	got := r.count(zhTech.ID, func(m tgfake.Message) bool {
		return m.ID > techTop && (m.PhotoFileID != "" || m.DocumentFileID != "")
	})
	if got != 1 {
		t.Errorf("the technician got %d images, want the resident's 1", got)
	}
	r.noFailedRows()
}

// acceptJob has zhTech accept ticket id and returns the job message.
func (r *rig) acceptJob(id string) tgfake.Message {
	r.t.Helper()
	top := r.top(zhTech.ID)
	r.tap(zhTech, e2eGroup, r.card(id), r.G("btn.accept"))
	return r.next(zhTech.ID, top, "job for "+id, withText(r.T(zhTech, "job.assigned", "ticket", id)))
}

// 8. Texts built from user input never exceed Telegram's limits.
func TestE2ETextLimits(t *testing.T) {
	t.Parallel()

	t.Run("longest default description, multi-byte", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{NoPhotos: true})
		r.hire(zhAdmin, zhTech, "technician")
		r.register(zhRes, zhHome)
		pattern := []rune("🚰漏水💧管道破裂🔧")
		desc := make([]rune, 1000)
		for i := range desc {
			desc[i] = pattern[i%len(pattern)]
		}
		id, _ := r.report(zhRes, reportSpec{desc: string(desc)})
		job := r.acceptJob(id)
		if !strings.Contains(job.Text, string(desc)) || utf16Len(job.Text) > 4096 {
			t.Errorf("job message (%d UTF-16 units) does not carry the whole description", utf16Len(job.Text))
		}
		card, _ := r.fake.Message(e2eGroup, r.card(id).ID)
		if !strings.Contains(card.Text, string(desc[:79])+"…") {
			t.Errorf("card summary not shortened to 80 characters: %q", card.Text)
		}
		r.settle()
		r.noFailedRows()
	})

	t.Run("configured maximum, astral characters", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{NoPhotos: true, MaxDescription: 3000})
		r.hire(zhAdmin, zhTech, "technician")
		r.register(zhRes, zhHome)
		// 2000 emoji: 4000 UTF-16 units, as much as a Telegram user can send.
		desc := strings.Repeat("🚰", 2000)
		id, _ := r.report(zhRes, reportSpec{desc: desc})
		job := r.acceptJob(id)
		if n := utf16Len(job.Text); n > 4096 || !strings.HasSuffix(job.Text, "…") || !strings.HasPrefix(job.Text, r.T(zhTech, "job.assigned", "ticket", id)) {
			t.Errorf("job message: %d UTF-16 units, suffix %q", n, string([]rune(job.Text)[len([]rune(job.Text))-3:]))
		}
		// The same size as a rework reason, forwarded to the technician.
		_ = job
		resTop := r.top(zhRes.ID)
		r.walkVisit(zhTech, zhRes, true)
		confirm := r.next(zhRes.ID, resTop, "sign-off card", withButton(r.T(zhRes, "btn.not_fixed")))
		r.tapThen(zhRes, zhRes.ID, confirm, r.T(zhRes, "btn.not_fixed"), withText(r.T(zhRes, "rework.ask_reason", "ticket", id)))
		techTop := r.top(zhTech.ID)
		r.say(zhRes, desc, withText(r.T(zhRes, "rework.reason_sent")))
		note := r.next(zhTech.ID, techTop, "rework reason", withText(r.T(zhTech, "rework.reason_to_tech", "ticket", id, "reason", "🚰")))
		if n := utf16Len(note.Text); n > 4096 {
			t.Errorf("rework note of %d UTF-16 units", n)
		}
		r.settle()
		r.noFailedRows()
	})

	t.Run("a text of exactly 4096 UTF-16 units is sent whole", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{NoPhotos: true, MaxDescription: 3000})
		r.hire(zhAdmin, zhTech, "technician")
		r.register(zhRes, zhHome)
		id1, _ := r.report(zhRes, reportSpec{desc: "x"})
		base := r.acceptJob(id1)
		need := 4096 - (utf16Len(base.Text) - 1)
		desc := strings.Repeat("🚰", need/2) + strings.Repeat("漏", need%2)
		id2, _ := r.report(zhRes, reportSpec{desc: desc})
		want := strings.ReplaceAll(strings.TrimSuffix(base.Text, "x"), id1, id2) + desc
		if utf16Len(want) != 4096 {
			t.Fatalf("built a %d-unit text", utf16Len(want))
		}
		if job := r.acceptJob(id2); job.Text != want {
			t.Errorf("a 4096-unit job message was cut: ends %q", string([]rune(job.Text)[len([]rune(job.Text))-3:]))
		}
		r.settle()
		r.noFailedRows()
	})
}
