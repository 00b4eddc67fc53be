package workspace

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Capacity (P2, P6, K1, K6, T1): one rule wherever work reaches an agent. An agent's record
// holds the interactions that use their capacity (Agent.Holds); work is given to an agent only
// after reserve added its hold, in a version-guarded write on the fresh record, so capacity as
// read from the store is never exceeded, even with several nodes. Routing (P6), a parked chat
// waking to its agent (K6), a transfer to an agent (T1) and an agent starting an outbound
// interaction all reserve this way. Accepting an offer needs nothing more: the offer holds its
// slot from the moment it is made. Releasing goes the other way: the interaction changes
// first, then the hold goes, then queued work is offered to whoever now has room.

// Hold is one interaction using an agent's capacity.
type Hold struct {
	InteractionID string
	Channel       Channel
	Since         time.Time
}

// usesCapacity reports whether an interaction in state st counts against its agent's
// capacity. Offers do (an accept must never overflow), parked interactions do not (K1), and
// wrapping ones do: see docs/architecture.md, "Capacity and wrap-up".
func usesCapacity(st InteractionState) bool {
	return st == Offered || st == Active || st == Wrap
}

// heldOn counts an agent's holds on one channel.
func (a *Agent) heldOn(ch Channel) int {
	n := 0
	for _, h := range a.Holds {
		if h.Channel == ch {
			n++
		}
	}
	return n
}

// holds reports whether the agent holds the interaction.
func (a *Agent) holds(ixID string) bool {
	return slices.ContainsFunc(a.Holds, func(h Hold) bool { return h.InteractionID == ixID })
}

// Used counts the agent's holds per channel.
func (a *Agent) Used(ch Channel) int { return a.heldOn(ch) }

// Why an agent cannot take an interaction now (available, reserve).
var (
	errNotReady = errors.New("the agent is not READY")                    // P1
	errNoRoom   = errors.New("the agent has no free slot on the channel") // P2
	errHeld     = errors.New("the agent holds the interaction already")
)

// hasRoom reports whether the agent has a free slot on the channel (P2). Offers, active and
// wrapping interactions use one (P7: wrap-up blocks new work only by filling the capacity);
// parked ones do not (K1).
func hasRoom(a *Agent, ch Channel) bool {
	return a.heldOn(ch) < a.Capacity[ch]
}

// RoomOn lists the channels on which the agent has a free slot (P2), in Channels' order:
// the projection stores keep beside the agent, so routing reads only agents who can take
// the work (Store.ReadyAgents).
func (a *Agent) RoomOn() []Channel {
	var out []Channel
	for _, ch := range Channels {
		if hasRoom(a, ch) {
			out = append(out, ch)
		}
	}
	return out
}

// available says why new work on the channel may not be given to the agent unasked, nil
// when it may: only READY agents (P1) with room on the channel (P2) are offered work, by
// routing, by a transfer, or by a parked chat waking up. It returns errNotReady or errNoRoom.
func available(a *Agent, ch Channel) error {
	switch {
	case a.Presence != Ready:
		return errNotReady
	case !hasRoom(a, ch):
		return errNoRoom
	}
	return nil
}

// reserve adds ix's hold to the agent's fresh record a, inside its guarded write: refused
// with errNoRoom when the agent has no free slot on ix's channel, and errHeld when they hold
// it already. Whether the agent must be READY is the caller's rule (available).
func reserve(a *Agent, ix *Interaction, now time.Time) error {
	switch {
	case a.holds(ix.ID):
		return errHeld
	case !hasRoom(a, ix.Channel):
		return errNoRoom
	}
	a.Holds = append(slices.Clip(a.Holds), Hold{InteractionID: ix.ID, Channel: ix.Channel, Since: now})
	return nil
}

// reserve takes a slot of the agent's capacity for ix with one guarded write (write.go) on
// their fresh record: first the caller's rule, if any (e.g. available, or routing's
// eligible), then the capacity rule. It returns the agent as written, or the rule's error,
// errNoRoom or errHeld. Give ix to the agent only after it succeeds, and release the hold if
// that then fails.
func (s *Service) reserve(ctx context.Context, agentID string, ix *Interaction, rule func(*Agent) error) (*Agent, error) {
	return s.reserveFrom(ctx, agentID, nil, ix, rule)
}

// reserveFrom is reserve starting from loaded, the agent's record as the caller read it
// (routing's READY agents): the write is guarded by its version, so a record that changed
// meanwhile costs a read and a second decision, and one that did not costs no read.
func (s *Service) reserveFrom(ctx context.Context, agentID string, loaded *Agent, ix *Interaction, rule func(*Agent) error) (*Agent, error) {
	now := s.Clock.Now()
	return s.updateAgentFrom(ctx, agentID, loaded, func(a *Agent) error {
		if rule != nil {
			if err := rule(a); err != nil {
				return err
			}
		}
		return reserve(a, ix, now)
	})
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
	s.offerWaiting(ctx, a.PlanIDs)
	return nil
}

// releasing is release returning the agent as written; nil when there was nothing to write.
func (s *Service) releasing(ctx context.Context, agentID, ixID string, change func(*Agent)) (*Agent, error) {
	a, err := s.updateAgent(ctx, agentID, func(a *Agent) error {
		i := slices.IndexFunc(a.Holds, func(h Hold) bool { return h.InteractionID == ixID })
		if i < 0 && change == nil {
			return errSkip
		}
		if i >= 0 {
			a.Holds = slices.Delete(slices.Clone(a.Holds), i, i+1)
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

// backs reports whether the interaction justifies a hold on the agent: they hold it in a
// state that uses capacity, or it waits for their answer to a transfer offer.
func backs(ix *Interaction, agentID string) bool {
	if ix.Transfer != nil && ix.Transfer.ToAgentID == agentID {
		return true
	}
	return ix.AgentID == agentID && usesCapacity(ix.State)
}
