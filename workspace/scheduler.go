package workspace

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// staleHoldAge is how old a hold must be before the sweep may release it for lack of an
// interaction: routing writes the interaction microseconds after the hold, so anything this
// old without one was left by a crash.
const staleHoldAge = 10 * time.Second

// Tick fires every timer due by now: offer and transfer-offer expiries (P5, T6), auto-park
// (K2), parked timeouts (K5) and wrap timeouts (W3). Due times
// live on the interactions, so timers survive restarts; any node may tick, and the guarded
// write of each step lets exactly one node fire each timer.
func (s *Service) Tick(ctx context.Context) error {
	now := s.Clock.Now()
	due, err := s.Store.LiveInteractions(ctx, LiveFilter{DueBefore: now, Limit: 500})
	if err != nil {
		return err
	}
	var errs []error
	for _, ix := range due {
		errs = append(errs, s.fire(ctx, ix))
	}
	return errors.Join(errs...)
}

func (s *Service) fire(ctx context.Context, ix *Interaction) error {
	switch ix.State {
	case Offered:
		return s.expireOffer(ctx, ix)
	case Active: // a transfer offer lapses (T6), or the contact was silent too long (K2)
		if ix.Transfer != nil {
			return s.expireTransfer(ctx, ix)
		}
		return s.autoPark(ctx, ix)
	case Parked: // K5: no reply in time
		return s.parkedTimeout(ctx, ix)
	case Wrap: // W3: at zero the system completes it, keeping what was entered
		_, err := s.complete(ctx, ix.ID, ix, (*Interaction).expireWrap)
		if ErrorCode(err) == EWRONGSTATE { // completed by the agent, or extended, meanwhile
			return nil
		}
		return err
	}
	return nil
}

// Sweep repairs what a crash between the steps of a multi-record change can leave, and
// routes what no trigger routed: it finishes the archiving of COMPLETED live records,
// releases holds no interaction backs, and offers queued interactions. Every step is
// idempotent, so any node may sweep at any time. Every node sweeps every 2 s, so it reads
// the agents at work (Store.SweptAgents: the READY ones and those holding work a while),
// not every agent stored.
func (s *Service) Sweep(ctx context.Context) error {
	done, err := s.Store.LiveInteractions(ctx, LiveFilter{States: []InteractionState{Completed}, Limit: 100})
	if err != nil {
		return err
	}
	var errs []error
	for _, ix := range done {
		errs = append(errs, s.finish(ctx, ix))
	}
	cutoff := s.Clock.Now().Add(-staleHoldAge)
	agents, err := s.Store.SweptAgents(ctx, cutoff)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	// Plans are routed in a stable order, whatever order the store listed the agents in.
	slices.SortFunc(agents, func(a, b *Agent) int { return strings.Compare(a.Username, b.Username) })
	var plans []string
	for _, a := range agents {
		for _, h := range a.Holds {
			if h.Since.After(cutoff) {
				continue
			}
			ix, err := s.Store.Interaction(ctx, h.InteractionID)
			if ErrorCode(err) == ENOTFOUND || (err == nil && !backs(ix, a.ID)) {
				errs = append(errs, s.releaseStale(ctx, a.ID, h))
			} else if err != nil {
				errs = append(errs, err)
			}
		}
		if a.Presence == Ready {
			plans = append(plans, a.PlanIDs...)
		}
	}
	errs = append(errs, s.routeQueued(ctx, plans))
	if s.Blobs != nil {
		errs = append(errs, s.expireDrafts(ctx))
	}
	return errors.Join(errs...)
}

// Scheduler runs Tick on every node at a fixed interval, and Sweep less often.
type Scheduler struct {
	Service *Service
	// Interval is the time between ticks; timers fire at most this late.
	Interval time.Duration
	// SweepEvery is how many ticks pass between sweeps.
	SweepEvery int
	// OnError receives what a tick or sweep could not do; the next one retries.
	OnError func(error)
}

// Run ticks until ctx ends.
func (sc *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(sc.Interval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := sc.Service.Tick(ctx)
		if sc.SweepEvery > 0 && n%sc.SweepEvery == 0 {
			err = errors.Join(err, sc.Service.Sweep(ctx))
		}
		if err != nil && ctx.Err() == nil && sc.OnError != nil {
			sc.OnError(err)
		}
	}
}

// releaseStale removes exactly the hold the sweep judged stale. Matching its reservation time
// too matters: meanwhile the interaction may have been released the normal way and offered
// to the same agent again, under a new hold that must stay.
func (s *Service) releaseStale(ctx context.Context, agentID string, stale Hold) error {
	_, err := s.updateAgent(ctx, agentID, func(a *Agent) error {
		i := slices.IndexFunc(a.Holds, func(h Hold) bool {
			return h.InteractionID == stale.InteractionID && h.Since.Equal(stale.Since)
		})
		if i < 0 {
			return errSkip
		}
		a.Holds = slices.Delete(a.Holds, i, i+1)
		return nil
	})
	if errors.Is(err, errSkip) || ErrorCode(err) == ENOTFOUND {
		return nil
	}
	return err
}
