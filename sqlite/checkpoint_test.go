package sqlite

import (
	"os"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestCheckpointsOffTheWritePath: the writer leaves checkpoints to the store's checkpointer
// (issue 14) up to walLimit pages; the checkpointer copies the whole WAL soon after writes,
// so the WAL is reset and reused rather than growing, and it makes no pass while nothing is
// written.
func TestCheckpointsOffTheWritePath(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	var limit int
	if err := s.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&limit); err != nil || limit != walLimit {
		t.Fatalf("the writer checkpoints every %d pages (%v): want %d", limit, err, walLimit)
	}
	var file string
	if err := s.read.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(file + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	state := func() (int, checkpointResult, bool) {
		s.checkpoints.mu.Lock()
		defer s.checkpoints.mu.Unlock()
		return s.checkpoints.passes, s.checkpoints.last, s.checkpoints.idle && len(s.checkpoints.wake) == 0
	}
	write := func(n int) {
		for range n {
			now := time.Now()
			ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
				Contact: workspace.Contact{Address: "visitor"}, PlanID: uuid.NewString(), CreatedAt: now, QueuedAt: &now}
			if err := s.CreateInteraction(ctx, ix); err != nil {
				t.Fatal(err)
			}
		}
	}
	// copied waits until a pass after `after` has copied the whole WAL.
	copied := func(after int) int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			passes, last, _ := state()
			if passes > after && last.busy == 0 && last.log > 0 && last.copied == last.log {
				return passes
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %d passes, the last %+v: the WAL was not copied", passes, last)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// More than SQLite's default mark of 1,000 pages, fewer than the writer's own.
	write(150)
	passes := copied(0)
	full := walSize()
	if full < 1000*4096 {
		t.Fatalf("the WAL holds %d bytes: the writes were meant to pass 1,000 pages", full)
	}
	// Copied whole, the WAL starts again from its beginning: the next writes reuse it and it
	// does not grow. A write that begins while a later pass still reads the WAL cannot restart
	// it and appends (seen on a busy machine); the first after a complete pass restarts it.
	before := full
	for round := 1; ; round++ {
		write(30)
		now := walSize()
		passes = copied(passes)
		if now == before {
			break
		}
		if round == 5 {
			t.Fatalf("the WAL grew in each of %d rounds of writes, to %d bytes from %d: it was not reused", round, now, full)
		}
		before = now
	}
	// Nothing written, no pass: once the checkpointer waits with no commit pending, it stays.
	for {
		if _, _, idle := state(); idle {
			break
		}
		time.Sleep(time.Millisecond)
	}
	passes, _, _ = state()
	time.Sleep(5 * checkpointEvery)
	if now, _, _ := state(); now != passes {
		t.Fatalf("%d passes with nothing written", now-passes)
	}
}
