package wecom_test

import (
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
)

// BenchmarkOutbound queues 90 messages for one member at once against the
// fake, which drops message/send beyond 30 in any rolling window like WeCom
// (the window is shortened to 6 s so a run takes seconds; the budget is
// scaled the same way). It reports the achieved rate against the best legal
// schedule and the silent drops (must be 0).
//
//	go test -run '^$' -bench Outbound -benchtime 1x ./bot/wecom/
func BenchmarkOutbound(b *testing.B) {
	const n, window = 90, 6 * time.Second
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := newRig(b, rigOptions{MemberWindow: window})
		b.StartTimer()
		start := time.Now()
		r.enqueue(texts(wecom.UserAddress("tech01"), n)...)
		for deadline := start.Add(5 * time.Minute); len(r.fake.Sent("tech01")) < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("delivered %d of %d", len(r.fake.Sent("tech01")), n)
			}
		}
		took := time.Since(start)
		b.StopTimer()
		// The best legal schedule: 30 at once, 30 a window later, ...
		best := float64(n-30) / 30 * window.Seconds()
		b.ReportMetric(100*best/took.Seconds(), "%_of_allowed")
		b.ReportMetric(float64(r.fake.Dropped("tech01")), "dropped")
		b.ReportMetric(took.Seconds(), "seconds")
		r.stop()
	}
}
