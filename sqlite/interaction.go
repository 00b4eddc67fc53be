package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// CreateInteraction inserts a new live interaction.
func (s *Store) CreateInteraction(ctx context.Context, ix *workspace.Interaction) error {
	doc, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO interactions (id, state, channel, agent_id, plan_id, contact_address,
		created_at, due_at, version, doc) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		ix.ID, ix.State, ix.Channel, ix.AgentID, ix.PlanID, ix.Contact.Address, millis(ix.CreatedAt),
		optMillis(ix.DueAt), ix.Version, string(doc))
	return mapErr(err, "interaction "+ix.ID)
}

// Interaction reads the live table first, then history.
func (s *Store) Interaction(ctx context.Context, id string) (*workspace.Interaction, error) {
	var doc string
	err := s.read.QueryRowContext(ctx, `SELECT doc FROM interactions WHERE id = ?`, id).Scan(&doc)
	if err == sql.ErrNoRows {
		err = s.read.QueryRowContext(ctx, `SELECT doc FROM history WHERE id = ?`, id).Scan(&doc)
	}
	if err != nil {
		return nil, mapErr(err, "interaction "+id)
	}
	return decodeInteraction(doc)
}

// UpdateInteraction writes ix if the stored record is in state from at version ix.Version.
func (s *Store) UpdateInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	next := *ix
	next.Version++
	doc, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	err = s.execGuarded(ctx, "interaction "+ix.ID, `UPDATE interactions SET state=?, channel=?, agent_id=?, plan_id=?,
		contact_address=?, due_at=?, version=version+1, doc=? WHERE id=? AND version=? AND state=?`,
		ix.State, ix.Channel, ix.AgentID, ix.PlanID, ix.Contact.Address, optMillis(ix.DueAt), string(doc),
		ix.ID, ix.Version, from)
	if err == nil {
		ix.Version++
	}
	return err
}

// ArchiveInteraction copies a COMPLETED interaction into history, then removes the live copy.
func (s *Store) ArchiveInteraction(ctx context.Context, ix *workspace.Interaction) error {
	if ix.State != workspace.Completed {
		return workspace.Errorf(workspace.EINVALID, "only COMPLETED interactions are archived, not %s", ix.State)
	}
	doc, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `INSERT OR REPLACE INTO history (id, state, channel, agent_id, plan_id,
		contact_address, created_at, doc) VALUES (?,?,?,?,?,?,?,?)`,
		ix.ID, ix.State, ix.Channel, ix.AgentID, ix.PlanID, ix.Contact.Address, millis(ix.CreatedAt), string(doc)); err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `DELETE FROM interactions WHERE id = ? AND state = ?`, ix.ID, workspace.Completed)
	return err
}

// LiveInteractions lists live interactions matching f.
func (s *Store) LiveInteractions(ctx context.Context, f workspace.LiveFilter) ([]*workspace.Interaction, error) {
	var where []string
	var args []any
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	where, args = in(where, args, "plan_id", f.PlanIDs)
	where, args = in(where, args, "state", f.States)
	order := "created_at, id"
	if !f.DueBefore.IsZero() {
		where, args = append(where, "due_at > 0 AND due_at <= ?"), append(args, millis(f.DueBefore))
		order = "due_at, id"
	}
	q := `SELECT doc FROM interactions` + whereClause(where) + ` ORDER BY ` + order
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	return s.queryInteractions(ctx, q, args...)
}

// Interactions pages through live (not COMPLETED) and archived interactions together.
func (s *Store) Interactions(ctx context.Context, f workspace.InteractionFilter, after *workspace.InteractionCursor, limit int) ([]*workspace.Interaction, error) {
	var where []string
	var args []any
	where, args = in(where, args, "state", f.States)
	where, args = in(where, args, "channel", f.Channels)
	if f.AgentID != "" {
		where, args = append(where, "agent_id = ?"), append(args, f.AgentID)
	}
	if f.ContactAddress != "" {
		where, args = append(where, "contact_address = ?"), append(args, f.ContactAddress)
	}
	if f.CreatedAfter != nil {
		where, args = append(where, "created_at >= ?"), append(args, millis(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		where, args = append(where, "created_at < ?"), append(args, millis(*f.CreatedBefore))
	}
	if after != nil {
		ms := millis(after.CreatedAt)
		where, args = append(where, "(created_at > ? OR (created_at = ? AND id > ?))"), append(args, ms, ms, after.ID)
	}
	live := append([]string{"state <> 'COMPLETED'"}, where...)
	q := `SELECT doc, created_at, id FROM interactions` + whereClause(live) +
		` UNION ALL SELECT doc, created_at, id FROM history` + whereClause(where) +
		` ORDER BY created_at, id LIMIT ?`
	all := append(append(append([]any{}, args...), args...), limit)
	rows, err := s.read.QueryContext(ctx, q, all...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Interaction
	for rows.Next() {
		var doc, id string
		var created int64
		if err := rows.Scan(&doc, &created, &id); err != nil {
			return nil, err
		}
		ix, err := decodeInteraction(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

func (s *Store) queryInteractions(ctx context.Context, q string, args ...any) ([]*workspace.Interaction, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Interaction
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		ix, err := decodeInteraction(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// in adds "column IN (…)" for a non-empty list.
func in[T ~string](where []string, args []any, column string, values []T) ([]string, []any) {
	if len(values) == 0 {
		return where, args
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(values)), ",")
	for _, v := range values {
		args = append(args, string(v))
	}
	return append(where, column+" IN ("+marks+")"), args
}

func whereClause(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// decodeInteraction reads a stored record, keeping times at the millisecond precision both
// adapters share.
func decodeInteraction(doc string) (*workspace.Interaction, error) {
	var ix workspace.Interaction
	if err := json.Unmarshal([]byte(doc), &ix); err != nil {
		return nil, err
	}
	ms := func(t *time.Time) {
		if t != nil && !t.IsZero() {
			*t = t.Truncate(time.Millisecond).UTC()
		}
	}
	for _, t := range []*time.Time{&ix.CreatedAt, &ix.DueAt, ix.AcceptedAt, ix.EndedAt, ix.CompletedAt, ix.WrapDeadline, ix.OfferedAt} {
		ms(t)
	}
	return &ix, nil
}

// AppendMessage adds a message to a transcript.
func (s *Store) AppendMessage(ctx context.Context, m *workspace.Message) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO messages (id, interaction_id, from_party, agent_id, text, sent_at)
		VALUES (?,?,?,?,?,?)`, m.ID, m.InteractionID, m.From, m.AgentID, m.Text, millis(m.SentAt))
	return mapErr(err, "message "+m.ID)
}

const messageColumns = `id, interaction_id, from_party, agent_id, text, sent_at`

// Messages returns up to limit messages after the given ID, in ID order.
func (s *Store) Messages(ctx context.Context, interactionID, after string, limit int) ([]*workspace.Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE interaction_id = ? AND id > ?
		ORDER BY id LIMIT ?`, interactionID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountMessages counts an interaction's messages.
func (s *Store) CountMessages(ctx context.Context, interactionID string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE interaction_id = ?`, interactionID).Scan(&n)
	return n, err
}

// LastMessage returns an interaction's latest message.
func (s *Store) LastMessage(ctx context.Context, interactionID string) (*workspace.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE interaction_id = ?
		ORDER BY id DESC LIMIT 1`, interactionID))
	return m, mapErr(err, "message")
}

func scanMessage(row scanner) (*workspace.Message, error) {
	var m workspace.Message
	var sent int64
	if err := row.Scan(&m.ID, &m.InteractionID, &m.From, &m.AgentID, &m.Text, &sent); err != nil {
		return nil, err
	}
	m.SentAt = fromMillis(sent)
	return &m, nil
}
