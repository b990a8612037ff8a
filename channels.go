package main

import (
	"time"

	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/bot/telegram"
	"github.com/repairbot/repairbot/bot/web"
	"github.com/repairbot/repairbot/bot/wecom"
	"github.com/repairbot/repairbot/config"
	"github.com/repairbot/repairbot/flows"
)

// channelKind is what main knows of one kind of channel: whether the
// configuration turns it on, what it adds to the engine's options, and how
// to build it from the configuration and bot.Deps. This table is the only
// place in main that names a channel; a new channel is one more row
// (docs/CHANNELS.md).
type channelKind struct {
	name    string
	enabled func(config.Config) bool
	// admins are the person ids the configuration makes admins.
	admins func(config.Config) []string
	// group is the technicians' group on this channel, if configured; the
	// first enabled kind with one is the engine's group.
	group func(config.Config) (flows.Address, bool)
	// areaGroup is an [[areas]] table's group on this channel, if it has
	// one (areas_config.go); nil for a channel without groups.
	areaGroup func(config.Area) (flows.Address, bool)
	build     func(config.Config, bot.Deps) (bot.Channel, error)
}

// channelKinds are opened in this order and closed in reverse.
var channelKinds = []channelKind{
	{
		name:    "telegram",
		enabled: func(c config.Config) bool { return c.Telegram.Enabled },
		admins: func(c config.Config) []string {
			var ids []string
			for _, id := range c.Telegram.Admins {
				ids = append(ids, telegram.PersonID(id))
			}
			return ids
		},
		group: func(c config.Config) (flows.Address, bool) { return telegram.ChatAddress(c.Telegram.GroupID), true },
		areaGroup: func(a config.Area) (flows.Address, bool) {
			return telegram.ChatAddress(a.TelegramGroupID), a.TelegramGroupID != 0
		},
		build: func(c config.Config, d bot.Deps) (bot.Channel, error) {
			t, o := c.Telegram, c.Outbox
			return telegram.New(telegram.Options{
				Token: t.Token, APIURL: t.APIURL, Mode: t.Mode, PollTimeout: t.PollTimeout.Duration,
				WebhookListen: t.WebhookListen, WebhookPath: t.WebhookPath,
				WebhookURL: t.WebhookURL, WebhookSecret: t.WebhookSecret,
				BotUsername: t.BotUsername, Deps: d, MaxPhotoBytes: c.Limits.MaxPhotoBytes,
				Send: telegram.SendLimits{
					PerChatPerSecond: o.PerChatPerSecond, PerChatBurst: o.PerChatBurst, GroupPerMinute: o.GroupPerMinute,
					GlobalPerSecond: o.GlobalPerSecond, Workers: o.Workers,
					BaseBackoff: o.BaseBackoff.Duration, MaxBackoff: o.MaxBackoff.Duration,
					GiveUpAfter: o.GiveUpAfter.Duration, NoDigest: !o.Digest,
				},
			})
		},
	},
	{
		name:    "wecom",
		enabled: func(c config.Config) bool { return c.WeCom.Enabled },
		admins: func(c config.Config) []string {
			var ids []string
			for _, id := range c.WeCom.Admins {
				ids = append(ids, wecom.PersonID(id))
			}
			return ids
		},
		group: func(c config.Config) (flows.Address, bool) {
			switch {
			case c.WeCom.GroupChatID != "":
				return wecom.GroupAddress(c.WeCom.GroupChatID), true
			case c.WeCom.GroupRobotKey != "":
				return wecom.RobotAddress(), true
			}
			return flows.Address{}, false
		},
		areaGroup: func(a config.Area) (flows.Address, bool) {
			return wecom.GroupAddress(a.WeComGroupChatID), a.WeComGroupChatID != ""
		},
		build: func(c config.Config, d bot.Deps) (bot.Channel, error) {
			w, o := c.WeCom, c.Outbox
			return wecom.New(wecom.Options{
				CorpID: w.CorpID, AgentID: w.AgentID, Secret: w.Secret,
				Token: w.Token, EncodingAESKey: w.EncodingAESKey,
				KfEnabled: w.KfEnabled, KfSecret: w.KfSecret, APIURL: w.APIURL,
				CallbackListen: w.CallbackListen, CallbackPath: w.CallbackPath,
				KfCallbackPath: w.KfCallbackPath, TimestampWindow: w.TimestampWindow.Duration,
				Deps: d, MaxPhotoBytes: c.Limits.MaxPhotoBytes,
				DuplicateCheckInterval: wecomDupInterval(w.DuplicateCheckInterval.Duration),
				RobotKey:               w.GroupRobotKey,
				RobotHint:              d.Texts.T(d.DefaultLang, "group.robot_hint"),
				Send: wecom.SendLimits{Workers: o.Workers, BaseBackoff: o.BaseBackoff.Duration,
					MaxBackoff: o.MaxBackoff.Duration, GiveUpAfter: o.GiveUpAfter.Duration},
			})
		},
	},
	{
		// The office console: a channel without chats, so no admins and no
		// group; it logs people in by the links /console hands out.
		name:    "web",
		enabled: func(c config.Config) bool { return c.Web.Listen != "" },
		admins:  func(config.Config) []string { return nil },
		group:   func(config.Config) (flows.Address, bool) { return flows.Address{}, false },
		build: func(c config.Config, d bot.Deps) (bot.Channel, error) {
			return web.New(web.Options{Listen: c.Web.Listen, PublicURL: c.Web.PublicURL, SecureCookies: c.Web.SecureCookies, Deps: d})
		},
	},
}

// enabledKinds are the channel kinds the configuration turns on, in order.
func enabledKinds(cfg config.Config) []channelKind {
	var out []channelKind
	for _, k := range channelKinds {
		if k.enabled(cfg) {
			out = append(out, k)
		}
	}
	return out
}

// channelAdmins are the configured admins of every enabled channel.
func channelAdmins(cfg config.Config, kinds []channelKind) map[string]bool {
	admins := map[string]bool{}
	for _, k := range kinds {
		for _, id := range k.admins(cfg) {
			admins[id] = true
		}
	}
	return admins
}

// channelGroup is the technicians' group: the first enabled channel's
// that has one (zero when none does).
func channelGroup(cfg config.Config, kinds []channelKind) flows.Address {
	for _, k := range kinds {
		if a, ok := k.group(cfg); ok {
			return a
		}
	}
	return flows.Address{}
}

// inviteLink asks the channels for a link to an invite code; a channel
// without links, or none, gets the plain command.
func inviteLink(channels func() []bot.Channel) func(addrChannel, code string) string {
	return func(addrChannel, code string) string {
		for _, ch := range channels() {
			if l, ok := ch.(bot.InviteLinker); ok {
				if link, ok := l.InviteLink(addrChannel, code); ok {
					return link
				}
			}
		}
		return "/start " + code
	}
}

// loginLink asks the channels for the address of a console login token
// (the web console's LoginLinker); ok is false when none has a console.
func loginLink(channels func() []bot.Channel) func(token string) (string, bool) {
	return func(token string) (string, bool) {
		for _, ch := range channels() {
			if l, ok := ch.(bot.LoginLinker); ok {
				if link, ok := l.LoginLink(token); ok {
					return link, true
				}
			}
		}
		return "", false
	}
}

// wecomDupInterval maps wecom.duplicate_check_interval (0: off) to the
// channel's option (negative: off, 0: its default).
func wecomDupInterval(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
