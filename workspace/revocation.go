package workspace

import (
	"context"
	"sync"
	"time"
)

// A credential stays valid only while nothing revokes it. Requests check it afresh each
// time (Authenticate); a websocket, which lives for hours, watches OnRevoked instead and
// is closed by its transport as soon as its principal's right to act ends.

// RevokedEvent says that a credential no longer authenticates, and why.
type RevokedEvent struct {
	Reason string
	// KeepSession, on an agent's access topic, is the SessionTopic of the one session that
	// stays valid (the one that changed the password); "" ends them all.
	KeepSession string `json:",omitempty"`
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
func AgentAccessTopic(agentID string) string { return accessTopicPrefix + agentID }

const accessTopicPrefix = "access:"

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
// with ctx, or after fn. It costs no goroutine: a hub watcher and a timer, so each of
// thousands of websockets can keep one for its whole life. fn must return at once.
// Anonymous and contact principals have nothing to revoke: fn is never called.
func (s *Service) OnRevoked(ctx context.Context, p Principal, fn func(reason string)) {
	topics := p.revocationTopics()
	if len(topics) == 0 {
		return
	}
	keep := ""
	if p.Kind == AgentPrincipal {
		keep = SessionTopic(p.TokenHash)
	}
	r := &revocationWatch{hub: s.Hub, fn: fn}
	r.mu.Lock() // a revocation that arrives meanwhile waits for the watch to be complete
	defer r.mu.Unlock()
	r.watcher = s.Hub.watch(topics, func(e Event) {
		if ev, ok := e.Payload.(*RevokedEvent); ok && (ev.KeepSession == "" || ev.KeepSession != keep) {
			r.fire(ev.Reason)
		}
	})
	if !p.ExpiresAt.IsZero() {
		r.timer = time.AfterFunc(p.ExpiresAt.Sub(s.Clock.Now()), func() { r.fire(ReasonSessionExpired) })
	}
	r.stop = context.AfterFunc(ctx, func() { r.end() })
}

// revocationWatch is one OnRevoked.
type revocationWatch struct {
	hub *Hub
	fn  func(reason string)

	mu      sync.Mutex
	ended   bool
	watcher *watcher
	timer   *time.Timer
	stop    func() bool
}

func (r *revocationWatch) fire(reason string) {
	if r.end() {
		r.fn(reason)
	}
}

// end stops watching; true the first time.
func (r *revocationWatch) end() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return false
	}
	r.ended = true
	r.hub.unwatch(r.watcher)
	if r.timer != nil {
		r.timer.Stop()
	}
	r.stop()
	return true
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

// SetAgentDisabled disables or re-enables an agent (supervisors only): UpdateAgent with
// only Disabled. A disabled agent's sessions end at once, everywhere, they go OFFLINE so
// nothing more is offered to them, and what they hold is requeued.
func (s *Service) SetAgentDisabled(ctx context.Context, agentID string, disabled bool) (*Agent, error) {
	return s.UpdateAgent(ctx, AgentChange{AgentID: agentID, Disabled: &disabled})
}

// ResetPassword sets a new password for an agent (supervisors only) and ends every session
// the agent has, so whoever knew the old password is signed out everywhere.
func (s *Service) ResetPassword(ctx context.Context, agentID, password string) (*Agent, error) {
	return s.UpdateAgent(ctx, AgentChange{AgentID: agentID, Password: &password})
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
