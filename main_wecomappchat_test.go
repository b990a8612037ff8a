package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/store"
)

// TestWeComAppchatCommand: `repairbot wecom-appchat` creates the group chat
// from the WeCom-linked technicians and leads in the store and prints the
// line to put in the config.
func TestWeComAppchatCommand(t *testing.T) {
	dir := t.TempDir()
	fake, data := weComOnly(t, dir)
	fake.AddMember("wang", "li")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "repair.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = st.Update(context.Background(), func(tx flows.Tx) error {
		for _, p := range []*flows.Person{
			{ID: wecom.PersonID("wang"), Role: flows.RoleTechnician, Name: "王师傅", Chat: wecom.UserAddress("wang"), Registered: true, Created: now, Updated: now},
			{ID: wecom.PersonID("li"), Role: flows.RoleLead, Name: "李组长", Chat: wecom.UserAddress("li"), Registered: true, Created: now, Updated: now},
			{ID: "tg:42", Role: flows.RoleTechnician, Name: "Telegram tech", Chat: flows.Address{Channel: "telegram", Chat: "42"}, Registered: true, Created: now, Updated: now},
		} {
			if err := tx.PutPerson(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Path() != filepath.Join(dir, "repair.db") {
		t.Skipf("store path %s is not where [store] data_dir puts it", st.Path())
	}
	st.Close()
	var out, errs bytes.Buffer
	if err := run([]string{"wecom-appchat", "-config", cfgPath, "-name", "维修群", "-owner", "li", "-chatid", "repairs"}, &out, &errs); err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	members, name, ok := fake.ChatMembers("repairs")
	if !ok || name != "维修群" || strings.Join(members, ",") != "li,wang" {
		t.Fatalf("fake chat: %v %q %v", members, name, ok)
	}
	if !strings.Contains(out.String(), `group_chat_id = "repairs"`) {
		t.Fatalf("output: %s", out.String())
	}
	if err := run([]string{"wecom-appchat", "-config", cfgPath, "stray"}, &out, &errs); err == nil {
		t.Fatal("a stray argument was accepted")
	}
}
