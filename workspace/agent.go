package workspace

import (
	"context"

	"github.com/google/uuid"
)

// Agent returns an agent of the directory to any agent or reader.
func (s *Service) Agent(ctx context.Context, id string) (*Agent, error) {
	if err := RequireReader(ctx); err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	return s.Store.Agent(ctx, id)
}

// AgentFor returns the agent with the ID as the caller may see them where what they read
// names an agent: an interaction's holder or the agent who parked it, a message's author, a
// transfer's parties. A webchat contact never sees agent details (their chat's agent reaches
// them by name only, AgentName); others must be readers (RequireReader). nil for "" or an
// agent since removed.
func (s *Service) AgentFor(ctx context.Context, id string) (*Agent, error) {
	if id == "" || PrincipalFrom(ctx).Kind == ContactPrincipal {
		return nil, nil
	}
	a, err := s.Agent(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// Plan returns an interaction plan to any agent or reader.
func (s *Service) Plan(ctx context.Context, id string) (*Plan, error) {
	if err := RequireReader(ctx); err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	return s.Store.Plan(ctx, id)
}

// checkID refuses IDs that are not UUIDs before they reach the store.
func checkID(id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return &Error{Code: EINVALID, Message: "not a valid ID: IDs are UUIDs", Field: []string{"id"}}
	}
	return nil
}
