package telegram_test

// End-to-end tests of the Telegram channel: the real channel, engine and
// bbolt store against tgfake, everything over HTTP. The rig lives in
// e2e_rig_test.go; faults and restarts in e2e_faults_test.go; bad input
// and text limits in e2e_input_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
)

// 1. A whole repair in polling mode, in Chinese and in English.
func TestE2ELifecycle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, code       string
		lang             flows.Lang
		admin, tech      string
		home             profile
		desc, comment    string
		closed           string // the closed card's status line
		acceptedFragment string
	}{
		{"zh", "zh-hans", flows.LangZH, "陈主管", "张师傅", zhHome,
			"厨房水槽下面的水管在滴水，地上有积水", "师傅很专业，谢谢！", "满意度 5/5", "已接单"},
		{"en", "en", flows.LangEN, "Lead Chen", "Tech Zhang", enHome,
			"The pipe under the kitchen sink is dripping; water on the floor", "Very professional, thank you!", "satisfaction 5/5", "accepted by"},
	}
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{Lang: lc.lang})
			admin := tgfake.User{ID: adminID, FirstName: lc.admin, LanguageCode: lc.code}
			tech := tgfake.User{ID: 2001, FirstName: lc.tech, LanguageCode: lc.code}
			res := tgfake.User{ID: 3001, FirstName: lc.home.name, LanguageCode: lc.code}

			t.Run("command menus", func(t *testing.T) { r.with(t).checkMenus() })

			r.hire(admin, tech, "technician")
			t.Run("staff menus", func(t *testing.T) { r.with(t).checkStaffMenu(tech, flows.RoleTechnician, lc.lang) })
			done := r.register(res, lc.home)
			day := r.now().In(shanghai).Format("20060102")
			id, ack := r.report(res, reportSpec{desc: lc.desc, photos: 1, from: &done})
			if want := "BX-" + day + "-0001"; id != want {
				t.Errorf("ticket number %s, want %s", id, want)
			}
			if want := r.T(res, "btn.cancel_ticket", "ticket", id); buttonData(ack, want) == "" {
				t.Errorf("acknowledgement without a cancel button: %q %v", ack.Text, ack.Inline)
			}

			// The dispatch card: Accept button, building and unit, never the room or phone.
			card := r.card(id)
			acceptLabel := r.G("btn.accept")
			if len(card.Inline) != 1 || len(card.Inline[0]) != 1 || card.Inline[0][0].Text != acceptLabel {
				t.Fatalf("card buttons %v, want one %q", card.Inline, acceptLabel)
			}
			if !strings.Contains(card.Text, lc.home.building+" / "+lc.home.unit) {
				t.Errorf("card without the building and unit: %q", card.Text)
			}
			for _, secret := range []string{lc.home.room, "13800138000", lc.home.name} {
				if strings.Contains(card.Text, secret) {
					t.Errorf("group card leaks %q: %q", secret, card.Text)
				}
			}

			// Accept: the same card is edited, the technician gets the details privately.
			techTop, resTop := r.top(tech.ID), r.top(res.ID)
			ans := r.tap(tech, e2eGroup, card, acceptLabel)
			if want := r.T(tech, "accept.toast", "ticket", id); ans.Text != want {
				t.Errorf("accept toast %q, want %q", ans.Text, want)
			}
			edited := r.next(e2eGroup, card.ID-1, "card edited after accept", func(m tgfake.Message) bool { return m.ID == card.ID && m.Edits > 0 })
			tk := r.ticket(id)
			wantStatus := r.G("card.status.accepted", "name", tech.FirstName, "time", tk.Updated.In(shanghai).Format("15:04"))
			if edited.Inline != nil || !strings.Contains(edited.Text, wantStatus) || !strings.Contains(edited.Text, lc.acceptedFragment) {
				t.Errorf("card after accept: %q buttons %v, want status %q and no buttons", edited.Text, edited.Inline, wantStatus)
			}
			if n := r.count(e2eGroup, withText(id)); n != 1 {
				t.Errorf("%d group messages for %s, want the one card edited in place", n, id)
			}
			job := r.next(tech.ID, techTop, "job details", both(withText(id), withButton(r.T(tech, "btn.on_the_way"))))
			for _, want := range []string{r.T(tech, "job.assigned", "ticket", id), lc.home.building + " / " + lc.home.unit + " / " + lc.home.room, lc.home.phone, lc.home.name, lc.desc} {
				if !strings.Contains(job.Text, want) {
					t.Errorf("job message lacks %q: %q", want, job.Text)
				}
			}
			photo := r.next(tech.ID, techTop, "the report's photo", func(m tgfake.Message) bool { return m.PhotoFileID != "" })
			if photo.Caption != id {
				t.Errorf("photo caption %q, want %q", photo.Caption, id)
			}
			r.next(res.ID, resTop, "resident told", withText(r.T(res, "status.accepted", "ticket", id, "name", tech.FirstName)))

			// The admin's /open lists it with its assignee while it is open.
			open := r.say(admin, "/open", withText(id))
			if !strings.Contains(open.Text, r.T(admin, "open.header", "n", 1)) || !strings.Contains(open.Text, tech.FirstName) {
				t.Errorf("/open: %q", open.Text)
			}

			// On site.
			resTop = r.top(res.ID)
			ans, way := r.tapThen(tech, tech.ID, job, r.T(tech, "btn.on_the_way"), withButton(r.T(tech, "btn.arrived")))
			if ans.Text != r.T(tech, "ok") {
				t.Errorf("on-the-way toast %q", ans.Text)
			}
			r.next(res.ID, resTop, "on the way", withText(r.T(res, "status.on_the_way", "ticket", id, "name", tech.FirstName)))
			_ = way
			resTop = r.top(res.ID)
			r.walkVisit(tech, res, true)

			// The resident signs the work order off; the technician says goodbye; the resident scores and comments.
			confirm := r.next(res.ID, resTop, "sign-off card", withButton(r.T(res, "btn.fixed")))
			for _, want := range []string{id, "¥25.00", "W02"} {
				if !strings.Contains(confirm.Text, want) {
					t.Errorf("work order lacks %q: %q", want, confirm.Text)
				}
			}
			r.tapNewest(res, res.ID, r.T(res, "btn.fixed"))
			r.tapNewest(tech, tech.ID, r.T(tech, "btn.goodbye"))
			score := r.next(res.ID, confirm.ID, "survey", withButton("5⭐"))
			ans, thanks := r.tapThen(res, res.ID, score, "5⭐", withText(r.T(res, "score.thanks", "ticket", id, "n", 5)))
			if ans.Text != r.T(res, "score.toast", "n", 5) {
				t.Errorf("score toast %q", ans.Text)
			}
			if buttonData(thanks, r.T(res, "btn.skip")) == "" {
				t.Errorf("no skip button on %q", thanks.Text)
			}
			r.say(res, lc.comment, withText(r.T(res, "score.comment_saved")))
			r.settle()

			final, _ := r.fake.Message(e2eGroup, card.ID)
			if !strings.Contains(final.Text, lc.closed) || final.Inline != nil {
				t.Errorf("closed card %q (buttons %v), want %q", final.Text, final.Inline, lc.closed)
			}
			if n := r.count(e2eGroup, withText(id)); n != 1 {
				t.Errorf("%d group messages for %s after closing, want 1", n, id)
			}
			tk = r.ticket(id)
			if tk.State != flows.StateClosed || tk.Score != 5 || tk.Comment != lc.comment || tk.AssigneeID != telegram.PersonID(tech.ID) || tk.Closed == nil || len(tk.Photos) != 1 {
				t.Errorf("stored ticket: %+v", tk)
			}
			r.noFailedRows()
			// Closed tickets are no longer listed.
			if m := r.say(admin, "/open", nil); m.Text != r.T(admin, "open.none") {
				t.Errorf("/open after closing: %q", m.Text)
			}
		})
	}
}

// checkMenus: setMyCommands in the default list and for zh and en: the
// residents' menu (staff get theirs in their own chat).
func (r *rig) checkMenus() {
	r.t.Helper()
	cmds := r.fake.Commands()
	menu := flows.MenuFor(flows.RoleResident)
	for code, l := range map[string]flows.Lang{"": r.o.Lang, "zh": flows.LangZH, "en": flows.LangEN} {
		got := cmds[code]
		if len(got) != len(menu) {
			r.t.Errorf("menu %q has %d commands, want %d", code, len(got), len(menu))
			continue
		}
		for i, k := range menu {
			if got[i].Command != k.Name || got[i].Description != r.texts.T(l, k.Key) {
				r.t.Errorf("menu %q entry %d: %+v, want %s %q", code, i, got[i], k.Name, r.texts.T(l, k.Key))
			}
		}
	}
}

// checkStaffMenu: a staff member's own chat has their role's menu, in
// their language (setMyCommands with a chat scope, through the outbox).
func (r *rig) checkStaffMenu(u tgfake.User, role flows.Role, l flows.Lang) {
	r.t.Helper()
	want := flows.MenuFor(role)
	key := fmt.Sprintf("chat:%d/", u.ID)
	if !r.fake.WaitFor(10*time.Second, func() bool { return len(r.fake.Commands()[key]) == len(want) }) {
		r.t.Fatalf("%s's menu: %+v, want %d commands", u.FirstName, r.fake.Commands()[key], len(want))
	}
	got := r.fake.Commands()[key]
	for i, k := range want {
		if got[i].Command != k.Name || got[i].Description != r.texts.T(l, k.Key) {
			r.t.Errorf("%s's menu entry %d: %+v, want %s %q", u.FirstName, i, got[i], k.Name, r.texts.T(l, k.Key))
		}
	}
	for _, c := range got {
		if c.Command == "open" || c.Command == "report" {
			r.t.Errorf("a %s's menu offers /%s", role, c.Command)
		}
	}
}

// textUpdate is a private text message as Telegram would post it.
func textUpdate(t *testing.T, id int64, u tgfake.User, msgID int, text string) []byte {
	t.Helper()
	b, err := json.Marshal(models.Update{ID: id, Message: &models.Message{
		ID: msgID, Date: int(time.Now().Unix()), Text: text,
		From: &models.User{ID: u.ID, FirstName: u.FirstName, LanguageCode: u.LanguageCode},
		Chat: models.Chat{ID: u.ID, Type: models.ChatTypePrivate, FirstName: u.FirstName},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// 2. Webhook mode: a redelivered update is handled once; the secret and
// the body are checked before anything is stored.
func TestE2EWebhookDeliveredTwice(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{Mode: "webhook"})
	res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}

	// Through Telegram (fake → front → listener).
	upd := r.fake.SendText(res, res.ID, "/start")
	r.next(res.ID, 0, "welcome", withText(r.T(res, "register.ask_name")))
	r.settle()
	if n := r.fake.Calls("setWebhook"); n != 1 {
		t.Errorf("setWebhook called %d times", n)
	}

	t.Run("Telegram's delivery posted again", func(t *testing.T) {
		r := r.with(t)
		body := r.forwardedBody(upd)
		if body == nil {
			t.Fatal("the fake's delivery was not seen by the front")
		}
		before := len(r.fake.Messages(res.ID))
		for i := 0; i < 2; i++ {
			if code := r.mustPost(body, e2eSecret); code != http.StatusOK {
				t.Fatalf("redelivery answered %d, want 200", code)
			}
		}
		r.settle()
		if n := len(r.fake.Messages(res.ID)); n != before {
			t.Errorf("redelivered /start produced %d more messages", n-before)
		}
	})

	t.Run("a fresh update posted twice", func(t *testing.T) {
		r := r.with(t)
		body := textUpdate(t, 900000001, res, 501, "王芳")
		for i := 0; i < 2; i++ {
			if code := r.mustPost(body, e2eSecret); code != http.StatusOK {
				t.Fatalf("delivery %d answered %d", i+1, code)
			}
		}
		r.settle()
		ask := r.T(res, "register.ask_phone", "name", "王芳")
		if n := r.count(res.ID, withText(ask)); n != 1 {
			t.Errorf("%d phone prompts for one update delivered twice, want 1", n)
		}
		if !r.seen(900000001) {
			t.Error("update not marked seen")
		}
	})

	t.Run("the same update posted concurrently", func(t *testing.T) {
		r := r.with(t)
		body := textUpdate(t, 900000002, res, 502, "/dupcheck")
		var wg sync.WaitGroup
		start := make(chan struct{})
		codes := make([]int, 6)
		errs := make([]error, len(codes))
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s := e2eSecret
				codes[i], errs[i] = r.post(body, http.MethodPost, &s)
			}()
		}
		close(start)
		wg.Wait()
		for i := range codes {
			if errs[i] != nil || codes[i] != http.StatusOK {
				t.Errorf("post %d: %d %v", i, codes[i], errs[i])
			}
		}
		r.settle()
		want := r.T(res, "err.unknown_command", "command", "dupcheck")
		if n := r.count(res.ID, withText(want)); n != 1 {
			t.Errorf("%d replies to one update posted 6 times at once, want 1", n)
		}
	})

	t.Run("a caller that hung up still gets the update committed", func(t *testing.T) {
		// A load balancer in front of replicas (or Telegram) may drop the
		// connection while the update is being handled; the commit must
		// not go with it (it would fail with "context canceled", be logged
		// as an error and be redone on the redelivery): the update is
		// committed, and its redelivery is a dedupe hit.
		r := r.with(t)
		ch := r.channel()
		if ch == nil {
			t.Fatal("channel is down")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // gone before the handler runs
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, e2eHook,
			bytes.NewReader(textUpdate(t, 900000003, res, 503, "/hungup")))
		req.Header.Set(secretHeader, e2eSecret)
		w := httptest.NewRecorder()
		ch.WebhookHandler().ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("answered %d (%s), want 200", w.Code, strings.TrimSpace(w.Body.String()))
		}
		if !r.seen(900000003) {
			t.Fatal("the update of a caller that hung up was not committed")
		}
		r.settle()
		want := r.T(res, "err.unknown_command", "command", "hungup")
		if n := r.count(res.ID, withText(want)); n != 1 {
			t.Errorf("%d replies to the update, want 1", n)
		}
	})

	t.Run("bad secret or body stores nothing", func(t *testing.T) {
		r := r.with(t)
		wrong, empty, almost := "not-the-secret", "", e2eSecret+"x"
		stats0, _ := r.store().Stats()
		msgs0 := len(r.fake.Messages(res.ID))
		for i, tc := range []struct {
			name   string
			method string
			secret *string
			body   []byte
			want   int
		}{
			{"no secret", http.MethodPost, nil, nil, http.StatusUnauthorized},
			{"wrong secret", http.MethodPost, &wrong, nil, http.StatusUnauthorized},
			{"empty secret", http.MethodPost, &empty, nil, http.StatusUnauthorized},
			{"secret with a suffix", http.MethodPost, &almost, nil, http.StatusUnauthorized},
			{"malformed JSON", http.MethodPost, ptr(e2eSecret), []byte(`{"update_id": 12, "message": {`), http.StatusBadRequest},
			{"not an object", http.MethodPost, ptr(e2eSecret), []byte(`[1,2,3]`), http.StatusBadRequest},
			{"update_id zero", http.MethodPost, ptr(e2eSecret), []byte(`{"update_id":0}`), http.StatusBadRequest},
			{"GET", http.MethodGet, ptr(e2eSecret), nil, http.StatusMethodNotAllowed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := int64(900000100 + i)
				body := tc.body
				if body == nil {
					body = textUpdate(t, id, res, 600+i, "/help")
				}
				code, err := r.post(body, tc.method, tc.secret)
				if err != nil || code != tc.want {
					t.Fatalf("answered %d (%v), want %d", code, err, tc.want)
				}
				if r.seen(id) {
					t.Errorf("update %d stored despite %d", id, code)
				}
			})
		}
		stats, _ := r.store().Stats()
		if stats.Pending+stats.Delivered+stats.Failed != stats0.Pending+stats0.Delivered+stats0.Failed {
			t.Errorf("outbox changed: %+v → %+v", stats0, stats)
		}
		if n := len(r.fake.Messages(res.ID)); n != msgs0 {
			t.Errorf("rejected posts produced %d messages", n-msgs0)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// callbackOf decodes a captured callback update.
func callbackOf(t *testing.T, body []byte) *models.CallbackQuery {
	t.Helper()
	var u models.Update
	if err := json.Unmarshal(body, &u); err != nil || u.CallbackQuery == nil {
		t.Fatalf("not a callback update: %s (%v)", body, err)
	}
	return u.CallbackQuery
}

// 3. Two technicians tap Accept on the same card at once: exactly one wins.
func TestE2EConcurrentAccept(t *testing.T) {
	t.Parallel()
	admin := tgfake.User{ID: adminID, FirstName: "陈主管", LanguageCode: "zh-hans"}
	tech1 := tgfake.User{ID: 2001, FirstName: "张师傅", LanguageCode: "zh-hans"}
	tech2 := tgfake.User{ID: 2002, FirstName: "Tech Li", LanguageCode: "en"}
	res := tgfake.User{ID: 3001, FirstName: "王芳", LanguageCode: "zh-hans"}
	names := map[int64]string{tech1.ID: tech1.FirstName, tech2.ID: tech2.FirstName}
	byID := map[int64]tgfake.User{tech1.ID: tech1, tech2.ID: tech2}

	// checkRace verifies one accept race on ticket id between the two
	// technicians' queries.
	checkRace := func(r *rig, id string, card tgfake.Message, queries map[int64]string) int64 {
		r.t.Helper()
		tk := r.ticket(id)
		if tk.State != flows.StateAccepted {
			r.t.Fatalf("%s is %s after the race", id, tk.State)
		}
		var winner int64
		for uid := range byID {
			if tk.AssigneeID == telegram.PersonID(uid) {
				winner = uid
			}
		}
		if winner == 0 {
			r.t.Fatalf("%s assigned to %q", id, tk.AssigneeID)
		}
		for uid, qid := range queries {
			u := byID[uid]
			a, ok := r.fake.CallbackAnswer(qid)
			if !ok {
				r.t.Errorf("%s's tap on %s was not answered", u.FirstName, id)
				continue
			}
			if uid == winner {
				if want := r.T(u, "accept.toast", "ticket", id); a.Text != want {
					r.t.Errorf("winner's answer %q, want %q", a.Text, want)
				}
				continue
			}
			want := r.T(u, "err.already_taken", "ticket", id, "name", names[winner])
			frag := map[flows.Lang]string{flows.LangZH: "已被", flows.LangEN: "already accepted"}[userLang(u)]
			if a.Text != want || !strings.Contains(a.Text, frag) || !a.ShowAlert {
				r.t.Errorf("loser's answer %q (alert %v), want %q", a.Text, a.ShowAlert, want)
			}
		}
		jobs := 0
		for uid, u := range byID {
			n := r.count(uid, withText(r.T(u, "job.assigned", "ticket", id)))
			if n > 0 && uid != winner {
				r.t.Errorf("the loser %s got the job %s", u.FirstName, id)
			}
			jobs += n
		}
		if jobs != 1 {
			r.t.Errorf("%d job messages for %s, want 1", jobs, id)
		}
		now, _ := r.fake.Message(e2eGroup, card.ID)
		if now.Edits != 1 || now.Inline != nil || !strings.Contains(now.Text, names[winner]) {
			r.t.Errorf("card after the race: edits %d, buttons %v, %q", now.Edits, now.Inline, now.Text)
		}
		return winner
	}

	t.Run("webhook, concurrent posts", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{Mode: "webhook", NoPhotos: true})
		r.hire(admin, tech1, "technician")
		r.hire(admin, tech2, "technician")
		r.register(res, zhHome)
		const rounds = 20
		ids := make([]string, rounds)
		for i := range ids {
			ids[i], _ = r.report(res, reportSpec{desc: fmt.Sprintf("第 %d 处漏水", i+1), public: i%2 == 1})
		}
		r.settle()
		accept := r.G("btn.accept")
		wins := map[string]int{}
		for _, id := range ids {
			card := r.card(id)
			bodies := r.capture(2, func() {
				for _, u := range []tgfake.User{tech1, tech2} {
					if _, err := r.fake.Tap(u, e2eGroup, card.ID, accept); err != nil {
						t.Fatal(err)
					}
				}
			})
			queries := map[int64]string{}
			for _, b := range bodies {
				q := callbackOf(t, b)
				queries[q.From.ID] = q.ID
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			codes := make([]int, len(bodies))
			errs := make([]error, len(bodies))
			for i, b := range bodies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					s := e2eSecret
					codes[i], errs[i] = r.post(b, http.MethodPost, &s)
				}()
			}
			close(start)
			wg.Wait()
			for i := range codes {
				if errs[i] != nil || codes[i] != http.StatusOK {
					t.Fatalf("%s: post %d answered %d (%v)", id, i, codes[i], errs[i])
				}
			}
			r.settle()
			wins[names[checkRace(r, id, card, queries)]]++
		}
		t.Logf("winners over %d races: %v", rounds, wins)
		r.noFailedRows()
	})

	t.Run("polling, two taps", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, rigOptions{NoPhotos: true})
		r.hire(admin, tech1, "technician")
		r.hire(admin, tech2, "technician")
		r.register(res, zhHome)
		id, _ := r.report(res, reportSpec{desc: "水管爆了"})
		card := r.card(id)
		r.settle()
		accept := r.G("btn.accept")
		data := buttonData(card, accept)
		n := len(r.fake.Entries())
		for _, u := range []tgfake.User{tech1, tech2} {
			if _, err := r.fake.Tap(u, e2eGroup, card.ID, accept); err != nil {
				// The first tap was already handled and the button is gone.
				r.fake.TapData(u, e2eGroup, card.ID, data)
			}
		}
		r.settle()
		// Polling handles updates one by one in update order, so the
		// answers come in the order of the taps.
		var answers []tgfake.Entry
		for _, e := range r.fake.Entries()[n:] {
			if e.Kind == "bot_answer" {
				answers = append(answers, e)
			}
		}
		if len(answers) != 2 {
			t.Fatalf("%d answers to two taps", len(answers))
		}
		checkRace(r, id, card, map[int64]string{tech1.ID: answers[0].Data, tech2.ID: answers[1].Data})
	})
}
