package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

const messageColumns = `id, interaction_id, from_party, agent_id, text, sent_at, delivery, delivery_error, template, external_id, attempts, next_attempt_at, attachment_ids, version, email`

// The indexed reads. Testing that external_id is not empty lets SQLite use the partial index
// messages_external; delivery = 'PENDING' the partial index messages_due, which also gives
// the order.
const (
	externalQuery = `SELECT ` + messageColumns + ` FROM messages WHERE external_id = ? AND external_id <> ''`
	dueQuery      = `SELECT ` + messageColumns + ` FROM messages WHERE delivery = 'PENDING' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT CAST(? AS INTEGER)`
	pendingQuery = `SELECT ` + messageColumns + ` FROM messages WHERE interaction_id = ? AND delivery = 'PENDING'
		ORDER BY id LIMIT CAST(? AS INTEGER)`
)

// deliveryErrorJSON is a message's delivery error as its delivery_error column holds it.
type deliveryErrorJSON struct {
	Kind         workspace.DeliveryErrorKind `json:"kind"`
	Message      string                      `json:"message"`
	ProviderCode string                      `json:"providerCode,omitzero"`
}

// templateUseJSON is a message's template send as its template column holds it.
type templateUseJSON struct {
	TemplateID string   `json:"templateId"`
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	Parameters []string `json:"parameters,omitzero"`
}

// emailJSON is an email message's details as its email column holds them.
type emailJSON struct {
	Subject    string   `json:"subject"`
	MessageID  string   `json:"messageId"`
	InReplyTo  string   `json:"inReplyTo,omitzero"`
	References []string `json:"references,omitzero"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	HTML       string   `json:"html,omitzero"`
}

// messageArgs are m's column values, in messageColumns order.
func messageArgs(m *workspace.Message) []any {
	var deliveryErr, template string
	if e := m.DeliveryError; e != nil {
		deliveryErr = jsonText(deliveryErrorJSON{Kind: e.Kind, Message: e.Message, ProviderCode: e.ProviderCode})
	}
	if u := m.Template; u != nil {
		template = jsonText(templateUseJSON{TemplateID: u.TemplateID, Name: u.Name, Language: u.Language, Parameters: u.Parameters})
	}
	var attachments string
	if len(m.AttachmentIDs) > 0 {
		attachments = jsonText(m.AttachmentIDs)
	}
	var email string
	if e := m.Email; e != nil {
		email = jsonText(emailJSON{Subject: e.Subject, MessageID: e.MessageID, InReplyTo: e.InReplyTo,
			References: e.References, From: e.From, To: e.To, HTML: e.HTML})
	}
	return []any{m.ID, m.InteractionID, m.From, m.AgentID, m.Text, millis(m.SentAt), m.Delivery, deliveryErr,
		template, m.ExternalID, m.Attempts, optMillis(m.NextAttemptAt), attachments, m.Version, email}
}

func scanMessage(row scanner) (*workspace.Message, error) {
	var m workspace.Message
	var sent, next int64
	var deliveryErr, template, attachments, email string
	if err := row.Scan(&m.ID, &m.InteractionID, &m.From, &m.AgentID, &m.Text, &sent, &m.Delivery, &deliveryErr,
		&template, &m.ExternalID, &m.Attempts, &next, &attachments, &m.Version, &email); err != nil {
		return nil, err
	}
	if email != "" {
		var e emailJSON
		if err := json.Unmarshal([]byte(email), &e); err != nil {
			return nil, err
		}
		m.Email = &workspace.EmailDetails{Subject: e.Subject, MessageID: e.MessageID, InReplyTo: e.InReplyTo,
			References: e.References, From: e.From, To: e.To, HTML: e.HTML}
	}
	m.SentAt, m.NextAttemptAt = fromMillis(sent), fromOptMillis(next)
	if deliveryErr != "" {
		var e deliveryErrorJSON
		if err := json.Unmarshal([]byte(deliveryErr), &e); err != nil {
			return nil, err
		}
		m.DeliveryError = &workspace.DeliveryError{Kind: e.Kind, Message: e.Message, ProviderCode: e.ProviderCode}
	}
	if template != "" {
		var u templateUseJSON
		if err := json.Unmarshal([]byte(template), &u); err != nil {
			return nil, err
		}
		m.Template = &workspace.TemplateUse{TemplateID: u.TemplateID, Name: u.Name, Language: u.Language, Parameters: u.Parameters}
	}
	if attachments != "" {
		if err := json.Unmarshal([]byte(attachments), &m.AttachmentIDs); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// AppendMessage adds a message to a transcript.
func (s *Store) AppendMessage(ctx context.Context, m *workspace.Message) error {
	var live string // the live row's doc once the message moved its updatedAt; "" when it did not
	var row []any   // the message's row, for its transcript (liveTranscripts)
	return s.inTxThen(ctx, m.Outbox, func(x execer) error {
		live = ""
		var err error
		if row, err = insertMessage(ctx, x, m); err != nil {
			return err
		}
		// The interaction changed: its UpdatedAt moves with the message, in the column and
		// in the doc the domain reads it from. It is live, as a rule; history is tried only
		// when the live table had nothing to move.
		at, ms := msTime(m.SentAt).Format(time.RFC3339Nano), millis(m.SentAt)
		err = x.QueryRowContext(ctx, `UPDATE interactions SET updated_at = ?, doc = json_set(doc, '$.UpdatedAt', ?)
			WHERE id = ? AND updated_at < ? RETURNING doc`, ms, at, m.InteractionID, ms).Scan(&live)
		if err != sql.ErrNoRows {
			return err
		}
		_, err = x.ExecContext(ctx, `UPDATE history SET updated_at = ?, doc = json_set(doc, '$.UpdatedAt', ?)
			WHERE id = ? AND updated_at < ?`, ms, at, m.InteractionID, ms)
		return err
	}, func() {
		// The moved doc is the row's; a live row the message did not move is unchanged, but
		// one that is not live should not stay kept either way.
		if live != "" {
			s.live.committed(m.InteractionID, live)
			s.rows.moved(m.InteractionID, millis(m.SentAt))
		}
		s.live.added(m.InteractionID, row)
	})
}

// insertMessage inserts m's row and returns its values.
func insertMessage(ctx context.Context, x execer, m *workspace.Message) ([]any, error) {
	row := messageArgs(m)
	_, err := x.ExecContext(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, row...)
	return row, mapErr(err, "message "+m.ID)
}

// withMessages is ix's write followed by the messages it carries (Interaction.Messages), in
// one transaction with all their events; once it is committed, the live row's doc is doc
// ("": the live row is gone) for readers (liveCache), and its columns are row's (liveRows;
// none: gone). The messages are stamped with the
// record's updatedAt, so the row needs no later move of it.
func (s *Store) withMessages(ctx context.Context, ix *workspace.Interaction, created bool, doc string, row storedRow, write func(execer) error) error {
	events := ix.Outbox
	for _, m := range ix.Messages {
		events = append(slices.Clip(events), m.Outbox...)
	}
	id := ix.ID
	var rows [][]any // the messages' rows, for the transcript (liveTranscripts)
	return s.inTxThen(ctx, events, func(x execer) error {
		rows = rows[:0]
		if err := write(x); err != nil {
			return err
		}
		for _, m := range ix.Messages {
			row, err := insertMessage(ctx, x, m)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return nil
	}, func() {
		s.live.committed(id, doc)
		s.rows.committed(id, row)
		switch {
		case created:
			s.live.started(id, rows)
		case doc != "":
			s.live.added(id, rows...)
		}
	})
}

// Messages returns up to limit messages after the given ID, in ID order: from the kept
// transcript of a live interaction (liveTranscripts), else from the table.
func (s *Store) Messages(ctx context.Context, interactionID, after string, limit int) ([]*workspace.Message, error) {
	if rows, ok := s.live.messages(interactionID, after, limit); ok {
		out := make([]*workspace.Message, 0, len(rows))
		for _, row := range rows {
			m, err := scanMessage(keptRow(row))
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	return s.queryMessages(ctx, `SELECT `+messageColumns+` FROM messages WHERE interaction_id = ? AND id > ?
		ORDER BY id LIMIT CAST(? AS INTEGER)`, interactionID, after, limit)
}

// Message returns the message with the ID.
func (s *Store) Message(ctx context.Context, id string) (*workspace.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	return m, mapErr(err, "message "+id)
}

// MessageByExternalID returns the message with the provider's ID key.
func (s *Store) MessageByExternalID(ctx context.Context, key string) (*workspace.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, externalQuery, key))
	return m, mapErr(err, "message "+key)
}

// UpdateMessage writes m if the stored version is still m.Version.
func (s *Store) UpdateMessage(ctx context.Context, m *workspace.Message) error {
	// The columns but id and version (email last), then id and version for the guard.
	cols := messageArgs(m)
	n := len(cols)
	args := append(cols[1:n-2:n-2], cols[n-1], m.ID, m.Version)
	err := s.inTxThen(ctx, nil, func(x execer) error {
		return guarded(ctx, x, "message "+m.ID, `UPDATE messages SET interaction_id=?, from_party=?, agent_id=?, text=?,
		sent_at=?, delivery=?, delivery_error=?, template=?, external_id=?, attempts=?, next_attempt_at=?,
		attachment_ids=?, email=?, version=version+1 WHERE id=? AND version=?`, args...)
	}, func() {
		// The row as the update left it, for its transcript (liveTranscripts). A message
		// stays in its interaction's transcript: the domain never moves one.
		cols[messageVersionColumn] = m.Version + 1
		s.live.added(m.InteractionID, cols)
	})
	if err == nil {
		m.Version++
	}
	return err
}

// DueMessages returns up to limit PENDING messages due at or before due, through the
// partial index messages_due.
func (s *Store) DueMessages(ctx context.Context, due time.Time, limit int) ([]*workspace.Message, error) {
	return s.queryMessages(ctx, dueQuery, optMillis(due), limit)
}

// PendingMessages returns up to limit PENDING messages of an interaction in ID order (limit
// <= 0: all), through the index messages_interaction.
func (s *Store) PendingMessages(ctx context.Context, interactionID string, limit int) ([]*workspace.Message, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return s.queryMessages(ctx, pendingQuery, interactionID, limit)
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

// queryMessages runs a query of messageColumns and scans every row.
func (s *Store) queryMessages(ctx context.Context, query string, args ...any) ([]*workspace.Message, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
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

// jsonText is v's JSON; v is an adapter type, which always marshals.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
