package sqlite

import (
	"context"

	"github.com/agentdesk/agentdesk/workspace"
)

const cannedColumns = `id, title, text, plan_id, created_at, updated_at, version`

// CreateCannedResponse inserts a new canned response.
func (s *Store) CreateCannedResponse(ctx context.Context, c *workspace.CannedResponse) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO canned_responses (`+cannedColumns+`) VALUES (?,?,?,?,?,?,?)`,
		c.ID, c.Title, c.Text, c.PlanID, millis(c.CreatedAt), millis(c.UpdatedAt), c.Version)
	return mapErr(err, "canned response "+c.Title)
}

// CannedResponse returns the canned response with the ID.
func (s *Store) CannedResponse(ctx context.Context, id string) (*workspace.CannedResponse, error) {
	c, err := scanCanned(s.read.QueryRowContext(ctx, `SELECT `+cannedColumns+` FROM canned_responses WHERE id = ?`, id))
	return c, mapErr(err, "canned response")
}

// CannedResponses returns every canned response ordered by title, then ID.
func (s *Store) CannedResponses(ctx context.Context) ([]*workspace.CannedResponse, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+cannedColumns+` FROM canned_responses ORDER BY title, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.CannedResponse
	for rows.Next() {
		c, err := scanCanned(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCannedResponse writes c if the stored version is still c.Version.
func (s *Store) UpdateCannedResponse(ctx context.Context, c *workspace.CannedResponse) error {
	err := s.execGuarded(ctx, "canned response "+c.Title, `UPDATE canned_responses SET title=?, text=?, plan_id=?,
		created_at=?, updated_at=?, version=version+1 WHERE id=? AND version=?`,
		c.Title, c.Text, c.PlanID, millis(c.CreatedAt), millis(c.UpdatedAt), c.ID, c.Version)
	if err == nil {
		c.Version++
	}
	return err
}

// DeleteCannedResponse removes the canned response with the ID.
func (s *Store) DeleteCannedResponse(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM canned_responses WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "canned response not found")
	}
	return nil
}

func scanCanned(row scanner) (*workspace.CannedResponse, error) {
	var c workspace.CannedResponse
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Title, &c.Text, &c.PlanID, &created, &updated, &c.Version); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &c, nil
}

const auditColumns = `id, at, actor_id, action, object_type, object_id, object_name, before_json, after_json`

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e *workspace.AuditEntry) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		e.ID, millis(e.At), e.ActorID, e.Action, e.ObjectType, e.ObjectID, e.ObjectName, e.Before, e.After)
	return mapErr(err, "audit entry "+e.ID)
}

// AuditLog returns up to limit entries (limit <= 0: all) matching f, newest first, after the
// cursor. Each filter has its index, in (at, id) order: SQLite reads it backwards.
func (s *Store) AuditLog(ctx context.Context, f workspace.AuditFilter, after *workspace.AuditCursor, limit int) ([]*workspace.AuditEntry, error) {
	var where []string
	var args []any
	if f.ObjectType != "" {
		where, args = append(where, "object_type = ?"), append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where, args = append(where, "object_id = ?"), append(args, f.ObjectID)
	}
	if after != nil {
		where, args = append(where, "(at, id) < (?, ?)"), append(args, millis(after.At), after.ID)
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log`+whereClause(where)+
		` ORDER BY at DESC, id DESC LIMIT CAST(? AS INTEGER)`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.AuditEntry
	for rows.Next() {
		var e workspace.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.ObjectType, &e.ObjectID, &e.ObjectName, &e.Before, &e.After); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		out = append(out, &e)
	}
	return out, rows.Err()
}
