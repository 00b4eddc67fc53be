package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestGroupCommit: writes that arrive while another commits share the next transaction,
// each in its own savepoint. One that fails (a collision, a cancelled caller, a panic)
// stores nothing, not even its events, and the others of its batch are stored with theirs.
func TestGroupCommit(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)

	// insert is a write of one event row (with the event, two rows in all).
	insert := func(ctx context.Context, id string) error {
		ev := &workspace.ChangeEvent{ID: uuid.NewString(), Kind: workspace.ChangeUpdated, At: time.Now(), InteractionID: id}
		return s.inTx(ctx, []*workspace.ChangeEvent{ev}, func(x execer) error {
			_, err := x.ExecContext(ctx, `INSERT INTO events (id, kind, at, interaction_id, message_id) VALUES (?,?,?,?,?)`,
				"row-"+id, workspace.ChangeUpdated, 0, id, "")
			return mapErr(err, "row "+id)
		})
	}
	count := func(id string) int {
		var n int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE interaction_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := insert(ctx, "taken"); err != nil {
		t.Fatal(err)
	}

	// A leader holds the writer until the others have queued: they then share one batch.
	release := make(chan struct{})
	leaderDone := make(chan error, 1)
	go func() {
		leaderDone <- s.inTx(ctx, nil, func(execer) error { <-release; return nil })
	}()
	waitQueue := func(n int) {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			s.commits.mu.Lock()
			q := len(s.commits.queue)
			s.commits.mu.Unlock()
			if q == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes queued, want %d", q, n)
			}
		}
	}
	waitQueue(0)
	for {
		s.commits.mu.Lock()
		leading := s.commits.leading
		s.commits.mu.Unlock()
		if leading {
			break
		}
		time.Sleep(time.Millisecond)
	}

	cancelled, cancel := context.WithCancel(ctx)
	writes := []struct {
		name string
		do   func() error
		want string // "" when it succeeds, else part of its error
	}{
		{"ok-1", func() error { return insert(ctx, "ok-1") }, ""},
		{"taken", func() error { return insert(ctx, "taken") }, "already exists"},
		{"cancelled", func() error { return insert(cancelled, "cancelled") }, "context canceled"},
		{"panics", func() error {
			return s.inTx(ctx, nil, func(x execer) error {
				if _, err := x.ExecContext(ctx, `INSERT INTO events (id, kind, at, interaction_id, message_id) VALUES ('row-panics','UPDATED',0,'panics','')`); err != nil {
					return err
				}
				panic("a bug in a write")
			})
		}, "panicked"},
		{"ok-2", func() error { return insert(ctx, "ok-2") }, ""},
	}
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Go(func() { errs[i] = w.do() })
		waitQueue(i + 1) // queued in this order
	}
	cancel() // while it waits in the queue
	close(release)
	wg.Wait()
	if err := <-leaderDone; err != nil {
		t.Fatal(err)
	}
	for i, w := range writes {
		switch {
		case w.want == "" && errs[i] != nil:
			t.Errorf("%s: %v", w.name, errs[i])
		case w.want != "" && (errs[i] == nil || !strings.Contains(errs[i].Error(), w.want)):
			t.Errorf("%s: got %v, want an error saying %q", w.name, errs[i], w.want)
		}
	}
	for id, want := range map[string]int{"ok-1": 2, "ok-2": 2, "taken": 2, "cancelled": 0, "panics": 0} {
		if got := count(id); got != want {
			t.Errorf("%s: %d rows stored, want %d", id, got, want)
		}
	}
	if !errors.Is(errs[2], context.Canceled) {
		t.Errorf("the cancelled write: %v", errs[2])
	}

	// Many at once: every write is stored exactly once, and the writer is idle after.
	var many sync.WaitGroup
	for i := range 200 {
		many.Go(func() {
			if err := insert(ctx, fmt.Sprintf("many-%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	many.Wait()
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE interaction_id LIKE 'many-%'`).Scan(&n); err != nil || n != 400 {
		t.Fatalf("%d rows of 400 stored: %v", n, err)
	}
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	if s.commits.leading || len(s.commits.queue) > 0 {
		t.Fatalf("after the writes: leading %v, %d queued", s.commits.leading, len(s.commits.queue))
	}
}

// TestSavepointsJournalInMemory: a batch runs each write in a savepoint, and a savepoint
// keeps the original of every page it changes in a sub-journal, so that it can be rolled
// back alone. SQLite spills a sub-journal past 64 KiB to a temp file, written page by page
// with a syscall each; on the writer it stays in memory (temp_store=MEMORY). Measured in the
// cycle benchmark (issue 14): about a fifth of the writer's file writes were the spill's.
func TestSavepointsJournalInMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd to see the open files")
	}
	ctx := t.Context()
	s := openTemp(t)
	// 256 rows of 2 KiB: about 128 pages, whose originals a savepoint that changes them keeps.
	big := strings.Repeat("x", 2048)
	err := s.inTx(ctx, nil, func(x execer) error {
		for i := range 256 {
			if _, err := x.ExecContext(ctx, `INSERT INTO events (id, kind, at, interaction_id, message_id) VALUES (?,?,?,?,?)`,
				fmt.Sprint("big-", i), workspace.ChangeUpdated, 0, big, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tempFiles := func() []string {
		var out []string
		entries, _ := os.ReadDir("/proc/self/fd")
		for _, e := range entries {
			target, err := os.Readlink("/proc/self/fd/" + e.Name())
			if err == nil && strings.Contains(target, "etilqs_") {
				out = append(out, target)
			}
		}
		return out
	}
	var during []string
	rolledBack := errors.New("rolled back")
	err = s.inTx(ctx, nil, func(x execer) error {
		for _, q := range []string{`SAVEPOINT write`, `UPDATE events SET interaction_id = 'y' || substr(interaction_id, 2) WHERE id LIKE 'big-%'`} {
			if _, err := x.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		during = tempFiles()
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatalf("the write: %v", err)
	}
	if len(during) > 0 {
		t.Errorf("a savepoint over about 128 changed pages spilled its journal to %q: want it in memory", during)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE id LIKE 'big-%' AND interaction_id LIKE 'x%'`).Scan(&n); err != nil || n != 256 {
		t.Errorf("after the rollback, %d of 256 rows are as they were (%v)", n, err)
	}
}
