package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestLiveTranscriptsMatchTheTable (issue 14): after every kind of message write (the
// creation's, appended ones in and out of updatedAt's order, a record's write carrying a
// note, a delivery update with every optional column, and refused writes of each kind) the
// transcript of a live interaction reads as the table's, page by page; the read does not go
// to the table; the completion drops it; and one that outgrows its bound reads the table.
func TestLiveTranscriptsMatchTheTable(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	now := time.Now().Truncate(time.Millisecond)
	ix := queuedWebchat(now)
	at := now
	message := func(from workspace.Party, text string) *workspace.Message {
		at = at.Add(time.Millisecond)
		return &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: from, Text: text, SentAt: at}
	}
	first := message(workspace.PartyContact, "My card is lost")
	ix.Messages = []*workspace.Message{first}
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	ix.Messages = nil

	// matches reads the transcript whole and in pages of two, through the store and from the
	// table, and wants them equal; kept says whether the store must hold it.
	matches := func(step string, kept bool) []*workspace.Message {
		t.Helper()
		s.live.mu.Lock()
		_, ok := s.live.transcripts.by[ix.ID]
		s.live.mu.Unlock()
		if ok != kept {
			t.Fatalf("%s: a transcript kept: %v, want %v", step, ok, kept)
		}
		table, err := s.queryMessages(ctx, `SELECT `+messageColumns+` FROM messages WHERE interaction_id = ? ORDER BY id`, ix.ID)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := s.Messages(ctx, ix.ID, "", -1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := describe(whole), describe(table); got != want {
			t.Fatalf("%s: the store reads\n%s\nthe table holds\n%s", step, got, want)
		}
		var paged []*workspace.Message
		for after := ""; ; {
			page, err := s.Messages(ctx, ix.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].ID
			if len(paged) > len(table) {
				t.Fatalf("%s: page by page the store reads more than the table's %d messages", step, len(table))
			}
		}
		if got, want := describe(paged), describe(table); got != want {
			t.Fatalf("%s: page by page the store reads\n%s\nthe table holds\n%s", step, got, want)
		}
		if none, err := s.Messages(ctx, ix.ID, "", 0); err != nil || len(none) != 0 {
			t.Fatalf("%s: a limit of 0 read %d messages (%v)", step, len(none), err)
		}
		return table
	}
	matches("created", true)

	reply := message(workspace.PartyAgent, "Let me block it")
	if err := s.AppendMessage(ctx, reply); err != nil {
		t.Fatal(err)
	}
	// Sent before the record's updatedAt: it does not move the row, and is kept all the same.
	early := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact, Text: "thanks", SentAt: now}
	if err := s.AppendMessage(ctx, early); err != nil {
		t.Fatal(err)
	}
	matches("appended", true)
	if err := s.AppendMessage(ctx, &workspace.Message{ID: reply.ID, InteractionID: ix.ID, From: workspace.PartyAgent, Text: "again", SentAt: at}); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a message appended twice: %v, want CONFLICT", err)
	}
	matches("after a refused append", true)

	// A record's write carrying a note (Interaction.Messages).
	from := ix.State
	ix.State, ix.UpdatedAt = workspace.Active, at.Add(time.Millisecond)
	ix.Messages = []*workspace.Message{message(workspace.PartySystem, "Alice joined the chat")}
	if err := s.UpdateInteraction(ctx, ix, from); err != nil {
		t.Fatal(err)
	}
	ix.Messages = nil
	matches("a note carried", true)

	// A delivery update, with every optional column the row has.
	out := message(workspace.PartyAgent, "Your new card")
	out.Delivery = workspace.DeliveryPending
	if err := s.AppendMessage(ctx, out); err != nil {
		t.Fatal(err)
	}
	out.Delivery, out.Attempts, out.NextAttemptAt = workspace.DeliveryFailed, 2, at.Add(time.Minute)
	out.DeliveryError = &workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "busy", ProviderCode: "30003"}
	out.Template = &workspace.TemplateUse{TemplateID: "t1", Name: "card", Language: "en", Parameters: []string{"a", "b"}}
	out.AttachmentIDs = []string{"f1", "f2"}
	out.ExternalID = "SM123"
	out.Email = &workspace.EmailDetails{Subject: "Card", MessageID: "<1@x>", References: []string{"<0@x>"}, From: "a@x", To: "b@x", HTML: "<p>hi</p>"}
	if err := s.UpdateMessage(ctx, out); err != nil {
		t.Fatal(err)
	}
	stale := *out
	stale.Version, stale.Text = 0, "stale"
	if err := s.UpdateMessage(ctx, &stale); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a stale message update: %v, want CONFLICT", err)
	}
	table := matches("updated", true)
	if got := table[len(table)-1]; got.Version != 1 || got.Email == nil || got.Template == nil || got.DeliveryError == nil || len(got.AttachmentIDs) != 2 {
		t.Fatalf("the updated message reads %+v: the test did not store what it meant to", got)
	}

	// The kept transcript stands in for the table: a text changed behind the store's back
	// (which nothing does but this test) is not seen.
	if _, err := s.write.ExecContext(ctx, `UPDATE messages SET text = 'changed' WHERE id = ?`, first.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Messages(ctx, ix.ID, "", 1); err != nil || got[0].Text != first.Text {
		t.Fatalf("read %+v (%v): the read went to the table", got, err)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE messages SET text = ? WHERE id = ?`, first.Text, first.ID); err != nil {
		t.Fatal(err)
	}

	// The completion drops it: history's transcripts are read from the table.
	from = ix.State
	ix.State, ix.UpdatedAt = workspace.Completed, ix.UpdatedAt.Add(time.Minute)
	ix.CompletedAt = &ix.UpdatedAt
	ix.Messages = []*workspace.Message{message(workspace.PartySystem, "Completed")}
	if err := s.CompleteInteraction(ctx, ix, from); err != nil {
		t.Fatal(err)
	}
	matches("completed", false)
	if err := s.AppendMessage(ctx, message(workspace.PartyContact, "one more")); err != nil {
		t.Fatal(err)
	}
	matches("appended after completion", false)

	// One that outgrows its bound is dropped, and read from the table.
	ix = queuedWebchat(now)
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	for range transcriptRows {
		if err := s.AppendMessage(ctx, message(workspace.PartyContact, "hello")); err != nil {
			t.Fatal(err)
		}
	}
	matches("at its bound", true)
	if err := s.AppendMessage(ctx, message(workspace.PartyContact, "one too many")); err != nil {
		t.Fatal(err)
	}
	matches("past its bound", false)
}

// describe prints messages whole, one per line, pointers followed.
func describe(ms []*workspace.Message) string {
	var b strings.Builder
	for _, m := range ms {
		c := *m
		pointed := []any{c.DeliveryError, c.Template, c.Email}
		c.DeliveryError, c.Template, c.Email = nil, nil, nil
		fmt.Fprintf(&b, "%+v", c)
		for _, p := range pointed {
			fmt.Fprintf(&b, " %+v", p)
		}
		b.WriteString("\n")
	}
	return b.String()
}
