package wecom_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/repairbot/repairbot/bot/wecom"
)

// TestCreateAppChat: the admin command creates the technicians' group
// chat from the WeCom-linked technicians and leads in the store and
// returns the chat id for group_chat_id; the API's rules are checked
// before the call, and the fake enforces them too.
func TestCreateAppChat(t *testing.T) {
	r := newRig(t, rigOptions{})
	opts := func() wecom.AppChatOptions {
		return wecom.AppChatOptions{APIURL: r.fake.URL(), CorpID: corpID, Secret: secret, Store: r.store()}
	}
	ctx := context.Background()

	r.hire("tech01")
	o := opts()
	if _, err := wecom.CreateAppChat(ctx, o); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Fatalf("one member: %v", err)
	}
	if n := r.fake.Calls("/cgi-bin/appchat/create"); n != 0 {
		t.Fatalf("an impossible chat was asked for (%d calls)", n)
	}
	r.hire("tech02")

	for name, bad := range map[string]func(*wecom.AppChatOptions){
		"long name":    func(o *wecom.AppChatOptions) { o.Name = strings.Repeat("维", 51) },
		"bad chat id":  func(o *wecom.AppChatOptions) { o.ChatID = "techs-group" },
		"stray owner":  func(o *wecom.AppChatOptions) { o.Owner = "nobody" },
		"no secret":    func(o *wecom.AppChatOptions) { o.Secret = "" },
		"taken chatid": func(o *wecom.AppChatOptions) { o.ChatID = groupID },
	} {
		t.Run(name, func(t *testing.T) {
			o := opts()
			bad(&o)
			if _, err := wecom.CreateAppChat(ctx, o); err == nil {
				t.Fatal("accepted")
			}
		})
	}

	o = opts()
	o.Name, o.Owner, o.ChatID = "阳光花园维修群", "tech01", "repairs01"
	chat, err := wecom.CreateAppChat(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	members, name, ok := r.fake.ChatMembers(chat.ChatID)
	if !ok || chat.ChatID != "repairs01" || name != "阳光花园维修群" || !reflect.DeepEqual(members, []string{"tech01", "tech02"}) || !reflect.DeepEqual(chat.Members, members) {
		t.Fatalf("chat %+v; fake has %v %q %v", chat, members, name, ok)
	}
	// Without a chat id WeCom generates one.
	o = opts()
	chat2, err := wecom.CreateAppChat(ctx, o)
	if err != nil || chat2.ChatID == "" || chat2.ChatID == chat.ChatID {
		t.Fatalf("generated id %q: %v", chat2.ChatID, err)
	}
}
