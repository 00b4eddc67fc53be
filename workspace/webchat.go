package workspace

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// contactPrefix marks webchat contact tokens. A token is the prefix, the chat's ID, a dot
// and a secret; only its hash is stored, on the interaction itself.
const contactPrefix = "adc_"

// maxNameChars bounds a visitor's name.
const maxNameChars = 100

// StartWebchat is what a visitor sends to open a chat.
type StartWebchat struct {
	Name   string
	PlanID string
	Text   string
}

// StartWebchat opens a chat for an anonymous visitor: a new QUEUED interaction with the
// visitor's first message, routed at once. It returns the contact's token, shown only here.
func (s *Service) StartWebchat(ctx context.Context, in StartWebchat) (string, *Interaction, error) {
	in, err := s.checkWebchat(in)
	if err != nil {
		return "", nil, err
	}
	plan, err := s.webchatPlan(ctx, in.PlanID)
	if err != nil {
		return "", nil, err
	}
	id := uuid.NewString()
	token := contactPrefix + id + "." + randomString(24)
	ix := &Interaction{
		ID: id, Channel: Webchat, Direction: Inbound, State: Queued,
		Contact:   Contact{Address: "visitor-" + randomString(6), Name: in.Name},
		PlanID:    plan.ID,
		CreatedAt: s.Clock.Now(), ContactTokenHash: HashToken(token),
	}
	if err := s.Store.CreateInteraction(ctx, ix); err != nil {
		return "", nil, err
	}
	if _, err := s.appendMessage(ctx, &Message{InteractionID: id, From: PartyContact, Text: in.Text}); err != nil {
		return "", nil, err
	}
	if err := s.route(ctx, ix); err != nil {
		return "", nil, err
	}
	return token, ix, nil
}

// checkWebchat returns what a visitor sent, normalised, or INVALID: a blank or too long
// message, a too long name, a plan ID that is not a UUID. A name that shows nothing is no name.
func (s *Service) checkWebchat(in StartWebchat) (StartWebchat, error) {
	text, err := s.checkText(in.Text)
	if err != nil {
		return in, err
	}
	name := NormaliseName(in.Name)
	if IsBlank(name) {
		name = ""
	}
	if utf8.RuneCountInString(name) > maxNameChars {
		return in, &Error{Code: EINVALID, Message: "the name is limited to 100 characters", Field: []string{"name"}}
	}
	if in.PlanID != "" && checkID(in.PlanID) != nil {
		return in, &Error{Code: EINVALID, Message: "not a valid plan ID: IDs are UUIDs", Field: []string{"planId"}}
	}
	return StartWebchat{Name: name, PlanID: in.PlanID, Text: text}, nil
}

// webchatPlan is the named plan, which must take webchat, or the first plan that does.
func (s *Service) webchatPlan(ctx context.Context, id string) (*Plan, error) {
	if id != "" {
		p, err := s.Store.Plan(ctx, id)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(p.Channels, Webchat) {
			return nil, &Error{Code: EINVALID, Message: "plan " + p.Name + " does not take webchat", Field: []string{"planId"}}
		}
		return p, nil
	}
	plans, err := s.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if slices.Contains(p.Channels, Webchat) {
			return p, nil
		}
	}
	return nil, &Error{Code: EINVALID, Message: "no interaction plan takes webchat", Field: []string{"planId"}}
}

// authenticateContact checks a webchat contact token against its chat.
func (s *Service) authenticateContact(ctx context.Context, token, hash string) (Principal, error) {
	rejected := Errorf(EUNAUTHENTICATED, "the chat token is not known")
	id, _, ok := strings.Cut(strings.TrimPrefix(token, contactPrefix), ".")
	if !ok || checkID(id) != nil {
		return Principal{Rejected: true}, rejected
	}
	ix, err := s.Store.Interaction(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && ix.ContactTokenHash != hash) {
		return Principal{Rejected: true}, rejected
	} else if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: ContactPrincipal, InteractionID: id}, nil
}

// RequireContact returns the caller's own chat ID, for webchat contact operations.
func RequireContact(ctx context.Context) (string, error) {
	p := PrincipalFrom(ctx)
	switch {
	case p.Kind == ContactPrincipal:
		return p.InteractionID, nil
	case p.Kind != Anonymous:
		return "", Errorf(EFORBIDDEN, "only the webchat visitor, with the token startWebchat returned, may do this")
	case p.Rejected:
		return "", Errorf(EUNAUTHENTICATED, "the chat token is invalid; start a new chat")
	default:
		return "", Errorf(EUNAUTHENTICATED, "start a chat first: send Authorization: Bearer <token from startWebchat>")
	}
}

// MyChat returns the contact's own chat.
func (s *Service) MyChat(ctx context.Context) (*Interaction, error) {
	id, err := RequireContact(ctx)
	if err != nil {
		return nil, err
	}
	return s.Store.Interaction(ctx, id)
}

// SendContactMessage appends the visitor's message to their chat, while it has not ended.
// It restarts the auto-park countdown of an ACTIVE chat and wakes a PARKED one (K2, K4).
func (s *Service) SendContactMessage(ctx context.Context, text string) (*Message, error) {
	id, err := RequireContact(ctx)
	if err != nil {
		return nil, err
	}
	if text, err = s.checkText(text); err != nil {
		return nil, err
	}
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return nil, err
	}
	if ix.State == Wrap || ix.State == Completed {
		return nil, Errorf(EWRONGSTATE, "this chat has ended; start a new one")
	}
	m, err := s.appendMessage(ctx, &Message{InteractionID: id, From: PartyContact, Text: text})
	if err != nil {
		return nil, err
	}
	// The message is stored before anything else happens, so it is kept whatever the
	// interaction does meanwhile (K4).
	return m, s.contactWrote(ctx, ix, m)
}

// EndWebchat ends the visitor's chat (C4), recorded as ended by the contact. A chat an agent
// holds enters WRAP and its agent is told (W2); one no agent accepted yet is completed at
// once, and an open offer of it is withdrawn.
func (s *Service) EndWebchat(ctx context.Context) (*Interaction, error) {
	id, err := RequireContact(ctx)
	if err != nil {
		return nil, err
	}
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return nil, err
	}
	switch ix.State {
	case Queued, Offered:
		done, err := s.complete(ctx, id, (*Interaction).abandon)
		if ErrorCode(err) == EWRONGSTATE { // accepted meanwhile: end it as an active chat
			return s.EndWebchat(ctx)
		} else if err != nil {
			return nil, err
		}
		s.systemMessage(ctx, done, "The visitor left before an agent answered")
		return done, nil
	case Active, Parked:
		return s.end(ctx, ix, PartyContact, func(x *Interaction, p *Plan, now time.Time) error {
			if x.in(Active, Parked) != nil {
				return Errorf(EWRONGSTATE, "this chat has already ended")
			}
			return x.end(PartyContact, p, now)
		})
	}
	return nil, Errorf(EWRONGSTATE, "this chat has already ended")
}

// AgentName is the display name of the agent handling a chat, as its contact may see it.
func (s *Service) AgentName(ctx context.Context, ix *Interaction) (*string, error) {
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
