package sqlite

import (
	"context"
	"encoding/json"
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

// CreateAPIKey stores a new API key.
func (s *Store) CreateAPIKey(ctx context.Context, k *workspace.APIKey) error {
	scopes, _ := json.Marshal(k.Scopes)
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (key_hash, name, scopes, created_at, revoked_at) VALUES (?,?,?,?,?)`,
		k.KeyHash, k.Name, string(scopes), millis(k.CreatedAt), optMillis(k.RevokedAt))
	return mapErr(err, "API key")
}

// APIKey returns the key with the hash.
func (s *Store) APIKey(ctx context.Context, keyHash string) (*workspace.APIKey, error) {
	k := workspace.APIKey{KeyHash: keyHash}
	var scopes string
	var created, revoked int64
	err := s.read.QueryRowContext(ctx, `SELECT name, scopes, created_at, revoked_at FROM api_keys WHERE key_hash = ?`, keyHash).
		Scan(&k.Name, &scopes, &created, &revoked)
	if err != nil {
		return nil, mapErr(err, "API key")
	}
	k.CreatedAt, k.RevokedAt = fromMillis(created), fromOptMillis(revoked)
	return &k, json.Unmarshal([]byte(scopes), &k.Scopes)
}

// RevokeAPIKey marks the key revoked at the given time, keeping an earlier revocation.
func (s *Store) RevokeAPIKey(ctx context.Context, keyHash string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE key_hash = ?`,
		millis(at), keyHash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "API key not found")
	}
	return nil
}
