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

// idleSince is when an agent last became idle for routing: the later of their last offer and
// their last presence change (P6).
func idleSince(a *Agent) time.Time {
	if a.LastOfferAt.After(a.PresenceSince) {
		return a.LastOfferAt
	}
	return a.PresenceSince
}

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
		if c := idleSince(a).Compare(idleSince(b)); c != 0 {
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

func (s *Service) routeWith(ctx context.Context, ix *Interaction, agents []*Agent) (bool, error) {
	if ix.State != Queued {
		return true, nil
	}
	if agents == nil {
		var err error
		if agents, err = s.Store.ReadyAgents(ctx, []string{ix.PlanID}, ix.Channel); err != nil {
			return false, err
		}
	}
	cands := candidates(agents, ix)
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
	return false, nil
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
	s.callOffered(ctx, ix, a)
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
// queue first, which is empty most of the time; then, per channel of the queued work, the
// READY agents with room on it (Store.ReadyAgents), and again only after a placement changed
// them, so a long queue with no room costs two reads.
func (s *Service) routeQueued(ctx context.Context, planIDs []string) error {
	if len(planIDs) == 0 {
		return nil
	}
	return s.routeQueuedWith(ctx, planIDs, map[Channel][]*Agent{})
}

// routeArrival routes a new QUEUED interaction. When no agent has room for it, it waits its
// turn, which costs one read. When one has, and older work waits in the plan's queue (its
// routing lost a race, or room has just appeared), the queue is offered oldest first, the
// arrival among it: a newcomer never overtakes a contact who has waited longer (P6, FIFO
// per plan). ix is updated to what routing made of it.
func (s *Service) routeArrival(ctx context.Context, ix *Interaction) error {
	agents, err := s.Store.ReadyAgents(ctx, []string{ix.PlanID}, ix.Channel)
	if err != nil || len(candidates(agents, ix)) == 0 {
		return err
	}
	oldest, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued}, PlanIDs: []string{ix.PlanID}, Limit: 1})
	if err != nil {
		return err
	}
	if len(oldest) == 0 || oldest[0].ID == ix.ID {
		_, err := s.routeWith(ctx, ix, agents)
		return err
	}
	if err := s.routeQueuedWith(ctx, []string{ix.PlanID}, map[Channel][]*Agent{ix.Channel: agents}); err != nil {
		return err
	}
	fresh, err := s.Store.Interaction(ctx, ix.ID)
	if err != nil {
		return err
	}
	*ix = *fresh
	return nil
}

// routeQueuedWith is routeQueued with the agents of some channels already read.
func (s *Service) routeQueuedWith(ctx context.Context, planIDs []string, agents map[Channel][]*Agent) error {
	queued, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued}, PlanIDs: planIDs, Limit: 100})
	if err != nil {
		return err
	}
	for _, ix := range queued {
		have, read := agents[ix.Channel]
		if !read {
			if have, err = s.Store.ReadyAgents(ctx, planIDs, ix.Channel); err != nil {
				return err
			}
			agents[ix.Channel] = have
		}
		if len(candidates(have, ix)) == 0 {
			continue
		}
		placed, err := s.routeWith(ctx, ix, have)
		if err != nil {
			return err
		}
		if placed { // the agents changed: read them again when next needed
			delete(agents, ix.Channel)
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
	s.callUnanswered(ix)
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
