package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

func ptr(t time.Time) *time.Time { return &t }

// newInteraction returns a QUEUED interaction created at at, with every optional field empty.
func newInteraction(at time.Time) *workspace.Interaction {
	return &workspace.Interaction{
		ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound,
		State: workspace.Queued, Contact: workspace.Contact{Address: "+15550100", Name: "Pat"},
		PlanID: "plan-1", CreatedAt: at,
	}
}

// fullInteraction returns a WRAP interaction with every field set; its times have
// millisecond parts, the finest precision both adapters keep.
func fullInteraction() *workspace.Interaction {
	base := now().Add(-time.Hour).Truncate(time.Second).Add(123 * time.Millisecond)
	return &workspace.Interaction{
		ID: uuid.NewString(), Channel: workspace.Email, Direction: workspace.Outbound,
		State: workspace.Wrap, Contact: workspace.Contact{Address: "pat@example.com", Name: "Pat Ó Súilleabháin"},
		AgentID: "agent-1", PlanID: "plan-1", FormerAgentIDs: []string{"agent-0"},
		CreatedAt:  base,
		AcceptedAt: ptr(base.Add(2*time.Second + 7*time.Millisecond)),
		EndedAt:    ptr(base.Add(90*time.Second + 999*time.Millisecond)),
		EndedBy:    workspace.PartyContact,
		Notes:      "Refund promised.\nCall back Monday.", Dispositions: []string{"REFUND", "CALLBACK"},
		WrapDeadline: ptr(base.Add(2*time.Minute + 1*time.Millisecond)),
		OfferSeq:     3, OfferedAt: ptr(base.Add(time.Second + 500*time.Millisecond)), AutoAccepted: true,
		RejectedBy:    []string{"agent-2", "agent-3"},
		DueAt:         base.Add(2*time.Minute + 1*time.Millisecond),
		LastContactAt: ptr(base.Add(80*time.Second + 11*time.Millisecond)),
		AutoParkAt:    ptr(base.Add(680*time.Second + 11*time.Millisecond)),
		ParkedAt:      ptr(base.Add(30*time.Second + 3*time.Millisecond)),
		ParkedUntil:   ptr(base.Add(time.Hour + 30*time.Second + 3*time.Millisecond)),
		Transfer: &workspace.Transfer{FromAgentID: "agent-1", ToAgentID: "agent-2", OfferID: "x.4",
			ExpiresAt: base.Add(95*time.Second + 5*time.Millisecond)},
		ContactTokenHash: "tokenhash",
		Version:          0,
	}
}

// completed returns a copy of ix moved to COMPLETED, as the domain writes it before archiving.
func completed(ix *workspace.Interaction) *workspace.Interaction {
	c := *ix
	c.State, c.CompletedAt, c.DueAt = workspace.Completed, ptr(now()), time.Time{}
	return &c
}

// interactionJSON renders ix for comparison: times as UTC instants, an empty slice as nil.
// Pointers stay pointers, so a nil time that came back set (or the reverse) shows.
func interactionJSON(ix *workspace.Interaction) string {
	c := *ix
	utc := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		return ptr(p.UTC())
	}
	c.CreatedAt, c.DueAt = c.CreatedAt.UTC(), c.DueAt.UTC()
	c.AcceptedAt, c.EndedAt, c.CompletedAt = utc(c.AcceptedAt), utc(c.EndedAt), utc(c.CompletedAt)
	c.WrapDeadline, c.OfferedAt = utc(c.WrapDeadline), utc(c.OfferedAt)
	c.LastContactAt, c.AutoParkAt, c.ParkedAt, c.ParkedUntil = utc(c.LastContactAt), utc(c.AutoParkAt), utc(c.ParkedAt), utc(c.ParkedUntil)
	if c.Transfer != nil {
		t := *c.Transfer
		t.ExpiresAt = t.ExpiresAt.UTC()
		c.Transfer = &t
	}
	if len(c.Dispositions) == 0 {
		c.Dispositions = nil
	}
	if len(c.RejectedBy) == 0 {
		c.RejectedBy = nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sameInteraction(t *testing.T, got, want *workspace.Interaction) {
	t.Helper()
	if g, w := interactionJSON(got), interactionJSON(want); g != w {
		t.Fatalf("interaction differs:\n got %s\nwant %s", g, w)
	}
}

func interactionIDs(list []*workspace.Interaction) []string {
	ids := make([]string, len(list))
	for i, ix := range list {
		ids[i] = ix.ID
	}
	return ids
}

// sortedIDs returns n fresh IDs in ascending order, so a test can decide how ties on
// CreatedAt break.
func sortedIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	slices.Sort(ids)
	return ids
}

func testInteractionCreate(t *testing.T, s workspace.Store) {
	full := fullInteraction()
	must(t, s.CreateInteraction(ctx(t), full))
	got, err := s.Interaction(ctx(t), full.ID)
	must(t, err)
	sameInteraction(t, got, full)

	// Optional times stay nil, DueAt stays zero, and empty slices are fine.
	bare := newInteraction(now())
	bare.Dispositions, bare.RejectedBy = []string{}, nil
	must(t, s.CreateInteraction(ctx(t), bare))
	got, err = s.Interaction(ctx(t), bare.ID)
	must(t, err)
	if got.AcceptedAt != nil || got.EndedAt != nil || got.CompletedAt != nil || got.WrapDeadline != nil || got.OfferedAt != nil {
		t.Fatalf("unset times came back set: %s", interactionJSON(got))
	}
	if !got.DueAt.IsZero() {
		t.Fatalf("unset DueAt came back as %v", got.DueAt)
	}
	sameInteraction(t, got, bare)

	// A create stores the version as given.
	versioned := newInteraction(now())
	versioned.Version = 7
	must(t, s.CreateInteraction(ctx(t), versioned))
	got, err = s.Interaction(ctx(t), versioned.ID)
	must(t, err)
	if got.Version != 7 {
		t.Fatalf("version = %d, want 7 as created", got.Version)
	}

	dup := newInteraction(now())
	dup.ID = full.ID
	wantCode(t, s.CreateInteraction(ctx(t), dup), workspace.ECONFLICT)
	got, err = s.Interaction(ctx(t), full.ID)
	must(t, err)
	sameInteraction(t, got, full)

	_, err = s.Interaction(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)
}

// testInteractionUpdate checks that an update is guarded by both version and state.
func testInteractionUpdate(t *testing.T, s workspace.Store) {
	ix := newInteraction(now())
	must(t, s.CreateInteraction(ctx(t), ix))

	ix.State, ix.AgentID, ix.OfferSeq = workspace.Offered, "agent-1", 1
	ix.OfferedAt, ix.DueAt = ptr(now()), now().Add(30*time.Second)
	ix.RejectedBy = []string{"agent-0"}
	must(t, s.UpdateInteraction(ctx(t), ix, workspace.Queued))
	if ix.Version != 1 {
		t.Fatalf("version after update = %d, want 1", ix.Version)
	}
	got, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, ix)

	// Now stored: OFFERED at version 1.
	wrongVersion := *ix
	wrongVersion.Version, wrongVersion.State = 0, workspace.Active
	wantCode(t, s.UpdateInteraction(ctx(t), &wrongVersion, workspace.Offered), workspace.ECONFLICT)
	wrongState := *ix
	wrongState.State = workspace.Active
	wantCode(t, s.UpdateInteraction(ctx(t), &wrongState, workspace.Queued), workspace.ECONFLICT)
	if wrongState.Version != ix.Version {
		t.Fatalf("a failed update changed the record's version to %d", wrongState.Version)
	}
	got, err = s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, ix)

	wantCode(t, s.UpdateInteraction(ctx(t), newInteraction(now()), workspace.Queued), workspace.ECONFLICT)

	ix.State, ix.AcceptedAt, ix.DueAt = workspace.Active, ptr(now()), time.Time{}
	must(t, s.UpdateInteraction(ctx(t), ix, workspace.Offered))
	if ix.Version != 2 {
		t.Fatalf("version after second update = %d, want 2", ix.Version)
	}
	got, err = s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, ix)
	if !got.DueAt.IsZero() {
		t.Fatalf("a cleared DueAt came back as %v", got.DueAt)
	}
}

// testInteractionRace checks that exactly one of several writers holding the same version
// and state wins, as when several nodes fire the same due timer.
func testInteractionRace(t *testing.T, s workspace.Store) {
	ix := newInteraction(now())
	must(t, s.CreateInteraction(ctx(t), ix))
	for round := 0; round < 5; round++ {
		base, err := s.Interaction(ctx(t), ix.ID)
		must(t, err)
		to := workspace.Offered
		if base.State == workspace.Offered {
			to = workspace.Queued
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				mine := *base
				mine.State, mine.Notes = to, fmt.Sprintf("writer %d", i)
				err := s.UpdateInteraction(context.Background(), &mine, base.State)
				mu.Lock()
				defer mu.Unlock()
				switch workspace.ErrorCode(err) {
				case "":
					wins++
				case workspace.ECONFLICT:
					conflicts++
				default:
					t.Errorf("writer %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 {
			t.Fatalf("round %d: %d winners and %d conflicts, want 1 and 7", round, wins, conflicts)
		}
		got, err := s.Interaction(ctx(t), ix.ID)
		must(t, err)
		if got.State != to || got.Version != base.Version+1 {
			t.Fatalf("round %d: stored %s v%d, want %s v%d", round, got.State, got.Version, to, base.Version+1)
		}
	}
}

// timesListed counts the times Interactions(f) lists the interaction id.
func timesListed(t *testing.T, s workspace.Store, f workspace.InteractionFilter, id string) int {
	t.Helper()
	page, err := s.Interactions(ctx(t), f, nil, 100)
	must(t, err)
	n := 0
	for _, ix := range page {
		if ix.ID == id {
			n++
		}
	}
	return n
}

// isListedLive reports whether LiveInteractions(f) lists the interaction id.
func isListedLive(t *testing.T, s workspace.Store, f workspace.LiveFilter, id string) bool {
	t.Helper()
	live, err := s.LiveInteractions(ctx(t), f)
	must(t, err)
	return slices.Contains(interactionIDs(live), id)
}

// testArchive moves completed interactions to history, including moves a crash interrupted.
func testArchive(t *testing.T, s workspace.Store) {
	listed := func(f workspace.InteractionFilter, id string) int { t.Helper(); return timesListed(t, s, f, id) }
	isLive := func(f workspace.LiveFilter, id string) bool { t.Helper(); return isListedLive(t, s, f, id) }
	all := workspace.InteractionFilter{}
	onlyCompleted := workspace.LiveFilter{States: []workspace.InteractionState{workspace.Completed}}

	// The normal path: update to COMPLETED, then archive.
	ix := fullInteraction()
	must(t, s.CreateInteraction(ctx(t), ix))
	done := completed(ix)
	must(t, s.UpdateInteraction(ctx(t), done, workspace.Wrap))
	must(t, s.ArchiveInteraction(ctx(t), done))
	if isLive(workspace.LiveFilter{}, ix.ID) {
		t.Fatalf("an archived interaction is still live")
	}
	got, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, done)
	if n := listed(all, ix.ID); n != 1 {
		t.Fatalf("an archived interaction is listed %d times, want once", n)
	}
	// History is not live: an update of an archived interaction finds nothing to guard.
	again := *done
	wantCode(t, s.UpdateInteraction(ctx(t), &again, workspace.Completed), workspace.ECONFLICT)
	// Archiving twice is harmless.
	must(t, s.ArchiveInteraction(ctx(t), done))
	got, err = s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, done)
	if n := listed(all, ix.ID); n != 1 {
		t.Fatalf("an interaction archived twice is listed %d times, want once", n)
	}

	// Interrupted before the history write: the live record is COMPLETED and nothing else
	// exists. It stays readable, a sweep finds it among live records, and Interactions (live
	// records but COMPLETED ones, plus history) does not list it until the move is finished.
	ix2 := fullInteraction()
	must(t, s.CreateInteraction(ctx(t), ix2))
	done2 := completed(ix2)
	must(t, s.UpdateInteraction(ctx(t), done2, workspace.Wrap))
	got, err = s.Interaction(ctx(t), ix2.ID)
	must(t, err)
	sameInteraction(t, got, done2)
	if !isLive(onlyCompleted, ix2.ID) {
		t.Fatalf("LiveInteractions(States: COMPLETED) misses a completed record whose archive was interrupted")
	}
	if n := listed(all, ix2.ID); n != 0 {
		t.Fatalf("a live COMPLETED record is listed %d times before it is archived, want 0", n)
	}
	must(t, s.ArchiveInteraction(ctx(t), done2))
	if isLive(workspace.LiveFilter{}, ix2.ID) {
		t.Fatalf("a finished archive left the live record")
	}
	got, err = s.Interaction(ctx(t), ix2.ID)
	must(t, err)
	sameInteraction(t, got, done2)
	if n := listed(all, ix2.ID); n != 1 {
		t.Fatalf("a finished archive is listed %d times, want once", n)
	}

	// Interrupted after the history write: the live record is COMPLETED and history holds an
	// earlier copy. The live record wins reads, Interactions lists the interaction once, and
	// archiving again replaces the copy and removes the live record.
	ix3 := fullInteraction()
	must(t, s.CreateInteraction(ctx(t), ix3))
	done3 := completed(ix3)
	must(t, s.ArchiveInteraction(ctx(t), done3)) // the live record is WRAP: it stays
	got, err = s.Interaction(ctx(t), ix3.ID)
	must(t, err)
	sameInteraction(t, got, ix3)
	must(t, s.UpdateInteraction(ctx(t), done3, workspace.Wrap))
	got, err = s.Interaction(ctx(t), ix3.ID)
	must(t, err)
	sameInteraction(t, got, done3)
	if n := listed(all, ix3.ID); n != 1 {
		t.Fatalf("an interaction both live COMPLETED and in history is listed %d times, want once", n)
	}
	if n := listed(workspace.InteractionFilter{States: []workspace.InteractionState{workspace.Completed}}, ix3.ID); n != 1 {
		t.Fatalf("listed %d times among COMPLETED ones, want once", n)
	}
	must(t, s.ArchiveInteraction(ctx(t), done3))
	if isLive(workspace.LiveFilter{}, ix3.ID) {
		t.Fatalf("a repeated archive left the live record")
	}
	got, err = s.Interaction(ctx(t), ix3.ID)
	must(t, err)
	sameInteraction(t, got, done3) // the later copy replaced the earlier one
}

// testCompleteInteraction: CompleteInteraction is UpdateInteraction to COMPLETED and
// ArchiveInteraction in one step. It is guarded as an update is (state, version, a message
// since the read); refused, nothing changes and its event is not stored. Done, the record
// (its version moved on) is in history and not live, listed once, with its event and the
// message it carried, and the Agent Assist examples it carried stored (one already stored
// is left as it was); a second call finds nothing live, and the sweep's ArchiveInteraction
// after it is harmless.
func testCompleteInteraction(t *testing.T, s workspace.Store) {
	isLive := func(id string) bool { t.Helper(); return isListedLive(t, s, workspace.LiveFilter{}, id) }
	listed := func(id string) int { t.Helper(); return timesListed(t, s, workspace.InteractionFilter{}, id) }
	ix := fullInteraction()
	ix.UpdatedAt = now().Add(-time.Minute).Truncate(time.Millisecond)
	must(t, s.CreateInteraction(ctx(t), ix))
	wantCode(t, s.CompleteInteraction(ctx(t), ix, workspace.Wrap), workspace.EINVALID) // not COMPLETED

	example := func(code, text string) *workspace.AssistExample {
		return &workspace.AssistExample{ID: uuid.NewString(), PlanID: ix.PlanID, Code: code, Text: text, At: now().Truncate(time.Millisecond)}
	}
	examples := func() map[string]string { // ID → text of the plan's stored examples
		t.Helper()
		got, err := s.AssistExamples(ctx(t), ix.PlanID, "", 100)
		must(t, err)
		out := map[string]string{}
		for _, e := range got {
			out[e.ID] = e.Text
		}
		return out
	}

	// Refused: another version, another state, a read from before the last change.
	var lost []string
	var unlearnt []string
	refused := func(what string, change func(*workspace.Interaction), from workspace.InteractionState) {
		t.Helper()
		x := completed(ix)
		x.UpdatedAt = now()
		change(x)
		e := event(workspace.ChangeCompleted, ix.ID, "")
		x.Outbox, lost = []*workspace.ChangeEvent{e}, append(lost, e.ID)
		ex := example("REFUSED", "not learnt")
		x.Learnt, unlearnt = []*workspace.AssistExample{ex}, append(unlearnt, ex.ID)
		if err := s.CompleteInteraction(ctx(t), x, from); workspace.ErrorCode(err) != workspace.ECONFLICT {
			t.Fatalf("%s: %v, want CONFLICT", what, err)
		}
		got, err := s.Interaction(ctx(t), ix.ID)
		must(t, err)
		sameInteraction(t, got, ix)
		if !isLive(ix.ID) || listed(ix.ID) != 1 {
			t.Fatalf("%s: the refused completion moved the record", what)
		}
	}
	refused("a stale version", func(x *workspace.Interaction) { x.Version = 5 }, workspace.Wrap)
	refused("another state", func(*workspace.Interaction) {}, workspace.Active)
	refused("a read from before the last change", func(x *workspace.Interaction) { x.UpdatedAt = ix.UpdatedAt.Add(-time.Second) }, workspace.Wrap)

	// Done, with its event and the note it carries.
	done := completed(ix)
	done.UpdatedAt = now()
	completedEvent := event(workspace.ChangeCompleted, ix.ID, "")
	note := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartySystem,
		Text: "Completed", SentAt: done.UpdatedAt}
	noteEvent := event(workspace.ChangeMessage, ix.ID, note.ID)
	note.Outbox = []*workspace.ChangeEvent{noteEvent}
	done.Outbox, done.Messages = []*workspace.ChangeEvent{completedEvent}, []*workspace.Message{note}
	learnt, repeated := example("RESOLVED", "where is my parcel"), example("REFUND", "as first stored")
	must(t, s.AddAssistExample(ctx(t), repeated))
	repeat := *repeated
	repeat.Text = "a repeat"
	done.Learnt = []*workspace.AssistExample{learnt, &repeat}
	must(t, s.CompleteInteraction(ctx(t), done, workspace.Wrap))
	if done.Version != ix.Version+1 {
		t.Fatalf("version after CompleteInteraction = %d, want %d", done.Version, ix.Version+1)
	}
	done.Outbox, done.Messages, done.Learnt = nil, nil, nil
	stored := examples()
	if stored[learnt.ID] != learnt.Text || stored[repeated.ID] != repeated.Text {
		t.Fatalf("examples after CompleteInteraction: %v, want %s learnt and %s as first stored", stored, learnt.ID, repeated.ID)
	}
	for _, id := range unlearnt {
		if _, ok := stored[id]; ok {
			t.Fatalf("a refused completion stored its example %s", id)
		}
	}
	got, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, done)
	if isLive(ix.ID) {
		t.Fatalf("a completed interaction is still live")
	}
	if n := listed(ix.ID); n != 1 {
		t.Fatalf("a completed interaction is listed %d times, want once", n)
	}
	msgs, err := s.Messages(ctx(t), ix.ID, "", 10)
	must(t, err)
	if len(msgs) != 1 || msgs[0].ID != note.ID || msgs[0].Text != note.Text {
		t.Fatalf("messages after CompleteInteraction: %v, want the note it carried", msgs)
	}
	for _, e := range []*workspace.ChangeEvent{completedEvent, noteEvent} {
		if _, err := s.Event(ctx(t), e.ID); err != nil {
			t.Fatalf("event %s of the completion: %v", e.Kind, err)
		}
	}
	for _, id := range lost {
		_, err := s.Event(ctx(t), id)
		wantCode(t, err, workspace.ENOTFOUND)
	}

	// Again: nothing live to guard. The sweep's archive after it changes nothing.
	again := *done
	wantCode(t, s.CompleteInteraction(ctx(t), &again, workspace.Wrap), workspace.ECONFLICT)
	must(t, s.ArchiveInteraction(ctx(t), done))
	got, err = s.Interaction(ctx(t), ix.ID)
	must(t, err)
	sameInteraction(t, got, done)
	if n := listed(ix.ID); n != 1 {
		t.Fatalf("listed %d times after a repeated archive, want once", n)
	}
}

// testLiveInteractions checks LiveFilter's fields and both orders.
func testLiveInteractions(t *testing.T, s workspace.Store) {
	base := now().Add(-time.Hour)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	ids := sortedIDs(8)
	mk := func(id, agent, plan string, st workspace.InteractionState, created int, due int) *workspace.Interaction {
		ix := newInteraction(at(created))
		ix.ID, ix.AgentID, ix.PlanID, ix.State = id, agent, plan, st
		if due > 0 {
			ix.DueAt = at(due)
		}
		return ix
	}
	// a3 and a2 share a CreatedAt: the lower ID (a3) comes first.
	q1 := mk(ids[5], "", "P2", workspace.Queued, 0, 0)
	a1 := mk(ids[4], "A", "P1", workspace.Offered, 1, 10)
	a3 := mk(ids[1], "A", "P1", workspace.Wrap, 2, 5)
	a2 := mk(ids[2], "A", "P2", workspace.Active, 2, 0)
	b1 := mk(ids[0], "B", "P1", workspace.Offered, 3, 20)
	q2 := mk(ids[3], "", "P3", workspace.Queued, 4, 0)
	p1 := mk(ids[6], "B", "P3", workspace.Parked, 5, 0)
	gone := mk(ids[7], "A", "P1", workspace.Wrap, 1, 1)
	for _, ix := range []*workspace.Interaction{p1, b1, a2, q1, gone, a3, q2, a1} {
		must(t, s.CreateInteraction(ctx(t), ix))
	}
	// An archived interaction is not live, whatever it matches.
	gone = completed(gone)
	must(t, s.UpdateInteraction(ctx(t), gone, workspace.Wrap))
	must(t, s.ArchiveInteraction(ctx(t), gone))

	states := func(s ...workspace.InteractionState) []workspace.InteractionState { return s }
	name := map[string]string{}
	for n, ix := range map[string]*workspace.Interaction{"q1": q1, "a1": a1, "a2": a2, "a3": a3, "b1": b1, "q2": q2, "p1": p1, "gone": gone} {
		name[ix.ID] = n
	}
	for _, c := range []struct {
		f    workspace.LiveFilter
		want string
	}{
		{workspace.LiveFilter{}, "[q1 a1 a3 a2 b1 q2 p1]"},
		{workspace.LiveFilter{Limit: 3}, "[q1 a1 a3]"},
		{workspace.LiveFilter{AgentID: "A"}, "[a1 a3 a2]"},
		{workspace.LiveFilter{AgentID: "nobody"}, "[]"},
		{workspace.LiveFilter{PlanIDs: []string{"P1", "P3"}}, "[a1 a3 b1 q2 p1]"},
		{workspace.LiveFilter{States: states(workspace.Offered, workspace.Wrap)}, "[a1 a3 b1]"},
		{workspace.LiveFilter{States: states(workspace.Queued)}, "[q1 q2]"},
		{workspace.LiveFilter{AgentID: "A", PlanIDs: []string{"P1"}, States: states(workspace.Offered, workspace.Active)}, "[a1]"},
		// DueBefore: only records with a timer, due at or before it, ordered by DueAt.
		{workspace.LiveFilter{DueBefore: at(10)}, "[a3 a1]"},
		{workspace.LiveFilter{DueBefore: at(10).Add(-time.Millisecond)}, "[a3]"},
		{workspace.LiveFilter{DueBefore: at(4)}, "[]"},
		{workspace.LiveFilter{DueBefore: at(3600)}, "[a3 a1 b1]"},
		{workspace.LiveFilter{DueBefore: at(3600), Limit: 2}, "[a3 a1]"},
		{workspace.LiveFilter{DueBefore: at(3600), AgentID: "B"}, "[b1]"},
		{workspace.LiveFilter{DueBefore: at(3600), States: states(workspace.Offered)}, "[a1 b1]"},
	} {
		got, err := s.LiveInteractions(ctx(t), c.f)
		must(t, err)
		var names []string
		for _, ix := range got {
			names = append(names, name[ix.ID])
		}
		if fmt.Sprint(names) != c.want {
			t.Errorf("LiveInteractions(%+v) = %v, want %s", c.f, names, c.want)
		}
	}
	got, err := s.LiveInteractions(ctx(t), workspace.LiveFilter{AgentID: "B", States: states(workspace.Parked)})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("LiveInteractions found %d parked interactions of B, want 1", len(got))
	}
	sameInteraction(t, got[0], p1)
}

// testInteractionPages pages through live and archived interactions together (CRM reads).
func testInteractionPages(t *testing.T, s workspace.Store) {
	base := now().Add(-24 * time.Hour)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	channels := []workspace.Channel{workspace.Webchat, workspace.SMS, workspace.Email}
	addresses := []string{"+15550001", "+15550002"}

	// visible are the records Interactions must return, as it must return them.
	var visible []*workspace.Interaction
	for i := 0; i < 24; i++ {
		ix := newInteraction(at(i / 3)) // three records per second: IDs break the ties
		ix.Channel, ix.Contact.Address = channels[i%3], addresses[(i/2)%2]
		ix.AgentID, ix.PlanID = []string{"A", "B"}[i%2], "P1"
		switch i % 4 {
		case 0: // archived
			ix.State = workspace.Wrap
			ix.Notes, ix.Dispositions = fmt.Sprintf("note %d", i), []string{"OK"}
			must(t, s.CreateInteraction(ctx(t), ix))
			ix = completed(ix)
			must(t, s.UpdateInteraction(ctx(t), ix, workspace.Wrap))
			must(t, s.ArchiveInteraction(ctx(t), ix))
		case 1:
			ix.State, ix.AcceptedAt = workspace.Active, ptr(at(i/3+1))
			must(t, s.CreateInteraction(ctx(t), ix))
		case 2:
			ix.State, ix.AgentID = workspace.Queued, ""
			must(t, s.CreateInteraction(ctx(t), ix))
		case 3:
			ix.State = workspace.Parked
			must(t, s.CreateInteraction(ctx(t), ix))
		}
		visible = append(visible, ix)
	}
	// A move interrupted before the history write: not listed until finished.
	hidden := newInteraction(at(2))
	hidden.State, hidden.AgentID = workspace.Wrap, "A"
	must(t, s.CreateInteraction(ctx(t), hidden))
	must(t, s.UpdateInteraction(ctx(t), completed(hidden), workspace.Wrap))
	// A move interrupted after the history write: listed once, as archived.
	twice := newInteraction(at(3))
	twice.State, twice.AgentID = workspace.Wrap, "B"
	must(t, s.CreateInteraction(ctx(t), twice))
	twiceDone := completed(twice)
	must(t, s.ArchiveInteraction(ctx(t), twiceDone))
	must(t, s.UpdateInteraction(ctx(t), completed(twice), workspace.Wrap))
	visible = append(visible, twiceDone)

	less := func(a, b *workspace.Interaction) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	slices.SortFunc(visible, less)
	match := func(ix *workspace.Interaction, f workspace.InteractionFilter) bool {
		return (len(f.States) == 0 || slices.Contains(f.States, ix.State)) &&
			(len(f.Channels) == 0 || slices.Contains(f.Channels, ix.Channel)) &&
			(f.AgentID == "" || ix.AgentID == f.AgentID) &&
			(f.ContactAddress == "" || ix.Contact.Address == f.ContactAddress) &&
			(f.CreatedAfter == nil || !ix.CreatedAt.Before(*f.CreatedAfter)) &&
			(f.CreatedBefore == nil || ix.CreatedAt.Before(*f.CreatedBefore))
	}
	// expect lists the visible records matching f after the cursor, in order.
	expect := func(f workspace.InteractionFilter, after *workspace.InteractionCursor) []*workspace.Interaction {
		var want []*workspace.Interaction
		for _, ix := range visible {
			if match(ix, f) && (after == nil || less(ix, &workspace.Interaction{CreatedAt: after.CreatedAt, ID: after.ID}) > 0) {
				want = append(want, ix)
			}
		}
		return want
	}
	check := func(what string, got, want []*workspace.Interaction) {
		t.Helper()
		if fmt.Sprint(interactionIDs(got)) != fmt.Sprint(interactionIDs(want)) {
			t.Fatalf("%s:\n got %v\nwant %v", what, interactionIDs(got), interactionIDs(want))
		}
		for i := range got {
			if got[i].ID != twice.ID { // which copy of twice is listed is the adapter's choice
				sameInteraction(t, got[i], want[i])
			}
		}
	}

	states := func(s ...workspace.InteractionState) []workspace.InteractionState { return s }
	filters := []workspace.InteractionFilter{
		{},
		{States: states(workspace.Completed)},
		{States: states(workspace.Active, workspace.Completed)},
		{States: states(workspace.Queued)},
		{Channels: []workspace.Channel{workspace.SMS, workspace.Email}},
		{AgentID: "A"},
		{ContactAddress: addresses[1]},
		{CreatedAfter: ptr(at(2))},
		{CreatedBefore: ptr(at(5))},
		{CreatedAfter: ptr(at(2)), CreatedBefore: ptr(at(5))},
		{AgentID: "A", Channels: []workspace.Channel{workspace.Webchat, workspace.Email}, States: states(workspace.Completed, workspace.Parked)},
		{ContactAddress: addresses[0], CreatedAfter: ptr(at(3)), States: states(workspace.Completed)},
	}
	for _, f := range filters {
		want := expect(f, nil)
		if len(want) == 0 {
			t.Fatalf("test data: filter %+v matches nothing", f)
		}
		for _, limit := range []int{1, 4, 100} {
			var all []*workspace.Interaction
			var after *workspace.InteractionCursor
			for pages := 0; ; pages++ {
				if pages > len(visible)+1 {
					t.Fatalf("filter %+v, limit %d: paging does not end", f, limit)
				}
				page, err := s.Interactions(ctx(t), f, after, limit)
				must(t, err)
				rest := expect(f, after)
				check(fmt.Sprintf("filter %+v, limit %d, page after %+v", f, limit, after), page, rest[:min(limit, len(rest))])
				if len(page) == 0 {
					break
				}
				all = append(all, page...)
				last := page[len(page)-1]
				after = &workspace.InteractionCursor{CreatedAt: last.CreatedAt, ID: last.ID}
			}
			check(fmt.Sprintf("filter %+v, limit %d, all pages", f, limit), all, want)
		}
	}

	// A cursor need not name a record: it is a position in the order.
	for _, after := range []*workspace.InteractionCursor{
		{CreatedAt: at(3), ID: ""},
		{CreatedAt: at(3), ID: strings.Repeat("f", 36)},
		{CreatedAt: at(3).Add(-time.Millisecond), ID: strings.Repeat("f", 36)},
		{CreatedAt: at(100)},
	} {
		page, err := s.Interactions(ctx(t), workspace.InteractionFilter{}, after, 5)
		must(t, err)
		want := expect(workspace.InteractionFilter{}, after)
		check(fmt.Sprintf("after %+v", after), page, want[:min(5, len(want))])
	}
	if page, err := s.Interactions(ctx(t), workspace.InteractionFilter{AgentID: "nobody"}, nil, 10); err != nil || len(page) != 0 {
		t.Fatalf("Interactions for an unknown agent = %v, %v; want none", interactionIDs(page), err)
	}
}

func sameMessage(t *testing.T, got, want *workspace.Message) {
	t.Helper()
	g, w := *got, *want
	g.SentAt, w.SentAt = g.SentAt.UTC(), w.SentAt.UTC()
	g.NextAttemptAt, w.NextAttemptAt = g.NextAttemptAt.UTC(), w.NextAttemptAt.UTC()
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		t.Fatalf("message differs:\n got %s\nwant %s", gj, wj)
	}
}

func sameMessages(t *testing.T, what string, got, want []*workspace.Message) {
	t.Helper()
	if len(got) != len(want) {
		var ids []string
		for _, m := range got {
			ids = append(ids, m.Text)
		}
		t.Fatalf("%s: got %d messages %v, want %d", what, len(got), ids, len(want))
	}
	for i := range got {
		sameMessage(t, got[i], want[i])
	}
}

// testMessages appends transcripts out of order and reads them back in ID order.
func testMessages(t *testing.T, s workspace.Store) {
	ix1, ix2 := newInteraction(now()), newInteraction(now())
	must(t, s.CreateInteraction(ctx(t), ix1))
	must(t, s.CreateInteraction(ctx(t), ix2))

	base := now().Add(-time.Minute)
	var msgs []*workspace.Message // ix1's, in ID order
	var other []*workspace.Message
	for i := 0; i < 7; i++ {
		m := &workspace.Message{
			ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix1.ID,
			From: workspace.PartyContact, Text: fmt.Sprintf("m%d: héllo ✓", i),
			SentAt: base.Add(time.Duration(i)*time.Second + time.Duration(i)*time.Millisecond),
		}
		if i%2 == 1 {
			m.From, m.AgentID = workspace.PartyAgent, "agent-1"
		}
		if i == 5 {
			m.From = workspace.PartySystem
		}
		msgs = append(msgs, m)
		if i < 2 {
			other = append(other, &workspace.Message{
				ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix2.ID,
				From: workspace.PartyContact, Text: fmt.Sprintf("other %d", i), SentAt: m.SentAt,
			})
		}
	}

	_, err := s.LastMessage(ctx(t), ix1.ID)
	wantCode(t, err, workspace.ENOTFOUND)
	if n, err := s.CountMessages(ctx(t), ix1.ID); err != nil || n != 0 {
		t.Fatalf("CountMessages of an empty transcript = %d, %v", n, err)
	}
	if got, err := s.Messages(ctx(t), ix1.ID, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("Messages of an empty transcript = %v, %v", got, err)
	}

	// Append out of ID order, interleaved with another transcript.
	for k, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		must(t, s.AppendMessage(ctx(t), msgs[i]))
		if k < len(other) {
			must(t, s.AppendMessage(ctx(t), other[k]))
		}
	}
	dup := *msgs[2]
	dup.Text = "again"
	wantCode(t, s.AppendMessage(ctx(t), &dup), workspace.ECONFLICT)
	dup.InteractionID = ix2.ID
	wantCode(t, s.AppendMessage(ctx(t), &dup), workspace.ECONFLICT)

	got, err := s.Messages(ctx(t), ix1.ID, "", 100)
	must(t, err)
	sameMessages(t, "whole transcript", got, msgs)
	got, err = s.Messages(ctx(t), ix1.ID, "", 3)
	must(t, err)
	sameMessages(t, "first 3", got, msgs[:3])
	got, err = s.Messages(ctx(t), ix1.ID, msgs[2].ID, 3)
	must(t, err)
	sameMessages(t, "3 after the third", got, msgs[3:6])
	got, err = s.Messages(ctx(t), ix1.ID, msgs[5].ID, 3)
	must(t, err)
	sameMessages(t, "after the sixth", got, msgs[6:])
	got, err = s.Messages(ctx(t), ix1.ID, msgs[6].ID, 3)
	must(t, err)
	sameMessages(t, "after the last", got, nil)
	// after is a position in ID order, not necessarily an ID of the transcript.
	got, err = s.Messages(ctx(t), ix1.ID, msgs[3].ID+"0", 100)
	must(t, err)
	sameMessages(t, "after a position between two IDs", got, msgs[4:])

	var paged []*workspace.Message
	for after := ""; ; {
		page, err := s.Messages(ctx(t), ix1.ID, after, 2)
		must(t, err)
		if len(page) > 2 {
			t.Fatalf("Messages returned %d, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	sameMessages(t, "paged by 2", paged, msgs)

	got, err = s.Messages(ctx(t), ix2.ID, "", 100)
	must(t, err)
	sameMessages(t, "other transcript", got, other)

	for id, want := range map[string]int{ix1.ID: 7, ix2.ID: 2, uuid.NewString(): 0} {
		n, err := s.CountMessages(ctx(t), id)
		must(t, err)
		if n != want {
			t.Fatalf("CountMessages = %d, want %d", n, want)
		}
	}
	last, err := s.LastMessage(ctx(t), ix1.ID)
	must(t, err)
	sameMessage(t, last, msgs[6])
	last, err = s.LastMessage(ctx(t), ix2.ID)
	must(t, err)
	sameMessage(t, last, other[1])
	_, err = s.LastMessage(ctx(t), uuid.NewString())
	wantCode(t, err, workspace.ENOTFOUND)
}
