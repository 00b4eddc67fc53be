package workspace

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// MaxMissedOffers is how many offers in a row an agent may let expire before they are set
// NOT_READY (P5, Genesys' "not responding").
const MaxMissedOffers = 3

// IdleSince is when the agent last became idle for routing: the later of their last offer
// and their last presence change (P6). Routing offers to the agent idle longest first; the
// stores keep it beside the agent so that they can return those agents first
// (Store.ReadyAgents).
func (a *Agent) IdleSince() time.Time {
	if a.LastOfferAt.After(a.PresenceSince) {
		return a.LastOfferAt
	}
	return a.PresenceSince
}

// routeBatch is how many READY agents with room routing reads for one interaction, the ones
// idle longest. It reads them all only when none of those can take it (they rejected it, or
// lost a race), so the cost of an offer does not grow with the number of agents.
const routeBatch = 8

// eligible reports whether routing may offer ix to a: a member of the plan, not one who
// rejected it (P3), who does not hold it already, and available: READY (P1) with room on its
// channel (P2, P7: wrapping work counts, but does not block offers while capacity remains).
func eligible(a *Agent, ix *Interaction) bool {
	return slices.Contains(a.PlanIDs, ix.PlanID) &&
		!slices.Contains(ix.RejectedBy, a.ID) &&
		!a.holds(ix.ID) &&
		available(a, ix.Channel) == nil
}

// candidates are the agents routing may offer ix to, the one idle longest first (P6).
func candidates(agents []*Agent, ix *Interaction) []*Agent {
	var out []*Agent
	for _, a := range agents {
		if eligible(a, ix) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *Agent) int {
		if c := a.IdleSince().Compare(b.IdleSince()); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out
}

// route offers a QUEUED interaction to the best candidate, and reports whether it was placed
// (or moved on meanwhile). Capacity is enforced by reserving a hold on the agent's record
// first, with a version-guarded write that re-checks eligibility on the fresh record, and
// only then moving the interaction to OFFERED with a write guarded by its state and version.
// A crash between the two leaves a hold without an interaction, which the sweep releases:
// capacity as read from the interactions is never exceeded, even with several nodes.
func (s *Service) route(ctx context.Context, ix *Interaction) error {
	_, err := s.routeWith(ctx, ix, nil)
	return err
}

func (s *Service) routeWith(ctx context.Context, ix *Interaction, ready *readySet) (bool, error) {
	if ix.State != Queued {
		return true, nil
	}
	if ready == nil {
		var err error
		if ready, err = s.readyFor(ctx, ix); err != nil {
			return false, err
		}
	}
	cands := candidates(ready.agents, ix)
	if len(cands) == 0 {
		return false, nil
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return false, err
	}
	for _, c := range cands {
		placed, err := s.offerTo(ctx, c.ID, ix, plan)
		if err != nil || placed {
			return placed, err
		}
	}
	if ready.complete {
		return false, nil
	}
	// Every agent of the batch lost a race meanwhile: try the others.
	all, err := s.Store.ReadyAgents(ctx, []string{ix.PlanID}, ix.Channel, 0)
	if err != nil {
		return false, err
	}
	return s.routeWith(ctx, ix, &readySet{agents: all, complete: true})
}

// readySet is what routing read of the READY agents with room for some work: the ones idle
// longest, and whether they are all there are.
type readySet struct {
	agents   []*Agent
	complete bool
}

// readyFor reads the READY agents of ix's plan with room on its channel, idle longest first:
// routeBatch of them, or every one when none of those may take ix (P3: they rejected it).
func (s *Service) readyFor(ctx context.Context, ix *Interaction) (*readySet, error) {
	agents, err := s.Store.ReadyAgents(ctx, []string{ix.PlanID}, ix.Channel, routeBatch)
	if err != nil {
		return nil, err
	}
	if len(agents) < routeBatch {
		return &readySet{agents: agents, complete: true}, nil
	}
	if len(candidates(agents, ix)) > 0 {
		return &readySet{agents: agents}, nil
	}
	agents, err = s.Store.ReadyAgents(ctx, []string{ix.PlanID}, ix.Channel, 0)
	return &readySet{agents: agents, complete: true}, err
}

// offerTo reserves capacity on one agent and offers ix to them. It returns false when the
// agent can no longer take it, true when ix was offered (or someone else moved it on).
func (s *Service) offerTo(ctx context.Context, agentID string, ix *Interaction, plan *Plan) (bool, error) {
	now := s.Clock.Now()
	a, err := s.reserve(ctx, agentID, ix, func(a *Agent) error {
		if !eligible(a, ix) {
			return errSkip
		}
		a.LastOfferAt = now
		return nil
	})
	switch {
	case errors.Is(err, errSkip), errors.Is(err, errNoRoom), errors.Is(err, errHeld),
		ErrorCode(err) == ECONFLICT, ErrorCode(err) == ENOTFOUND:
		return false, nil // changed meanwhile, or too contended: try the next candidate
	case err != nil:
		return false, err
	}
	offered, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		return x.offer(a.ID, a.AutoAccept || plan.AutoAccept, plan, now)
	})
	if err != nil {
		if rerr := s.release(ctx, a.ID, ix.ID, nil); rerr != nil {
			return false, rerr
		}
		if ErrorCode(err) == EWRONGSTATE { // no longer QUEUED: someone else moved it on
			return true, nil
		}
		return false, err
	}
	*ix = *offered
	if ix.AutoAccepted { // P4: accepted at once; the event carries the ACTIVE interaction
		accepted, err := s.accept(ctx, a.ID, ix, ix.OfferSeq, plan)
		if err != nil {
			return true, err
		}
		*ix = *accepted
	}
	s.notify(AgentTopic(a.ID), &OfferEvent{Kind: OfferOffered, Offer: offerOf(ix, ix.State)})
	return true, nil
}

// offerWaiting offers queued work of the plans after a step that made room succeeded. The
// step stands whatever routing then does: a failure here (a race lost on another agent's
// record, the store briefly away) is logged, never reported as the step's failure, and the
// sweep offers what stays queued.
func (s *Service) offerWaiting(ctx context.Context, planIDs []string) {
	if err := s.routeQueued(ctx, planIDs); err != nil && ctx.Err() == nil {
		slog.WarnContext(ctx, "offering queued work", "err", err)
	}
}

// routeQueued offers the queued interactions of the given plans, oldest first, while agents
// have room. It runs when room appears: an agent goes READY or frees capacity. It reads the
// queue first, which is empty most of the time; then, per plan and channel of the queued
// work, the READY agents with room on it who have been idle longest (readyFor), and again
// only after a placement changed them, so a long queue with no room costs two reads.
func (s *Service) routeQueued(ctx context.Context, planIDs []string) error {
	if len(planIDs) == 0 {
		return nil
	}
	return s.routeQueuedWith(ctx, planIDs, map[queueKey]*readySet{})
}

// queueKey names one queue: a plan's work on one channel.
type queueKey struct {
	plan    string
	channel Channel
}

// routeArrival routes a new QUEUED interaction. When no agent has room for it, it waits its
// turn, which costs one read. When one has, and older work waits in the plan's queue (its
// routing lost a race, or room has just appeared), the queue is offered oldest first, the
// arrival among it: a newcomer never overtakes a contact who has waited longer (P6, FIFO
// per plan). ix is updated to what routing made of it.
func (s *Service) routeArrival(ctx context.Context, ix *Interaction) error {
	ready, err := s.readyFor(ctx, ix)
	if err != nil || len(candidates(ready.agents, ix)) == 0 {
		return err
	}
	oldest, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued}, PlanIDs: []string{ix.PlanID}, Limit: 1})
	if err != nil {
		return err
	}
	if len(oldest) == 0 || oldest[0].ID == ix.ID {
		_, err := s.routeWith(ctx, ix, ready)
		return err
	}
	if err := s.routeQueuedWith(ctx, []string{ix.PlanID}, map[queueKey]*readySet{{ix.PlanID, ix.Channel}: ready}); err != nil {
		return err
	}
	fresh, err := s.Store.Interaction(ctx, ix.ID)
	if err != nil {
		return err
	}
	*ix = *fresh
	return nil
}

// routeQueuedWith is routeQueued with the agents of some queues already read.
func (s *Service) routeQueuedWith(ctx context.Context, planIDs []string, ready map[queueKey]*readySet) error {
	queued, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued}, PlanIDs: planIDs, Limit: 100})
	if err != nil {
		return err
	}
	for _, ix := range queued {
		key := queueKey{ix.PlanID, ix.Channel}
		have := ready[key]
		if have == nil || (!have.complete && len(candidates(have.agents, ix)) == 0) {
			if have, err = s.readyFor(ctx, ix); err != nil {
				return err
			}
			ready[key] = have
		}
		if len(candidates(have.agents, ix)) == 0 {
			continue
		}
		placed, err := s.routeWith(ctx, ix, have)
		if err != nil {
			return err
		}
		if placed { // the agents changed: read them again when next needed
			delete(ready, key)
		}
	}
	return nil
}

// expireOffer fires an offer's timer (P5): the interaction goes back to its queue and is
// offered again; the agent's run of missed offers grows, and at MaxMissedOffers they are set
// NOT_READY so nothing more is offered to someone who is not there.
func (s *Service) expireOffer(ctx context.Context, ix *Interaction) error {
	now := s.Clock.Now()
	seq, agentID := ix.OfferSeq, ix.AgentID
	var expired Offer
	ix, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		expired = offerOf(x, Offered)
		return x.expireOffer(seq, now)
	})
	if ErrorCode(err) == EWRONGSTATE { // answered, withdrawn or fired elsewhere meanwhile
		return nil
	} else if err != nil {
		return err
	}
	s.notify(AgentTopic(agentID), &OfferEvent{Kind: OfferExpired, Offer: expired})
	if err := s.release(ctx, agentID, ix.ID, s.missedOffer); err != nil {
		return err
	}
	return s.route(ctx, ix)
}

// missedOffer counts an offer the agent let expire; at MaxMissedOffers in a row they are set
// NOT_READY (P5).
func (s *Service) missedOffer(a *Agent) {
	a.MissedOffers++
	if a.MissedOffers >= MaxMissedOffers {
		a.MissedOffers = 0
		if a.Presence == Ready {
			a.Presence, a.PresenceSince = NotReady, s.Clock.Now()
		}
	}
}
