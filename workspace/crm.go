package workspace

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Change tracking for CRMs (issue 18). Every write of an interaction moves its UpdatedAt,
// and so does a new message (the store moves it with the message's append, so a reader that
// sees the new UpdatedAt also sees the message). Every change a CRM cares about is a
// ChangeEvent stored in the same store step as the change itself (an outbox): the
// interaction's write carries it in Interaction.Outbox, a message's append in
// Message.Outbox, and the store writes both or neither. Webhooks
// (webhook.go) and the event stream (Changes) read the stored events in their order.

// ChangeKind is what happened to an interaction, as CRMs receive it.
type ChangeKind string

// The kinds of change.
const (
	ChangeCreated     ChangeKind = "CREATED"
	ChangeOffered     ChangeKind = "OFFERED"
	ChangeAccepted    ChangeKind = "ACCEPTED"
	ChangeMessage     ChangeKind = "MESSAGE"
	ChangeParked      ChangeKind = "PARKED"
	ChangeUnparked    ChangeKind = "UNPARKED"
	ChangeTransferred ChangeKind = "TRANSFERRED"
	ChangeEnded       ChangeKind = "ENDED"
	ChangeCompleted   ChangeKind = "COMPLETED"
	// ChangeUpdated is any other change a CRM sees: notes, codes, a lapsed or rejected
	// offer that put the interaction back in its queue.
	ChangeUpdated ChangeKind = "UPDATED"
)

// ChangeKinds lists every kind, in the order of an interaction's life.
var ChangeKinds = []ChangeKind{ChangeCreated, ChangeOffered, ChangeAccepted, ChangeMessage, ChangeParked,
	ChangeUnparked, ChangeTransferred, ChangeEnded, ChangeCompleted, ChangeUpdated}

// ChangeEvent is one stored change of an interaction.
type ChangeEvent struct {
	// ID is unique (a UUIDv7): receivers deduplicate on it.
	ID   string
	Kind ChangeKind
	At   time.Time
	// InteractionID is the interaction that changed; MessageID the message of a MESSAGE.
	InteractionID string
	MessageID     string
	// Seq is the event's place in the store's one order of events, set by the store when
	// the event is written: later-written events have larger Seqs, so a reader that has
	// seen every event up to Seq n reads on from n and misses none.
	Seq int64
}

// ChangesTopic is the topic on which each node learns that events were stored (a
// ChangesEvent), so streams and webhook runners read them without waiting for a poll.
const ChangesTopic = "changes"

// KindChanges is ChangesEvent's kind between nodes.
const KindChanges EventKind = "changes"

// ChangesEvent says that change events were stored; readers read them from the store.
type ChangesEvent struct{}

// EventKind implements Payload.
func (*ChangesEvent) EventKind() EventKind { return KindChanges }

func init() { payloadTypes[KindChanges] = func() Payload { return new(ChangesEvent) } }

func newEventID() string { return uuid.Must(uuid.NewV7()).String() }

// LastChanged is when anything about the interaction last changed: UpdatedAt, or for a
// record written before UpdatedAt existed (and not changed since), its completion or
// creation.
func (ix *Interaction) LastChanged() time.Time {
	switch {
	case !ix.UpdatedAt.IsZero():
		return ix.UpdatedAt
	case ix.CompletedAt != nil:
		return *ix.CompletedAt
	}
	return ix.CreatedAt
}

// changeKind says what a write of an interaction from old to ix is to a CRM; "" for
// bookkeeping that a CRM does not see (timers, offer numbers).
func changeKind(old, ix *Interaction) ChangeKind {
	if ix.State != old.State {
		switch {
		case ix.State == Offered:
			return ChangeOffered
		case old.State == Offered && ix.State == Active:
			return ChangeAccepted
		case ix.State == Parked:
			return ChangeParked
		case old.State == Parked && (ix.State == Active || ix.State == Queued):
			return ChangeUnparked
		case old.State == Active && ix.State == Queued:
			return ChangeTransferred // to a plan
		case ix.State == Wrap:
			return ChangeEnded
		case ix.State == Completed:
			return ChangeCompleted
		}
		return ChangeUpdated
	}
	switch {
	case ix.AgentID != old.AgentID || ix.PlanID != old.PlanID:
		return ChangeTransferred
	case ix.Notes != old.Notes || !slices.Equal(ix.Dispositions, old.Dispositions):
		return ChangeUpdated
	}
	return ""
}

// stamp moves the interaction's UpdatedAt for a write from old (nil: a create) and puts the
// event that describes the write in its outbox. UpdatedAt only grows, by at least a
// millisecond (the stores' precision) per write, so a CRM's cursor on it always moves on.
func (s *Service) stamp(old, ix *Interaction) {
	now := s.Clock.Now()
	kind := ChangeCreated
	if old != nil {
		now = s.changeTime(old)
		kind = changeKind(old, ix)
	}
	ix.UpdatedAt = now
	ix.Outbox = nil
	if kind != "" {
		ix.Outbox = []*ChangeEvent{{ID: newEventID(), Kind: kind, At: now, InteractionID: ix.ID}}
	}
	for _, m := range ix.Messages { // sent as the record changes, each with its MESSAGE event
		if m.ID == "" {
			m.ID = newMessageID()
		}
		m.InteractionID, m.SentAt = ix.ID, now
		m.Outbox = []*ChangeEvent{{ID: newEventID(), Kind: ChangeMessage, At: now, InteractionID: ix.ID, MessageID: m.ID}}
	}
}

// changeTime is when a change of old is stamped: now, or just after its last change, so that
// a record's changes are ordered by their stamps.
func (s *Service) changeTime(old *Interaction) time.Time {
	now := s.Clock.Now()
	if next := old.UpdatedAt.Truncate(time.Millisecond).Add(time.Millisecond); now.Before(next) {
		return next
	}
	return now
}

// createInteraction stores a new interaction with its CREATED event, and the messages it
// carries (Interaction.Messages).
func (s *Service) createInteraction(ctx context.Context, ix *Interaction) error {
	s.stamp(nil, ix)
	err := s.Store.CreateInteraction(ctx, ix)
	s.storedWith(ix, err)
	return err
}

// storedWith announces what a write of ix stored besides the record, once it is stored: its
// events, and the messages it carried on their interaction's topic. It empties both.
func (s *Service) storedWith(ix *Interaction, err error) {
	events := ix.Outbox
	for _, m := range ix.Messages {
		events = append(slices.Clip(events), m.Outbox...)
	}
	s.stored(events, err) // a write whose record change has no event may carry a message's
	for _, m := range ix.Messages {
		m.Outbox = nil
		if err == nil {
			s.notify(MessagesTopic(m.InteractionID), &MessageEvent{Message: m})
		}
	}
	ix.Outbox, ix.Messages, ix.Learnt = nil, nil, nil
}

// note is a SYSTEM message for Interaction.Messages, saying what a step did.
func note(text string) []*Message {
	return []*Message{{From: PartySystem, Text: text}}
}

// stored tells every node's readers that events were written.
func (s *Service) stored(events []*ChangeEvent, err error) {
	if err == nil && len(events) > 0 {
		s.notify(ChangesTopic, &ChangesEvent{})
		s.kickWebhooks()
	}
}

// changesPage is how many events one read of the store returns.
const changesPage = 200

// pollChanges is how often a stream reads the store when no ChangesEvent woke it: the
// safety net for an announcement another node's bus lost.
const pollChanges = 2 * time.Second

// Changes streams the stored change events of the given kinds (all when none) to a CRM key
// with the read scope or a supervisor: first those after the event afterID (none: only
// events from now on), then each as it is stored. The stream reads the store, in the
// store's order, so it is gapless, and a client that reconnects with the ID of the last
// event it saw misses nothing. The channel closes when ctx ends.
func (s *Service) Changes(ctx context.Context, kinds []ChangeKind, afterID string) (<-chan *ChangeEvent, error) {
	if err := requireCRM(ctx); err != nil {
		return nil, err
	}
	if err := checkKinds(kinds); err != nil {
		return nil, err
	}
	var from int64
	if afterID != "" {
		if checkID(afterID) != nil {
			return nil, fieldError(EINVALID, "after", "not a valid event ID: IDs are UUIDs")
		}
		e, err := s.Store.Event(ctx, afterID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, fieldError(ENOTFOUND, "after", "no event has this ID")
		} else if err != nil {
			return nil, err
		}
		from = e.Seq
	} else {
		seq, err := s.Store.LastEventSeq(ctx)
		if err != nil {
			return nil, err
		}
		from = seq
	}
	wake := make(chan struct{}, 1)
	if s.Hub != nil {
		s.Hub.Watch(ctx, ChangesTopic, func(Event) {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
	}
	out := make(chan *ChangeEvent, 16)
	go func() {
		defer close(out)
		t := time.NewTicker(pollChanges)
		defer t.Stop()
		for {
			events, err := s.Store.Events(ctx, from, changesPage)
			if err != nil && ctx.Err() != nil {
				return
			}
			for _, e := range events {
				from = e.Seq
				if len(kinds) > 0 && !slices.Contains(kinds, e.Kind) {
					continue
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
			if len(events) == changesPage {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-t.C:
			}
		}
	}()
	return out, nil
}

// requireCRM allows API keys with the read scope and supervisors: those who may follow every
// interaction.
func requireCRM(ctx context.Context) error {
	if PrincipalFrom(ctx).Kind == IntegrationPrincipal {
		return RequireReader(ctx)
	}
	_, err := RequireSupervisor(ctx)
	return err
}

// checkKinds refuses a kind that does not exist.
func checkKinds(kinds []ChangeKind) error {
	for _, k := range kinds {
		if !slices.Contains(ChangeKinds, k) {
			return fieldError(EINVALID, "kinds", "unknown kind of event %q", k)
		}
	}
	return nil
}

// EventMessage returns the message of a MESSAGE event, to whoever may follow events.
func (s *Service) EventMessage(ctx context.Context, e *ChangeEvent) (*Message, error) {
	if e.MessageID == "" {
		return nil, nil
	}
	if err := requireCRM(ctx); err != nil {
		return nil, err
	}
	return s.Store.Message(ctx, e.MessageID)
}
