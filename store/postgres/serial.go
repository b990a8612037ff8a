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

// lockChat, with a conversation's hash: held by the transaction that
// handles an update of that conversation (flows.SerialKey), on whichever
// replica, so one person's or one group's updates run one at a time across
// all processes sharing the database.
const lockChat = 0x72620003

// chatLockID is the lock's second key for a conversation. Two
// conversations that share a hash only wait for each other.
func chatLockID(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}

// lockChats takes the conversation locks of keys on conn before its
// transaction begins, in one round trip and in ascending order (two
// batches wanting the same two conversations cannot deadlock), and returns
// the function that lets them go after the transaction ended.
//
// They are session locks taken before BEGIN, not transaction locks inside
// it: a SERIALIZABLE transaction takes its snapshot at its first
// statement, so one that waited inside the transaction for the lock would
// read what the conversation was before the holder committed, and lose
// its serialization instead of running after it.
func lockChats(ctx context.Context, conn *pgx.Conn, keys []string) (unlock func(), err error) {
	ids := make([]int32, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			ids = append(ids, chatLockID(k))
		}
	}
	if len(ids) == 0 {
		return func() {}, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		b.Queue(`SELECT pg_advisory_lock($1, $2)`, lockChat, id)
	}
	unlock = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
			// A connection that cannot let go must not go back to the
			// pool holding the locks: closing it ends its session.
			_ = conn.Close(ctx)
		}
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		unlock()
		return nil, fmt.Errorf("store/postgres: conversation lock: %w", err)
	}
	return unlock, nil
}

// serialKeys are the conversations of a batch's calls.
func serialKeys(calls []*batchCall) []string {
	keys := make([]string, 0, len(calls))
	for _, c := range calls {
		keys = append(keys, flows.SerialKey(c.ctx))
	}
	return keys
}
