package workspace

import (
	"context"
	"errors"
	"slices"
	"time"
)

// MaxMissedOffers is how many offers in a row an agent may let expire before they are set
// NOT_READY (P5, Genesys' "not responding").
const MaxMissedOffers = 3

// errSkip tells a retry loop that the fresh record no longer allows the step; the caller
// moves on without an error.
var errSkip = errors.New("skip")

// idleSince is when an agent last became idle for routing: the later of their last offer and
// their last presence change (P6).
func idleSince(a *Agent) time.Time {
	if a.LastOfferAt.After(a.PresenceSince) {
		return a.LastOfferAt
	}
	return a.PresenceSince
}

// eligible reports whether routing may offer ix to a: READY (P1), a member of the plan,
// not one who rejected it (P3), with free capacity on its channel (P2, P7: wrapping work
// counts, but does not block offers while capacity remains).
func eligible(a *Agent, ix *Interaction) bool {
	return a.Presence == Ready &&
		slices.Contains(a.PlanIDs, ix.PlanID) &&
		!slices.Contains(ix.RejectedBy, a.ID) &&
		!a.holds(ix.ID) &&
		a.heldOn(ix.Channel) < a.Capacity[ix.Channel]
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
		if agents, err = s.Store.ReadyAgents(ctx, []string{ix.PlanID}); err != nil {
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
	a, err := s.updateAgent(ctx, agentID, func(a *Agent) error {
		if !eligible(a, ix) {
			return errSkip
		}
		a.Holds = append(a.Holds, Hold{InteractionID: ix.ID, Channel: ix.Channel, Since: now})
		a.LastOfferAt = now
		return nil
	})
	if errors.Is(err, errSkip) || ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
		return false, nil // changed meanwhile, or too contended: try the next candidate
	} else if err != nil {
		return false, err
	}
	timeout := plan.OfferTimeoutSeconds
	if timeout <= 0 {
		timeout = DefaultOfferTimeout
	}
	offered, _, err := s.mutate(ctx, ix.ID, func(x *Interaction) error {
		if x.State != Queued {
			return errSkip
		}
		x.State, x.AgentID, x.OfferSeq, x.OfferedAt = Offered, a.ID, x.OfferSeq+1, &now
		x.DueAt = now.Add(time.Duration(timeout) * time.Second)
		x.AutoAccepted = a.AutoAccept || plan.AutoAccept
		return nil
	})
	if err != nil {
		if rerr := s.release(ctx, a.ID, ix.ID, nil); rerr != nil {
			return false, rerr
		}
		if errors.Is(err, errSkip) {
			return true, nil
		}
		return false, err
	}
	*ix = *offered
	if ix.AutoAccepted { // P4: accepted at once; the event carries the ACTIVE interaction
		accepted, err := s.accept(ctx, a.ID, ix.ID, ix.OfferSeq, plan)
		if err != nil {
			return true, err
		}
		*ix = *accepted
	}
	s.publish(Event{Topic: AgentTopic(a.ID), Offer: &OfferEvent{Kind: OfferOffered, Offer: offerOf(ix, ix.State)}})
	return true, nil
}

// release removes an interaction's hold from an agent's record; then applies change, if any,
// in the same write. Releasing a hold that is gone already is not an error.
func (s *Service) release(ctx context.Context, agentID, ixID string, change func(*Agent)) error {
	_, err := s.releasing(ctx, agentID, ixID, change)
	return err
}

// releaseAndRoute releases the hold and, if that freed room, offers queued work of the
// agent's plans, from the record the release wrote.
func (s *Service) releaseAndRoute(ctx context.Context, agentID, ixID string, change func(*Agent)) error {
	a, err := s.releasing(ctx, agentID, ixID, change)
	if err != nil || a == nil {
		return err
	}
	return s.routeQueued(ctx, a.PlanIDs)
}

// releasing is release returning the agent as written; nil when there was nothing to write.
func (s *Service) releasing(ctx context.Context, agentID, ixID string, change func(*Agent)) (*Agent, error) {
	a, err := s.updateAgent(ctx, agentID, func(a *Agent) error {
		i := slices.IndexFunc(a.Holds, func(h Hold) bool { return h.InteractionID == ixID })
		if i < 0 && change == nil {
			return errSkip
		}
		if i >= 0 {
			a.Holds = slices.Delete(a.Holds, i, i+1)
		}
		if change != nil {
			change(a)
		}
		return nil
	})
	if errors.Is(err, errSkip) || ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// routeQueued offers the queued interactions of the given plans, oldest first, while agents
// have room. It runs when room appears: an agent goes READY or frees capacity. It reads the
// READY agents of those plans once, and again only after a placement changed them, so a long
// queue with no room costs two reads.
func (s *Service) routeQueued(ctx context.Context, planIDs []string) error {
	if len(planIDs) == 0 {
		return nil
	}
	agents, err := s.Store.ReadyAgents(ctx, planIDs)
	if err != nil || len(agents) == 0 {
		return err
	}
	queued, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued}, PlanIDs: planIDs, Limit: 100})
	if err != nil {
		return err
	}
	for _, ix := range queued {
		if len(candidates(agents, ix)) == 0 {
			continue
		}
		placed, err := s.routeWith(ctx, ix, agents)
		if err != nil {
			return err
		}
		if placed {
			if agents, err = s.Store.ReadyAgents(ctx, planIDs); err != nil {
				return err
			}
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
	ix, _, err := s.mutate(ctx, ix.ID, func(x *Interaction) error {
		if x.State != Offered || x.OfferSeq != seq || x.DueAt.IsZero() || x.DueAt.After(now) {
			return errSkip
		}
		expired = offerOf(x, Offered)
		requeue(x)
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	} else if err != nil {
		return err
	}
	s.publish(Event{Topic: AgentTopic(agentID), Offer: &OfferEvent{Kind: OfferExpired, Offer: expired}})
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
