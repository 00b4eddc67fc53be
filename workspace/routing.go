package workspace

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
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

// route offers a QUEUED interaction to the best candidate: it routes the interaction's plan
// (routePlan), in which it takes its turn by age, and ix is updated to what routing made of
// it when this call made the pass. Capacity is enforced by reserving a hold on the agent's
// record first, with a version-guarded write that re-checks eligibility on the fresh
// record, and only then moving the interaction to OFFERED with a write guarded by its state
// and version. A crash between the two leaves a hold without an interaction, which the
// sweep releases: capacity as read from the interactions is never exceeded, even with
// several nodes.
func (s *Service) route(ctx context.Context, ix *Interaction) error {
	if ix.State != Queued {
		return nil
	}
	return s.routePlan(ctx, ix.PlanID, nil, ix)
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
		placed, err := s.offerTo(ctx, c, ix, plan)
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

// offerTo reserves capacity on one agent, from their record as routing read it, and offers ix to them. It returns false when the
// agent can no longer take it, true when ix was offered (or someone else moved it on).
func (s *Service) offerTo(ctx context.Context, candidate *Agent, ix *Interaction, plan *Plan) (bool, error) {
	now := s.Clock.Now()
	a, err := s.reserveFrom(ctx, candidate.ID, candidate, ix, func(a *Agent) error {
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
// have room (routePlan). It runs when room appears: an agent goes READY or frees capacity.
func (s *Service) routeQueued(ctx context.Context, planIDs []string) error {
	var errs []error
	for i, id := range planIDs {
		if !slices.Contains(planIDs[:i], id) {
			errs = append(errs, s.routePlan(ctx, id, nil, nil))
		}
	}
	return errors.Join(errs...)
}

// queueKey names one queue: a plan's work on one channel.
type queueKey struct {
	plan    string
	channel Channel
}

// routeArrival routes a new QUEUED interaction. When no agent has room for it, it waits its
// turn, which costs one read. When one has, its plan is routed (routePlan): the queue is
// offered oldest first, the arrival among it, so a newcomer never overtakes a contact who
// has waited longer (P6, FIFO per plan). ix is updated to what routing made of it when this
// call made the pass.
func (s *Service) routeArrival(ctx context.Context, ix *Interaction) error {
	ready, err := s.readyFor(ctx, ix)
	if err != nil || len(candidates(ready.agents, ix)) == 0 {
		return err
	}
	return s.routePlan(ctx, ix.PlanID, map[queueKey]*readySet{{ix.PlanID, ix.Channel}: ready}, ix)
}

// planRouters lets one pass at a time route a plan's queue on this node. A burst of arrivals
// or completions would otherwise run as many passes at once, each racing the others for the
// same agents, the ones idle longest; instead a step that finds a pass under way asks for one
// more and waits for it to end, so that when the step returns its work has been routed, as
// if it had routed it itself. Nodes still race one another, which the guarded writes settle.
type planRouters struct {
	mu sync.Mutex
	by map[string]*planRouter
}

// planRouter is the state of one plan's passes while one runs.
type planRouter struct {
	// again: a step asked for another pass; next closes when that pass has ended.
	again bool
	next  chan struct{}
}

// enter reports whether the caller makes the plan's pass. If one is under way, it asks for
// another and returns the channel that closes when that one has ended.
func (r *planRouters) enter(planID string) (bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.by[planID]
	if p == nil {
		if r.by == nil {
			r.by = map[string]*planRouter{}
		}
		r.by[planID] = &planRouter{}
		return true, nil
	}
	p.again = true
	if p.next == nil {
		p.next = make(chan struct{})
	}
	return false, p.next
}

// leave ends the caller's pass. When another was asked for (and this one did not fail), it
// returns true and the channel to close once that pass has ended; otherwise the plan has no
// pass under way, and whoever waited is released (after a failure the sweep routes again).
func (r *planRouters) leave(planID string, failed bool) (bool, chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.by[planID]
	if p.again && !failed {
		next := p.next
		p.again, p.next = false, nil
		return true, next
	}
	if p.next != nil {
		close(p.next)
	}
	delete(r.by, planID)
	return false, nil
}

// routingKey marks a context whose call chain is making passes, with the plans they route:
// a step nested in a pass (an offer that ends at once) must not wait for that pass.
type routingKey struct{}

// routePlan offers the plan's queued interactions, oldest first, while agents have room, in
// passes of which one at a time runs on this node (planRouters): when one is under way, it
// asks for one more and waits until that has run. A pass reads the queue first, which is
// empty most of the time; then, per channel of the queued work, the READY agents with room on
// it who have been idle longest (readyFor), and again only after a placement changed them,
// so a long queue with no room costs two reads. ready holds agents read already; track, when
// set, is updated to what routing made of it. The passes outlive the caller's cancellation:
// work they took on for others must not be dropped.
func (s *Service) routePlan(ctx context.Context, planID string, ready map[queueKey]*readySet, track *Interaction) error {
	within, _ := ctx.Value(routingKey{}).([]string)
	run, wait := s.routers.enter(planID)
	if !run {
		if slices.Contains(within, planID) {
			return nil // nested in this plan's pass, which asked for the next
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		if track != nil {
			fresh, err := s.Store.Interaction(ctx, track.ID)
			if err != nil {
				return err
			}
			*track = *fresh
		}
		return nil
	}
	ctx = context.WithValue(context.WithoutCancel(ctx), routingKey{}, append(slices.Clone(within), planID))
	var done chan struct{}
	for {
		if ready == nil {
			ready = map[queueKey]*readySet{}
		}
		err := s.routeQueuedWith(ctx, planID, ready, track)
		if done != nil {
			close(done)
		}
		again, next := s.routers.leave(planID, err != nil)
		if !again {
			return err
		}
		ready, track, done = nil, nil, next
	}
}

// routeQueuedWith makes one pass of routePlan. An interaction that agents could take but
// did not get (each candidate's record changed under the offer: the agent accepted, ended
// or completed something meanwhile) is tried again on a fresh read; if it still is not
// placed, nothing younger of its channel is offered in this pass, so that no newcomer
// takes the place of a contact who has waited longer (FIFO), and the next pass (the sweep's
// at the latest) tries again.
func (s *Service) routeQueuedWith(ctx context.Context, planID string, ready map[queueKey]*readySet, track *Interaction) error {
	queued, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Queued}, PlanIDs: []string{planID}, Limit: 100})
	if err != nil {
		return err
	}
	blocked := map[Channel]bool{}
	for _, ix := range queued {
		if blocked[ix.Channel] {
			continue
		}
		key := queueKey{ix.PlanID, ix.Channel}
		for attempt := 0; ; attempt++ {
			have := ready[key]
			if have == nil || (!have.complete && len(candidates(have.agents, ix)) == 0) {
				if have, err = s.readyFor(ctx, ix); err != nil {
					return err
				}
				ready[key] = have
			}
			if len(candidates(have.agents, ix)) == 0 {
				break // nobody may take it (P3), or has room: the next may still go
			}
			placed, err := s.routeWith(ctx, ix, have)
			if track != nil && ix.ID == track.ID {
				*track = *ix
			}
			if err != nil {
				return err
			}
			delete(ready, key) // placed, the agents changed; not placed, what was read is stale
			if placed {
				break
			}
			if attempt == routeAttempts-1 {
				blocked[ix.Channel] = true
				break
			}
		}
	}
	return nil
}

// routeAttempts is how many times a pass tries to place an interaction that agents could
// take before it leaves it, and the younger work of its channel, to the next pass.
const routeAttempts = 3

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
