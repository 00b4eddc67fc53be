package workspace

import (
	"context"
	"slices"
	"time"
)

// The contact's side of the channel port, for channels whose contacts talk to the desk
// through agentdesk itself (webchat today, a browser call later) rather than through a
// provider's webhooks. Such a channel gives each new conversation a secret token; the domain
// stores its hash on the interaction and authenticates the contact with it. How tokens look
// is the channel's business (ContactTokens); what a contact may do is decided here.

// ContactTokens recognises a channel's contact tokens: Parse returns the interaction a token
// claims to open, and false when the token is not of this channel. The domain then checks
// the token's hash against that interaction.
type ContactTokens interface {
	ParseContactToken(bearer string) (interactionID string, ok bool)
}

// contactMayEnd is C4: who ends a conversation. Agents end every channel; the contact ends
// webchat and voice too.
func contactMayEnd(ch Channel) bool { return ch == Webchat || ch == Voice }

// authenticateContact checks a contact token against the interaction it names.
func (s *Service) authenticateContact(ctx context.Context, id, hash string) (Principal, error) {
	rejected := Errorf(EUNAUTHENTICATED, "the contact token is not known")
	if checkID(id) != nil {
		return Principal{Rejected: true}, rejected
	}
	ix, err := s.Store.Interaction(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (ix.ContactTokenHash == "" || ix.ContactTokenHash != hash)) {
		return Principal{Rejected: true}, rejected
	} else if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: ContactPrincipal, InteractionID: id}, nil
}

// RequireContact returns the caller's own interaction ID, for contact operations.
func RequireContact(ctx context.Context) (string, error) {
	p := PrincipalFrom(ctx)
	switch {
	case p.Kind == ContactPrincipal:
		return p.InteractionID, nil
	case p.Kind != Anonymous:
		return "", Errorf(EFORBIDDEN, "only the contact of the conversation, with its own token, may do this")
	case p.Rejected:
		return "", Errorf(EUNAUTHENTICATED, "the contact token is invalid; start a new conversation")
	default:
		return "", Errorf(EUNAUTHENTICATED, "start a conversation first and send its token: Authorization: Bearer <token>")
	}
}

// ContactInteraction returns the contact's own interaction.
func (s *Service) ContactInteraction(ctx context.Context) (*Interaction, error) {
	id, err := RequireContact(ctx)
	if err != nil {
		return nil, err
	}
	return s.Store.Interaction(ctx, id)
}

// maxNameChars bounds a person's name.
const maxNameChars = 100

// PlanFor returns the plan a new conversation on the channel goes to: the one named, which
// must take the channel, or for "" the first plan (by name) that takes it; INVALID naming
// field otherwise.
func (s *Service) PlanFor(ctx context.Context, planID string, ch Channel, field string) (*Plan, error) {
	if planID != "" {
		if err := s.checkPlanTakes(ctx, planID, ch, field); err != nil {
			return nil, err
		}
		return s.Store.Plan(ctx, planID)
	}
	plans, err := s.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if slices.Contains(p.Channels, ch) {
			return p, nil
		}
	}
	return nil, &Error{Code: EINVALID, Message: "no interaction plan takes " + string(ch), Field: []string{field}}
}

// EndByContact ends the contact's own conversation, where the channel lets contacts end
// (C4), recorded as ended by the contact. One an agent holds enters WRAP and its agent is told
// (W2); one no agent accepted yet is completed at once, and an open offer of it is withdrawn.
func (s *Service) EndByContact(ctx context.Context) (*Interaction, error) {
	id, err := RequireContact(ctx)
	if err != nil {
		return nil, err
	}
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return nil, err
	}
	if !contactMayEnd(ix.Channel) {
		return nil, Errorf(EFORBIDDEN, "on %s only the agent ends the conversation (C4)", ix.Channel)
	}
	switch ix.State {
	case Queued, Offered:
		done, err := s.complete(ctx, id, ix, (*Interaction).abandon)
		if ErrorCode(err) == EWRONGSTATE { // accepted meanwhile: end it as an active one
			return s.EndByContact(ctx)
		} else if err != nil {
			return nil, err
		}
		s.systemMessage(ctx, done, "The visitor left before an agent answered")
		return done, nil
	case Active, Parked:
		return s.end(ctx, ix, PartyContact, func(x *Interaction, p *Plan, now time.Time) error {
			if x.in(Active, Parked) != nil {
				return Errorf(EWRONGSTATE, "this conversation has already ended")
			}
			return x.end(PartyContact, p, now)
		})
	}
	return nil, Errorf(EWRONGSTATE, "this conversation has already ended")
}

// HolderName is the display name of the agent handling an interaction, as its contact may
// see it: none while it waits for an agent.
func (s *Service) HolderName(ctx context.Context, ix *Interaction) (*string, error) {
	if ix.AgentID == "" || ix.State == Queued || ix.State == Offered {
		return nil, nil
	}
	a, err := s.Store.Agent(ctx, ix.AgentID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &a.Name, nil
}

// CheckText returns a message's text normalised, or INVALID when it is blank or longer than
// the configured limit: the rule for every message a person types.
func (s *Service) CheckText(text string) (string, error) { return s.checkText(text) }
