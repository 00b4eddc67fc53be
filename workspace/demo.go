package workspace

import (
	"context"

	"github.com/google/uuid"
)

// DemoPassword is the password of every demo account.
const DemoPassword = "demo"

// DemoAPIKey is the demo CRM integration's key.
const DemoAPIKey = "demo-crm-key"

// SeedDemo creates the demo plans, agents and API key that are missing. It is idempotent:
// running it again changes nothing that exists.
func (s *Service) SeedDemo(ctx context.Context) error {
	codes := []DispositionCode{
		{Code: "RESOLVED", Label: "Resolved"},
		{Code: "FOLLOW_UP", Label: "Follow-up needed"},
		{Code: "ESCALATED", Label: "Escalated"},
		{Code: "SALE", Label: "Sale made"},
		{Code: "NO_ANSWER", Label: "Contact stopped answering"},
	}
	// Support wakes parked chats into its own queue; Sales has no post-parking plan, so a
	// reply to a parked Sales chat ends it (K6): both paths can be tried.
	supportID := uuid.NewString()
	support := append(codes[:3:3], demoAssistCodes...)
	plans := []*Plan{
		{ID: supportID, Name: "Support", Channels: Channels, DispositionCodes: support, DispositionRequired: true,
			DispositionAssist: true, SummaryAssist: true,
			OfferTimeoutSeconds: DefaultOfferTimeout, AutoParkSeconds: DefaultAutoParkSeconds,
			ParkedTimeoutSeconds: DefaultParkedTimeout, PostParkingPlanID: supportID},
		{Name: "Sales", Channels: []Channel{SMS, WhatsApp, Webchat, Email}, DispositionCodes: codes[2:],
			DispositionAssist: true, SummaryAssist: true,
			WrapSeconds: 60, OfferTimeoutSeconds: DefaultOfferTimeout, AutoParkSeconds: DefaultAutoParkSeconds,
			ParkedTimeoutSeconds: DefaultParkedTimeout},
	}
	existing, err := s.Store.Plans(ctx)
	if err != nil {
		return err
	}
	var planIDs []string
	for _, p := range plans {
		id := ""
		for _, e := range existing {
			if e.Name == p.Name {
				id = e.ID
			}
		}
		if id == "" {
			if p.ID == "" {
				p.ID = uuid.NewString()
			}
			p.CreatedAt = s.Clock.Now()
			if err := s.Store.CreatePlan(ctx, p); err != nil {
				return err
			}
			id = p.ID
		}
		planIDs = append(planIDs, id)
		if err := s.seedAssistHistory(ctx, id); err != nil {
			return err
		}
	}
	agents := []NewAgent{
		{Username: "alice", Name: "Alice Martin"},
		{Username: "bob", Name: "Bob Okafor"},
		{Username: "carol", Name: "Carol Nguyen"},
		{Username: "admin", Name: "Ada Admin", Role: RoleSupervisor},
	}
	for _, n := range agents {
		if _, err := s.Store.AgentByUsername(ctx, n.Username); err == nil {
			continue
		} else if ErrorCode(err) != ENOTFOUND {
			return err
		}
		n.Password, n.PlanIDs = DemoPassword, planIDs
		if _, err := s.CreateAgent(ctx, n); err != nil && ErrorCode(err) != ECONFLICT {
			return err
		}
	}
	if _, err := s.Store.APIKey(ctx, HashToken(DemoAPIKey)); ErrorCode(err) == ENOTFOUND {
		if _, err := s.CreateAPIKey(ctx, "Demo CRM", DemoAPIKey, ScopeRead); err != nil && ErrorCode(err) != ECONFLICT {
			return err
		}
	} else if err != nil {
		return err
	}
	return nil
}
