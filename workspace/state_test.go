package workspace

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// steps are the state methods, each applied with arguments that fit a record in any state:
// the agent is the holder (or the one offered), offer and transfer numbers are current, and
// every timer is due.
var steps = map[string]func(ix *Interaction, p *Plan, now time.Time) error{
	"offer": func(ix *Interaction, p *Plan, now time.Time) error { return ix.offer("b", false, p, now) },
	"accept": func(ix *Interaction, p *Plan, now time.Time) error {
		_, err := ix.accept("a", ix.OfferSeq, p, now)
		return err
	},
	"reject": func(ix *Interaction, p *Plan, now time.Time) error { return ix.reject("a", ix.OfferSeq, now) },
	"expireOffer": func(ix *Interaction, p *Plan, now time.Time) error {
		return ix.expireOffer(ix.OfferSeq, now)
	},
	"requeue":        func(ix *Interaction, p *Plan, now time.Time) error { return ix.requeue(p.ID, now) },
	"heardFrom":      func(ix *Interaction, p *Plan, now time.Time) error { return ix.heardFrom(p, now) },
	"park":           func(ix *Interaction, p *Plan, now time.Time) error { return ix.park("a", p, now) },
	"autoPark":       func(ix *Interaction, p *Plan, now time.Time) error { return ix.autoPark(p, now) },
	"unpark":         func(ix *Interaction, p *Plan, now time.Time) error { return ix.unpark(p, now) },
	"unparkToQueue":  func(ix *Interaction, p *Plan, now time.Time) error { return ix.unparkToQueue(p, now) },
	"expirePark":     func(ix *Interaction, p *Plan, now time.Time) error { return ix.expirePark(p, now) },
	"end":            func(ix *Interaction, p *Plan, now time.Time) error { return ix.end(PartyAgent, p, now) },
	"extendWrap":     func(ix *Interaction, p *Plan, now time.Time) error { return ix.extendWrap(p, now) },
	"complete":       func(ix *Interaction, p *Plan, now time.Time) error { return ix.complete(p, now) },
	"expireWrap":     func(ix *Interaction, p *Plan, now time.Time) error { return ix.expireWrap(now) },
	"abandon":        func(ix *Interaction, p *Plan, now time.Time) error { return ix.abandon(now) },
	"transferTo":     func(ix *Interaction, p *Plan, now time.Time) error { return ix.transferTo("a", "c", p, now) },
	"transferToPlan": func(ix *Interaction, p *Plan, now time.Time) error { return ix.transferToPlan("a", "other-plan", now) },
	"takeTransfer": func(ix *Interaction, p *Plan, now time.Time) error {
		return ix.takeTransfer(transferID(ix), "c", p, now)
	},
	"declineTransfer": func(ix *Interaction, p *Plan, now time.Time) error { return ix.declineTransfer(transferID(ix), "c") },
	"expireTransfer": func(ix *Interaction, p *Plan, now time.Time) error {
		_, err := ix.expireTransfer(now)
		return err
	},
	"reclaim":    func(ix *Interaction, p *Plan, now time.Time) error { return ix.reclaim(now) },
	"writeNotes": func(ix *Interaction, p *Plan, now time.Time) error { return ix.writeNotes("n") },
	"choose":     func(ix *Interaction, p *Plan, now time.Time) error { return ix.choose("RESOLVED") },
}

func transferID(ix *Interaction) string {
	if ix.Transfer == nil {
		return ""
	}
	return ix.Transfer.OfferID
}

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

// records are interactions in every state the code produces, with due timers.
func records() map[string]*Interaction {
	base := func(st InteractionState) *Interaction {
		return &Interaction{ID: "4a0c5b1e-1d2b-4a53-9a57-5a8a7f3e2b10", Channel: Webchat, State: st, PlanID: "plan", CreatedAt: t0, ContactTokenHash: "h"}
	}
	queued := base(Queued)
	offered := base(Offered)
	offered.AgentID, offered.OfferSeq, offered.OfferedAt, offered.DueAt = "a", 1, at(0), t0.Add(30*time.Second)
	active := base(Active)
	active.AgentID, active.OfferSeq, active.AcceptedAt, active.AutoParkAt = "a", 1, at(0), at(time.Minute)
	active.DueAt = *active.AutoParkAt
	transferring := base(Active)
	transferring.AgentID, transferring.OfferSeq, transferring.AcceptedAt, transferring.AutoParkAt = "a", 2, at(0), at(time.Minute)
	transferring.Transfer = &Transfer{FromAgentID: "a", ToAgentID: "c", OfferID: transferring.ID + ".2", ExpiresAt: t0.Add(30 * time.Second)}
	transferring.DueAt = transferring.Transfer.ExpiresAt
	parked := base(Parked)
	parked.AgentID, parked.OfferSeq, parked.ParkedAt, parked.ParkedUntil, parked.ParkedBy = "a", 1, at(0), at(time.Hour), "a"
	parked.DueAt = *parked.ParkedUntil
	wrap := base(Wrap)
	wrap.AgentID, wrap.OfferSeq, wrap.EndedAt, wrap.EndedBy, wrap.WrapDeadline = "a", 1, at(0), PartyAgent, at(time.Minute)
	wrap.DueAt, wrap.Dispositions = *wrap.WrapDeadline, []string{"RESOLVED"}
	completed := base(Completed)
	completed.AgentID, completed.EndedAt, completed.CompletedAt = "a", at(0), at(time.Minute)
	return map[string]*Interaction{"QUEUED": queued, "OFFERED": offered, "ACTIVE": active, "ACTIVE with a transfer": transferring,
		"PARKED": parked, "WRAP": wrap, "COMPLETED": completed}
}

func clone(ix *Interaction) *Interaction {
	c := *ix
	c.RejectedBy, c.FormerAgentIDs, c.Dispositions = slices.Clone(ix.RejectedBy), slices.Clone(ix.FormerAgentIDs), slices.Clone(ix.Dispositions)
	if ix.Transfer != nil {
		t := *ix.Transfer
		c.Transfer = &t
	}
	return &c
}

// TestStepsFollowTheTable applies every step to every state: a refused step is WRONG_STATE
// (or DISPOSITION_REQUIRED) and changes nothing; a step that changes the state makes a move
// of the table; and whatever the step, the timers are those settle derives from the result.
func TestStepsFollowTheTable(t *testing.T) {
	plan := &Plan{ID: "plan", Name: "Sales", WrapSeconds: 60, OfferTimeoutSeconds: 30, AutoParkSeconds: 600, PostParkingPlanID: "post"}
	now := t0.Add(2 * time.Hour) // every timer is due
	moves := map[[2]InteractionState]bool{}
	for name, step := range steps {
		for state, rec := range records() {
			before := clone(rec)
			ix := clone(rec)
			err := step(ix, plan, now)
			if err != nil {
				if c := ErrorCode(err); c != EWRONGSTATE && c != EDISPOSITIONREQUIRED {
					t.Errorf("%s on %s: %v, want WRONG_STATE", name, state, err)
				}
				if !reflect.DeepEqual(ix, before) {
					t.Errorf("%s on %s was refused (%v) but changed the record:\n%+v\nfrom\n%+v", name, state, err, ix, before)
				}
				continue
			}
			if ix.State != before.State {
				if !CanMove(before.State, ix.State) {
					t.Errorf("%s moved %s → %s, which the table does not allow", name, before.State, ix.State)
				}
				moves[[2]InteractionState{before.State, ix.State}] = true
			}
			settled := clone(ix)
			settled.settle(nil, time.Time{})
			if !reflect.DeepEqual(settled, ix) {
				t.Errorf("%s on %s left timers settle would change:\n%+v\nsettled\n%+v", name, state, ix, settled)
			}
			if ix.ParkedBy != "" && ix.State != Parked {
				t.Errorf("%s on %s left ParkedBy %q on a %s interaction", name, state, ix.ParkedBy, ix.State)
			}
		}
	}
	// Every move of the table is some step's.
	for from, tos := range transitions {
		for _, to := range tos {
			if !moves[[2]InteractionState{from, to}] {
				t.Errorf("no step moves %s → %s", from, to)
			}
		}
	}
}

// TestSettle checks the one derivation of timers from the state (P5, T6, K2, K5, W3).
func TestSettle(t *testing.T) {
	optional := &Plan{Name: "Sales", WrapSeconds: 60, OfferTimeoutSeconds: 20, AutoParkSeconds: 600, ParkedTimeoutSeconds: 1800}
	required := &Plan{Name: "Support", WrapSeconds: 60, DispositionRequired: true}
	from := t0.Add(time.Minute)
	for _, c := range []struct {
		name string
		ix   Interaction
		plan *Plan
		from time.Time
		want Interaction
	}{
		{"an offer expires after the plan's offer timeout", Interaction{State: Offered}, optional, from,
			Interaction{State: Offered, DueAt: from.Add(20 * time.Second)}},
		{"the default offer timeout", Interaction{State: Offered}, required, from,
			Interaction{State: Offered, DueAt: from.Add(DefaultOfferTimeout * time.Second)}},
		{"ACTIVE auto-parks after the plan's silence", Interaction{State: Active}, optional, from,
			Interaction{State: Active, AutoParkAt: &[]time.Time{from.Add(10 * time.Minute)}[0], DueAt: from.Add(10 * time.Minute)}},
		{"without auto-park nothing counts down", Interaction{State: Active, ParkedUntil: at(0), ParkedBy: "a"}, required, from,
			Interaction{State: Active}},
		{"an open transfer's expiry comes first, and auto-park keeps running", Interaction{State: Active, AutoParkAt: at(5 * time.Minute),
			Transfer: &Transfer{ExpiresAt: t0.Add(time.Hour)}}, nil, time.Time{},
			Interaction{State: Active, AutoParkAt: at(5 * time.Minute), Transfer: &Transfer{ExpiresAt: t0.Add(time.Hour)}, DueAt: t0.Add(time.Hour)}},
		{"PARKED ends after the parked timeout", Interaction{State: Parked, AutoParkAt: at(0), ParkedBy: "a"}, optional, from,
			Interaction{State: Parked, ParkedUntil: &[]time.Time{from.Add(30 * time.Minute)}[0], DueAt: from.Add(30 * time.Minute), ParkedBy: "a"}},
		{"WRAP with optional codes completes after the wrap timer", Interaction{State: Wrap}, optional, from,
			Interaction{State: Wrap, WrapDeadline: &[]time.Time{from.Add(time.Minute)}[0], DueAt: from.Add(time.Minute)}},
		{"WRAP with required codes has no timer", Interaction{State: Wrap, WrapDeadline: at(0)}, required, from,
			Interaction{State: Wrap}},
		{"QUEUED has no timer", Interaction{State: Queued, DueAt: t0, AutoParkAt: at(0), ParkedUntil: at(0), WrapDeadline: at(0)}, nil, time.Time{},
			Interaction{State: Queued}},
		{"COMPLETED keeps its last wrap deadline, for the record", Interaction{State: Completed, DueAt: t0, WrapDeadline: at(0)}, nil, time.Time{},
			Interaction{State: Completed, WrapDeadline: at(0)}},
	} {
		ix := c.ix
		ix.settle(c.plan, c.from)
		if !reflect.DeepEqual(ix, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, ix, c.want)
		}
	}
}

// TestRequeue checks the one way back to QUEUED.
func TestRequeue(t *testing.T) {
	recs := records()
	offered := recs["OFFERED"]
	offered.RejectedBy = []string{"x"}
	if err := offered.reject("a", offered.OfferSeq, t0); err != nil {
		t.Fatal(err)
	}
	if offered.State != Queued || offered.AgentID != "" || offered.PlanID != "plan" || len(offered.FormerAgentIDs) != 0 ||
		!slices.Equal(offered.RejectedBy, []string{"x", "a"}) || offered.OfferedAt != nil || !offered.DueAt.IsZero() {
		t.Errorf("a rejected offer: %+v", offered)
	}
	active := recs["ACTIVE"]
	active.RejectedBy = []string{"x"}
	if err := active.transferToPlan("a", "other", t0); err != nil {
		t.Fatal(err)
	}
	if active.State != Queued || active.AgentID != "" || active.PlanID != "other" || !slices.Equal(active.FormerAgentIDs, []string{"a"}) ||
		!slices.Equal(active.RejectedBy, []string{"a"}) || active.AutoParkAt != nil || !active.DueAt.IsZero() {
		t.Errorf("a transfer to a plan: %+v", active)
	}
	parked := recs["PARKED"]
	parked.RejectedBy = []string{"x"}
	if err := parked.unparkToQueue(&Plan{PostParkingPlanID: "post"}, t0); err != nil {
		t.Fatal(err)
	}
	if parked.State != Queued || parked.PlanID != "post" || parked.RejectedBy != nil || parked.ParkedUntil != nil || parked.ParkedBy != "" ||
		!parked.LastContactAt.Equal(t0) || !slices.Equal(parked.FormerAgentIDs, []string{"a"}) {
		t.Errorf("a parked chat woken into a queue: %+v", parked)
	}
	if parked.QueuedAt == nil || !parked.QueuedAt.Equal(t0) {
		t.Errorf("a new stay in a queue starts at the requeue: QueuedAt %v", parked.QueuedAt)
	}

	// A lapsed offer keeps its place in the queue: QueuedAt stays.
	lapsed := recs["QUEUED"]
	lapsed.QueuedAt = at(-time.Hour)
	if err := lapsed.offer("b", false, &Plan{ID: "plan"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := lapsed.expireOffer(lapsed.OfferSeq, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !lapsed.QueuedAt.Equal(*at(-time.Hour)) {
		t.Errorf("a lapsed offer lost its place: QueuedAt %v", lapsed.QueuedAt)
	}

	// An agent who is disabled gives back what they hold (issue 13): offers, ACTIVE and
	// PARKED interactions return to their plan's queue, without a pending transfer.
	for _, st := range []string{"OFFERED", "ACTIVE", "PARKED", "ACTIVE with a transfer"} {
		ix := records()[st]
		if err := ix.reclaim(t0); err != nil {
			t.Fatalf("reclaim %s: %v", st, err)
		}
		if ix.State != Queued || ix.AgentID != "" || ix.Transfer != nil || ix.ParkedBy != "" || ix.PlanID != "plan" || ix.QueuedAt == nil {
			t.Errorf("reclaimed %s: %+v", st, ix)
		}
	}
}
