package mongo

import (
	"context"
	"fmt"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sessionDoc is a session as stored in the sessions collection, keyed by its token hash.
type sessionDoc struct {
	TokenHash string    `bson:"_id"`
	AgentID   string    `bson:"agentId"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// CreateSession stores a new session; a taken token hash is CONFLICT.
func (s *Store) CreateSession(ctx context.Context, sess *workspace.Session) error {
	d := sessionDoc{TokenHash: sess.TokenHash, AgentID: sess.AgentID, CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt}
	return insert(ctx, s.sessions, d, "Session")
}

// Session returns the session with this token hash. On MongoDB a session may vanish soon
// after it expires (TTL index); callers check ExpiresAt themselves.
func (s *Store) Session(ctx context.Context, tokenHash string) (*workspace.Session, error) {
	var d sessionDoc
	if err := findOne(ctx, s.sessions, bson.D{{Key: "_id", Value: tokenHash}}, &d, "Session"); err != nil {
		return nil, err
	}
	return &workspace.Session{TokenHash: d.TokenHash, AgentID: d.AgentID, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}, nil
}

// DeleteSession removes the session with this token hash; a missing one is NOT_FOUND.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := s.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: tokenHash}})
	if err != nil {
		return fmt.Errorf("mongo: delete session: %w", err)
	}
	if res.DeletedCount == 0 {
		return workspace.Errorf(workspace.ENOTFOUND, "Session not found.")
	}
	return nil
}

// DeleteAgentSessions removes every session of the agent.
func (s *Store) DeleteAgentSessions(ctx context.Context, agentID string) (int, error) {
	res, err := s.sessions.DeleteMany(ctx, bson.D{{Key: "agentId", Value: agentID}})
	if err != nil {
		return 0, fmt.Errorf("mongo: delete sessions: %w", err)
	}
	return int(res.DeletedCount), nil
}
