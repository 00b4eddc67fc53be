package workspace

import (
	"context"
	"errors"
	"time"
)

// Parking (K1–K6). A parked interaction stays with the agent who parked it (AgentID) but
// holds none of their capacity. It waits for the contact until ParkedUntil; a reply before
// then wakes it, and the parking agent hears of it on their unpark topic.

// autoParkAt is when an interaction of the plan that last heard from its contact at from is
// parked for silence (K2); nil when the plan has auto-park off.
func autoParkAt(plan *Plan, from time.Time) *time.Time {
	if plan.AutoParkSeconds <= 0 {
		return nil
	}
	t := from.Add(time.Duration(plan.AutoParkSeconds) * time.Second)
	return &t
}

// scheduleActive sets the timer of an ACTIVE interaction: a pending transfer offer's expiry
// first, else the auto-park time. Auto-park waits while a transfer is open.
func (ix *Interaction) scheduleActive() {
	switch {
	case ix.Transfer != nil:
		ix.DueAt = ix.Transfer.ExpiresAt
	case ix.AutoParkAt != nil:
		ix.DueAt = *ix.AutoParkAt
	default:
		ix.DueAt = time.Time{}
	}
}

// ParkInteraction parks an ACTIVE interaction the agent holds (K1): it leaves their active
// list for the Parked tab, frees its capacity, and waits for the contact until parkedUntil.
func (s *Service) ParkInteraction(ctx context.Context, interactionID string) (*Interaction, error) {
	me, _, plan, err := s.heldWithPlan(ctx, interactionID)
	if err != nil {
		return nil, err
	}
	return s.park(ctx, interactionID, plan, func(ix *Interaction) error {
		if err := mine(ix, me.ID, Active); err != nil {
			return err
		}
		if ix.Transfer != nil {
			return Errorf(EWRONGSTATE, "a transfer of this interaction is waiting for an answer; park it once it is answered")
		}
		return nil
	})
}

// park moves an ACTIVE interaction to PARKED, releases its hold and offers the freed room.
func (s *Service) park(ctx context.Context, id string, plan *Plan, guard func(*Interaction) error) (*Interaction, error) {
	now := s.Clock.Now()
	ix, _, err := s.mutate(ctx, id, func(ix *Interaction) error {
		if err := guard(ix); err != nil {
			return err
		}
		until := now.Add(plan.ParkedTimeout())
		ix.State, ix.ParkedAt, ix.ParkedUntil, ix.AutoParkAt, ix.DueAt = Parked, &now, &until, nil, until
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.publishUpdate(ix)
	return ix, s.releaseAndRoute(ctx, ix.AgentID, ix.ID, nil)
}

// autoPark fires K2's timer: the contact has been silent for the plan's auto-park time.
func (s *Service) autoPark(ctx context.Context, ix *Interaction) error {
	now := s.Clock.Now()
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return err
	}
	_, err = s.park(ctx, ix.ID, plan, func(x *Interaction) error {
		if x.State != Active || x.Transfer != nil || x.AutoParkAt == nil || x.AutoParkAt.After(now) {
			return errSkip
		}
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// parkedTimeout fires K5's timer: no reply came, so the system ends the interaction and it
// goes to WRAP with its agent.
func (s *Service) parkedTimeout(ctx context.Context, ix *Interaction) error {
	now := s.Clock.Now()
	_, err := s.end(ctx, ix, PartySystem, func(x *Interaction) error {
		if x.State != Parked || x.DueAt.IsZero() || x.DueAt.After(now) {
			return errSkip
		}
		return nil
	})
	if errors.Is(err, errSkip) {
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
		now := m.SentAt
		touched, _, err := s.mutateLoaded(ctx, ix, func(x *Interaction) error {
			if x.State != Active {
				return errSkip // parked or ended meanwhile: the message is stored all the same
			}
			x.LastContactAt, x.AutoParkAt = &now, autoParkAt(plan, now)
			x.scheduleActive()
			return nil
		})
		if errors.Is(err, errSkip) {
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
		woke, err = s.end(ctx, ix, PartySystem, stillParked)
	} else {
		woke, err = s.unparkTo(ctx, ix, plan, m.SentAt, stillParked)
	}
	if errors.Is(err, errSkip) {
		return s.contactWroteAgain(ctx, ix.ID, m)
	} else if err != nil {
		return err
	}
	s.publish(Event{Topic: UnparkTopic(parker), Unpark: &UnparkEvent{Interaction: woke, Message: m}})
	return nil
}

// unparkTo gives a woken interaction back to the agent who parked it, or queues it in the
// post-parking plan when they cannot take it.
func (s *Service) unparkTo(ctx context.Context, ix *Interaction, plan *Plan, now time.Time, guard func(*Interaction) error) (*Interaction, error) {
	parker := ix.AgentID
	_, err := s.updateAgent(ctx, parker, func(a *Agent) error {
		if a.Presence != Ready || a.holds(ix.ID) || a.heldOn(ix.Channel) >= a.Capacity[ix.Channel] {
			return errSkip
		}
		a.Holds = append(a.Holds, Hold{InteractionID: ix.ID, Channel: ix.Channel, Since: now})
		return nil
	})
	back := err == nil
	if !back && !errors.Is(err, errSkip) && ErrorCode(err) != ENOTFOUND && ErrorCode(err) != ECONFLICT {
		return nil, err
	}
	woke, _, err := s.mutateLoaded(ctx, ix, func(x *Interaction) error {
		if err := guard(x); err != nil {
			return err
		}
		x.LastContactAt, x.ParkedUntil = &now, nil
		if back {
			x.State, x.AutoParkAt = Active, autoParkAt(plan, now)
			x.scheduleActive()
			return nil
		}
		x.handOver("")
		x.State, x.PlanID = Queued, plan.PostParkingPlanID
		x.DueAt, x.AutoParkAt, x.OfferedAt, x.AutoAccepted, x.RejectedBy = time.Time{}, nil, nil, false, nil
		return nil
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
	s.publish(Event{Topic: UpdatesTopic(parker), Interaction: woke}) // it leaves their log
	// The parking agent is told of the outcome, QUEUED, even when routing places it at once.
	queued := *woke
	return woke, s.route(ctx, &queued)
}

// mutateLoaded is mutate starting from a record the caller has just read, saving a read
// when nobody wrote in between.
func (s *Service) mutateLoaded(ctx context.Context, loaded *Interaction, change func(*Interaction) error) (*Interaction, InteractionState, error) {
	ix := *loaded
	from := ix.State
	if err := change(&ix); err != nil {
		return nil, from, err
	}
	if ix.State != from && !CanMove(from, ix.State) {
		return nil, from, Errorf(EINTERNAL, "transition %s → %s is not in the state table", from, ix.State)
	}
	err := s.Store.UpdateInteraction(ctx, &ix, from)
	if ErrorCode(err) == ECONFLICT {
		return s.mutate(ctx, loaded.ID, change)
	}
	if err == nil {
		s.announceHandover(followers(loaded), &ix)
	}
	return &ix, from, err
}
