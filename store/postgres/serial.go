package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/repairbot/repairbot/flows"
)

// chatLockID is the lock's second key for a conversation. Two
// conversations that share a hash only wait for each other.
func chatLockID(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}

// lockChats takes the conversation locks of keys on conn before its
// transaction begins, in one round trip and in ascending order (two
// batches wanting the same two conversations cannot deadlock), and
// reports whether it took any. The transaction lets them go in its
// COMMIT's round trip (tx.unlock); releaseChats is for when it did not
// get that far.
//
// They are session locks taken before BEGIN, not transaction locks inside
// it: a SERIALIZABLE transaction takes its snapshot at its first
// statement, so one that waited inside the transaction for the lock would
// read what the conversation was before the holder committed, and lose
// its serialization instead of running after it.
func lockChats(ctx context.Context, conn *pgx.Conn, keys []string) (held bool, err error) {
	ids := make([]int32, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			ids = append(ids, chatLockID(k))
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`SELECT pg_advisory_lock($1, $2)`, lockChat, id)
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		releaseChats(conn)
		return false, fmt.Errorf("store/postgres: conversation lock: %w", err)
	}
	return true, nil
}

// unlockAll lets go of a pooled connection's session locks: its
// conversation locks are the only ones it takes.
const unlockAll = `SELECT pg_advisory_unlock_all()`

// releaseChats lets go of conn's conversation locks outside a commit. A
// connection that cannot must not go back to the pool holding them:
// closing it ends its session.
func releaseChats(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, unlockAll); err != nil {
		_ = conn.Close(ctx)
	}
}

// serialKeys are the conversations of a batch's calls.
func serialKeys(calls []*batchCall) []string {
	keys := make([]string, 0, len(calls))
	for _, c := range calls {
		keys = append(keys, flows.SerialKey(c.ctx))
	}
	return keys
}
