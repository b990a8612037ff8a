package telegram_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/telegram/tgfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/outbox"
	"github.com/repairbot/repairbot/sop"
)

var morningTicket = regexp.MustCompile(`BX-\d{8}-\d{4}`)

// BenchmarkMorning is a busy morning end to end, through the fake Bot API
// with Telegram's limits enforced: 1,000 residents finish their report
// within one minute (each one last tap; 50 of them tap an emergency), three
// technicians are on duty. It reports the resident's acknowledgment
// latency, the time until the first on-duty technician is paged for each
// emergency, how long until every ticket was offered in the group (cards or
// digests), the group messages sent and the 429 answers.
//
//	go test -run '^$' -bench Morning -benchtime 1x -timeout 30m ./bot/telegram/
//
// BenchmarkMorning/bbolt is one process polling; BenchmarkMorning/replicas2
// is two replicas on PostgreSQL (REPAIRBOT_PG_DSN; skipped without), each
// with its engine and channel in webhook mode behind a round-robin front:
// both receive, the leader alone sends.
func BenchmarkMorning(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) { benchMorning(b, 1) })
	b.Run("replicas2", func(b *testing.B) { benchMorning(b, 2) })
}

func benchMorning(b *testing.B, replicas int) {
	const residents, emergencies, window = 1000, 50, time.Minute
	for it := 0; it < b.N; it++ {
		fake := tgfake.New(tgfake.Options{Token: e2eToken, EnforceLimits: true})
		fake.AddGroup(e2eGroup, "维修班组")
		var stores []flows.Store
		var leading []func() bool
		if replicas == 1 {
			st, err := testkit.Open(filepath.Join(b.TempDir(), "morning.db"), testkit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			stores, leading = append(stores, st), append(leading, nil)
		} else {
			dsn := testkit.PostgresDSN(b)
			for range replicas {
				ps, err := testkit.OpenReplica(context.Background(), dsn)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ps.TryLead(context.Background()); err != nil {
					b.Fatal(err)
				}
				stores, leading = append(stores, ps), append(leading, ps.Leading)
			}
		}
		st := stores[0]
		techs := []string{"tg:2001", "tg:2002", "tg:2003"}
		texts := i18n.MustLoad(flows.LangZH)
		var engines []*flows.Engine
		for _, s := range stores {
			eng, err := flows.NewEngine(flows.Options{Store: s, Texts: texts, Categories: flowstest.DefaultCategories, SOP: sop.Default(),
				GroupCommit: true, Group: telegram.ChatAddress(e2eGroup), OnDuty: func(time.Time) []string { return techs },
				Emergencies: []flows.EmergencyType{{Key: "water_leak", Category: "water", Labels: map[flows.Lang]string{flows.LangZH: "跑水", flows.LangEN: "Water leak"},
					AcceptWithin: 2 * time.Minute, ArriveWithin: 5 * time.Minute, ManagerAfter: 10 * time.Minute}}})
			if err != nil {
				b.Fatal(err)
			}
			engines = append(engines, eng)
		}
		// Seed the people: technicians, and residents half-way through a
		// report (the timing step; emergencies at the category step).
		err := st.Update(context.Background(), func(tx flows.Tx) error {
			for i, id := range techs {
				chat := telegram.ChatAddress(int64(2001 + i))
				if err := tx.PutPerson(&flows.Person{ID: id, Role: flows.RoleTechnician, Name: fmt.Sprintf("师傅%d", i+1), Registered: true, Lang: flows.LangZH, Chat: chat}); err != nil {
					return err
				}
			}
			for i := 0; i < residents; i++ {
				uid := int64(100000 + i)
				p := &flows.Person{ID: telegram.PersonID(uid), Role: flows.RoleResident, Name: "住户", Registered: true, Lang: flows.LangZH,
					Chat: telegram.ChatAddress(uid), Building: fmt.Sprintf("%d栋", i%30+1), Unit: "1单元", Room: fmt.Sprint(100 + i%20)}
				if err := tx.PutPerson(p); err != nil {
					return err
				}
				d := &flows.Dialogue{PersonID: p.ID, Kind: "report", Step: "timing", Seq: 5, Category: "water", Description: "厨房水管漏水", Kind2: flows.OrderHousehold}
				if i%(residents/emergencies) == 0 {
					d = &flows.Dialogue{PersonID: p.ID, Kind: "report", Step: "category", Seq: 1}
				}
				if err := tx.PutDialogue(d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		// The technicians have written to the bot before (their chats exist).
		for i := range techs {
			fake.SendText(tgfake.User{ID: int64(2001 + i), FirstName: "师傅"}, int64(2001+i), "/help")
		}
		var front *testkit.Front
		var channels []*telegram.Channel
		for i, s := range stores {
			o := telegram.Options{Token: e2eToken, APIURL: fake.URL(), PollTimeout: time.Second,
				Deps: bot.Deps{Engine: engines[i], Store: s, Outbox: s.(outbox.Queue), Texts: texts, Log: zerolog.Nop(), Leading: leading[i]},
				Send: telegram.SendLimits{PerChatPerSecond: 1, GroupPerMinute: 20, GlobalPerSecond: 30, Workers: 8}}
			if replicas > 1 {
				if front == nil {
					front = testkit.NewFront(b)
				}
				o.Mode, o.WebhookListen, o.WebhookPath, o.WebhookSecret = "webhook", "127.0.0.1:0", e2eHook, e2eSecret
				o.WebhookURL = front.URL() + e2eHook
			}
			ch, err := telegram.New(o)
			if err != nil {
				b.Fatal(err)
			}
			channels = append(channels, ch)
		}
		// Timestamps of what the bot sent, per chat.
		var mu sync.Mutex
		firstAck := map[int64]time.Time{}
		ticketOf := map[int64]string{}
		paged := map[string]time.Time{}
		offered := map[string]time.Time{}
		groupMsgs := 0
		fake.OnEntry(func(e tgfake.Entry) {
			if e.Kind != "bot_send" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case e.ChatID == e2eGroup:
				groupMsgs++
				for _, id := range morningTicket.FindAllString(e.Text, -1) {
					if _, ok := offered[id]; !ok {
						offered[id] = e.At
					}
				}
			case e.ChatID >= 100000:
				if id := morningTicket.FindString(e.Text); id != "" {
					if _, ok := firstAck[e.ChatID]; !ok {
						firstAck[e.ChatID], ticketOf[e.ChatID] = e.At, id
					}
				}
			default: // a technician
				if id := morningTicket.FindString(e.Text); id != "" && strings.Contains(e.Text, "🚨") {
					if _, ok := paged[id]; !ok {
						paged[id] = e.At
					}
				}
			}
		})
		for _, ch := range channels {
			if err := ch.Open(context.Background()); err != nil {
				b.Fatal(err)
			}
			if front != nil {
				front.Add(ch.WebhookAddr())
			}
		}
		b.ResetTimer()
		tapped := map[int64]time.Time{}
		start := time.Now()
		for i := 0; i < residents; i++ {
			due := start.Add(window * time.Duration(i) / residents)
			time.Sleep(time.Until(due))
			uid := int64(100000 + i)
			data := "1|d|5|asap"
			if i%(residents/emergencies) == 0 {
				data = "1|d|1|em:water_leak"
			}
			tapped[uid] = time.Now()
			fake.TapData(tgfake.User{ID: uid, FirstName: "住户", LanguageCode: "zh-hans"}, uid, 0, data)
		}
		// Until every resident is acknowledged and every ticket offered.
		done := func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(firstAck) == residents && len(offered) >= residents
		}
		fake.WaitFor(15*time.Minute, done)
		total := time.Since(start)
		b.StopTimer()
		mu.Lock()
		var ack, page []float64
		for uid, at := range firstAck {
			ack = append(ack, at.Sub(tapped[uid]).Seconds())
			if uid%int64(residents/emergencies) == 100000%int64(residents/emergencies) && (uid-100000)%int64(residents/emergencies) == 0 {
				if p, ok := paged[ticketOf[uid]]; ok {
					page = append(page, p.Sub(tapped[uid]).Seconds())
				}
			}
		}
		var lastOffer time.Time
		for _, at := range offered {
			if at.After(lastOffer) {
				lastOffer = at
			}
		}
		acked, offeredN, groups := len(firstAck), len(offered), groupMsgs
		mu.Unlock()
		pct := func(xs []float64, p float64) float64 {
			if len(xs) == 0 {
				return -1
			}
			sort.Float64s(xs)
			return xs[int(float64(len(xs)-1)*p)]
		}
		b.ReportMetric(pct(ack, .5), "ack_p50_s")
		b.ReportMetric(pct(ack, .99), "ack_p99_s")
		b.ReportMetric(pct(page, .99), "emergency_page_p99_s")
		b.ReportMetric(float64(len(page)), "emergencies_paged")
		b.ReportMetric(float64(acked), "acked")
		b.ReportMetric(float64(offeredN), "offered")
		b.ReportMetric(lastOffer.Sub(start).Seconds(), "all_offered_after_s")
		b.ReportMetric(float64(groups), "group_msgs")
		b.ReportMetric(float64(fake.TooMany()), "429s")
		b.ReportMetric(total.Seconds(), "total_s")
		if front != nil {
			for i, n := range front.Stats().Handed {
				b.ReportMetric(float64(n), fmt.Sprintf("replica%d_updates", i))
			}
		}
		for _, ch := range channels {
			ch.Close()
		}
		for _, s := range stores {
			s.(interface{ Close() error }).Close()
		}
		fake.Close()
	}
}
