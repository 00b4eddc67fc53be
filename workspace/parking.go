package workspace

import (
	"context"
	"errors"
	"time"
)

// Parking (K1–K6). A parked interaction stays with the agent who parked it (AgentID) but
// holds none of their capacity. It waits for the contact until ParkedUntil; a reply before
// then wakes it, and the parking agent hears of it on their unpark topic.

// ParkInteraction parks an ACTIVE interaction the agent holds (K1): it leaves their active
// list for the Parked tab, frees its capacity, and waits for the contact until parkedUntil.
func (s *Service) ParkInteraction(ctx context.Context, interactionID string) (*Interaction, error) {
	me, held, plan, err := s.heldWithPlan(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	return s.park(ctx, interactionID, held, func(ix *Interaction, now time.Time) error {
		if err := mine(ix, me.ID); err != nil {
			return err
		}
		return ix.park(me.ID, plan, now)
	})
}

// park moves an ACTIVE interaction to PARKED with step (Interaction.park or autoPark),
// releases its hold and offers the freed room.
func (s *Service) park(ctx context.Context, id string, loaded *Interaction, step func(ix *Interaction, now time.Time) error) (*Interaction, error) {
	now := s.Clock.Now()
	ix, _, err := s.mutate(ctx, id, loaded, func(ix *Interaction) error { return step(ix, now) })
	if err != nil {
		return nil, err
	}
	s.publishUpdate(ix)
	return ix, s.releaseAndRoute(ctx, ix.AgentID, ix.ID, nil)
}

// autoPark fires K2's timer: the contact has been silent for the plan's auto-park time.
func (s *Service) autoPark(ctx context.Context, ix *Interaction) error {
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return err
	}
	_, err = s.park(ctx, ix.ID, ix, func(x *Interaction, now time.Time) error { return x.autoPark(plan, now) })
	if ErrorCode(err) == EWRONGSTATE { // moved on, written to, or a transfer waits
		return nil
	}
	return err
}

// parkedTimeout fires K5's timer: no reply came, so the system ends the interaction and it
// goes to WRAP with its agent.
func (s *Service) parkedTimeout(ctx context.Context, ix *Interaction) error {
	_, err := s.end(ctx, ix, PartySystem, (*Interaction).expirePark)
	if ErrorCode(err) == EWRONGSTATE { // the contact replied, or the agent ended it
		return nil
	}
	return err
}

// contactWrote applies a stored contact message to the interaction: an ACTIVE one restarts
// its auto-park countdown (K2), a PARKED one wakes up (K4, K6).
func (s *Service) contactWrote(ctx context.Context, ix *Interaction, m *Message) error {
	if ix.State != Active && ix.State != Parked {
		return nil // waiting for an agent: nothing counts down yet
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return err
	}
	switch ix.State {
	case Active:
		touched, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error { return x.heardFrom(plan, m.SentAt) })
		if ErrorCode(err) == EWRONGSTATE { // parked or ended meanwhile: the message is stored all the same
			return s.contactWroteAgain(ctx, ix.ID, m)
		} else if err != nil {
			return err
		}
		s.publishUpdate(touched) // the agent's auto-park countdown restarts
		return nil
	default:
		return s.unpark(ctx, ix, plan, m)
	}
}

// heardWith stores a contact's message on an ACTIVE interaction in the write that restarts
// its auto-park countdown (K2), instead of one write for each: a webchat's messages are most
// of its steps (issue 14). It reports false, having stored nothing, when that write cannot
// be made (the interaction changed state meanwhile, or the write failed): the caller then
// stores the message alone first, as for any other, so it is kept whatever happened (K4).
func (s *Service) heardWith(ctx context.Context, ix *Interaction, m *Message) (Received, bool) {
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return Received{}, false
	}
	touched, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		if err := x.heardFrom(plan, s.changeTime(x)); err != nil { // when the message is stamped
			return err
		}
		x.Messages = []*Message{m}
		return nil
	})
	if err != nil {
		return Received{}, false
	}
	s.publishUpdate(touched) // the agent's auto-park countdown restarts
	return Received{Message: m, Interaction: touched}, true
}

// contactWroteAgain re-reads an interaction whose state changed under a contact message and
// applies the message to the new state (e.g. it was parked in the same instant).
func (s *Service) contactWroteAgain(ctx context.Context, id string, m *Message) error {
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return err
	}
	if ix.State == Parked {
		return s.contactWrote(ctx, ix, m)
	}
	return nil
}

// unpark wakes a parked interaction on its contact's reply (K4). With a post-parking plan it
// goes back to the parking agent if they are READY with room on its channel, holding
// capacity reserved first, and otherwise to that plan's queue; without one the reply ends it
// at once (K6). Whatever the outcome, the parking agent is told. The parked timeout or the
// agent may get there first; then the reply changes nothing but stays in the transcript.
func (s *Service) unpark(ctx context.Context, ix *Interaction, plan *Plan, m *Message) error {
	parker := ix.AgentID
	stillParked := func(x *Interaction) error {
		if x.State != Parked || x.AgentID != parker {
			return errSkip
		}
		return nil
	}
	var woke *Interaction
	var err error
	if plan.PostParkingPlanID == "" {
		woke, err = s.end(ctx, ix, PartySystem, func(x *Interaction, p *Plan, now time.Time) error {
			if err := stillParked(x); err != nil {
				return err
			}
			return x.end(PartySystem, p, now)
		})
	} else {
		woke, err = s.unparkTo(ctx, ix, plan, m.SentAt, stillParked)
	}
	if errors.Is(err, errSkip) {
		return s.contactWroteAgain(ctx, ix.ID, m)
	} else if err != nil {
		return err
	}
	s.notify(UnparkTopic(parker), &UnparkEvent{Interaction: woke, Message: m})
	return nil
}

// unparkTo gives a woken interaction back to the agent who parked it, or queues it in the
// post-parking plan when they cannot take it.
func (s *Service) unparkTo(ctx context.Context, ix *Interaction, plan *Plan, now time.Time, guard func(*Interaction) error) (*Interaction, error) {
	parker := ix.AgentID
	_, err := s.reserve(ctx, parker, ix, func(a *Agent) error { return available(a, ix.Channel) })
	back := err == nil
	switch {
	case back, errors.Is(err, errNotReady), errors.Is(err, errNoRoom), errors.Is(err, errHeld),
		ErrorCode(err) == ENOTFOUND, ErrorCode(err) == ECONFLICT:
	default:
		return nil, err
	}
	woke, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		if err := guard(x); err != nil {
			return err
		}
		if back {
			return x.unpark(plan, now)
		}
		return x.unparkToQueue(plan, now)
	})
	if err != nil {
		if back {
			if rerr := s.release(ctx, parker, ix.ID, nil); rerr != nil {
				return nil, errors.Join(err, rerr)
			}
		}
		return nil, err
	}
	if back {
		s.publishUpdate(woke)
		return woke, nil
	}
	s.notify(UpdatesTopic(parker), &InteractionEvent{Interaction: woke}) // it leaves their log
	// The parking agent is told of the outcome, QUEUED, even when routing places it at once.
	queued := *woke
	return woke, s.route(ctx, &queued)
}
