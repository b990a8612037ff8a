// Package bot is the channel contract: what a chat platform adapter
// (bot/telegram, bot/wecom, the office console bot/web) must do so the engine
// can stay the same whichever door a person came through. It holds the
// Channel interface, the Deps every channel is given, and the optional
// capabilities main and ops look for (in the style of mautrix's bridgev2:
// one small interface per capability, found with a type assertion, never
// a switch on the channel's name). docs/CHANNELS.md is the how-to.
//
// # Imports
//
// A channel imports bot, flows, outbox, media and its platform's SDK. It
// never imports a concrete store (repairbot/store, bbolt): it reads through
// Deps.Store (flows.Store, read transactions), changes state only through
// Deps.Engine, and delivers through Deps.Outbox (outbox.Queue).
// TestAdaptersDoNotImportAStore (bot/deps_test.go) runs go list -deps to
// hold every channel, jobs and ops to this. The channels' own tests open
// their store through internal/testkit, which returns it as those
// interfaces.
//
// # Identity and addresses
//
// A person is "<ch>:<id>" (flows.Person.ID, flows.Sender.ID), where <ch>
// is the channel's address channel and <id> the platform's stable id for
// the person, never a display name or a phone number: "tg:<user id>",
// "wecom:<userid>", "wxkf:<external_userid>". An address
// (flows.Address{Channel, Chat}) is where messages go: Channel is the same
// <ch>, Chat whatever the channel needs to reach that chat ("<chat id>" on
// Telegram; "<userid>", "appchat:<chatid>" or "robot:group" on WeCom;
// "<open_kfid>|<external_userid>" for 微信客服). One Channel may own
// several address channels (WeCom owns "wecom" and "wxkf"); its sender
// delivers exactly the addresses it owns (outbox.Policy.Owns). Person ids
// and address formats are stored: once chosen they never change meaning.
// The package exports PersonID and the address constructors, so main and
// tests never spell them out.
//
// # Inbound: dedupe keys, cursor, commit before acknowledge
//
// Every platform update becomes exactly one flows.Event handed to
// Engine.Handle, including updates the bot ignores (Kind flows.EvNone),
// so that their dedupe mark and cursor commit too.
//
//   - Event.Key is the dedupe key: unique per platform update and the same
//     on every redelivery, prefixed with the address channel
//     ("tg:u:<update_id>"; "wecom:m:<MsgId>", or for events, which have no
//     MsgId, "wecom:ev:<FromUserName>:<CreateTime>:<the event's own key>";
//     "wxkf:m:<msgid>"). The engine records it in the transaction of the state change;
//     a redelivered key is acknowledged and ignored (Result.Duplicate).
//   - Event.Cursor is the channel's position in the platform's stream, if
//     it has one (Telegram's getUpdates offset "tg.offset", 微信客服's sync
//     cursor "wxkf.cursor"). It is advanced in the same transaction as the
//     event it follows; a batch that produced no event advances it with
//     Engine.SetCursor. On start the channel reads it back through
//     Deps.Store and resumes there. A cursor can be ahead of the
//     platform (Telegram's ids restart after a week without updates; a
//     database copied from elsewhere): a channel must notice updates
//     behind it rather than skip them (Telegram polls without its offset
//     when it has nothing to confirm), and store which bot or account the
//     cursor belongs to, refusing to start with another's.
//   - Commit before acknowledge: the platform learns an update was
//     received (the next getUpdates offset, a webhook's HTTP 200, a
//     callback's 200) only after Handle returned without error. An error
//     answers so that the platform redelivers (500, or the old offset);
//     the dedupe key makes the redelivery harmless. A platform that times
//     out its callbacks (WeCom: 5 s) still waits for the commit.
//   - Order: updates of one person or one chat are handled in the order
//     the platform sent them; independent people may be handled
//     concurrently (the store group-commits them).
//   - Event.From carries the person (ID, private chat, display name,
//     platform language code) and the channel's capabilities for them
//     (TypesPhone, below); Event.Chat and InGroup say where it happened.
//   - What the platform answers at once and outside the outbox (a button
//     tap's toast: Result.Toast, Result.Alert) is answered after the commit
//     and only when the event was not a duplicate.
//   - Photos are fetched before Handle when Deps.Media is set
//     (media.Store.Keep), so the engine can refuse a file that is not an
//     image; a failed download keeps the platform's file id and never
//     blocks the report. Event.TooLarge marks a file over the limit.
//   - A document the engine can read (an .xlsx workbook, a catalog import)
//     is an EvFile with Event.File, kept the same way (media.Store.KeepFile)
//     so the engine reads the copy (flows.Options.Parts.OpenFile), never the
//     network; any other document is EvUnsupported.
//
// # Outbound: the outbox
//
// Messages leave only through the outbox: the engine writes them as rows
// in the event's transaction (flows.Tx.Enqueue), and the channel's sender,
// an outbox.Dispatcher over Deps.Outbox with the channel's outbox.Policy
// (addresses it owns, the budgets a message spends, Send, Judge, an
// optional Digest), delivers them afterwards and marks them. A crash
// between commit and send loses nothing; a send in flight during a crash
// may go out twice, the only duplication allowed (use the platform's
// idempotency key where it has one). Rows of one address go in order
// (KindMenu rows in an order of their own, so they never hold up a reply);
// urgent rows first across addresses, an address's oldest row with the
// most urgent priority queued behind it; a platform's "slow down" pauses
// that address only; a transient failure is retried for as long as it
// lasts (until outbox.give_up_after); nothing is dropped.
//
// Every field of flows.Message, as a channel renders it:
//
//   - To: the address; the sender owns it (Policy.Owns).
//   - Kind: what to do (below).
//   - Text: the message, already rendered in the recipient's language;
//     the caption of a photo; the content of a file. Clip it to the
//     platform's limit, never refuse it.
//   - Buttons: rows of inline buttons. Button.Text is the label,
//     Button.Data the payload handed back unchanged as Event.Data on a tap
//     (at most 64 bytes; never parse or trust it in the channel: the engine
//     re-checks role, assignee and state).
//   - CardKey: names a card (a dispatch card in the group, a job card in a
//     technician's chat). The delivery of a send or an edit with a CardKey
//     is recorded (outbox.CardRef, Queue.Card), so later edits find it.
//   - Photo: the platform's file id of a KindPhoto (a file id from another
//     channel is not usable: send the kept copy from media, or its caption).
//   - Document: send Photo as a file (the person sent an image as a file).
//   - FileName: the name of a KindFile document (or of an exported image).
//   - Export: on a KindFile or KindPhoto, the form, chart or spare-parts
//     workbook to render at send time through Deps.Exports
//     (flows/export.go names the forms):
//     the file's bytes come from the Exporter, Text is the caption. An
//     export is rendered for every attempt and never stored: the row is
//     the record of what was asked, and the file is derived from the
//     store. A render error matching flows.ErrExportInvalid or
//     flows.ErrNotFound is permanent: send Text with the catalog's
//     export.failed note instead of failing the row; a file over the
//     platform's limit goes as Text with export.too_large; without an
//     Exporter, Text alone.
//   - Priority: read by the dispatcher (urgent first); nothing to render.
//   - RequestContact: show a one-tap "share my phone number" button with
//     this label. A channel that has none sets Sender.TypesPhone on its
//     events instead, and turns a text that is only a phone number into an
//     EvContact.
//   - RemoveKeyboard: hide such a keyboard shown earlier.
//   - Ticket: for logs and metrics only; never shown.
//   - Refresh: this edit only brings a card's clock up to date; a channel
//     that posts edits anew instead of editing in place skips it. (The
//     dispatcher turns a refresh back into a real edit when it superseded
//     one, so no state change is lost.)
//   - Status: the card's one-line state, for a channel that cannot edit a
//     sent card but can replace its buttons (WeCom's update_template_card).
//   - Retire: this edit only takes the buttons off the card CardKey (a
//     newer card below replaces it); its text stays. A card never
//     delivered, folded into a digest or deleted is left alone, never
//     posted anew; a channel that cannot change a sent card's buttons
//     skips it (the engine answers a tap on them as outdated).
//
// The kinds a channel must render:
//
//   - KindSend: a new message (with its buttons or keyboard).
//   - KindEdit: replace the text and buttons of the card CardKey. A channel
//     that can edit does so; when the card was never delivered, was
//     deleted, or went out folded into a digest (CardRef.Digest), it posts
//     the card anew, which later edits then target. A channel that cannot
//     edit posts the new state (and may retire the old card's buttons with
//     Status). Two cards are edited: the group's dispatch card
//     (flows.GroupCardKey) and the technician's living step card
//     (flows.StepCardKey), one message per visit edited at each tap; when
//     it must catch the technician's eye it is sent anew under a new key
//     and the old one gets a Retire edit.
//   - KindPhoto: a photo by Photo, with Text as caption; with Export, the
//     rendered PNG uploaded as a photo.
//   - KindFile: a document named FileName whose content is Text (a
//     review's notes); with Export, the rendered file (a form, a
//     spreadsheet) with Text as caption; where documents cannot be sent,
//     the text.
//   - KindMenu: the person's command menu (Buttons[0]: Data the command,
//     Text its description). A channel without per-person menus marks it
//     delivered (Send returns no error).
//
// Every kind above must be handled. A message the platform refuses for
// good (a bad address, a blocked bot) is a permanent failure
// (Policy.Judge), recorded on the row (outbox.StatusFailed) and logged,
// never silently dropped.
//
// # Capabilities
//
// What a channel can do that flows must know rides on the data, so flows
// picks the prompt and stays channel-agnostic:
//
//   - Sender.TypesPhone on events: no share-contact button (微信客服);
//     prompts ask the person to type their number.
//   - Editing in place: a channel that can edit (Telegram) edits cards; one
//     that cannot (WeCom) posts each state, skips Refresh and Retire edits
//     and uses Status. Flows does not need to know which: the step card's
//     buttons name their card, so a tap on a card a newer one replaced is
//     answered as outdated on either.
//   - Buttons in a group: a group that cannot carry buttons (WeCom's group
//     robot) posts the text with a hint, and the buttons go to each
//     technician privately.
//   - Documents: KindFile and Document photos as files where the platform
//     takes them, as text where it does not.
//   - KindMenu: per-person command menus where the platform has them.
//
// What main and ops need of a channel is found by type assertion on the
// Channel: InviteLinker (invite deep links), StatsReporter (sender
// counters for /metrics), HealthChecker (the channel's own checks for
// /healthz, e.g. Telegram's polling loop). A channel implements only what
// it has.
//
// # Life cycle
//
// main builds every configured channel (New with its options and Deps:
// nothing talks to the network), then opens them in order; Close runs in
// reverse. Open may talk to the platform (who am I, menus) and then starts
// the receive loop or HTTP handler and the sender. Close stops receiving,
// lets a handled event commit or roll back and a send in flight be
// recorded, and stops the sender; Close without Open is a no-op.
//
// # The scenario every channel passes
//
// Against its fake platform (bot/telegram/tgfake, bot/wecom/wecomfake), a
// channel's end-to-end tests play: a resident registers, reports a fault,
// the card reaches the technicians' group, a technician accepts it, walks
// the on-site checklist and the resident signs off, closing the ticket;
// plus a redelivered update (no second effect) and a restart in the middle
// (nothing lost). docs/CHANNELS.md lists the files to write and where each
// existing channel plays the scenario.
package bot
