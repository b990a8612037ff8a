package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/repairbot/repairbot/flows"
	"github.com/repairbot/repairbot/internal/pgtest"
)

// queued waits until n calls wait for the next batch.
func (b *batcher) queued(tb testing.TB, n int) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b.mu.Lock()
		got := len(b.pending)
		b.mu.Unlock()
		if got == n {
			return
		}
	}
	tb.Fatalf("%d calls never queued", n)
}

// inOneBatch runs fns as consecutive calls of one batch: a first call
// holds the batcher (of one lane) until all of them are queued.
func inOneBatch(tb testing.TB, s *Store, fns ...func(flows.Tx) error) []error {
	tb.Helper()
	return inOneBatchWith(tb, s, nil, fns...)
}

// inOneBatchWith is inOneBatch with a context for each call (nil: none).
func inOneBatchWith(tb testing.TB, s *Store, ctxs []context.Context, fns ...func(flows.Tx) error) []error {
	tb.Helper()
	if s.batch.lanes != 1 {
		tb.Fatal("inOneBatch needs a store with one batch lane")
	}
	hold, held := make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(hold) // a failed wait must not leave the batch holding its connection
		}
	}()
	go func() {
		_ = s.Batch(context.Background(), func(flows.Tx) error {
			select {
			case <-held:
			default:
				close(held)
			}
			<-hold
			return nil
		})
	}()
	<-held
	errs := make([]error, len(fns))
	done := make(chan int, len(fns))
	for i, fn := range fns {
		ctx := context.Background()
		if i < len(ctxs) {
			ctx = ctxs[i]
		}
		go func() { errs[i] = s.Batch(ctx, fn); done <- i }()
		s.batch.queued(tb, i+1) // in order
	}
	close(hold)
	released = true
	for range fns {
		<-done
	}
	return errs
}

// TestBatchForgetsAFailedCall: what a failed call of a batch wrote or
// learned (a dialogue, a number of a sequence) is not what the next call of
// the same transaction reads.
func TestBatchForgetsAFailedCall(t *testing.T) {
	s, err := Open(context.Background(), pgtest.DSN(t), Options{BatchLanes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const who = "tg:5"
	put := func(step string) func(flows.Tx) error {
		return func(tx flows.Tx) error {
			return tx.PutDialogue(&flows.Dialogue{PersonID: who, Kind: "report", Step: step})
		}
	}
	if err := s.Update(context.Background(), func(tx flows.Tx) error {
		return errors.Join(tx.PutPerson(&flows.Person{ID: who, Role: flows.RoleResident}), put("desc")(tx))
	}); err != nil {
		t.Fatal(err)
	}
	errFail := errors.New("fail")
	var steps []string
	var nums []int
	errs := inOneBatch(t, s,
		func(tx flows.Tx) error { // reads ahead, numbers, writes, then fails
			if _, err := tx.Person(who); err != nil {
				return err
			}
			for i := 0; i < 2; i++ {
				if _, err := tx.NextSeq("r"); err != nil {
					return err
				}
			}
			if err := put("photos")(tx); err != nil {
				return err
			}
			if _, err := tx.Dialogue(who); err != nil {
				return err
			}
			return errFail
		},
		func(tx flows.Tx) error {
			d, err := tx.Dialogue(who) // before any profile: no read-ahead
			if err != nil {
				return err
			}
			steps = append(steps, d.Step)
			if _, err := tx.Person(who); err != nil {
				return err
			}
			n, err := tx.NextSeq("r")
			nums = append(nums, n)
			if err != nil {
				return err
			}
			if err := tx.DeleteDialogue(who); err != nil {
				return err
			}
			if _, err := tx.Dialogue(who); !errors.Is(err, flows.ErrNotFound) {
				return errors.New("a deleted dialogue is still read")
			}
			return put("kind")(tx)
		},
		func(tx flows.Tx) error {
			d, err := tx.Dialogue(who)
			if err != nil {
				return err
			}
			steps = append(steps, d.Step)
			n, err := tx.NextSeq("r")
			nums = append(nums, n)
			return err
		})
	if !errors.Is(errs[0], errFail) || errs[1] != nil || errs[2] != nil {
		t.Fatalf("calls returned %v", errs)
	}
	if len(steps) != 2 || steps[0] != "desc" || steps[1] != "kind" {
		t.Errorf("dialogue steps read %v, want [desc kind]", steps)
	}
	if len(nums) != 2 || nums[0] != 1 || nums[1] != 2 {
		t.Errorf("numbers %v, want [1 2] (the failed call's are rolled back)", nums)
	}
	if st := s.TxStats(); st.BatchCalls-st.Batches < 2 {
		t.Errorf("the three calls did not share a transaction: %+v", st)
	}
}
