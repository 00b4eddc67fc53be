package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestLiveRowsMatchTheTable (issue 14): after every kind of write (a create, updates, one
// refused, a message moving updatedAt, two updates of one row in one transaction, the
// completion) what the store keeps of a live row is what the table holds at that version,
// or nothing; and an update guarded on the kept version does not read the row.
func TestLiveRowsMatchTheTable(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	now := time.Now().Truncate(time.Millisecond)
	ix := queuedWebchat(now)
	// matches checks the kept row against the table's; want says whether one must be kept.
	matches := func(step string, want bool) {
		t.Helper()
		table := make([]any, len(interactionColumns)+1)
		ptrs := make([]any, len(table))
		for i := range table {
			ptrs[i] = &table[i]
		}
		err := s.read.QueryRowContext(ctx, `SELECT `+strings.Join(interactionColumns, ", ")+`, version FROM interactions WHERE id = ?`, ix.ID).Scan(ptrs...)
		s.rows.mu.Lock()
		kept, ok := s.rows.rows[ix.ID]
		s.rows.mu.Unlock()
		switch {
		case ok != want:
			t.Fatalf("%s: a row kept: %v, want %v", step, ok, want)
		case !ok:
			return
		case err != nil:
			t.Fatalf("%s: a row is kept for an interaction the table lacks: %v", step, err)
		}
		if got, stored := fmt.Sprint(append(kept.columns, kept.version)), fmt.Sprint(table); got != stored {
			t.Fatalf("%s: kept %s, the table holds %s", step, got, stored)
		}
	}
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	matches("created", true)
	update := func(step string, ix *workspace.Interaction, change func(*workspace.Interaction)) error {
		from := ix.State
		change(ix)
		ix.UpdatedAt = ix.UpdatedAt.Add(time.Millisecond)
		return s.UpdateInteraction(ctx, ix, from)
	}
	due := now.Add(time.Minute)
	if err := update("offered", ix, func(x *workspace.Interaction) { x.State, x.AgentID, x.DueAt = workspace.Offered, "agent-1", due }); err != nil {
		t.Fatal(err)
	}
	matches("offered", true)

	// The kept row stands in for a read: a column changed behind the store's back (which
	// nothing does but this test) stays as it was when the update leaves that field alone.
	if _, err := s.write.ExecContext(ctx, `UPDATE interactions SET due_at = 1 WHERE id = ?`, ix.ID); err != nil {
		t.Fatal(err)
	}
	if err := update("noted", ix, func(x *workspace.Interaction) { x.Notes = "a note" }); err != nil {
		t.Fatal(err)
	}
	var dueAt int64
	if err := s.read.QueryRowContext(ctx, `SELECT due_at FROM interactions WHERE id = ?`, ix.ID).Scan(&dueAt); err != nil || dueAt != 1 {
		t.Fatalf("due_at %d (%v): the update read the row instead of using the one kept", dueAt, err)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE interactions SET due_at = ? WHERE id = ?`, millis(due), ix.ID); err != nil {
		t.Fatal(err)
	}
	matches("put back", true)

	stale := *ix
	stale.Version--
	if err := update("stale", &stale, func(x *workspace.Interaction) { x.State = workspace.Queued }); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a stale update: %v, want CONFLICT", err)
	}
	matches("after a refused update", true)

	m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact, Text: "hi",
		SentAt: ix.UpdatedAt.Add(time.Second)}
	if err := s.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	matches("after a message moved updatedAt", true)
	ix.UpdatedAt = m.SentAt

	// Two updates of the row in one transaction: the second is guarded on a version the
	// first made in it, so it reads the row; both are kept in order.
	release := make(chan struct{})
	leader := make(chan error, 1)
	go func() { leader <- s.inTx(ctx, nil, func(execer) error { <-release; return nil }) }()
	waitFor(t, func() bool { s.commits.mu.Lock(); defer s.commits.mu.Unlock(); return s.commits.leading })
	first, second := *ix, *ix
	errs := make(chan error, 2)
	go func() {
		errs <- update("accepted", &first, func(x *workspace.Interaction) { x.State, x.DueAt = workspace.Active, time.Time{} })
	}()
	waitFor(t, func() bool { s.commits.mu.Lock(); defer s.commits.mu.Unlock(); return len(s.commits.queue) == 1 })
	// The second was built on what the first makes: version+1, ACTIVE.
	second.Version, second.State = second.Version+1, workspace.Active
	go func() {
		errs <- update("wrap", &second, func(x *workspace.Interaction) { x.State, x.EndedBy = workspace.Wrap, workspace.PartyAgent })
	}()
	waitFor(t, func() bool { s.commits.mu.Lock(); defer s.commits.mu.Unlock(); return len(s.commits.queue) == 2 })
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	matches("two updates in one transaction", true)
	*ix = second

	from := ix.State
	ix.State, ix.UpdatedAt = workspace.Completed, ix.UpdatedAt.Add(time.Millisecond)
	if err := s.CompleteInteraction(ctx, ix, from); err != nil {
		t.Fatal(err)
	}
	matches("completed", false)
}

// queuedWebchat is a new live webchat, queued, created and updated at now.
func queuedWebchat(now time.Time) *workspace.Interaction {
	return &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: "visitor"}, PlanID: "plan", CreatedAt: now, UpdatedAt: now}
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
