package workspace

import (
	"slices"
	"time"
)

// The interaction's state machine: the one table of allowed moves, and one method per step an
// interaction takes. Each step checks the table, and its own conditions, before it changes
// anything, so a refused step leaves the record as it was; each ends with settle, the one
// place that derives what belongs to a state (its timers, who parked it) from the state.
// Services decide who may take a step, and write the result with the guarded write
// (write.go); nothing else assigns State or the timers.

// transitions is the one table of allowed state changes.
var transitions = map[InteractionState][]InteractionState{
	Queued:  {Offered, Completed},        // routed; abandoned by the contact
	Offered: {Active, Queued, Completed}, // accepted; rejected or expired; abandoned
	Active:  {Wrap, Parked, Queued},      // ended; parked; transferred to a plan
	Parked:  {Active, Queued, Wrap},      // unparked to the agent or the queue; ended
	Wrap:    {Completed},                 // completed by the agent or the wrap timer
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to InteractionState) bool {
	return slices.Contains(transitions[from], to)
}

// may checks, before anything changes, that the table lets the interaction move to `to`.
func (ix *Interaction) may(to InteractionState) error {
	if !CanMove(ix.State, to) {
		return wrongState(ix.State)
	}
	return nil
}

// in checks that the interaction is in one of the states, for steps that keep the state.
func (ix *Interaction) in(states ...InteractionState) error {
	if !slices.Contains(states, ix.State) {
		return wrongState(ix.State)
	}
	return nil
}

func wrongState(st InteractionState) error {
	return Errorf(EWRONGSTATE, "not possible while the interaction is %s", st)
}

func offerClosed() error {
	return Errorf(EWRONGSTATE, "this offer is no longer open: it was answered, expired or withdrawn")
}

func transferClosed() error {
	return Errorf(EWRONGSTATE, "this transfer is no longer open: it was answered, expired or withdrawn")
}

// notDue refuses a timer's step before its time: another node fired it, or it was moved.
func notDue() error {
	return Errorf(EWRONGSTATE, "its timer is not due")
}

// due reports whether the interaction's timer (DueAt) has come by now.
func (ix *Interaction) due(now time.Time) bool {
	return !ix.DueAt.IsZero() && !ix.DueAt.After(now)
}

// offer offers a QUEUED interaction to an agent (P6): the offer takes the next offer number
// and expires after the plan's offer timeout (P5). autoAccept records P4; the caller accepts.
func (ix *Interaction) offer(agentID string, autoAccept bool, p *Plan, now time.Time) error {
	if err := ix.may(Offered); err != nil {
		return err
	}
	ix.State, ix.AgentID, ix.OfferSeq, ix.OfferedAt, ix.AutoAccepted = Offered, agentID, ix.OfferSeq+1, &now, autoAccept
	ix.settle(p, now)
	return nil
}

// offerOpen checks that offer number seq is still open to the agent.
func (ix *Interaction) offerOpen(agentID string, seq int) error {
	if ix.State != Offered || ix.OfferSeq != seq || ix.AgentID != agentID {
		return offerClosed()
	}
	return nil
}

// accept makes the agent's open offer ACTIVE (P3, P4); auto-park counts from now (K2). It
// reports whether this is the first acceptance: the contact is told who joined only then (T4).
func (ix *Interaction) accept(agentID string, seq int, p *Plan, now time.Time) (first bool, err error) {
	if err := ix.offerOpen(agentID, seq); err != nil {
		return false, err
	}
	if err := ix.may(Active); err != nil {
		return false, err
	}
	first = ix.AcceptedAt == nil
	if first {
		ix.AcceptedAt = &now
	}
	ix.State = Active
	ix.settle(p, now)
	return first, nil
}

// reject turns the agent's open offer down: back to the queue, never offered to them again (P3).
func (ix *Interaction) reject(agentID string, seq int, now time.Time) error {
	if err := ix.offerOpen(agentID, seq); err != nil {
		return err
	}
	return ix.requeue(ix.PlanID, now, agentID)
}

// expireOffer fires offer number seq's timer (P5): unanswered, it goes back to the queue.
func (ix *Interaction) expireOffer(seq int, now time.Time) error {
	if ix.State != Offered || ix.OfferSeq != seq {
		return offerClosed()
	}
	if !ix.due(now) {
		return notDue()
	}
	return ix.requeue(ix.PlanID, now)
}

// requeue is the one way back to QUEUED: no agent, no offer, in plan planID's queue, where
// routing skips the agents in skip. An offer turned down (P3) or lapsed (P5) returns to the
// queue it came from and adds to the agents it skips; an interaction that was held (a
// transfer to a plan, T1, or a parked one its agent cannot take back, K6) starts a new stay
// in a queue (QueuedAt is now), and its holder becomes a former holder who may still read it.
func (ix *Interaction) requeue(planID string, now time.Time, skip ...string) error {
	if err := ix.may(Queued); err != nil {
		return err
	}
	if ix.State != Offered {
		ix.RejectedBy = nil
	}
	if ix.State != Offered || ix.QueuedAt == nil {
		ix.QueuedAt = &now
	}
	ix.handOver("")
	ix.State, ix.PlanID, ix.RejectedBy = Queued, planID, append(ix.RejectedBy, skip...)
	ix.OfferedAt, ix.AutoAccepted = nil, false
	ix.settle(nil, time.Time{})
	return nil
}

// reclaim takes an offered, ACTIVE or PARKED interaction from an agent who can no longer
// hold it (they were disabled) back to its plan's queue; a transfer it awaited is dropped.
func (ix *Interaction) reclaim(now time.Time) error {
	if err := ix.in(Offered, Active, Parked); err != nil {
		return err
	}
	ix.Transfer, ix.ParkedBy = nil, ""
	return ix.requeue(ix.PlanID, now)
}

// handOver moves the interaction to a new holder ("" for a queue), remembering the one who
// held it so they can still read it. An agent it was only offered to never held it.
func (ix *Interaction) handOver(to string) {
	if ix.State != Offered && ix.AgentID != "" && ix.AgentID != to && !slices.Contains(ix.FormerAgentIDs, ix.AgentID) {
		ix.FormerAgentIDs = append(ix.FormerAgentIDs, ix.AgentID)
	}
	ix.AgentID = to
}

// heardFrom restarts an ACTIVE interaction's auto-park countdown: its contact wrote at `at` (K2).
func (ix *Interaction) heardFrom(p *Plan, at time.Time) error {
	if err := ix.in(Active); err != nil {
		return err
	}
	ix.LastContactAt = &at
	ix.settle(p, at)
	return nil
}

// park sets an ACTIVE interaction aside until its contact replies or the plan's parked
// timeout passes (K1, K5). by is the agent who parks it, "" when the system does (K2). Not
// while a transfer waits for an answer.
func (ix *Interaction) park(by string, p *Plan, now time.Time) error {
	if err := ix.may(Parked); err != nil {
		return err
	}
	if ix.Transfer != nil {
		return Errorf(EWRONGSTATE, "a transfer of this interaction is waiting for an answer; park it once it is answered")
	}
	if ix.Channel == Voice {
		return Errorf(EWRONGSTATE, "a call cannot be parked: hold it, transfer it or end it")
	}
	ix.State, ix.ParkedAt, ix.ParkedBy = Parked, &now, by
	ix.settle(p, now)
	return nil
}

// autoPark parks an ACTIVE interaction whose contact has been silent until its AutoParkAt (K2).
func (ix *Interaction) autoPark(p *Plan, now time.Time) error {
	if err := ix.in(Active); err != nil {
		return err
	}
	if ix.AutoParkAt == nil || ix.AutoParkAt.After(now) {
		return notDue()
	}
	return ix.park("", p, now)
}

// unpark gives a PARKED interaction back to its agent on its contact's reply at `at` (K4, K6):
// ACTIVE again, auto-park counting from the reply.
func (ix *Interaction) unpark(p *Plan, at time.Time) error {
	if err := ix.in(Parked); err != nil {
		return err
	}
	if err := ix.may(Active); err != nil {
		return err
	}
	ix.State, ix.LastContactAt = Active, &at
	ix.settle(p, at)
	return nil
}

// unparkToQueue sends a PARKED interaction whose contact replied at `at` to the plan's
// post-parking queue, because its agent cannot take it back (K6).
func (ix *Interaction) unparkToQueue(p *Plan, at time.Time) error {
	if err := ix.in(Parked); err != nil {
		return err
	}
	if p.PostParkingPlanID == "" {
		return Errorf(EINTERNAL, "plan %s has no post-parking plan", p.Name)
	}
	if err := ix.requeue(p.PostParkingPlanID, at); err != nil {
		return err
	}
	ix.LastContactAt = &at
	return nil
}

// expirePark fires a PARKED interaction's timer: no reply came in time (K5), so the system
// ends it.
func (ix *Interaction) expirePark(p *Plan, now time.Time) error {
	if err := ix.in(Parked); err != nil {
		return err
	}
	if !ix.due(now) {
		return notDue()
	}
	return ix.end(PartySystem, p, now)
}

// end ends an ACTIVE or PARKED interaction (W1, C4, K5, K6): it enters WRAP, with the wrap
// timer where the plan's codes are optional (W3). An open transfer offer is withdrawn; the
// caller tells its target.
func (ix *Interaction) end(by Party, p *Plan, now time.Time) error {
	if err := ix.may(Wrap); err != nil {
		return err
	}
	ix.State, ix.EndedAt, ix.EndedBy, ix.Transfer = Wrap, &now, by, nil
	ix.settle(p, now)
	return nil
}

// extendWrap restarts a WRAP interaction's wrap countdown (W3, S12).
func (ix *Interaction) extendWrap(p *Plan, now time.Time) error {
	if err := ix.in(Wrap); err != nil {
		return err
	}
	if ix.WrapDeadline == nil || p.WrapTimerSeconds() == nil {
		return Errorf(EWRONGSTATE, "this interaction has no wrap countdown to extend: plan %s requires a code", p.Name)
	}
	ix.settle(p, now)
	return nil
}

// complete completes a WRAP interaction for its agent (W3, W5), keeping what was entered.
// Where the plan requires a code, it is refused with DISPOSITION_REQUIRED until one is chosen.
func (ix *Interaction) complete(p *Plan, now time.Time) error {
	if err := ix.in(Wrap); err != nil {
		return err
	}
	if p.DispositionRequired && len(ix.Dispositions) == 0 {
		return &Error{Code: EDISPOSITIONREQUIRED, Message: "choose a disposition code first: plan " + p.Name + " requires one", Field: []string{"interactionId"}}
	}
	return ix.close(now)
}

// expireWrap fires a WRAP interaction's timer (W3, S11): at zero the system completes it,
// keeping what was entered.
func (ix *Interaction) expireWrap(now time.Time) error {
	if err := ix.in(Wrap); err != nil {
		return err
	}
	if !ix.due(now) {
		return notDue()
	}
	return ix.close(now)
}

// abandon completes an interaction no agent has accepted yet: its contact left (C4).
func (ix *Interaction) abandon(now time.Time) error {
	if err := ix.in(Queued, Offered); err != nil {
		return err
	}
	ix.EndedBy = PartyContact
	return ix.close(now)
}

// close moves the interaction to COMPLETED; it then leaves the live set for history.
func (ix *Interaction) close(now time.Time) error {
	if err := ix.may(Completed); err != nil {
		return err
	}
	if ix.EndedAt == nil {
		ix.EndedAt = &now
	}
	ix.State, ix.CompletedAt = Completed, &now
	ix.settle(nil, time.Time{})
	return nil
}

// transferable checks that an ACTIVE interaction may be transferred: one transfer at a time.
func (ix *Interaction) transferable() error {
	if err := ix.in(Active); err != nil {
		return err
	}
	if ix.Transfer != nil {
		return Errorf(EWRONGSTATE, "a transfer of this interaction is already waiting for an answer")
	}
	return nil
}

// transferTo offers an ACTIVE interaction to another agent (T1). The sender keeps it until
// the target answers; the transfer offer takes the next offer number and expires after the
// plan's offer timeout (P5, T6). Auto-park waits meanwhile.
func (ix *Interaction) transferTo(from, to string, p *Plan, now time.Time) error {
	if err := ix.transferable(); err != nil {
		return err
	}
	ix.OfferSeq++
	ix.Transfer = &Transfer{FromAgentID: from, ToAgentID: to, OfferID: ix.OfferID(), ExpiresAt: now.Add(p.offerTimeout())}
	ix.settle(p, time.Time{})
	return nil
}

// transferToPlan hands an ACTIVE interaction straight to a plan's queue (T1): cold, and
// routing offers it to someone else than the sender.
func (ix *Interaction) transferToPlan(from, planID string, now time.Time) error {
	if err := ix.transferable(); err != nil {
		return err
	}
	return ix.requeue(planID, now, from)
}

// transferOpen checks that the transfer offer offerID still waits for the agent's answer.
func (ix *Interaction) transferOpen(offerID, agentID string) error {
	if ix.State != Active || ix.Transfer == nil || ix.Transfer.OfferID != offerID || ix.Transfer.ToAgentID != agentID {
		return transferClosed()
	}
	return nil
}

// takeTransfer hands the interaction to the target of its open transfer, who accepted (T5);
// auto-park counts from now.
func (ix *Interaction) takeTransfer(offerID, agentID string, p *Plan, now time.Time) error {
	if err := ix.transferOpen(offerID, agentID); err != nil {
		return err
	}
	ix.handOver(agentID)
	ix.Transfer = nil
	ix.settle(p, now)
	return nil
}

// declineTransfer closes the open transfer its target rejected (T6): it stays with the sender.
func (ix *Interaction) declineTransfer(offerID, agentID string) error {
	if err := ix.transferOpen(offerID, agentID); err != nil {
		return err
	}
	ix.Transfer = nil
	ix.settle(nil, time.Time{})
	return nil
}

// expireTransfer fires an open transfer offer's timer (T6): unanswered, it closes and the
// interaction stays with the sender. It returns the transfer that lapsed.
func (ix *Interaction) expireTransfer(now time.Time) (Transfer, error) {
	if err := ix.in(Active); err != nil {
		return Transfer{}, err
	}
	if ix.Transfer == nil || ix.Transfer.ExpiresAt.After(now) {
		return Transfer{}, notDue()
	}
	t := *ix.Transfer
	ix.Transfer = nil
	ix.settle(nil, time.Time{})
	return t, nil
}

// writeNotes replaces the notes of an ACTIVE or WRAP interaction (H2, W3).
func (ix *Interaction) writeNotes(notes string) error {
	if err := ix.in(Active, Wrap); err != nil {
		return err
	}
	ix.Notes = notes
	return nil
}

// choose records a disposition code: while ACTIVE it replaces the previous one (H2); in WRAP
// it is added to those chosen (W3).
func (ix *Interaction) choose(code string) error {
	if err := ix.in(Active, Wrap); err != nil {
		return err
	}
	if ix.State == Active {
		ix.Dispositions = []string{code}
	} else if !slices.Contains(ix.Dispositions, code) {
		ix.Dispositions = append(ix.Dispositions, code)
	}
	return nil
}

// settle is the one place that derives from the interaction's state what belongs to it: the
// timer the scheduler fires (DueAt) and the deadlines behind it (AutoParkAt, ParkedUntil,
// WrapDeadline), and who parked it (ParkedBy); what belonged to a state it left is cleared.
//
// With from set, the new state's countdown starts at from, with the plan's durations: an
// offer expires (P5), an ACTIVE interaction auto-parks (K2), a PARKED one ends (K5), a WRAP
// one completes where codes are optional (W3). With from zero, a running countdown is kept:
// a transfer opened or closed does not restart auto-park, and an ACTIVE interaction's timer
// is its open transfer offer's expiry (T6) before auto-park. p is read only when from is set.
func (ix *Interaction) settle(p *Plan, from time.Time) {
	if ix.State != Active {
		ix.AutoParkAt = nil
	}
	if ix.State != Parked {
		ix.ParkedUntil, ix.ParkedBy = nil, ""
	}
	if ix.State != Wrap && ix.State != Completed { // a completed record keeps its last deadline
		ix.WrapDeadline = nil
	}
	restart := !from.IsZero()
	switch ix.State {
	case Offered:
		if restart {
			ix.DueAt = from.Add(p.offerTimeout())
		}
	case Active:
		if restart && ix.Channel != Voice { // a call is never parked, not even by the system
			ix.AutoParkAt = p.autoParkAt(from)
		}
		switch {
		case ix.Transfer != nil:
			ix.DueAt = ix.Transfer.ExpiresAt
		case ix.AutoParkAt != nil:
			ix.DueAt = *ix.AutoParkAt
		default:
			ix.DueAt = time.Time{}
		}
	case Parked:
		if restart {
			until := from.Add(p.ParkedTimeout())
			ix.ParkedUntil = &until
		}
		ix.DueAt = deref(ix.ParkedUntil)
	case Wrap:
		if restart {
			ix.WrapDeadline = nil
			if s := p.WrapTimerSeconds(); s != nil {
				deadline := from.Add(time.Duration(*s) * time.Second)
				ix.WrapDeadline = &deadline
			}
		}
		ix.DueAt = deref(ix.WrapDeadline)
	default: // QUEUED and COMPLETED: nothing counts down
		ix.DueAt = time.Time{}
	}
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
