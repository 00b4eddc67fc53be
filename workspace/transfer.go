package workspace

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ETARGETUNAVAILABLE refuses a transfer to an agent who is not READY or has no room on the
// interaction's channel (T1).
const ETARGETUNAVAILABLE = "TARGET_UNAVAILABLE"

// presenceWords say a presence in a sentence.
var presenceWords = map[Presence]string{Ready: "ready", NotReady: "not ready", Offline: "offline"}

// maxSearchChars bounds search strings.
const maxSearchChars = 100

// TransferRequest names an interaction and exactly one target: an agent or a plan.
type TransferRequest struct {
	InteractionID string
	ToAgentID     string
	ToPlanID      string
}

// TransferInteraction hands an ACTIVE interaction the signed-in agent holds to someone else
// (T1). Transfers are cold (C6): to an agent it is a transfer offer they accept or reject,
// while the sender keeps the interaction; to a plan its queue takes it at once. Either way
// the outcome reaches the sender on their transfer topic (T5, T6). The webchat contact is
// not told (T4).
func (s *Service) TransferInteraction(ctx context.Context, in TransferRequest) (*Interaction, error) {
	if (in.ToAgentID == "") == (in.ToPlanID == "") {
		return nil, &Error{Code: EINVALID, Message: "name exactly one target: toAgentId or toPlanId", Field: []string{"toAgentId"}}
	}
	me, ix, err := s.held(ctx, in.InteractionID)
	if err != nil {
		return nil, err
	}
	if err := ix.transferable(); err != nil {
		return nil, err
	}
	if in.ToPlanID != "" {
		return s.transferToPlan(ctx, me, ix, in.ToPlanID)
	}
	return s.transferToAgent(ctx, me, ix, in.ToAgentID)
}

func (s *Service) transferToAgent(ctx context.Context, me *Agent, ix *Interaction, toID string) (*Interaction, error) {
	if checkID(toID) != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid agent ID: IDs are UUIDs", Field: []string{"toAgentId"}}
	}
	if toID == me.ID {
		return nil, &Error{Code: EINVALID, Message: "you hold this interaction already; choose another agent", Field: []string{"toAgentId"}}
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	// Reserve the target's capacity first, as routing does: an accepted transfer never
	// overflows them (T1: only an agent who is READY with room).
	target, err := s.reserve(ctx, toID, ix, func(a *Agent) error { return targetAvailable(a, ix.Channel) })
	if errors.Is(err, errHeld) { // a hold left by a crash, which the sweep will release
		err = Errorf(ETARGETUNAVAILABLE, "this agent cannot take this interaction now; try again shortly")
	}
	if err != nil {
		return nil, err
	}
	offered, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		if err := mine(x, me.ID); err != nil {
			return err
		}
		return x.transferTo(me.ID, toID, plan, now)
	})
	if err != nil {
		return nil, errors.Join(err, s.release(ctx, toID, ix.ID, nil))
	}
	if _, err := s.updateAgent(ctx, me.ID, func(a *Agent) error { a.remember(toID, now); return nil }); err != nil {
		return nil, err
	}
	s.publishUpdate(offered)
	offer := transferOffer(offered)
	if target.AutoAccept || plan.AutoAccept { // P4 applies to transfer offers too
		taken, err := s.acceptTransfer(ctx, target, offered)
		if err != nil {
			return nil, err
		}
		offer.Interaction, offer.AutoAccepted, offer.ExpiresAt = *taken, true, time.Time{}
		s.notify(AgentTopic(toID), &OfferEvent{Kind: OfferOffered, Offer: offer})
		return taken, nil
	}
	s.notify(AgentTopic(toID), &OfferEvent{Kind: OfferOffered, Offer: offer})
	return offered, nil
}

// targetAvailable is T1's rule for the target of a transfer, in words: READY, with room on
// the channel (available).
func targetAvailable(a *Agent, ch Channel) error {
	switch available(a, ch) {
	case errNotReady:
		return Errorf(ETARGETUNAVAILABLE, "%s is %s: only agents who are ready can take a transfer", a.Name, presenceWords[a.Presence])
	case errNoRoom:
		return Errorf(ETARGETUNAVAILABLE, "%s has no free %s capacity", a.Name, strings.ToLower(string(ch)))
	}
	return nil
}

// transferOffer is the offer a pending transfer makes to its target.
func transferOffer(ix *Interaction) Offer {
	t := ix.Transfer
	return Offer{ID: t.OfferID, Interaction: *ix, AgentID: t.ToAgentID, ExpiresAt: t.ExpiresAt, TransferredBy: t.FromAgentID}
}

func (s *Service) transferToPlan(ctx context.Context, me *Agent, ix *Interaction, planID string) (*Interaction, error) {
	if checkID(planID) != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid plan ID: IDs are UUIDs", Field: []string{"toPlanId"}}
	}
	plan, err := s.Store.Plan(ctx, planID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, &Error{Code: ENOTFOUND, Message: "no interaction plan has this ID", Field: []string{"toPlanId"}}
	} else if err != nil {
		return nil, err
	}
	if !slices.Contains(plan.Channels, ix.Channel) {
		return nil, &Error{Code: EINVALID, Message: "plan " + plan.Name + " does not take " + strings.ToLower(string(ix.Channel)), Field: []string{"toPlanId"}}
	}
	queued, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		if err := mine(x, me.ID); err != nil {
			return err
		}
		return x.transferToPlan(me.ID, plan.ID, s.Clock.Now())
	})
	if err != nil {
		return nil, err
	}
	s.notify(UpdatesTopic(me.ID), &InteractionEvent{Interaction: queued})
	s.notify(TransferTopic(me.ID), &TransferEvent{Interaction: queued, Outcome: TransferAccepted})
	if queued.Channel == Voice && s.Calls != nil { // T1: the customer waits on the line for the next agent
		s.Calls.Detach(queued.ID)
	}
	if err := s.release(ctx, me.ID, ix.ID, nil); err != nil {
		return nil, err
	}
	routed := *queued
	if err := s.route(ctx, &routed); err != nil {
		return nil, err
	}
	s.offerWaiting(ctx, me.PlanIDs)
	return &routed, nil
}

// acceptTransfer completes a transfer offer: the target holds the interaction now, the
// sender's capacity is freed and they can no longer send (T5). The contact sees nothing (T4).
func (s *Service) acceptTransfer(ctx context.Context, me *Agent, ix *Interaction) (*Interaction, error) {
	t := *ix.Transfer
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	taken, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		return x.takeTransfer(t.OfferID, me.ID, plan, now)
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.updateAgent(ctx, me.ID, func(a *Agent) error {
		a.remember(t.FromAgentID, now)
		a.MissedOffers = 0
		return nil
	}); err != nil {
		return nil, err
	}
	s.publishUpdate(taken)
	s.notify(UpdatesTopic(t.FromAgentID), &InteractionEvent{Interaction: taken})
	s.notify(TransferTopic(t.FromAgentID), &TransferEvent{Interaction: taken, Outcome: TransferAccepted, TargetAgentID: me.ID})
	s.callConnected(ctx, taken, me.ID) // T1: the customer's leg stays up, the new agent joins it
	return taken, s.releaseAndRoute(ctx, t.FromAgentID, ix.ID, nil)
}

// closeTransfer ends a pending transfer offer without a handover: the target rejected it or
// let it lapse (T6), or the interaction ended meanwhile. The interaction stays with the
// sender; the target's reserved capacity is freed.
func (s *Service) closeTransfer(ctx context.Context, t Transfer, ix *Interaction, kind OfferEventKind) error {
	var change func(*Agent)
	if kind == OfferExpired {
		change = s.missedOffer
	}
	if kind != "" {
		o := Offer{ID: t.OfferID, Interaction: *ix, AgentID: t.ToAgentID, ExpiresAt: t.ExpiresAt, TransferredBy: t.FromAgentID}
		s.notify(AgentTopic(t.ToAgentID), &OfferEvent{Kind: kind, Offer: o})
	}
	s.notify(TransferTopic(t.FromAgentID), &TransferEvent{Interaction: ix, Outcome: TransferRejected, TargetAgentID: t.ToAgentID, Reason: kind.rejection()})
	return s.releaseAndRoute(ctx, t.ToAgentID, ix.ID, change)
}

// rejectTransfer is the target's answer "no" to a transfer offer (T6).
func (s *Service) rejectTransfer(ctx context.Context, me *Agent, ix *Interaction) (*Interaction, error) {
	t := *ix.Transfer
	kept, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		return x.declineTransfer(t.OfferID, me.ID)
	})
	if err != nil {
		return nil, err
	}
	s.publishUpdate(kept)
	return kept, s.closeTransfer(ctx, t, kept, "")
}

// expireTransfer fires a transfer offer's timer: unanswered counts as REJECTED (T6), and
// like any missed offer it adds to the target's run of missed offers (P5).
func (s *Service) expireTransfer(ctx context.Context, ix *Interaction) error {
	now := s.Clock.Now()
	var t Transfer
	kept, _, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) (err error) {
		t, err = x.expireTransfer(now)
		return err
	})
	if ErrorCode(err) == EWRONGSTATE { // answered or ended meanwhile
		return nil
	} else if err != nil {
		return err
	}
	s.publishUpdate(kept)
	return s.closeTransfer(ctx, t, kept, OfferExpired)
}

// TransferTargets lists the READY agents the signed-in agent may transfer to (T1, T2),
// filtered by a case-insensitive search of names and usernames. With recentOnly, only the
// agents they transferred to or received from in the last RecentWindow, most recent first;
// otherwise all, by name.
func (s *Service) TransferTargets(ctx context.Context, search string, recentOnly bool) ([]*Agent, error) {
	p, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(search) > maxSearchChars {
		return nil, &Error{Code: EINVALID, Message: "the search is limited to 100 characters", Field: []string{"search"}}
	}
	search = NormaliseName(search)
	agents, err := s.Store.ReadyAgents(ctx, nil, "", 0)
	if err != nil {
		return nil, err
	}
	needle := strings.ToLower(search)
	var out []*Agent
	for _, a := range agents {
		if a.ID != p.ID && (strings.Contains(strings.ToLower(a.Name), needle) || strings.Contains(strings.ToLower(a.Username), needle)) {
			out = append(out, a)
		}
	}
	if !recentOnly {
		slices.SortFunc(out, func(a, b *Agent) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
		return out, nil
	}
	rank := map[string]int{}
	// The caller's own record as stored now: their recent peers change with every transfer.
	me, err := s.Store.Agent(ctx, p.ID)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	if me != nil {
		since := s.Clock.Now().Add(-RecentWindow)
		for i, peer := range me.Recent {
			if peer.At.After(since) {
				rank[peer.AgentID] = i + 1
			}
		}
	}
	out = slices.DeleteFunc(out, func(a *Agent) bool { return rank[a.ID] == 0 })
	slices.SortFunc(out, func(a, b *Agent) int { return rank[a.ID] - rank[b.ID] })
	return out, nil
}
