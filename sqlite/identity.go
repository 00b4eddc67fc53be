package sqlite

import (
	"context"
	"encoding/json"

	"github.com/agentdesk/agentdesk/workspace"
)

const identityColumns = `id, channel, address, name, outbound, plan_id, provider, settings, created_at, version, mailbox_validity, mailbox_uid`

// CreateIdentity inserts a new channel identity.
func (s *Store) CreateIdentity(ctx context.Context, id *workspace.Identity) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO identities (`+identityColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		id.ID, id.Channel, id.Address, id.Name, id.Outbound, id.PlanID, id.Provider, settingsOf(id),
		millis(id.CreatedAt), id.Version, id.Mailbox.UIDValidity, id.Mailbox.UID)
	return mapErr(err, "identity "+id.Address)
}

// Identity returns the identity with the ID.
func (s *Store) Identity(ctx context.Context, id string) (*workspace.Identity, error) {
	i, err := scanIdentity(s.read.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = ?`, id))
	return i, mapErr(err, "identity")
}

// Identities returns every identity ordered by name, then ID.
func (s *Store) Identities(ctx context.Context) ([]*workspace.Identity, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+identityColumns+` FROM identities ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Identity
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// UpdateIdentity writes id if the stored version is still id.Version.
func (s *Store) UpdateIdentity(ctx context.Context, id *workspace.Identity) error {
	err := s.execGuarded(ctx, "identity "+id.Address, `UPDATE identities SET channel=?, address=?, name=?, outbound=?,
		plan_id=?, provider=?, settings=?, created_at=?, mailbox_validity=?, mailbox_uid=?, version=version+1 WHERE id=? AND version=?`,
		id.Channel, id.Address, id.Name, id.Outbound, id.PlanID, id.Provider, settingsOf(id), millis(id.CreatedAt),
		id.Mailbox.UIDValidity, id.Mailbox.UID, id.ID, id.Version)
	if err == nil {
		id.Version++
	}
	return err
}

func scanIdentity(row scanner) (*workspace.Identity, error) {
	var i workspace.Identity
	var settings string
	var created int64
	if err := row.Scan(&i.ID, &i.Channel, &i.Address, &i.Name, &i.Outbound, &i.PlanID, &i.Provider, &settings,
		&created, &i.Version, &i.Mailbox.UIDValidity, &i.Mailbox.UID); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMillis(created)
	return &i, json.Unmarshal([]byte(settings), &i.Settings)
}

// settingsOf is the identity's provider settings as a JSON object (null when nil).
func settingsOf(id *workspace.Identity) string { return jsonText(id.Settings) }

const templateColumns = `id, identity_id, name, language, body, parameter_count, created_at`

// CreateTemplate inserts a new template.
func (s *Store) CreateTemplate(ctx context.Context, t *workspace.Template) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO templates (`+templateColumns+`) VALUES (?,?,?,?,?,?,?)`,
		t.ID, t.IdentityID, t.Name, t.Language, t.Body, t.ParameterCount, millis(t.CreatedAt))
	return mapErr(err, "template "+t.Name+" ("+t.Language+")")
}

// Template returns the template with the ID.
func (s *Store) Template(ctx context.Context, id string) (*workspace.Template, error) {
	t, err := scanTemplate(s.read.QueryRowContext(ctx, `SELECT `+templateColumns+` FROM templates WHERE id = ?`, id))
	return t, mapErr(err, "template")
}

// Templates returns an identity's templates ordered by name, then language.
func (s *Store) Templates(ctx context.Context, identityID string) ([]*workspace.Template, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+templateColumns+` FROM templates WHERE identity_id = ?
		ORDER BY name, language`, identityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func scanTemplate(row scanner) (*workspace.Template, error) {
	var t workspace.Template
	var created int64
	if err := row.Scan(&t.ID, &t.IdentityID, &t.Name, &t.Language, &t.Body, &t.ParameterCount, &created); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMillis(created)
	return &t, nil
}
