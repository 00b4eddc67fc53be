package workspace

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// A credential stays valid only while nothing revokes it. Requests check it afresh each
// time (Authenticate); a websocket, which lives for hours, watches OnRevoked instead and
// is closed by its transport as soon as its principal's right to act ends.

// RevokedEvent says that a credential no longer authenticates, and why.
type RevokedEvent struct {
	Reason string
}

// Reasons a credential stops working, as a revoked socket's close reason shows them.
const (
	ReasonLoggedOut       = "the session ended: you signed out"
	ReasonSessionExpired  = "the session has expired"
	ReasonAgentDisabled   = "this account has been disabled"
	ReasonPasswordChanged = "the password was changed"
	ReasonKeyRevoked      = "the API key has been revoked"
)

// SessionTopic carries the revocation of one session. Its name derives from the token's
// hash by hashing again, so an event crossing nodes carries nothing that a store lookup
// would accept.
func SessionTopic(tokenHash string) string { return "session:" + HashToken(tokenHash)[:32] }

// AgentAccessTopic carries the revocation of every session of one agent.
func AgentAccessTopic(agentID string) string { return "access:" + agentID }

// APIKeyTopic carries the revocation of one API key.
func APIKeyTopic(keyHash string) string { return "apikey:" + HashToken(keyHash)[:32] }

// revocationTopics are the topics on which the principal's credential may be revoked.
func (p Principal) revocationTopics() []string {
	switch p.Kind {
	case AgentPrincipal:
		return []string{SessionTopic(p.TokenHash), AgentAccessTopic(p.Agent.ID)}
	case IntegrationPrincipal:
		return []string{APIKeyTopic(p.Key.KeyHash)}
	}
	return nil
}

// OnRevoked calls fn once, with the reason, when the principal's credential stops
// authenticating: it is revoked (on any node) or, for a session, it expires. Watching ends
// with ctx, or after fn. It costs no goroutine: hub watchers and a timer, so each of
// thousands of websockets can keep one for its whole life. fn must return at once.
// Anonymous and contact principals have nothing to revoke: fn is never called.
func (s *Service) OnRevoked(ctx context.Context, p Principal, fn func(reason string)) {
	topics := p.revocationTopics()
	if len(topics) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	var once sync.Once
	fire := func(reason string) {
		once.Do(func() {
			cancel()
			fn(reason)
		})
	}
	for _, t := range topics {
		s.Hub.Watch(ctx, t, func(e Event) {
			if r, ok := e.Payload.(*RevokedEvent); ok {
				fire(r.Reason)
			}
		})
	}
	if !p.ExpiresAt.IsZero() {
		timer := time.AfterFunc(p.ExpiresAt.Sub(s.Clock.Now()), func() { fire(ReasonSessionExpired) })
		context.AfterFunc(ctx, func() { timer.Stop() })
	}
}

// revoke tells every node that the credential behind topic no longer authenticates.
func (s *Service) revoke(topic, reason string) {
	s.notify(topic, &RevokedEvent{Reason: reason})
}

// RequireSupervisor returns the signed-in supervisor, or UNAUTHENTICATED / FORBIDDEN.
func RequireSupervisor(ctx context.Context) (*Agent, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if me.Role != RoleSupervisor {
		return nil, Errorf(EFORBIDDEN, "only supervisors may do this")
	}
	return me, nil
}

// SetAgentDisabled disables or re-enables an agent (supervisors only). A disabled agent's
// sessions end at once, everywhere, and they go OFFLINE so nothing more is offered to them;
// what they hold stays in their log for a supervisor to deal with.
func (s *Service) SetAgentDisabled(ctx context.Context, agentID string, disabled bool) (*Agent, error) {
	me, err := RequireSupervisor(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID(agentID); err != nil {
		return nil, err
	}
	if disabled && agentID == me.ID {
		return nil, &Error{Code: EINVALID, Message: "you cannot disable your own account", Field: []string{"agentId"}}
	}
	a, err := s.updateAgent(ctx, agentID, func(a *Agent) error {
		a.Disabled = disabled
		if disabled && a.Presence != Offline {
			a.Presence, a.PresenceSince = Offline, s.Clock.Now()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if disabled {
		if err := s.endAgentSessions(ctx, agentID, ReasonAgentDisabled); err != nil {
			return a, err
		}
	}
	return a, nil
}

// ResetPassword sets a new password for an agent (supervisors only) and ends every session
// the agent has, so whoever knew the old password is signed out everywhere.
func (s *Service) ResetPassword(ctx context.Context, agentID, password string) (*Agent, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	if err := checkID(agentID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(password) == "" {
		return nil, &Error{Code: EINVALID, Message: "enter a new password", Field: []string{"password"}}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return nil, &Error{Code: EINVALID, Message: "password: " + err.Error(), Field: []string{"password"}}
	}
	a, err := s.updateAgent(ctx, agentID, func(a *Agent) error {
		a.PasswordHash = hash
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, s.endAgentSessions(ctx, agentID, ReasonPasswordChanged)
}

// endAgentSessions deletes every session of the agent and closes their sockets.
func (s *Service) endAgentSessions(ctx context.Context, agentID, reason string) error {
	_, err := s.Store.DeleteAgentSessions(ctx, agentID)
	// Sockets close even if the delete failed: Authenticate also refuses a disabled agent.
	s.revoke(AgentAccessTopic(agentID), reason)
	return err
}

// RevokeAPIKey revokes a CRM's API key (supervisors only): it stops authenticating at once,
// and open sockets that use it close.
func (s *Service) RevokeAPIKey(ctx context.Context, keyHash string) error {
	if _, err := RequireSupervisor(ctx); err != nil {
		return err
	}
	if err := s.Store.RevokeAPIKey(ctx, keyHash, s.Clock.Now()); err != nil {
		return err
	}
	s.revoke(APIKeyTopic(keyHash), ReasonKeyRevoked)
	return nil
}
