package workspace

import (
	"context"
	"errors"
	"testing"
	"time"
)

type record struct {
	Version int64
	N       int
}

// TestGuardedWriteRetriesBounded: a lost race is decided again on a fresh read, at most
// maxAttempts times, without pausing; other errors and refusals stop at once.
func TestGuardedWriteRetriesBounded(t *testing.T) {
	ctx := context.Background()
	stored := record{Version: 1}
	reads, writes := 0, 0
	read := func(context.Context) (*record, error) { reads++; r := stored; return &r, nil }
	increment := func(r *record) error { r.N++; return nil }
	conflictTimes := func(n int) func(context.Context, *record, *record) error {
		return func(_ context.Context, old, next *record) error {
			writes++
			if writes <= n {
				stored.Version++ // somebody else wrote first
				return Errorf(ECONFLICT, "stale")
			}
			if old.Version != stored.Version {
				t.Fatalf("write guarded by version %d, stored %d", old.Version, stored.Version)
			}
			next.Version++
			stored = *next
			return nil
		}
	}

	start := time.Now()
	_, got, err := guardedWrite(ctx, nil, read, increment, conflictTimes(maxAttempts-1))
	if err != nil || got.N != 1 || reads != maxAttempts || writes != maxAttempts {
		t.Fatalf("after %d lost races: %+v, %v, %d reads, %d writes", maxAttempts-1, got, err, reads, writes)
	}

	reads, writes = 0, 0
	_, _, err = guardedWrite(ctx, nil, read, increment, conflictTimes(1000))
	if ErrorCode(err) != ECONFLICT || writes != maxAttempts {
		t.Fatalf("always losing: %v after %d writes, want CONFLICT after %d", err, writes, maxAttempts)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the retries took %v: the write path must not sleep", d)
	}

	// A record the caller read saves the first read; a refusal writes nothing.
	reads, writes = 0, 0
	loaded := stored
	refused := errors.New("no")
	if _, _, err := guardedWrite(ctx, &loaded, read, func(*record) error { return refused }, conflictTimes(0)); err != refused || reads != 0 || writes != 0 {
		t.Fatalf("refusal: %v, %d reads, %d writes", err, reads, writes)
	}
	if _, got, err := guardedWrite(ctx, &loaded, read, increment, conflictTimes(0)); err != nil || reads != 0 || got.N != loaded.N+1 || loaded.N != stored.N-1 {
		t.Fatalf("from a loaded record: %+v, %v, %d reads; the caller's copy is %+v", got, err, reads, loaded)
	}
}

// TestCapacityRule: the one rule of who may take work, and reserve's hold.
func TestCapacityRule(t *testing.T) {
	a := &Agent{Name: "Alice", Presence: Ready, Capacity: map[Channel]int{Webchat: 2, Voice: 1}}
	ix := func(id string, ch Channel) *Interaction { return &Interaction{ID: id, Channel: ch} }
	if err := reserve(a, ix("1", Webchat), t0); err != nil {
		t.Fatal(err)
	}
	if err := reserve(a, ix("1", Webchat), t0); !errors.Is(err, errHeld) {
		t.Fatalf("a second hold of one interaction: %v", err)
	}
	if !hasRoom(a, Webchat) || available(a, Webchat) != nil {
		t.Fatal("one of two webchat slots used: room left")
	}
	if err := reserve(a, ix("2", Webchat), t0); err != nil {
		t.Fatal(err)
	}
	if hasRoom(a, Webchat) || !errors.Is(available(a, Webchat), errNoRoom) || !errors.Is(reserve(a, ix("3", Webchat), t0), errNoRoom) {
		t.Fatal("both webchat slots used: no room")
	}
	if !hasRoom(a, Voice) || hasRoom(a, Email) {
		t.Fatal("capacity is per channel; a channel without capacity has no room")
	}
	a.Presence = NotReady
	if !errors.Is(available(a, Voice), errNotReady) || reserve(a, ix("4", Voice), t0) != nil {
		t.Fatal("not READY: not available for offers (P1), but the capacity rule alone still reserves")
	}
	if a.Used(Webchat) != 2 || a.Used(Voice) != 1 {
		t.Fatalf("holds: %+v", a.Holds)
	}
}
