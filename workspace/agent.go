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
