package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// execer is a write transaction: its statements, and reads of what it has written so far.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// guarded runs a version-guarded update on x and checks that it touched exactly one row.
func guarded(ctx context.Context, x execer, what, query string, args ...any) error {
	res, err := x.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return workspace.Errorf(workspace.ECONFLICT, "%s was changed by someone else or no longer exists; reload and retry", what)
	}
	return nil
}

const eventColumns = `seq, id, kind, at, interaction_id, message_id`

func scanEvent(row scanner) (*workspace.ChangeEvent, error) {
	var e workspace.ChangeEvent
	var at int64
	if err := row.Scan(&e.Seq, &e.ID, &e.Kind, &at, &e.InteractionID, &e.MessageID); err != nil {
		return nil, err
	}
	e.At = fromMillis(at)
	return &e, nil
}

// Events returns up to limit events after the seq, in seq order.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]*workspace.ChangeEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT CAST(? AS INTEGER)`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.ChangeEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Event returns one event by its ID.
func (s *Store) Event(ctx context.Context, id string) (*workspace.ChangeEvent, error) {
	e, err := scanEvent(s.read.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	return e, mapErr(err, "event "+id)
}

// LastEventSeq is the latest event's seq, 0 with none.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT MAX(seq) FROM events`).Scan(&seq)
	return seq.Int64, err
}

const webhookColumns = `id, url, kinds, secret, active, created_at, cursor, attempts, failing_since, next_attempt_at,
	lease_until, last_event_id, last_attempts, last_status, last_error, last_attempt_at, version`

// webhookArgs are w's column values, in webhookColumns order, with the given version.
func webhookArgs(w *workspace.Webhook, version int64) []any {
	kinds := make([]string, len(w.Kinds))
	for i, k := range w.Kinds {
		kinds[i] = string(k)
	}
	var lastEvent, lastError string
	var lastAttempts, lastStatus int
	var lastAt int64
	if d := w.Last; d != nil {
		lastEvent, lastAttempts, lastStatus, lastError, lastAt = d.EventID, d.Attempts, d.LastStatus, d.LastError, millis(d.LastAttemptAt)
	}
	active := 0
	if w.Active {
		active = 1
	}
	return []any{w.ID, w.URL, strings.Join(kinds, ","), w.Secret, active, millis(w.CreatedAt), w.Cursor, w.Attempts,
		ptrMillis(w.FailingSince), optMillis(w.NextAttemptAt), optMillis(w.LeaseUntil), lastEvent, lastAttempts,
		lastStatus, lastError, lastAt, version}
}

func scanWebhook(row scanner) (*workspace.Webhook, error) {
	var w workspace.Webhook
	var kinds, lastEvent, lastError string
	var active, lastAttempts, lastStatus int
	var created, failing, next, lease, lastAt int64
	if err := row.Scan(&w.ID, &w.URL, &kinds, &w.Secret, &active, &created, &w.Cursor, &w.Attempts, &failing, &next,
		&lease, &lastEvent, &lastAttempts, &lastStatus, &lastError, &lastAt, &w.Version); err != nil {
		return nil, err
	}
	for _, k := range strings.Split(kinds, ",") {
		if k != "" {
			w.Kinds = append(w.Kinds, workspace.ChangeKind(k))
		}
	}
	w.Active, w.CreatedAt = active == 1, fromMillis(created)
	if failing != 0 {
		t := fromMillis(failing)
		w.FailingSince = &t
	}
	w.NextAttemptAt, w.LeaseUntil = fromOptMillis(next), fromOptMillis(lease)
	if lastEvent != "" {
		w.Last = &workspace.WebhookDelivery{WebhookID: w.ID, EventID: lastEvent, Attempts: lastAttempts, LastStatus: lastStatus,
			LastError: lastError, LastAttemptAt: fromMillis(lastAt)}
	}
	return &w, nil
}

// CreateWebhook inserts a webhook.
func (s *Store) CreateWebhook(ctx context.Context, w *workspace.Webhook) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		webhookArgs(w, w.Version)...)
	return mapErr(err, "webhook "+w.ID)
}

// Webhook returns the webhook with the ID.
func (s *Store) Webhook(ctx context.Context, id string) (*workspace.Webhook, error) {
	w, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	return w, mapErr(err, "webhook "+id)
}

// Webhooks returns every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]*workspace.Webhook, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UpdateWebhook writes w if the stored version is w.Version.
func (s *Store) UpdateWebhook(ctx context.Context, w *workspace.Webhook) error {
	args := webhookArgs(w, w.Version+1)
	err := guarded(ctx, s.write, "webhook "+w.ID, `UPDATE webhooks SET url=?, kinds=?, secret=?, active=?, created_at=?, cursor=?,
		attempts=?, failing_since=?, next_attempt_at=?, lease_until=?, last_event_id=?, last_attempts=?, last_status=?,
		last_error=?, last_attempt_at=?, version=? WHERE id=? AND version=?`, append(args[1:], w.ID, w.Version)...)
	if err == nil {
		w.Version++
	}
	return err
}

// DeleteWebhook removes a webhook and its failed deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "webhook %s not found", id)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_failures WHERE webhook_id = ?`, id); err != nil {
		return err
	}
	defer s.committed(nil)
	return tx.Commit()
}

// SaveFailedDelivery stores (or replaces) a failed delivery.
func (s *Store) SaveFailedDelivery(ctx context.Context, d *workspace.WebhookDelivery) error {
	_, err := s.write.ExecContext(ctx, `INSERT OR REPLACE INTO webhook_failures (webhook_id, event_id, attempts, last_status,
		last_error, last_attempt_at) VALUES (?,?,?,?,?,?)`, d.WebhookID, d.EventID, d.Attempts, d.LastStatus, d.LastError, millis(d.LastAttemptAt))
	return err
}

// FailedDeliveries returns a webhook's failed deliveries, newest first.
func (s *Store) FailedDeliveries(ctx context.Context, webhookID string, limit int) ([]*workspace.WebhookDelivery, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT webhook_id, event_id, attempts, last_status, last_error, last_attempt_at
		FROM webhook_failures WHERE webhook_id = ? ORDER BY last_attempt_at DESC, event_id DESC LIMIT CAST(? AS INTEGER)`, webhookID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.WebhookDelivery
	for rows.Next() {
		var d workspace.WebhookDelivery
		var at int64
		if err := rows.Scan(&d.WebhookID, &d.EventID, &d.Attempts, &d.LastStatus, &d.LastError, &at); err != nil {
			return nil, err
		}
		d.LastAttemptAt = fromMillis(at)
		out = append(out, &d)
	}
	return out, rows.Err()
}

// DeleteFailedDelivery removes one failed delivery.
func (s *Store) DeleteFailedDelivery(ctx context.Context, webhookID, eventID string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM webhook_failures WHERE webhook_id = ? AND event_id = ?`, webhookID, eventID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "failed delivery of %s not found", eventID)
	}
	return nil
}

// updatedMillis is the updated_at column: UpdatedAt, or for a record without one (written
// before it existed), its completion or creation, as the migration fills it in.
func updatedMillis(ix *workspace.Interaction) int64 {
	return millis(updatedAt(ix))
}

func updatedAt(ix *workspace.Interaction) time.Time {
	switch {
	case !ix.UpdatedAt.IsZero():
		return ix.UpdatedAt
	case ix.CompletedAt != nil:
		return *ix.CompletedAt
	}
	return ix.CreatedAt
}
