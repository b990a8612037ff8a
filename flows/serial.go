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

// senderKey is the context key of SenderID.
type senderKey struct{}

// WithSenderID returns ctx naming the person an event's transaction reads
// first: Engine.Handle sets it from the event's sender, whose profile and
// dialogue it reads right after the dedupe check. A store whose reads are
// round trips (store/postgres) may fetch them with that check; bbolt reads
// its own pages and ignores it. It is a hint about reads only: what the
// transaction may do does not depend on it.
func WithSenderID(ctx context.Context, personID string) context.Context {
	if personID == "" {
		return ctx
	}
	return context.WithValue(ctx, senderKey{}, personID)
}

// SenderID is the person WithSenderID named, or "".
func SenderID(ctx context.Context) string {
	k, _ := ctx.Value(senderKey{}).(string)
	return k
}
