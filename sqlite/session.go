package sqlite

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess *workspace.Session) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions (token_hash, agent_id, created_at, expires_at) VALUES (?,?,?,?)`,
		sess.TokenHash, sess.AgentID, millis(sess.CreatedAt), millis(sess.ExpiresAt))
	return mapErr(err, "session")
}

// Session returns the session with the token hash.
func (s *Store) Session(ctx context.Context, tokenHash string) (*workspace.Session, error) {
	sess := workspace.Session{TokenHash: tokenHash}
	var created, expires int64
	err := s.read.QueryRowContext(ctx, `SELECT agent_id, created_at, expires_at FROM sessions WHERE token_hash = ?`, tokenHash).
		Scan(&sess.AgentID, &created, &expires)
	if err != nil {
		return nil, mapErr(err, "session")
	}
	sess.CreatedAt, sess.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &sess, nil
}

// DeleteSession removes the session with the token hash.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "session not found")
	}
	return nil
}

// DeleteAgentSessions removes every session of the agent.
func (s *Store) DeleteAgentSessions(ctx context.Context, agentID string) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE agent_id = ?`, agentID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

const apiKeyColumns = `key_hash, id, name, scopes, created_at, revoked_at, last_used_at`

// CreateAPIKey stores a new API key.
func (s *Store) CreateAPIKey(ctx context.Context, k *workspace.APIKey) error {
	scopes, _ := json.Marshal(k.Scopes)
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?,?,?,?,?,?,?)`,
		k.KeyHash, k.ID, k.Name, string(scopes), millis(k.CreatedAt), optMillis(k.RevokedAt), optMillis(k.LastUsedAt))
	return mapErr(err, "API key")
}

// APIKey returns the key with the hash.
func (s *Store) APIKey(ctx context.Context, keyHash string) (*workspace.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = ?`, keyHash))
	return k, mapErr(err, "API key")
}

// APIKeys returns every key, newest first, then by ID. They are sorted here, since a key
// stored before IDs existed has none in its row.
func (s *Store) APIKeys(ctx context.Context) ([]*workspace.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *workspace.APIKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func scanAPIKey(row scanner) (*workspace.APIKey, error) {
	var k workspace.APIKey
	var scopes string
	var created, revoked, used int64
	if err := row.Scan(&k.KeyHash, &k.ID, &k.Name, &scopes, &created, &revoked, &used); err != nil {
		return nil, err
	}
	if k.ID == "" {
		k.ID = workspace.LegacyAPIKeyID(k.KeyHash)
	}
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = fromMillis(created), fromOptMillis(revoked), fromOptMillis(used)
	return &k, json.Unmarshal([]byte(scopes), &k.Scopes)
}

// RevokeAPIKey marks the key revoked at the given time, keeping an earlier revocation.
func (s *Store) RevokeAPIKey(ctx context.Context, keyHash string, at time.Time) error {
	return s.updateAPIKey(ctx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE key_hash = ?`,
		millis(at), keyHash)
}

// TouchAPIKey moves the key's last use forward to at, never back.
func (s *Store) TouchAPIKey(ctx context.Context, keyHash string, at time.Time) error {
	return s.updateAPIKey(ctx, `UPDATE api_keys SET last_used_at = max(last_used_at, ?) WHERE key_hash = ?`, millis(at), keyHash)
}

// updateAPIKey runs an update of one key; a missing key is NOT_FOUND. SQLite counts the row
// as changed even when the update leaves it as it was.
func (s *Store) updateAPIKey(ctx context.Context, query string, args ...any) error {
	res, err := s.write.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "API key not found")
	}
	return nil
}
