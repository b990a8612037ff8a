package flows_test

import (
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestRentalProfile: SOP 3.1 and the rental variant (三, 四.5.5, 五) — in
// the rental profile the lead is the area manager (片区经理), customer
// service the 客服专员, and the work orders are the 有偿服务维修单
// (household) and the 公共设施设备维修单 (public); a visit in that profile
// shows them where the property profile shows its own.
func TestRentalProfile(t *testing.T) {
	w := flowstest.New(t, flowstest.WithOptions(func(o *flows.Options) { o.Profile = "rental" }))
	w.Register(resident, "13800138000")
	w.Staff(tech, "technician")
	cs := flowstest.Person{ID: 400, Name: "客服小刘"}
	joined := func(p flowstest.Person, role string) string {
		t.Helper()
		admin := flowstest.Person{ID: 1, Name: "Admin"}
		w.Cmd(admin, "invite", role)
		m := w.Last(w.Drain(), admin.Chat())
		contains(t, m.Text, map[string]string{"lead": "片区经理", "dispatcher": "客服专员"}[role])
		code := strings.Fields(m.Text[strings.Index(m.Text, "start=")+len("start="):])[0]
		w.Cmd(p, "start", code)
		return w.Last(w.Drain(), p.Chat()).Text
	}
	contains(t, joined(lead, "lead"), "您的身份是：片区经理")
	contains(t, joined(cs, "dispatcher"), "您的身份是：客服专员")

	// A household visit: the 有偿服务维修单, and its fee question answered by the 客服专员.
	id := w.Report(resident, "卫生间漏水")
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", id), true))
	w.WalkToSignoff(tech, resident, id)
	rows, _ := w.Store.Rows("delivered")
	var card flows.Message
	for _, r := range rows {
		if r.Msg.To == resident.Chat() && strings.Contains(r.Msg.Text, id) && len(r.Msg.Buttons) > 0 && strings.Contains(r.Msg.Text, "📄") {
			card = r.Msg
		}
	}
	contains(t, card.Text, "📄 有偿服务维修单 "+id)
	w.Expect(w.Tap(resident, flows.EncodePayload("fee", id), false))
	w.Expect(w.Tap(cs, flows.EncodePayload("fa", id), false))
	w.Text(cs, "按价目表收费")
	contains(t, w.Last(w.Drain(), resident.Chat()).Text, "客服专员 客服小刘 答复您")
	w.Expect(w.Tap(resident, flows.EncodePayload("fix", id), false))

	// A public order: the 公共设施设备维修单.
	pub := w.Report(resident, "楼道灯不亮")
	seedKind(t, w, pub, flows.OrderPublic)
	w.Expect(w.Tap(tech, flows.EncodePayload("acc", pub), true))
	w.WalkToSignoff(tech, resident, pub)
	w.Cmd(resident, "order", pub)
	contains(t, w.LastText(w.Drain(), resident.Chat()).Text, "📄 公共设施设备维修单 "+pub)
}
