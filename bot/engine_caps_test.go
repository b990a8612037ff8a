package bot_test

import (
	"github.com/repairbot/repairbot/bot"
	"github.com/repairbot/repairbot/flows"
)

// The engine has the capabilities channels look for on Deps.Engine.
var (
	_ bot.Engine         = (*flows.Engine)(nil)
	_ bot.OutageReporter = (*flows.Engine)(nil)
	_ bot.NameSetter     = (*flows.Engine)(nil)
	_ bot.PhotoWanter    = (*flows.Engine)(nil)
	_ bot.FileWanter     = (*flows.Engine)(nil)
)
