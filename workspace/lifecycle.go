package workspace

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// EDISPOSITIONREQUIRED refuses to complete an interaction whose plan requires a code (W3).
const EDISPOSITIONREQUIRED = "DISPOSITION_REQUIRED"

// maxNotesChars bounds an interaction's notes.
const maxNotesChars = 20000

// held loads a live interaction and checks that the signed-in agent holds it.
func (s *Service) held(ctx context.Context, id string) (*Agent, *Interaction, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := checkInteractionID(id); err != nil {
		return nil, nil, err
	}
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if ix.AgentID != me.ID {
		return nil, nil, Errorf(EFORBIDDEN, "this interaction is not yours")
	}
	return me, ix, nil
}

// heldWithPlan is held, plus the interaction's plan.
func (s *Service) heldWithPlan(ctx context.Context, id string) (*Agent, *Interaction, *Plan, error) {
	me, ix, err := s.held(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return nil, nil, nil, err
	}
	return me, ix, plan, nil
}

// mine is a change guard: the fresh record must still be held by agentID. The step's own
// method then checks the state.
func mine(ix *Interaction, agentID string) error {
	if ix.AgentID != agentID {
		return Errorf(EFORBIDDEN, "this interaction is no longer yours")
	}
	return nil
}

// checkInteractionID refuses malformed interaction IDs before they reach the store.
func checkInteractionID(id string) error {
	if checkID(id) != nil {
		return &Error{Code: EINVALID, Message: "not a valid interaction ID: IDs are UUIDs", Field: []string{"interactionId"}}
	}
	return nil
}

// AcceptOffer accepts an offer made to the signed-in agent; the interaction becomes ACTIVE.
// An offer already answered or expired is WRONG_STATE; another agent's offer is FORBIDDEN.
func (s *Service) AcceptOffer(ctx context.Context, offerID string) (*Interaction, error) {
	me, ix, err := s.openOffer(ctx, offerID)
	if err != nil {
		return nil, err
	}
	if ix.Transfer != nil {
		return s.acceptTransfer(ctx, me, ix)
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return nil, err
	}
	return s.accept(ctx, me.ID, ix, ix.OfferSeq, plan)
}

// openOffer authorises an answer to an offer.
func (s *Service) openOffer(ctx context.Context, offerID string) (*Agent, *Interaction, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, nil, err
	}
	ixID, seq, ok := parseOfferID(offerID)
	if !ok {
		return nil, nil, &Error{Code: EINVALID, Message: "not a valid offer ID", Field: []string{"offerId"}}
	}
	ix, err := s.Store.Interaction(ctx, ixID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case seq > ix.OfferSeq:
		return nil, nil, Errorf(ENOTFOUND, "no such offer")
	case ix.Transfer != nil && ix.Transfer.OfferID == offerID: // a transfer offer (T1)
		if ix.Transfer.ToAgentID != me.ID {
			return nil, nil, Errorf(EFORBIDDEN, "this offer was made to another agent")
		}
		return me, ix, nil
	case seq == ix.OfferSeq && ix.State == Offered && ix.AgentID != me.ID:
		return nil, nil, Errorf(EFORBIDDEN, "this offer was made to another agent")
	case seq < ix.OfferSeq || ix.State != Offered:
		return nil, nil, Errorf(EWRONGSTATE, "this offer is no longer open: it was answered, expired or withdrawn")
	}
	return me, ix, nil
}

// accept makes an offered interaction ACTIVE with the agent. The contact is told who joined
// only the first time: a chat that comes back through a queue after a transfer or parking
// changes hands silently (T4).
func (s *Service) accept(ctx context.Context, agentID string, loaded *Interaction, seq int, plan *Plan) (*Interaction, error) {
	now := s.Clock.Now()
	a, err := s.Store.Agent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	// The note of who answered is stored with the acceptance, in the same write.
	ix, _, err := s.mutate(ctx, loaded.ID, loaded, func(ix *Interaction) error {
		first, err := ix.accept(agentID, seq, plan, now)
		if err != nil {
			return err
		}
		switch {
		case ix.Channel == Voice:
			if endpoint := endpointOf(a); endpoint != "" {
				ix.CallEndpoint = endpoint
			}
			ix.Messages = note(a.Name + " answered the call")
		case first:
			ix.Messages = note(a.Name + " joined the chat")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.MissedOffers > 0 { // an answered offer ends a run of missed ones (P5)
		if _, err := s.updateAgent(ctx, agentID, func(a *Agent) error { a.MissedOffers = 0; return nil }); err != nil {
			return nil, err
		}
	}
	s.publishUpdate(ix)
	s.callConnected(ctx, ix, agentID)
	return ix, nil
}

// RejectOffer turns an offer down: the interaction goes back to its queue and is not offered
// to this agent again (P3). Auto-accepted offers are already ACTIVE and cannot be rejected (P4).
func (s *Service) RejectOffer(ctx context.Context, offerID string) (*Interaction, error) {
	me, ix, err := s.openOffer(ctx, offerID)
	if err != nil {
		return nil, err
	}
	if ix.Transfer != nil {
		return s.rejectTransfer(ctx, me, ix)
	}
	seq := ix.OfferSeq
	ix, _, err = s.mutate(ctx, ix.ID, ix, func(ix *Interaction) error { return ix.reject(me.ID, seq, s.Clock.Now()) })
	if err != nil {
		return nil, err
	}
	s.callUnanswered(ix)
	if err := s.release(ctx, me.ID, ix.ID, nil); err != nil {
		return nil, err
	}
	if err := s.route(ctx, ix); err != nil {
		return nil, err
	}
	s.offerWaiting(ctx, me.PlanIDs)
	return ix, nil
}

// checkText returns a message's text normalised (NormaliseText), or INVALID when it shows
// nothing (IsBlank) or is over the limit.
func (s *Service) checkText(text string) (string, error) {
	text = NormaliseText(text)
	if IsBlank(text) {
		return "", &Error{Code: EINVALID, Message: "write a message first: it is empty", Field: []string{"text"}}
	}
	if n := utf8.RuneCountInString(text); n > s.MaxMessageChars {
		return "", &Error{Code: EINVALID, Message: fmt.Sprintf("the message has %d characters; the limit is %d", n, s.MaxMessageChars), Field: []string{"text"}}
	}
	return text, nil
}

// SendMessage appends the agent's reply, with the agent's drafts attachmentIDs, to the
// transcript of an ACTIVE interaction they hold and delivers it to the contact's side. The
// text may be empty when files are attached.
func (s *Service) SendMessage(ctx context.Context, interactionID, text string, attachmentIDs ...string) (*Message, error) {
	me, ix, err := s.held(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	if text, err = s.checkBody(text, attachmentIDs); err != nil {
		return nil, err
	}
	if ix.State != Active {
		return nil, wrongState(ix.State)
	}
	return s.appendWithAttachments(ctx, PartyAgent, me.ID, attachmentIDs, nil, &Message{InteractionID: ix.ID, From: PartyAgent, AgentID: me.ID, Text: text})
}

// checkBody is checkText for a message that may carry files: with files, no text is fine.
func (s *Service) checkBody(text string, attachmentIDs []string) (string, error) {
	if len(attachmentIDs) > 0 && IsBlank(text) {
		return "", nil
	}
	return s.checkText(text)
}

// newMessageID is a message's ID: version 7, so IDs sort by time as transcripts page by ID.
func newMessageID() string { return uuid.Must(uuid.NewV7()).String() }

// appendMessage stores a message and publishes it on the interaction's topic.
func (s *Service) appendMessage(ctx context.Context, m *Message) (*Message, error) {
	if m.ID == "" {
		m.ID = newMessageID()
	}
	m.SentAt = s.Clock.Now()
	m.Outbox = []*ChangeEvent{{ID: newEventID(), Kind: ChangeMessage, At: m.SentAt, InteractionID: m.InteractionID, MessageID: m.ID}}
	err := s.Store.AppendMessage(ctx, m)
	s.stored(m.Outbox, err)
	m.Outbox = nil
	if err != nil {
		return nil, err
	}
	s.notify(MessagesTopic(m.InteractionID), &MessageEvent{Message: m})
	return m, nil
}

// systemMessage records what happened in the transcript, so the contact and a later reader
// see it; a failure to record it does not undo the step it describes.
func (s *Service) systemMessage(ctx context.Context, ix *Interaction, text string) {
	_, _ = s.appendMessage(ctx, &Message{InteractionID: ix.ID, From: PartySystem, Text: text})
}

// SetNotes saves the agent's notes on an ACTIVE or WRAP interaction they hold (H2, W3).
func (s *Service) SetNotes(ctx context.Context, interactionID, notes string) (*Interaction, error) {
	me, held, err := s.held(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	notes = NormaliseText(notes)
	if IsBlank(notes) {
		notes = ""
	}
	if utf8.RuneCountInString(notes) > maxNotesChars {
		return nil, &Error{Code: EINVALID, Message: fmt.Sprintf("notes are limited to %d characters", maxNotesChars), Field: []string{"notes"}}
	}
	return s.edit(ctx, interactionID, held, func(ix *Interaction) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		return ix.writeNotes(notes)
	})
}

// SelectDisposition chooses a code of the interaction's plan: while ACTIVE it replaces the
// previous code (H2); in WRAP it is added to those chosen (W3).
func (s *Service) SelectDisposition(ctx context.Context, interactionID, code string) (*Interaction, error) {
	me, held, plan, err := s.heldWithPlan(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(plan.DispositionCodes, func(c DispositionCode) bool { return c.Code == code }) {
		return nil, &Error{Code: EINVALID, Message: fmt.Sprintf("plan %s has no disposition code %q", plan.Name, code), Field: []string{"code"}}
	}
	outcome := s.assistOutcome(ctx, held, code)
	return s.edit(ctx, interactionID, held, func(ix *Interaction) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		if err := ix.choose(code); err != nil {
			return err
		}
		if outcome != "" && ix.Assisted != SuggestionTaken { // one suggestion taken counts
			ix.Assisted = outcome
		}
		return nil
	})
}

// edit changes an interaction through the write path and tells its agent. loaded is the
// interaction as the caller just read it (nil: read it), so a step reads it once.
func (s *Service) edit(ctx context.Context, id string, loaded *Interaction, change func(*Interaction) error) (*Interaction, error) {
	ix, _, err := s.mutate(ctx, id, loaded, change)
	if err != nil {
		return nil, err
	}
	s.publishUpdate(ix)
	return ix, nil
}

// EndInteraction ends an ACTIVE or PARKED interaction the agent holds; it enters WRAP (W1).
// A wrap that follows parking holds no capacity: the agent finishes it without it taking a
// slot from new work.
func (s *Service) EndInteraction(ctx context.Context, interactionID string) (*Interaction, error) {
	me, ix, err := s.held(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	return s.end(ctx, ix, PartyAgent, func(ix *Interaction, p *Plan, now time.Time) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		return ix.end(PartyAgent, p, now)
	})
}

// end moves an interaction into WRAP with step, Interaction.end or a step that ends it
// (W1, K5, K6), and tells everyone concerned: the transcript, the agent, and the target of a
// transfer offer the end withdrew. loaded is the interaction as the caller just read it; the
// guarded write re-reads it if anyone wrote in between.
func (s *Service) end(ctx context.Context, loaded *Interaction, by Party, step func(ix *Interaction, p *Plan, now time.Time) error) (*Interaction, error) {
	now := s.Clock.Now()
	var plan *Plan
	var withdrawn *Transfer
	ix, _, err := s.mutate(ctx, loaded.ID, loaded, func(ix *Interaction) error {
		withdrawn = ix.Transfer
		if plan == nil || plan.ID != ix.PlanID {
			p, err := s.Store.Plan(ctx, ix.PlanID)
			if err != nil {
				return err
			}
			plan = p
		}
		if err := step(ix, plan, now); err != nil {
			return err
		}
		// The transcript says how it ended, in the same write (W1, X2: whoever ended it).
		switch {
		case ix.Channel == Voice:
			ix.Messages = note(callEnded(ix))
		case by == PartyContact:
			ix.Messages = note("The visitor ended the chat")
		default:
			ix.Messages = note("The chat has ended")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ix.Channel == Voice {
		s.callGone(ix)
	}
	s.publishUpdate(ix)
	if withdrawn != nil { // the end withdraws an open transfer offer
		return ix, s.closeTransfer(ctx, *withdrawn, ix, OfferRescinded)
	}
	return ix, nil
}

// ExtendWrap restarts the wrap countdown of a WRAP interaction with optional codes (W3).
func (s *Service) ExtendWrap(ctx context.Context, interactionID string) (*Interaction, error) {
	me, held, plan, err := s.heldWithPlan(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	return s.edit(ctx, interactionID, held, func(ix *Interaction) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		return ix.extendWrap(plan, s.Clock.Now())
	})
}

// CompleteInteraction completes a WRAP interaction: everything entered is kept, it moves to
// history and leaves the agent's log (W5). Where the plan requires a code, it is refused
// with DISPOSITION_REQUIRED until one is chosen (W3).
func (s *Service) CompleteInteraction(ctx context.Context, interactionID string) (*Interaction, error) {
	me, held, plan, err := s.heldWithPlan(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	return s.complete(ctx, interactionID, held, func(ix *Interaction, now time.Time) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		return ix.complete(plan, now)
	})
}

// complete moves an interaction to COMPLETED with step (Interaction.complete, expireWrap or
// abandon) and then to history, frees its agent's capacity and offers queued work to
// whoever can take it. loaded is as for edit.
func (s *Service) complete(ctx context.Context, id string, loaded *Interaction, step func(ix *Interaction, now time.Time) error) (*Interaction, error) {
	now := s.Clock.Now()
	var lesson lesson
	var learnt []*AssistExample
	ix, from, err := s.mutate(ctx, id, loaded, func(ix *Interaction) error {
		if err := step(ix, now); err != nil {
			return err
		}
		// What Agent Assist learns from it is stored in the same write.
		ix.Learnt = s.examplesOf(ctx, ix, &lesson)
		learnt = ix.Learnt
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, e := range learnt {
		s.learnt(e)
	}
	if err := s.finishArchivedLearnt(ctx, ix); err != nil { // the write archived it (CompleteInteraction)
		return nil, err
	}
	if from == Offered {
		s.notify(AgentTopic(ix.AgentID), &OfferEvent{Kind: OfferRescinded, Offer: offerOf(ix, from)})
	}
	if from == Queued || from == Offered {
		s.callGone(ix)
	}
	return ix, nil
}

// finish does the steps after an interaction reached COMPLETED, each idempotent, so the
// scheduler can repeat them for a record a crash left behind: archive, release, re-route.
func (s *Service) finish(ctx context.Context, ix *Interaction) error {
	if err := s.Store.ArchiveInteraction(ctx, ix); err != nil {
		return err
	}
	return s.finishArchived(ctx, ix)
}

// finishArchived is finish once the interaction is in history.
func (s *Service) finishArchived(ctx context.Context, ix *Interaction) error {
	s.learn(ctx, ix)
	return s.finishArchivedLearnt(ctx, ix)
}

// finishArchivedLearnt is finishArchived once what Agent Assist learns from it is stored.
func (s *Service) finishArchivedLearnt(ctx context.Context, ix *Interaction) error {
	s.publishUpdate(ix)
	if ix.AgentID == "" {
		return nil
	}
	return s.releaseAndRoute(ctx, ix.AgentID, ix.ID, nil)
}

// publishUpdate tells the interaction's agent about its new state.
func (s *Service) publishUpdate(ix *Interaction) {
	if ix.AgentID != "" {
		s.notify(UpdatesTopic(ix.AgentID), &InteractionEvent{Interaction: ix})
	}
}

// offerOf describes the current offer of an interaction.
func offerOf(ix *Interaction, st InteractionState) Offer {
	o := Offer{ID: ix.OfferID(), Interaction: *ix, AgentID: ix.AgentID, AutoAccepted: ix.AutoAccepted}
	if st == Offered {
		o.ExpiresAt = ix.DueAt
	}
	return o
}
