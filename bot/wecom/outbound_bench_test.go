package wecom_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/bot/wecom/wecomfake"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
	"github.com/repairbot/repairbot/i18n"
	"github.com/repairbot/repairbot/sop"
	"github.com/repairbot/repairbot/store"
)

// BenchmarkOutbound queues 90 messages for one member at once against the
// fake, which drops message/send beyond 30 in any rolling window like WeCom
// (the window is shortened to 6 s so a run takes seconds; the budget is
// scaled the same way). It reports the achieved rate against the allowed
// one and the silent drops (must be 0).
//
//	go test -run '^$' -bench Outbound -benchtime 1x ./bot/wecom/
func BenchmarkOutbound(b *testing.B) {
	const n, window = 90, 6 * time.Second
	for i := 0; i < b.N; i++ {
		fake := wecomfake.New(wecomfake.Options{CorpID: corpID, AgentID: agentID, Secret: secret, Token: cbToken, EncodingAESKey: aesKey, MemberWindow: window})
		fake.AddMember("tech01")
		st, err := store.Open(filepath.Join(b.TempDir(), "o.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		eng, err := flows.NewEngine(flows.Options{Store: st, Texts: i18n.MustLoad(flows.LangZH), Categories: flowstest.DefaultCategories, SOP: sop.Default()})
		if err != nil {
			b.Fatal(err)
		}
		ch, err := wecom.New(wecom.Options{CorpID: corpID, AgentID: agentID, Secret: secret, Token: cbToken, EncodingAESKey: aesKey,
			APIURL: fake.URL(), Engine: eng, Store: st, Log: zerolog.Nop(), HTTPTimeout: 5 * time.Second,
			Send: wecom.SendLimits{Member: wecom.Budget{N: 30, Per: window}, GlobalPerSecond: 1000}})
		if err != nil {
			b.Fatal(err)
		}
		if err := ch.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		msgs := texts(wecom.UserAddress("tech01"), n)
		b.ResetTimer()
		start := time.Now()
		if err := st.Update(context.Background(), func(tx flows.Tx) error { return tx.Enqueue(msgs...) }); err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Minute); len(fake.Sent("tech01")) < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("delivered %d of %d", len(fake.Sent("tech01")), n)
			}
		}
		took := time.Since(start)
		b.StopTimer()
		// The best legal schedule: 30 at once, 30 a window later, ...
		allowed := float64(n-30) / 30 * window.Seconds()
		b.ReportMetric(100*allowed/took.Seconds(), "%_of_allowed")
		b.ReportMetric(float64(fake.Dropped("tech01")), "dropped")
		b.ReportMetric(took.Seconds(), "seconds")
		ch.Close()
		st.Close()
		fake.Close()
	}
}
