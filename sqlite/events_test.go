package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// TestEventsNumberedAfterMigration: migration 015 rebuilds the events table without
// AUTOINCREMENT (issue 14: its sqlite_sequence row was one more page in every commit of a
// change). Events written before keep their seq, and the ones written after continue from
// the largest, in commit order, so a webhook's or a CRM's cursor neither skips nor repeats.
func TestEventsNumberedAfterMigration(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	// The schema as migration 014 left it, with three events, the second of them for a
	// message, and a fourth whose transaction rolled back.
	db, exec := MigratedTo(t, dir, 14)
	ixID := uuid.NewString()
	old := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	for i, id := range old {
		exec(`INSERT INTO events (id, kind, at, interaction_id, message_id) VALUES (?,?,?,?,?)`,
			id, workspace.ChangeUpdated, int64(1000+i), ixID, map[bool]string{true: "m-1"}[i == 1])
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO events (id, kind, at, interaction_id, message_id) VALUES ('rolled-back','UPDATED',0,'x','')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var schema string
	if err := s.read.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'events'`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(schema), "AUTOINCREMENT") {
		t.Fatalf("events still numbered by AUTOINCREMENT: %s", schema)
	}

	// Two changes after the migration, each with its event.
	now := time.Now()
	ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: "visitor"}, PlanID: uuid.NewString(), CreatedAt: now, UpdatedAt: now}
	created := &workspace.ChangeEvent{ID: uuid.NewString(), Kind: workspace.ChangeCreated, At: now, InteractionID: ix.ID}
	ix.Outbox = []*workspace.ChangeEvent{created}
	if err := s.CreateInteraction(ctx, ix); err != nil {
		t.Fatal(err)
	}
	m := &workspace.Message{ID: uuid.NewString(), InteractionID: ix.ID, From: workspace.PartyContact, Text: "hello", SentAt: now}
	message := &workspace.ChangeEvent{ID: uuid.NewString(), Kind: workspace.ChangeMessage, At: now, InteractionID: ix.ID, MessageID: m.ID}
	m.Outbox = []*workspace.ChangeEvent{message}
	if err := s.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}

	all, err := s.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := append(old, created.ID, message.ID)
	if len(all) != len(want) {
		t.Fatalf("%d events after the migration, want %d", len(all), len(want))
	}
	for i, e := range all {
		if e.ID != want[i] || e.Seq != int64(i+1) {
			t.Errorf("event %d: %s at seq %d, want %s at seq %d", i, e.ID, e.Seq, want[i], i+1)
		}
	}
	if all[1].MessageID != "m-1" || !all[0].At.Equal(time.UnixMilli(1000)) || all[0].InteractionID != ixID {
		t.Errorf("an old event changed in the copy: %+v, %+v", all[0], all[1])
	}
	if created.Seq != 4 || message.Seq != 5 {
		t.Errorf("new events numbered %d and %d, want 4 and 5", created.Seq, message.Seq)
	}
	if last, err := s.LastEventSeq(ctx); err != nil || last != 5 {
		t.Errorf("LastEventSeq = %d, %v; want 5", last, err)
	}
	after, err := s.Events(ctx, 3, 10)
	if err != nil || len(after) != 2 || after[0].ID != created.ID {
		t.Errorf("Events after the old cursor 3: %v, %v; want the two new ones", after, err)
	}
	var kept int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'events'`).Scan(&kept); err != nil || kept != 0 {
		t.Errorf("sqlite_sequence still numbers events (%d rows, %v)", kept, err)
	}
}
