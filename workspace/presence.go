package workspace

import "context"

// SetPresence changes the signed-in agent's presence (P1). PresenceSince restarts only when
// the state really changes, so routing's "idle longest" is not reset by repeated clicks.
func (s *Service) SetPresence(ctx context.Context, p Presence) (*Agent, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Valid() {
		return nil, &Error{Code: EINVALID, Message: "presence must be READY, NOT_READY or OFFLINE", Field: []string{"presence"}}
	}
	a, err := s.updateAgent(ctx, me.ID, func(a *Agent) error {
		if a.Presence != p {
			a.Presence, a.PresenceSince = p, s.Clock.Now()
		}
		return nil
	})
	if err != nil || p != Ready {
		return a, err
	}
	// Room appeared: offer what waits in the agent's queues (P1, P6).
	s.offerWaiting(ctx, a.PlanIDs)
	return s.Store.Agent(ctx, me.ID)
}
