package sqlite

import (
	"context"
	"encoding/json"

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

// CreateAPIKey stores a new API key.
func (s *Store) CreateAPIKey(ctx context.Context, k *workspace.APIKey) error {
	scopes, _ := json.Marshal(k.Scopes)
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (key_hash, name, scopes, created_at) VALUES (?,?,?,?)`,
		k.KeyHash, k.Name, string(scopes), millis(k.CreatedAt))
	return mapErr(err, "API key")
}

// APIKey returns the key with the hash.
func (s *Store) APIKey(ctx context.Context, keyHash string) (*workspace.APIKey, error) {
	k := workspace.APIKey{KeyHash: keyHash}
	var scopes string
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT name, scopes, created_at FROM api_keys WHERE key_hash = ?`, keyHash).
		Scan(&k.Name, &scopes, &created)
	if err != nil {
		return nil, mapErr(err, "API key")
	}
	k.CreatedAt = fromMillis(created)
	return &k, json.Unmarshal([]byte(scopes), &k.Scopes)
}
