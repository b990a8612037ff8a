package flows

import "context"

// serialKey is the context key of SerialKey.
type serialKey struct{}

// WithSerialKey returns ctx naming the conversation an event belongs to.
// Engine.Handle sets it from the event's chat before it opens the write
// transaction; a store that several processes share (store/postgres)
// reads it with SerialKey and lets one transaction of a conversation run at
// a time across all of them, so two replicas never interleave one person's
// or one group's updates. bbolt has one writer and ignores it.
func WithSerialKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, serialKey{}, key)
}

// SerialKey is the conversation WithSerialKey named, or "" (timers, the
// console's events of no chat): nothing to serialise on.
func SerialKey(ctx context.Context) string {
	k, _ := ctx.Value(serialKey{}).(string)
	return k
}

// firstReadsKey is the context key of FirstReadsOf.
type firstReadsKey struct{}

// FirstReads names what an event's transaction reads first: the engine
// checks its dedupe key, then reads its sender's profile and dialogue.
type FirstReads struct {
	Seen   string // Event.Key
	Sender string // Event.From.ID
}

// WithFirstReads returns ctx naming an event's first reads; Engine.Handle
// sets it before it opens the write transaction. A store whose reads are
// round trips (store/postgres) fetches them when the transaction begins,
// for every event of a batch at once; bbolt reads its own pages and
// ignores it. It is a hint about reads only: what the transaction may do
// does not depend on it.
func WithFirstReads(ctx context.Context, r FirstReads) context.Context {
	if r == (FirstReads{}) {
		return ctx
	}
	return context.WithValue(ctx, firstReadsKey{}, r)
}

// FirstReadsOf is what WithFirstReads named; zero when nothing was.
func FirstReadsOf(ctx context.Context) FirstReads {
	r, _ := ctx.Value(firstReadsKey{}).(FirstReads)
	return r
}
