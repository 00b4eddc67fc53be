package workspace

import (
	"context"
	"errors"
	"maps"
	"slices"
)

// The one write path for records guarded by a version (interactions and agents): read the
// record, decide on the fresh copy, and write it with one conditional write that succeeds only
// if nobody wrote since the read (Store: CONFLICT otherwise). A writer that lost the race reads
// again and decides again, so a step never applies to a record it was not decided for.

// maxAttempts bounds the guarded write's attempts on one record. A CONFLICT means another
// writer's write to that record succeeded in between, so losing ten times in a row takes ten
// writes to one record within one step's few milliseconds: more contention than a contact
// centre puts on an agent or an interaction. Retrying without a pause is then sound: every
// lost race is somebody else's progress, there is nothing to wait for, and a sleep would only
// add latency to the request (and, on SQLite's single writer, hold nobody back). A step that
// still loses returns CONFLICT: routing moves on to its next candidate, the sweep repeats what
// it could not do, and a client may try again.
const maxAttempts = 10

// errSkip tells the write path that the fresh record no longer needs the step; the caller
// moves on without an error.
var errSkip = errors.New("skip")

// guardedWrite runs the write path for one record: loaded is the record as the caller just
// read it (nil: read it with read), change decides on a copy of it (an error leaves the record
// alone and is returned), write stores the copy guarded by the version of the record read.
// It returns the record read and the record written of the last attempt.
func guardedWrite[T any](ctx context.Context, loaded *T, read func(context.Context) (*T, error),
	change func(*T) error, write func(ctx context.Context, read, next *T) error) (old, next *T, err error) {
	for attempt := 1; ; attempt++ {
		old, loaded = loaded, nil
		if old == nil {
			if old, err = read(ctx); err != nil {
				return nil, nil, err
			}
		}
		copied := *old
		if err := change(&copied); err != nil {
			return old, nil, err
		}
		err = write(ctx, old, &copied)
		if ErrorCode(err) != ECONFLICT || attempt == maxAttempts {
			return old, &copied, err
		}
	}
}

// mutate changes a live interaction through the write path, guarded by the state and version
// read. loaded is the interaction as the caller just read it, which saves a read when nobody
// wrote in between; nil reads it by id. change decides from the fresh record, with the state
// methods (state.go), whether the step still applies. It returns the interaction as written
// and the state it left; when its holder or transfer target changed, the interaction's
// message feeds are told.
func (s *Service) mutate(ctx context.Context, id string, loaded *Interaction, change func(*Interaction) error) (*Interaction, InteractionState, error) {
	old, ix, err := guardedWrite(ctx, loaded,
		func(ctx context.Context) (*Interaction, error) { return s.Store.Interaction(ctx, id) },
		change, s.writeInteraction)
	var from InteractionState
	if old != nil {
		from = old.State
	}
	if err != nil {
		return nil, from, err
	}
	return ix, from, nil
}

// writeInteraction is mutate's conditional write.
func (s *Service) writeInteraction(ctx context.Context, old, ix *Interaction) error {
	// The state methods consult the table before they change anything: this is an assertion.
	if ix.State != old.State && !CanMove(old.State, ix.State) {
		return Errorf(EINTERNAL, "transition %s → %s is not in the state table", old.State, ix.State)
	}
	s.stamp(old, ix)
	var err error
	if ix.State == Completed { // to history in the same write (finish does the rest)
		err = s.Store.CompleteInteraction(ctx, ix, old.State)
	} else {
		err = s.Store.UpdateInteraction(ctx, ix, old.State)
	}
	s.storedWith(ix, err)
	if err != nil {
		return err
	}
	s.announceHandover(followers(old), ix)
	if ix.State != old.State || ix.PlanID != old.PlanID || ix.AgentID != old.AgentID {
		s.interactionsChanged([]string{old.PlanID, ix.PlanID}, []string{old.AgentID, ix.AgentID})
	}
	return nil
}

// updateAgent changes the stored agent through the write path, guarded by its version.
func (s *Service) updateAgent(ctx context.Context, id string, change func(*Agent) error) (*Agent, error) {
	return s.updateAgentFrom(ctx, id, nil, change)
}

// updateAgentFrom is updateAgent starting from loaded, the agent's record as the caller read
// it; nil reads it by id.
func (s *Service) updateAgentFrom(ctx context.Context, id string, loaded *Agent, change func(*Agent) error) (*Agent, error) {
	old, a, err := guardedWrite(ctx, loaded,
		func(ctx context.Context) (*Agent, error) { return s.Store.Agent(ctx, id) },
		change,
		func(ctx context.Context, _, a *Agent) error { return s.Store.UpdateAgent(ctx, a) })
	if err != nil {
		return nil, err
	}
	if supervisorsSee(old, a) {
		s.notify(AgentsTopic, &AgentEvent{Agent: a})
	}
	return a, nil
}

// supervisorsSee reports whether a change of an agent's record shows in the live view or
// the admin screens: presence, load, plans or settings, where calls ring (not offer bookkeeping).
func supervisorsSee(old, a *Agent) bool {
	return old.Presence != a.Presence || !old.PresenceSince.Equal(a.PresenceSince) ||
		!slices.Equal(old.Holds, a.Holds) || !slices.Equal(old.PlanIDs, a.PlanIDs) ||
		!maps.Equal(old.Capacity, a.Capacity) || old.Role != a.Role || old.Disabled != a.Disabled ||
		old.Name != a.Name || old.AutoAccept != a.AutoAccept || old.CallEndpoint != a.CallEndpoint
}
