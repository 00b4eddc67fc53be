package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// CreateInteraction inserts a new live interaction.
func (s *Store) CreateInteraction(ctx context.Context, ix *workspace.Interaction) error {
	doc, err := encodeInteraction(ix)
	if err != nil {
		return err
	}
	return s.withMessages(ctx, ix, true, doc, storedRow{version: ix.Version, columns: interactionRow(ix)}, func(x execer) error {
		_, err := x.ExecContext(ctx, `INSERT INTO interactions (id, state, channel, agent_id, plan_id, contact_address,
		created_at, due_at, thread_key, queued_at, accepted_at, completed_at, updated_at, version, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			ix.ID, ix.State, ix.Channel, ix.AgentID, ix.PlanID, ix.Contact.Address, millis(ix.CreatedAt),
			optMillis(ix.DueAt), ix.ThreadKey, queuedMillis(ix), ptrMillis(ix.AcceptedAt), ptrMillis(ix.CompletedAt), updatedMillis(ix), ix.Version, doc)
		return mapErr(err, "interaction "+ix.ID)
	})
}

// Interaction reads the live table first, then history.
func (s *Store) Interaction(ctx context.Context, id string) (*workspace.Interaction, error) {
	if doc, ok := s.live.get(id); ok {
		return decodeInteraction(doc)
	}
	gen := s.live.generation()
	var doc string
	err := s.read.QueryRowContext(ctx, `SELECT doc FROM interactions WHERE id = ?`, id).Scan(&doc)
	if err == nil {
		s.live.keep(id, doc, gen)
	}
	if err == sql.ErrNoRows {
		err = s.read.QueryRowContext(ctx, `SELECT doc FROM history WHERE id = ?`, id).Scan(&doc)
	}
	if err != nil {
		return nil, mapErr(err, "interaction "+id)
	}
	return decodeInteraction(doc)
}

// threadQuery reads a live interaction by thread key. Its test that the key is not empty
// lets SQLite use the partial index interactions_thread.
const threadQuery = `SELECT doc FROM interactions WHERE thread_key = ? AND thread_key <> ''`

// LiveInteractionByThread returns the live interaction holding the thread key.
func (s *Store) LiveInteractionByThread(ctx context.Context, key string) (*workspace.Interaction, error) {
	var doc string
	err := s.read.QueryRowContext(ctx, threadQuery, key).Scan(&doc)
	if err != nil {
		return nil, mapErr(err, "interaction of thread "+key)
	}
	return decodeInteraction(doc)
}

// UpdateInteraction writes ix if the stored record is in state from at version ix.Version.
func (s *Store) UpdateInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	_, doc, err := nextVersion(ix)
	if err != nil {
		return err
	}
	row := interactionRow(ix)
	err = s.withMessages(ctx, ix, false, doc, storedRow{version: ix.Version + 1, columns: row}, func(x execer) error {
		query, args, err := s.changedColumns(ctx, x, ix.ID, ix.Version, row)
		if err != nil {
			return err
		}
		return guarded(ctx, x, "interaction "+ix.ID, `UPDATE interactions SET `+query+`version=version+1, doc=?
		WHERE id=? AND version=? AND state=? AND updated_at <= ?`,
			append(args, doc, ix.ID, ix.Version, from, updatedMillis(ix))...)
	})
	if err == nil {
		ix.Version++
	}
	return err
}

// interactionColumns are the columns of the interactions table that copy a field of the
// record, for its indexes and filters; interactionRow gives their values.
var interactionColumns = []string{"state", "channel", "agent_id", "plan_id", "contact_address", "created_at",
	"due_at", "thread_key", "queued_at", "accepted_at", "completed_at", "updated_at"}

// updatedColumn is updated_at's place in interactionColumns.
var updatedColumn = slices.Index(interactionColumns, "updated_at")

func interactionRow(ix *workspace.Interaction) []any {
	return []any{string(ix.State), string(ix.Channel), ix.AgentID, ix.PlanID, ix.Contact.Address, millis(ix.CreatedAt),
		optMillis(ix.DueAt), ix.ThreadKey, queuedMillis(ix), ptrMillis(ix.AcceptedAt), ptrMillis(ix.CompletedAt), updatedMillis(ix)}
}

// changedColumns returns the SET clause ("col=?, " for each) and its arguments for the
// columns of row whose stored value differs. SQLite rewrites an index's entry whenever an
// UPDATE assigns one of its columns, changed or not, and the interactions table has eight
// indexes: assigning every column made each update write nine pages to the WAL, where a
// change of state writes four. A row that is gone sets every column, and the guarded
// UPDATE then finds nothing to change. The stored values are the ones the row's last write
// kept (liveRows) when that write made version, the version the update is guarded on;
// otherwise the row is read.
func (s *Store) changedColumns(ctx context.Context, x execer, id string, version int64, row []any) (string, []any, error) {
	stored, ok := s.rows.get(id, version)
	var err error
	if !ok {
		stored = make([]any, len(row))
		ptrs := make([]any, len(row))
		for i := range stored {
			ptrs[i] = &stored[i]
		}
		err = x.QueryRowContext(ctx, `SELECT `+strings.Join(interactionColumns, ", ")+` FROM interactions WHERE id = ?`, id).Scan(ptrs...)
		if err != nil && err != sql.ErrNoRows {
			return "", nil, mapErr(err, "interaction "+id)
		}
	}
	var b strings.Builder
	var args []any
	for i, v := range row {
		if b, ok := stored[i].([]byte); ok {
			stored[i] = string(b)
		}
		if err == nil && stored[i] == v {
			continue
		}
		b.WriteString(interactionColumns[i])
		b.WriteString("=?, ")
		args = append(args, v)
	}
	return b.String(), args, nil
}

// ArchiveInteraction copies a COMPLETED interaction into history and removes the live copy,
// in one transaction.
func (s *Store) ArchiveInteraction(ctx context.Context, ix *workspace.Interaction) error {
	if err := archivable(ix); err != nil {
		return err
	}
	doc, err := encodeInteraction(ix)
	if err != nil {
		return err
	}
	return s.inTxThen(ctx, nil, func(x execer) error {
		if err := insertHistory(ctx, x, ix, doc); err != nil {
			return err
		}
		_, err := x.ExecContext(ctx, `DELETE FROM interactions WHERE id = ? AND state = ?`, ix.ID, workspace.Completed)
		return err
	}, func() {
		s.live.committed(ix.ID, "")
		s.rows.committed(ix.ID, storedRow{})
	})
}

// CompleteInteraction removes the live record, guarded as UpdateInteraction guards it, and
// writes ix, COMPLETED, to history, with its events and the messages it carries: one
// transaction, which writes neither the live row's new state nor its eight index entries.
func (s *Store) CompleteInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	if err := archivable(ix); err != nil {
		return err
	}
	next, doc, err := nextVersion(ix)
	if err != nil {
		return err
	}
	err = s.withMessages(ctx, ix, false, "", storedRow{}, func(x execer) error {
		if err := guarded(ctx, x, "interaction "+ix.ID, `DELETE FROM interactions WHERE id=? AND version=? AND state=? AND updated_at <= ?`,
			ix.ID, ix.Version, from, updatedMillis(ix)); err != nil {
			return err
		}
		if err := insertHistory(ctx, x, next, doc); err != nil {
			return err
		}
		for _, e := range ix.Learnt {
			if err := insertAssistExample(ctx, x, e, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		ix.Version++
	}
	return err
}

// nextVersion is ix as a guarded write stores it, one version on, and its doc.
func nextVersion(ix *workspace.Interaction) (*workspace.Interaction, string, error) {
	next := *ix
	next.Version++
	doc, err := encodeInteraction(&next)
	return &next, doc, err
}

// archivable refuses to put in history an interaction that is not COMPLETED.
func archivable(ix *workspace.Interaction) error {
	if ix.State != workspace.Completed {
		return workspace.Errorf(workspace.EINVALID, "only COMPLETED interactions are archived, not %s", ix.State)
	}
	return nil
}

// insertHistory writes ix, COMPLETED, encoded as doc, to history, replacing an earlier copy.
func insertHistory(ctx context.Context, x execer, ix *workspace.Interaction, doc string) error {
	_, err := x.ExecContext(ctx, `INSERT OR REPLACE INTO history (id, state, channel, agent_id, plan_id,
		contact_address, created_at, accepted_at, completed_at, updated_at, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		ix.ID, ix.State, ix.Channel, ix.AgentID, ix.PlanID, ix.Contact.Address, millis(ix.CreatedAt),
		ptrMillis(ix.AcceptedAt), ptrMillis(ix.CompletedAt), updatedMillis(ix), doc)
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
		q, args = q+` LIMIT CAST(? AS INTEGER)`, append(args, f.Limit)
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
	if f.PlanID != "" {
		where, args = append(where, "plan_id = ?"), append(args, f.PlanID)
	}
	order := "created_at"
	if f.UpdatedAfter != nil {
		order = "updated_at"
		where, args = append(where, "updated_at >= ?"), append(args, millis(*f.UpdatedAfter))
	}
	if after != nil {
		ms := millis(after.CreatedAt)
		where, args = append(where, "("+order+" > ? OR ("+order+" = ? AND id > ?))"), append(args, ms, ms, after.ID)
	}
	live := append([]string{"state <> 'COMPLETED'"}, where...)
	q := `SELECT doc, ` + order + `, id FROM interactions` + whereClause(live) +
		` UNION ALL SELECT doc, ` + order + `, id FROM history` + whereClause(where) +
		` ORDER BY 2, id LIMIT CAST(? AS INTEGER)`
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

// interactionDoc is an interaction as the doc column holds it. Its JSON names are those the
// domain struct's fields had when the column was introduced, so rows written from that
// struct read the same; renaming a domain field changes nothing here.
type interactionDoc struct {
	ID                  string                     `json:"ID"`
	Channel             workspace.Channel          `json:"Channel"`
	Direction           workspace.Direction        `json:"Direction"`
	State               workspace.InteractionState `json:"State"`
	Contact             contactDoc                 `json:"Contact"`
	AgentID             string                     `json:"AgentID,omitzero"`
	FormerAgentIDs      []string                   `json:"FormerAgentIDs,omitzero"`
	PlanID              string                     `json:"PlanID"`
	CreatedAt           time.Time                  `json:"CreatedAt"`
	UpdatedAt           time.Time                  `json:"UpdatedAt,omitzero"`
	AcceptedAt          *time.Time                 `json:"AcceptedAt,omitzero"`
	EndedAt             *time.Time                 `json:"EndedAt,omitzero"`
	EndedBy             workspace.Party            `json:"EndedBy,omitzero"`
	CompletedAt         *time.Time                 `json:"CompletedAt,omitzero"`
	Notes               string                     `json:"Notes,omitzero"`
	Dispositions        []string                   `json:"Dispositions,omitzero"`
	WrapDeadline        *time.Time                 `json:"WrapDeadline,omitzero"`
	OfferSeq            int                        `json:"OfferSeq,omitzero"`
	OfferedAt           *time.Time                 `json:"OfferedAt,omitzero"`
	AutoAccepted        bool                       `json:"AutoAccepted,omitzero"`
	RejectedBy          []string                   `json:"RejectedBy,omitzero"`
	DueAt               time.Time                  `json:"DueAt,omitzero"`
	LastContactAt       *time.Time                 `json:"LastContactAt,omitzero"`
	AutoParkAt          *time.Time                 `json:"AutoParkAt,omitzero"`
	ParkedAt            *time.Time                 `json:"ParkedAt,omitzero"`
	ParkedUntil         *time.Time                 `json:"ParkedUntil,omitzero"`
	Transfer            *transferDoc               `json:"Transfer,omitzero"`
	ContactTokenHash    string                     `json:"ContactTokenHash,omitzero"`
	IdentityID          string                     `json:"IdentityID,omitzero"`
	ThreadKey           string                     `json:"ThreadKey,omitzero"`
	ContactWroteAt      *time.Time                 `json:"ContactWroteAt,omitzero"`
	ParkedBy            string                     `json:"ParkedBy,omitzero"`
	QueuedAt            *time.Time                 `json:"QueuedAt,omitzero"`
	Assisted            workspace.AssistOutcome    `json:"Assisted,omitzero"`
	PreviousID          string                     `json:"PreviousID,omitzero"`
	LinkedInteractionID string                     `json:"LinkedInteractionID,omitzero"`
	CallEndpoint        workspace.CallEndpoint     `json:"CallEndpoint,omitzero"`
	Version             int64                      `json:"Version"`
}

// contactDoc is the contact inside an interactionDoc.
type contactDoc struct {
	Address string `json:"Address"`
	Name    string `json:"Name"`
}

// transferDoc is a pending transfer inside an interactionDoc.
type transferDoc struct {
	FromAgentID string    `json:"FromAgentID"`
	ToAgentID   string    `json:"ToAgentID"`
	OfferID     string    `json:"OfferID"`
	ExpiresAt   time.Time `json:"ExpiresAt"`
}

// encodeInteraction renders ix as the doc column's JSON.
func encodeInteraction(ix *workspace.Interaction) (string, error) {
	d := interactionDoc{
		ID: ix.ID, Channel: ix.Channel, Direction: ix.Direction, State: ix.State,
		Contact: contactDoc{Address: ix.Contact.Address, Name: ix.Contact.Name},
		AgentID: ix.AgentID, FormerAgentIDs: ix.FormerAgentIDs, PlanID: ix.PlanID,
		CreatedAt: ix.CreatedAt, UpdatedAt: ix.UpdatedAt, AcceptedAt: ix.AcceptedAt, EndedAt: ix.EndedAt, EndedBy: ix.EndedBy,
		CompletedAt: ix.CompletedAt, Notes: ix.Notes, Dispositions: ix.Dispositions, WrapDeadline: ix.WrapDeadline,
		OfferSeq: ix.OfferSeq, OfferedAt: ix.OfferedAt, AutoAccepted: ix.AutoAccepted, RejectedBy: ix.RejectedBy,
		DueAt: ix.DueAt, LastContactAt: ix.LastContactAt, AutoParkAt: ix.AutoParkAt,
		ParkedAt: ix.ParkedAt, ParkedUntil: ix.ParkedUntil, ContactTokenHash: ix.ContactTokenHash,
		IdentityID: ix.IdentityID, ThreadKey: ix.ThreadKey, ContactWroteAt: ix.ContactWroteAt,
		ParkedBy: ix.ParkedBy, QueuedAt: ix.QueuedAt, Assisted: ix.Assisted, PreviousID: ix.PreviousID, Version: ix.Version,
		LinkedInteractionID: ix.LinkedInteractionID, CallEndpoint: ix.CallEndpoint,
	}
	if t := ix.Transfer; t != nil {
		d.Transfer = &transferDoc{FromAgentID: t.FromAgentID, ToAgentID: t.ToAgentID, OfferID: t.OfferID, ExpiresAt: t.ExpiresAt}
	}
	b, err := json.Marshal(&d)
	return string(b), err
}

// decodeInteraction reads a stored record, keeping times at the millisecond precision both
// adapters share.
func decodeInteraction(doc string) (*workspace.Interaction, error) {
	var d interactionDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	ix := &workspace.Interaction{
		ID: d.ID, Channel: d.Channel, Direction: d.Direction, State: d.State,
		Contact: workspace.Contact{Address: d.Contact.Address, Name: d.Contact.Name},
		AgentID: d.AgentID, FormerAgentIDs: d.FormerAgentIDs, PlanID: d.PlanID,
		CreatedAt: msTime(d.CreatedAt), AcceptedAt: msPtr(d.AcceptedAt), EndedAt: msPtr(d.EndedAt), EndedBy: d.EndedBy,
		CompletedAt: msPtr(d.CompletedAt), Notes: d.Notes, Dispositions: d.Dispositions, WrapDeadline: msPtr(d.WrapDeadline),
		OfferSeq: d.OfferSeq, OfferedAt: msPtr(d.OfferedAt), AutoAccepted: d.AutoAccepted, RejectedBy: d.RejectedBy,
		DueAt: msTime(d.DueAt), LastContactAt: msPtr(d.LastContactAt), AutoParkAt: msPtr(d.AutoParkAt),
		ParkedAt: msPtr(d.ParkedAt), ParkedUntil: msPtr(d.ParkedUntil), ContactTokenHash: d.ContactTokenHash,
		IdentityID: d.IdentityID, ThreadKey: d.ThreadKey, ContactWroteAt: msPtr(d.ContactWroteAt),
		ParkedBy: d.ParkedBy, QueuedAt: msPtr(d.QueuedAt), Assisted: d.Assisted, PreviousID: d.PreviousID, Version: d.Version,
		LinkedInteractionID: d.LinkedInteractionID, CallEndpoint: d.CallEndpoint,
	}
	ix.UpdatedAt = msTime(d.UpdatedAt)
	if t := d.Transfer; t != nil {
		ix.Transfer = &workspace.Transfer{FromAgentID: t.FromAgentID, ToAgentID: t.ToAgentID, OfferID: t.OfferID, ExpiresAt: msTime(t.ExpiresAt)}
	}
	return ix, nil
}

// queuedMillis is the queued_at column: when ix's current stay in a queue began, its
// creation when QueuedAt is unset.
func queuedMillis(ix *workspace.Interaction) int64 {
	if ix.QueuedAt != nil {
		return millis(*ix.QueuedAt)
	}
	return millis(ix.CreatedAt)
}
