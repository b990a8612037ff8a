package telegram_test

import (
	"context"
	"fmt"
	"path/filepath"
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

// BenchmarkOutbound measures the sender against a fake that enforces
// Telegram's limits (≈1/s per private chat, 20/min per group, 30/s overall)
// and answers 429 beyond them: the achieved rate against the allowed one,
// and the 429s received. Each iteration delivers 300 messages to 100
// private chats plus 10 group messages, all queued at once.
//
//	go test -run '^$' -bench Outbound -benchtime 1x ./bot/telegram/
func BenchmarkOutbound(b *testing.B) {
	const chats, perChat, group = 100, 3, 10
	for i := 0; i < b.N; i++ {
		fake := tgfake.New(tgfake.Options{Token: e2eToken, EnforceLimits: true})
		fake.AddGroup(e2eGroup, "维修班组")
		st, err := testkit.Open(filepath.Join(b.TempDir(), "bench.db"), testkit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		texts := i18n.MustLoad(flows.LangZH)
		eng, err := flows.NewEngine(flows.Options{Store: st, Texts: texts, Categories: flowstest.DefaultCategories, SOP: sop.Default(), GroupCommit: true})
		if err != nil {
			b.Fatal(err)
		}
		ch, err := telegram.New(telegram.Options{Token: e2eToken, APIURL: fake.URL(), PollTimeout: time.Second,
			Deps: bot.Deps{Engine: eng, Store: st, Outbox: st, Texts: texts, Log: zerolog.Nop()},
			Send: telegram.SendLimits{PerChatPerSecond: 1, GroupPerMinute: 20, GlobalPerSecond: 30, Workers: 16}})
		if err != nil {
			b.Fatal(err)
		}
		// Each user opens the private chat (as on Telegram, the bot may
		// only write to people who wrote first); the bot's answers go out
		// before the measurement starts.
		for u := 0; u < chats; u++ {
			fake.SendText(tgfake.User{ID: int64(9000 + u), FirstName: "u"}, int64(9000+u), "/help")
		}
		if err := ch.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		drained := func() bool { s, _ := st.Stats(); return fake.Pending() == 0 && s.Pending == 0 }
		if !fake.WaitFor(time.Minute, drained) {
			b.Fatal("warm-up did not drain")
		}
		before429 := fake.TooMany()
		var msgs []flows.Message
		for k := 0; k < perChat; k++ {
			for u := 0; u < chats; u++ {
				msgs = append(msgs, flows.Message{To: telegram.ChatAddress(int64(9000 + u)), Kind: flows.KindSend, Text: fmt.Sprintf("message %d", k)})
			}
		}
		for g := 0; g < group; g++ {
			msgs = append(msgs, flows.Message{To: telegram.ChatAddress(e2eGroup), Kind: flows.KindSend, Text: fmt.Sprintf("card %d", g)})
		}
		b.ResetTimer()
		start := time.Now()
		if err := st.Update(context.Background(), func(tx flows.Tx) error { return tx.Enqueue(msgs...) }); err != nil {
			b.Fatal(err)
		}
		privateDone := func() bool {
			n := 0
			for u := 0; u < chats; u++ {
				n += len(fake.Messages(int64(9000+u))) - 1
			}
			return n >= chats*perChat
		}
		if !fake.WaitFor(5*time.Minute, privateDone) {
			b.Fatal("private messages not delivered")
		}
		privateTime := time.Since(start)
		if !fake.WaitFor(5*time.Minute, drained) {
			b.Fatal("outbox not drained")
		}
		b.StopTimer()
		// The private messages are bound by the 30/s global budget (3 per
		// chat at 1/s each would allow them in 3 s).
		allowed := float64(chats*perChat) / 30
		b.ReportMetric(float64(chats*perChat)/privateTime.Seconds(), "private_msgs/s")
		b.ReportMetric(100*allowed/privateTime.Seconds(), "%_of_allowed")
		b.ReportMetric(float64(fake.TooMany()-before429), "429s")
		if rows, _ := st.Rows(outbox.StatusFailed); len(rows) > 0 {
			b.Fatalf("%d messages failed", len(rows))
		}
		ch.Close()
		st.Close()
		fake.Close()
	}
}
