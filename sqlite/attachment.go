package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

const attachmentColumns = `id, uploaded_by, uploader_id, interaction_id, message_id, file_name, content_type, size,
	sha256, blob_key, scan, signature, created_at, expires_at, version`

// The indexed reads, each through its partial index, which also gives the order. Testing
// that message_id is not empty lets SQLite use attachments_message (sent files) for a
// transcript page's files; that it is empty, attachments_drafts for the sweeper's drafts.
const (
	messageAttachmentsQuery = `SELECT ` + attachmentColumns + ` FROM attachments
		WHERE message_id IN (SELECT value FROM json_each(?)) AND message_id <> '' ORDER BY message_id, id`
	expiredDraftsQuery = `SELECT ` + attachmentColumns + ` FROM attachments WHERE message_id = '' AND expires_at <= ?
		ORDER BY expires_at, id LIMIT CAST(? AS INTEGER)`
)

// attachmentArgs are a's column values, in attachmentColumns order.
func attachmentArgs(a *workspace.Attachment) []any {
	return []any{a.ID, a.UploadedBy, a.UploaderID, a.InteractionID, a.MessageID, a.FileName, a.ContentType, a.Size,
		a.SHA256, a.BlobKey, a.Scan, a.Signature, millis(a.CreatedAt), optMillis(a.ExpiresAt), a.Version}
}

func scanAttachment(row scanner) (*workspace.Attachment, error) {
	var a workspace.Attachment
	var created, expires int64
	if err := row.Scan(&a.ID, &a.UploadedBy, &a.UploaderID, &a.InteractionID, &a.MessageID, &a.FileName, &a.ContentType,
		&a.Size, &a.SHA256, &a.BlobKey, &a.Scan, &a.Signature, &created, &expires, &a.Version); err != nil {
		return nil, err
	}
	a.CreatedAt, a.ExpiresAt = fromMillis(created), fromOptMillis(expires)
	return &a, nil
}

// CreateAttachment stores an attachment's record; a taken ID is CONFLICT.
func (s *Store) CreateAttachment(ctx context.Context, a *workspace.Attachment) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO attachments (`+attachmentColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		attachmentArgs(a)...)
	return mapErr(err, "attachment "+a.ID)
}

// Attachment returns the attachment with the ID.
func (s *Store) Attachment(ctx context.Context, id string) (*workspace.Attachment, error) {
	a, err := scanAttachment(s.read.QueryRowContext(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE id = ?`, id))
	return a, mapErr(err, "attachment "+id)
}

// UpdateAttachment writes a if the stored version is still a.Version.
func (s *Store) UpdateAttachment(ctx context.Context, a *workspace.Attachment) error {
	// The columns but id, then id and version for the guard.
	cols := attachmentArgs(a)
	args := append(cols[1:len(cols)-1:len(cols)-1], a.ID, a.Version)
	err := s.execGuarded(ctx, "attachment "+a.ID, `UPDATE attachments SET uploaded_by=?, uploader_id=?, interaction_id=?,
		message_id=?, file_name=?, content_type=?, size=?, sha256=?, blob_key=?, scan=?, signature=?, created_at=?,
		expires_at=?, version=version+1 WHERE id=? AND version=?`, args...)
	if err == nil {
		a.Version++
	}
	return err
}

// MessageAttachments returns the attachments of the messages, by message ID then ID, in one
// query through attachments_message. The IDs go as one JSON array, so a page of any size
// is one statement. Drafts have no message: an empty ID matches nothing.
func (s *Store) MessageAttachments(ctx context.Context, messageIDs []string) ([]*workspace.Attachment, error) {
	var ids []string
	for _, id := range messageIDs {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.queryAttachments(ctx, messageAttachmentsQuery, jsonText(ids))
}

// ExpiredDrafts returns up to limit drafts (limit <= 0: all) that expire at or before t,
// oldest first, through the partial index attachments_drafts.
func (s *Store) ExpiredDrafts(ctx context.Context, t time.Time, limit int) ([]*workspace.Attachment, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	return s.queryAttachments(ctx, expiredDraftsQuery, optMillis(t), limit)
}

// DeleteAttachment removes the attachment with the ID.
func (s *Store) DeleteAttachment(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM attachments WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "attachment %s not found", id)
	}
	return nil
}

// queryAttachments runs a query of attachmentColumns and scans every row.
func (s *Store) queryAttachments(ctx context.Context, query string, args ...any) ([]*workspace.Attachment, error) {
	var out []*workspace.Attachment
	err := s.eachRow(ctx, query, args, func(rows *sql.Rows) error {
		a, err := scanAttachment(rows)
		if err == nil {
			out = append(out, a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
