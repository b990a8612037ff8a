// Package tgfake is an in-process fake of the Telegram Bot API, built on
// net/http/httptest, for testing a bot end to end without network access and
// for simulating users in the demo command.
//
// # What it mimics
//
// The server answers on the real URL layout
//
//	POST|GET <URL>/bot<token>/<method>
//	GET      <URL>/file/bot<token>/<file_path>
//
// with the real response envelope ({"ok":true,"result":...} or
// {"ok":false,"error_code":N,"description":"...","parameters":{...}}) and the
// real HTTP status codes. Every method accepts multipart/form-data (what
// github.com/go-telegram/bot sends, with nested objects such as reply_markup as
// JSON text in a form field), application/json,
// application/x-www-form-urlencoded and query-string parameters.
//
// It keeps the state a bot can observe and enforces the rules bots most often
// get wrong:
//
//   - getUpdates long polling with offset confirmation, redelivery of
//     unconfirmed updates, limit, allowed_updates, a 409 conflict when a
//     webhook is active or when a newer getUpdates call supersedes a waiting
//     one; [Server.Redeliver] serves already confirmed updates again to a
//     bot polling with an older offset, and [Server.Hold] keeps newer
//     updates back meanwhile;
//   - webhooks (setWebhook/deleteWebhook/getWebhookInfo): updates are POSTed in
//     order with the secret header and retried with backoff until the
//     receiver answers 2xx;
//   - a private chat exists only after the user wrote to the bot in that
//     private chat (sent something or tapped a button there); activity in a
//     group does not open it, so the bot gets 403 "bot can't initiate
//     conversation with a user" just like on Telegram. Groups exist after
//     [Server.AddGroup] (or after a simulated user wrote there); blocked chats
//     answer 403;
//   - deleteMessage and edits need an existing message (400 "message to
//     delete not found" / "message to edit not found"); only the bot's own
//     messages can be edited;
//   - text and caption limits (counted in UTF-16 code units after entity
//     parsing), HTML / MarkdownV2 / Markdown parse errors, inline keyboard
//     validation (callback_data 1..64 bytes), "message is not modified" on
//     identical edits, removal of the inline keyboard when an edit carries no
//     reply_markup;
//   - callback queries that can be answered once, command lists, files with
//     getFile and download, optional flood limits with 429 and retry_after.
//
// Test code drives users through [Server.SendText], [Server.Tap] and the other
// Send* methods, inspects what the bot did with [Server.Messages],
// [Server.WaitMessage], [Server.Entries] and friends, and injects failures with
// [Server.FailNext], [Server.Block] and [Server.Outage] (every call
// answers a 5xx until it ends). A chat client (the web demo's phone panes)
// reads [Server.Conversation] (the users' messages too) and
// [Server.CallbackAnswers] (each names who tapped), and posts as a user
// with the same Send* and Tap methods ([Server.SendPhotoData] for a real
// picture).
//
// # Limits
//
// The fake is deliberately small. It does not implement inline mode,
// payments, channels, forum topics, media groups, business connections or
// most administrative methods (methods that only return true are accepted).
// Entities are computed from parse_mode markup but not auto-detected (URLs,
// mentions and hashtags in bot messages get no entities); only bot_command
// entities are added to user texts. Webhook URLs may be plain http.
// Callback queries never expire. Group privacy mode is not modelled: the bot
// receives every message simulated in a group. Message dates use the wall clock. The bot is
// a member of every group added with AddGroup and is never kicked unless the
// group is blocked. Flood limits are simple sliding windows / token buckets
// modelled on the documented limits, not Telegram's exact algorithm.
package tgfake
