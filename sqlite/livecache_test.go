package sqlite

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestLiveCacheFollowsWrites (issue 14): the store serves a live interaction it wrote or
// read from memory, and after every kind of write, committed or refused, what a read returns
// is what the table holds.
func TestLiveCacheFollowsWrites(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	// same checks that a read (from memory when kept) equals the table's row.
	same := func(step string, id string) *workspace.Interaction {
		t.Helper()
		got, err := s.Interaction(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var doc string
		err = s.read.QueryRowContext(ctx, `SELECT doc FROM interactions WHERE id = ?`, id).Scan(&doc)
		if err != nil {
			err = s.read.QueryRowContext(ctx, `SELECT doc FROM history WHERE id = ?`, id).Scan(&doc)
		}
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		stored, err := decodeInteraction(doc)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", stored); a != b {
			t.Fatalf("%s: read\n%s\nbut the table holds\n%s", step, a, b)
		}
		return got
	}
	kept := func(id string) bool { _, ok := s.live.get(id); return ok }

	now := time.Now().Truncate(time.Millisecond)
	ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: "visitor"}, PlanID: "plan", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	if !kept(ix.ID) {
		t.Fatal("a created interaction is not kept")
	}
	same("created", ix.ID)

	update := func(step string, change func(*workspace.Interaction)) {
		t.Helper()
		from := ix.State
		change(ix)
		ix.UpdatedAt = ix.UpdatedAt.Add(time.Millisecond)
		if err := s.UpdateInteraction(ctx, ix, from); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := same(step, ix.ID); got.Version != ix.Version || got.State != ix.State {
			t.Fatalf("%s: read version %d in %s, want %d in %s", step, got.Version, got.State, ix.Version, ix.State)
		}
	}
	update("offered", func(x *workspace.Interaction) { x.State, x.AgentID = workspace.Offered, "agent-1" })
	update("accepted", func(x *workspace.Interaction) { x.State = workspace.Active })

	// Refused writes change nothing, in the table or in memory.
	stale := *ix
	stale.Version--
	stale.Notes = "lost"
	if err := s.UpdateInteraction(ctx, &stale, ix.State); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a stale update: %v, want CONFLICT", err)
	}
	if got := same("after a refused update", ix.ID); got.Notes != "" {
		t.Fatalf("a refused update shows: notes %q", got.Notes)
	}
	dup := *ix
	if err := s.CreateInteraction(ctx, &dup); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a second create of the same ID: %v, want CONFLICT", err)
	}
	same("after a refused create", ix.ID)

	// A message moves updatedAt in the table, and its write keeps the doc it moved: the next
	// read has it, from memory. One sent earlier moves nothing.
	m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact, Text: "hi",
		SentAt: ix.UpdatedAt.Add(time.Second)}
	if err := s.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if !kept(ix.ID) {
		t.Fatal("a message's write did not keep the doc it moved")
	}
	if got := same("after a message", ix.ID); !got.UpdatedAt.Equal(m.SentAt) {
		t.Fatalf("after a message: updatedAt %v, want the message's %v", got.UpdatedAt, m.SentAt)
	}
	earlier := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyAgent, Text: "late",
		SentAt: ix.UpdatedAt}
	if err := s.AppendMessage(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	if got := same("after an earlier message", ix.ID); !got.UpdatedAt.Equal(m.SentAt) {
		t.Fatalf("after an earlier message: updatedAt %v, want still %v", got.UpdatedAt, m.SentAt)
	}
	ix.UpdatedAt = m.SentAt
	update("wrap", func(x *workspace.Interaction) { x.State = workspace.Wrap })

	// Completed: the live row is gone and the read comes from history.
	from := ix.State
	ix.State, ix.UpdatedAt = workspace.Completed, ix.UpdatedAt.Add(time.Millisecond)
	if err := s.CompleteInteraction(ctx, ix, from); err != nil {
		t.Fatal(err)
	}
	if kept(ix.ID) {
		t.Fatal("a completed interaction is still kept")
	}
	if got := same("completed", ix.ID); got.State != workspace.Completed {
		t.Fatalf("completed: read %s", got.State)
	}
	if kept(ix.ID) {
		t.Fatal("a read from history was kept")
	}

	// A read that a commit overtakes does not keep what it read.
	gen := s.live.generation()
	s.live.committed("other", "")
	s.live.keep("overtaken", "{}", gen)
	if kept("overtaken") {
		t.Fatal("a read overtaken by a commit was kept")
	}
}

// TestLiveCacheUnderRace: writers race on one interaction through the guarded update,
// each re-reading on CONFLICT as the domain does, while messages move its updatedAt and
// readers read it. Every write that succeeded is counted, and at the end a read, the table
// and the count agree: a read never served a record older than one its reader's own
// write had returned, nor one older than a listing of the table showed before.
func TestLiveCacheUnderRace(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	now := time.Now().Truncate(time.Millisecond)
	ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Active,
		Contact: workspace.Contact{Address: "visitor"}, PlanID: "plan", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	var mu sync.Mutex
	written := 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for attempt := 0; ; attempt++ {
					cur, err := s.Interaction(ctx, ix.ID)
					if err != nil {
						errs <- err
						return
					}
					next := *cur
					next.Notes = fmt.Sprintf("writer %d", w)
					// As the domain stamps a write: after the record's updatedAt, at least now.
					next.UpdatedAt = time.Now().Truncate(time.Millisecond)
					if after := cur.UpdatedAt.Add(time.Millisecond); next.UpdatedAt.Before(after) {
						next.UpdatedAt = after
					}
					err = s.UpdateInteraction(ctx, &next, cur.State)
					if err == nil {
						mu.Lock()
						written++
						mu.Unlock()
						// Its own write is what this writer reads next, or something later.
						again, err := s.Interaction(ctx, ix.ID)
						if err != nil || again.Version < next.Version {
							errs <- fmt.Errorf("after writing version %d, read %v, %v", next.Version, again, err)
							return
						}
						break
					}
					if workspace.ErrorCode(err) != workspace.ECONFLICT || attempt > 1000 {
						errs <- err
						return
					}
				}
			}
		}()
	}
	// Beside the writers, until they are done: messages, and readers.
	stop := make(chan struct{})
	var bg sync.WaitGroup
	beside := func(step func() error) {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := step(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	beside(func() error {
		m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact,
			Text: "hi", SentAt: time.Now()}
		return s.AppendMessage(ctx, m)
	})
	beside(func() error { _, err := s.Interaction(ctx, ix.ID); return err })
	// A read by ID after a listing (which reads the table) returns what the listing showed,
	// or something later: seen as an agent's accept finding an older offer than the one
	// their list of interactions showed (TestRoutingRace, in CI).
	beside(func() error {
		listed, err := s.LiveInteractions(ctx, workspace.LiveFilter{States: []workspace.InteractionState{workspace.Active}})
		if err != nil || len(listed) != 1 {
			return fmt.Errorf("listing: %d, %v", len(listed), err)
		}
		got, err := s.Interaction(ctx, ix.ID)
		if err != nil {
			return err
		}
		if got.Version < listed[0].Version {
			return fmt.Errorf("read version %d after a listing showed version %d", got.Version, listed[0].Version)
		}
		return nil
	})
	wg.Wait()
	close(stop)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A last message, after everything: the read has its updatedAt.
	last := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact,
		Text: "last", SentAt: time.Now().Add(time.Minute)}
	if err := s.AppendMessage(ctx, last); err != nil {
		t.Fatal(err)
	}
	got, err := s.Interaction(ctx, ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(last.SentAt.Truncate(time.Millisecond)) {
		t.Fatalf("after the last message: read updatedAt %v, want %v", got.UpdatedAt, last.SentAt)
	}
	var doc string
	if err := s.read.QueryRowContext(ctx, `SELECT doc FROM interactions WHERE id = ?`, ix.ID).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	stored, err := decodeInteraction(doc)
	if err != nil {
		t.Fatal(err)
	}
	if written != writers*each || got.Version != int64(written) || stored.Version != got.Version || !stored.UpdatedAt.Equal(got.UpdatedAt) {
		t.Fatalf("%d writes succeeded (want %d); read version %d updated %v; the table holds version %d updated %v",
			written, writers*each, got.Version, got.UpdatedAt, stored.Version, stored.UpdatedAt)
	}
}
