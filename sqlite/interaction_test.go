package sqlite

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestUpdateInteractionSetsChangedColumns: an update assigns only the columns whose value
// changed (issue 14: SQLite rewrites an index's entry whenever an UPDATE assigns one of its
// columns, changed or not). Every column still follows the record, the indexes stay
// consistent with the rows, and an update that moves no indexed column but updatedAt writes
// far fewer pages to the WAL than the nine that assigning every column cost.
func TestUpdateInteractionSetsChangedColumns(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	if _, err := s.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint=0`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.SMS, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: "+15550001"}, PlanID: uuid.NewString(), CreatedAt: now, QueuedAt: &now, ThreadKey: "sms:+15550001"}
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	// matches checks every copied column against the record, and the indexes against the rows.
	matches := func(step string) {
		t.Helper()
		stored := make([]any, len(interactionColumns))
		ptrs := make([]any, len(stored))
		for i := range stored {
			ptrs[i] = &stored[i]
		}
		if err := s.read.QueryRowContext(ctx, `SELECT `+strings.Join(interactionColumns, ", ")+` FROM interactions WHERE id = ?`, ix.ID).Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, want := range interactionRow(ix) {
			if stored[i] != want {
				t.Errorf("%s: column %s is %v, want %v", step, interactionColumns[i], stored[i], want)
			}
		}
		var check string
		if err := s.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("%s: integrity_check: %q %v", step, check, err)
		}
		got, err := s.Interaction(ctx, ix.ID)
		if err != nil || got.State != ix.State || got.AgentID != ix.AgentID || got.Version != ix.Version {
			t.Fatalf("%s: read back %+v, %v", step, got, err)
		}
	}
	update := func(step string, change func(*workspace.Interaction)) {
		t.Helper()
		from := ix.State
		change(ix)
		ix.UpdatedAt = ix.UpdatedAt.Add(time.Millisecond).Round(time.Millisecond)
		if ix.UpdatedAt.Before(now) {
			ix.UpdatedAt = now
		}
		if err := s.UpdateInteraction(ctx, ix, from); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		matches(step)
	}
	matches("created")
	agent, due := uuid.NewString(), now.Add(30*time.Second)
	update("offered", func(x *workspace.Interaction) {
		x.State, x.AgentID, x.DueAt, x.OfferedAt = workspace.Offered, agent, due, &now
	})
	update("accepted", func(x *workspace.Interaction) { x.State, x.DueAt, x.AcceptedAt = workspace.Active, time.Time{}, &now })
	update("moved to another plan", func(x *workspace.Interaction) { x.PlanID = uuid.NewString() })
	update("thread freed", func(x *workspace.Interaction) { x.ThreadKey = "" })
	update("wrap", func(x *workspace.Interaction) { x.State, x.EndedAt = workspace.Wrap, &now })
	update("disposition", func(x *workspace.Interaction) { x.Dispositions = []string{"RESOLVED"} })
	update("completed", func(x *workspace.Interaction) { x.State, x.CompletedAt = workspace.Completed, &now })

	// A stale version still loses, whatever columns it would change.
	stale := *ix
	stale.Version--
	stale.Dispositions = []string{"LOST"}
	if err := s.UpdateInteraction(ctx, &stale, ix.State); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a stale update: %v, want CONFLICT", err)
	}
	gone := &workspace.Interaction{ID: uuid.NewString(), State: workspace.Queued, CreatedAt: now}
	if err := s.UpdateInteraction(ctx, gone, workspace.Queued); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("an update of no interaction: %v, want CONFLICT", err)
	}
	matches("after the refused updates")

	// Pages: updates that move only updatedAt (and the record) rewrite the row and the
	// updated_at index, not the other seven indexes.
	var file string
	var page int64
	if err := s.read.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	if err := s.read.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&page); err != nil {
		t.Fatal(err)
	}
	wal := func() int64 {
		fi, err := os.Stat(file + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	const n = 50
	before := wal()
	for i := range n {
		update("notes", func(x *workspace.Interaction) { x.Dispositions = []string{"RESOLVED", string(rune('a' + i%26))} })
	}
	frames := float64(wal()-before) / float64(n*(page+24)) // a frame is a page and its 24-byte header
	t.Logf("%.1f WAL frames per update that moves updatedAt only", frames)
	if frames > 5 {
		t.Fatalf("%.1f pages written per update that changes no indexed column but updatedAt: want at most 5 (the row, the updated_at index and their parents)", frames)
	}
}
