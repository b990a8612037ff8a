package flows_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/flows/flowstest"
)

// TestAreasEditInChat: an admin edits an area in chat — the service
// phone residents are told, the name registration offers, the buildings,
// the technicians' group, the leads — each in force at once and kept
// across a restart; "reset" returns a field to the configuration; bad
// values and other people are refused.
func TestAreasEditInChat(t *testing.T) {
	w := areaWorld(t)
	say := func(p flowstest.Person, arg string) string {
		t.Helper()
		w.Cmd(p, "area", arg)
		return w.LastText(w.Drain(), p.Chat()).Text
	}
	if got := say(admin, ""); !strings.Contains(got, "east｜东苑小区") || !strings.Contains(got, "west｜西苑小区") {
		t.Errorf("/area lists:\n%s", got)
	}
	refused := func(p flowstest.Person, arg, want string) {
		t.Helper()
		res := w.Cmd(p, "area", arg)
		if got := w.LastText(w.Drain(), p.Chat()).Text; res.Refused == "" || !strings.Contains(got, want) {
			t.Errorf("/area %s by %s: refused %q, answer %q, want a refusal containing %q", arg, p.Name, res.Refused, got, want)
		}
	}
	refused(eastLead, "east phone 0571-9999", "只有管理员")
	for _, c := range []struct{ arg, want string }{
		{"nowhere phone 0571-9999", "没有这个片区"},
		{"east colour red", "用法：/area"},
		{"east phone", "用法：/area"},
		{"east phone call-me", "电话号码只能包含"},
		{"east accept 5s", "时限写成"},
		{"east group wx:-100", "维修群写成"},
		{"east group tg:12345", "维修群写成"},
		{"east leads 张三", "不是人员编号"},
		{"east buildings " + strings.Repeat("楼", 40), "太长或重复"},
		{"east price.NOPE 35", "价目表中没有编码"},
		{"east price.W02 -3", "价格写成元"},
		{"east zh " + strings.Repeat("名", 33), "名称须为"},
	} {
		refused(admin, c.arg, c.want)
	}

	// The phone: what an east resident is told to call, not west's.
	if got := say(admin, "east phone 0571-9999"); !strings.Contains(got, "0571-9999") || !strings.Contains(got, "（已在线修改）") {
		t.Errorf("the edit's answer:\n%s", got)
	}
	cancelTold := func(res flowstest.Person) string {
		t.Helper()
		id := w.Report(res, "门锁坏了")
		w.Expect(w.Console(admin, flows.ConsoleCancel, id, map[string]string{"reason": "重复报修"}))
		return w.LastText(w.Drain(), res.Chat()).Text
	}
	if got := cancelTold(eastRes); !strings.Contains(got, "0571-9999") {
		t.Errorf("the east resident is not told the edited phone: %q", got)
	}
	if got := cancelTold(westRes); !strings.Contains(got, "0571-2222") {
		t.Errorf("the west resident is not told west's phone: %q", got)
	}

	// The name, the buildings and the group.
	say(admin, "east zh 东湖苑")
	say(admin, "west buildings 8号楼, 9号楼")
	say(admin, "east group tg:-100999")
	newcomer := flowstest.Person{ID: 130, Name: "新住户"}
	w.Cmd(newcomer, "start", "")
	w.Text(newcomer, newcomer.Name)
	w.Contact(newcomer, "13800138130", true)
	ask := w.Last(w.Drain(), newcomer.Chat())
	w.Tap(newcomer, buttonWith(w, ask, "西苑小区"), false)
	buildings := w.Last(w.Drain(), newcomer.Chat())
	buttonWith(w, buttons(t, ask, "东湖苑"), "东湖苑")
	buttonWith(w, buildings, "9号楼")
	east, msgs := reportAll(t, w, eastRes, "水管漏水")
	edited := flows.Address{Channel: "tg", Chat: "-100999"}
	if got := To(msgs, edited); len(got) != 1 || !strings.Contains(got[0].Text, east) || len(To(msgs, eastGroup)) != 0 {
		t.Errorf("east's card went to %+v, not the edited group", msgs)
	}

	// The leads: the east lead becomes west's too, at once.
	say(admin, "west leads "+westLead.PID()+" "+eastLead.PID())
	if got := person(t, w, eastLead).Areas; !slices.Contains(got, "west") {
		t.Errorf("the east lead's areas %v after being named west's lead", got)
	}
	west := w.Report(westRes, "西边漏水")
	w.Cmd(eastLead, "open", "")
	if got := w.LastText(w.Drain(), eastLead.Chat()).Text; !strings.Contains(got, west) {
		t.Errorf("the east lead, now west's too, does not see west's ticket %s:\n%s", west, got)
	}

	// A price override, in fen.
	say(admin, "east price.W02 88.5")
	if a, _ := w.Eng.Area("east"); a.Prices["W02"] != 8850 {
		t.Errorf("east's W02 price %d fen, want 8850", a.Prices["W02"])
	}

	// A restart keeps the edits; reset returns a field to the configuration.
	w.Reopen()
	east2, msgs := reportAll(t, w, eastRes, "又漏水")
	if got := To(msgs, edited); len(got) != 1 || !strings.Contains(got[0].Text, east2) {
		t.Errorf("after a restart east's card went to %+v", msgs)
	}
	if got := say(admin, "east"); !strings.Contains(got, "东湖苑") || !strings.Contains(got, "0571-9999") {
		t.Errorf("after a restart east is:\n%s", got)
	}
	if got := say(admin, "east phone reset"); !strings.Contains(got, "0571-1111") || strings.Contains(got, "phone：0571-1111 （已在线修改）") {
		t.Errorf("reset did not return the configured phone:\n%s", got)
	}
	if got := cancelTold(eastRes); !strings.Contains(got, "0571-1111") {
		t.Errorf("after the reset the east resident is told %q", got)
	}
}

// buttons returns m after checking it has a button labelled label.
func buttons(t *testing.T, m flows.Message, label string) flows.Message {
	t.Helper()
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.Text == label {
				return m
			}
		}
	}
	t.Errorf("no button %q in %q", label, m.Text)
	return m
}
