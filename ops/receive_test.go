package ops_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/internal/testkit"
	"github.com/repairbot/repairbot/ops"
)

// fakeReceiver counts what it receives (bot.ReceiveReporter).
type fakeReceiver struct {
	fakeChannel
	st bot.ReceiveStats
}

func (f *fakeReceiver) ReceiveStats() bot.ReceiveStats { return f.st }

// A channel that counts what it receives has its updates received and
// handled and its offset resets exported, live, by channel.
func TestReceiveMetrics(t *testing.T) {
	st := testkit.MustOpen(t, filepath.Join(t.TempDir(), "repair.db"), testkit.Options{})
	t.Cleanup(func() { st.Close() })
	rx := &fakeReceiver{fakeChannel: fakeChannel{"telegram"}, st: bot.ReceiveStats{Received: 9, Handled: 7, OffsetResets: 1}}
	srv, err := ops.New(ops.Options{Store: st, Outbox: st, Channels: []bot.Channel{rx}, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{srv: srv}
	_, body := r.get(t, "/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"repairbot_channel_updates_received_total": 9,
		"repairbot_channel_updates_handled_total": 7, "repairbot_channel_offset_resets_total": 1} {
		f, ok := fams[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		m := f.GetMetric()[0]
		if m.GetLabel()[0].GetValue() != "telegram" || m.GetCounter().GetValue() != want {
			t.Errorf("%s = %v %v, want %v", name, m.GetLabel(), m.GetCounter().GetValue(), want)
		}
	}
	rx.st.OffsetResets = 2
	if _, body := r.get(t, "/metrics"); !strings.Contains(body, `repairbot_channel_offset_resets_total{channel="telegram"} 2`) {
		t.Errorf("not live:\n%s", body)
	}
}
