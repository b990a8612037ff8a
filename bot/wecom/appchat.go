package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/repairbot/repairbot/flows"
)

// appchat/create limits (创建群聊会话, developer.work.weixin.qq.com/document/path/90245).
const (
	maxChatName    = 50   // name, UTF-8 characters (longer is cut by the platform)
	minChatMembers = 2    // userlist "至少2人"
	maxChatMembers = 2000 // "至多2000人"
)

// chatIDPattern is the appchat/create chatid rule: "最长32个字符。只允许字符0-9及字母a-zA-Z".
var chatIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)

// AppChatOptions say how to create the technicians' app group chat.
type AppChatOptions struct {
	APIURL string // default https://qyapi.weixin.qq.com
	CorpID string
	Secret string
	// Store lists the people: every technician and lead whose chat is the
	// WeCom app becomes a member.
	Store flows.Store
	// Name of the chat (≤ 50 characters); Owner a userid (a member; empty
	// lets WeCom pick one); ChatID the id to ask for (≤ 32 letters and
	// digits; empty lets WeCom generate one).
	Name, Owner, ChatID string
	HTTPClient          *http.Client // default: a client with a 15 s timeout
}

// AppChat is a created group chat.
type AppChat struct {
	ChatID  string
	Members []string
}

// StaffUserIDs lists the WeCom userids of the technicians and leads in
// the store, sorted.
func StaffUserIDs(ctx context.Context, st flows.Store) ([]string, error) {
	return appUserIDs(ctx, st, flows.RoleTechnician, flows.RoleLead)
}

// appUserIDs are the userids of the people with those roles whose chat is
// the WeCom app (not Telegram, not 微信客服), sorted and unique.
func appUserIDs(ctx context.Context, st flows.Store, roles ...flows.Role) ([]string, error) {
	var ids []string
	err := st.View(ctx, func(tx flows.Tx) error {
		for _, role := range roles {
			people, err := tx.PeopleByRole(role)
			if err != nil {
				return err
			}
			for _, p := range people {
				if p.Chat.Channel == ChannelName && p.Chat.Chat != "" && !strings.Contains(p.Chat.Chat, ":") {
					ids = append(ids, p.Chat.Chat)
				}
			}
		}
		return nil
	})
	slices.Sort(ids)
	return slices.Compact(ids), err
}

// CreateAppChat creates the technicians' group chat with appchat/create
// from the WeCom-linked technicians and leads in the store and returns
// its chat id (to put in [wecom] group_chat_id). It checks the API's
// rules first, so a bad request is explained, not just refused.
func CreateAppChat(ctx context.Context, o AppChatOptions) (AppChat, error) {
	if o.CorpID == "" || o.Secret == "" {
		return AppChat{}, errors.New("wecom appchat: corp_id and secret are required")
	}
	if o.APIURL == "" {
		o.APIURL = "https://qyapi.weixin.qq.com"
	}
	if n := utf8.RuneCountInString(o.Name); n > maxChatName {
		return AppChat{}, fmt.Errorf("wecom appchat: the name has %d characters; WeCom takes at most %d", n, maxChatName)
	}
	if o.ChatID != "" && !chatIDPattern.MatchString(o.ChatID) {
		return AppChat{}, fmt.Errorf("wecom appchat: chat id %q: at most 32 letters and digits", o.ChatID)
	}
	members, err := StaffUserIDs(ctx, o.Store)
	if err != nil {
		return AppChat{}, err
	}
	if o.Owner != "" && !slices.Contains(members, o.Owner) {
		return AppChat{}, fmt.Errorf("wecom appchat: owner %q is not a WeCom-linked technician or lead (members: %s)", o.Owner, strings.Join(members, ", "))
	}
	if len(members) < minChatMembers {
		return AppChat{}, fmt.Errorf("wecom appchat: a group chat needs at least %d members; the store has %d WeCom-linked technicians and leads (invite them first: /invite, then /start <code> in the app)", minChatMembers, len(members))
	}
	if len(members) > maxChatMembers {
		return AppChat{}, fmt.Errorf("wecom appchat: %d members; a group chat takes at most %d", len(members), maxChatMembers)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	api := newClient(o.APIURL, o.CorpID, hc, time.Now)
	body := map[string]any{"userlist": members}
	for k, v := range map[string]string{"name": o.Name, "owner": o.Owner, "chatid": o.ChatID} {
		if v != "" {
			body[k] = v
		}
	}
	var a struct {
		ChatID string `json:"chatid"`
	}
	if err := api.call(ctx, o.Secret, http.MethodPost, "/cgi-bin/appchat/create", nil, body, &a); err != nil {
		return AppChat{}, err
	}
	if a.ChatID == "" {
		return AppChat{}, errors.New("wecom appchat/create: no chatid in the answer")
	}
	return AppChat{ChatID: a.ChatID, Members: members}, nil
}
