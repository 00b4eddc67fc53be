package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

func event(kind workspace.ChangeKind, ixID, msgID string) *workspace.ChangeEvent {
	return &workspace.ChangeEvent{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, At: now(), InteractionID: ixID, MessageID: msgID}
}

// eventIDs reads every stored event after the seq, in order.
func eventIDs(t *testing.T, s workspace.Store, after int64) []string {
	t.Helper()
	events, err := s.Events(ctx(t), after, 1000)
	must(t, err)
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
		if i > 0 && e.Seq <= events[i-1].Seq {
			t.Fatalf("events out of seq order: %d after %d", e.Seq, events[i-1].Seq)
		}
	}
	return ids
}

// testEvents: a write's outbox is stored with it or not at all, in one order of all
// events, and survives the writes that follow (an update, an archive).
func testEvents(t *testing.T, s workspace.Store) {
	if seq, err := s.LastEventSeq(ctx(t)); err != nil || seq != 0 {
		t.Fatalf("LastEventSeq of an empty store = %d, %v", seq, err)
	}
	ix := newInteraction(now())
	created := event(workspace.ChangeCreated, ix.ID, "")
	ix.Outbox = []*workspace.ChangeEvent{created}
	must(t, s.CreateInteraction(ctx(t), ix))

	// A create that collides stores no event.
	dup := newInteraction(now())
	dup.ID = ix.ID
	lost := event(workspace.ChangeCreated, ix.ID, "")
	dup.Outbox = []*workspace.ChangeEvent{lost}
	wantCode(t, s.CreateInteraction(ctx(t), dup), workspace.ECONFLICT)

	// An update that loses its version guard stores no event; one that wins does.
	stale := *ix
	stale.Version = 7
	lost2 := event(workspace.ChangeOffered, ix.ID, "")
	stale.Outbox = []*workspace.ChangeEvent{lost2}
	wantCode(t, s.UpdateInteraction(ctx(t), &stale, workspace.Queued), workspace.ECONFLICT)
	offered := event(workspace.ChangeOffered, ix.ID, "")
	next := *ix
	next.State, next.AgentID, next.UpdatedAt, next.Outbox = workspace.Offered, "agent-1", now().Add(time.Second), []*workspace.ChangeEvent{offered}
	must(t, s.UpdateInteraction(ctx(t), &next, workspace.Queued))

	// A message's event; a message that collides stores none.
	m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact, Text: "hi", SentAt: now().Add(1500 * time.Millisecond),
		Delivery: workspace.DeliveryPending, NextAttemptAt: now()}
	said := event(workspace.ChangeMessage, ix.ID, m.ID)
	m.Outbox = []*workspace.ChangeEvent{said}
	must(t, s.AppendMessage(ctx(t), m))
	again := *m
	lost3 := event(workspace.ChangeMessage, ix.ID, m.ID)
	again.Outbox = []*workspace.ChangeEvent{lost3}
	wantCode(t, s.AppendMessage(ctx(t), &again), workspace.ECONFLICT)
	// Updating the message (its delivery) keeps its event.
	m.Delivery = workspace.DeliverySent
	must(t, s.UpdateMessage(ctx(t), m))
	// The message moved the interaction's UpdatedAt (not its version), so a write decided
	// on a read from before the message loses its guard.
	moved, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	if !moved.UpdatedAt.Equal(m.SentAt) || moved.Version != next.Version {
		t.Fatalf("after a message: updatedAt %v (want the message's %v), version %d (want %d)", moved.UpdatedAt, m.SentAt, moved.Version, next.Version)
	}
	stale2 := next
	stale2.UpdatedAt, stale2.Notes, stale2.Outbox = m.SentAt.Add(-time.Millisecond), "decided before the message", nil
	wantCode(t, s.UpdateInteraction(ctx(t), &stale2, workspace.Offered), workspace.ECONFLICT)

	// Completing and archiving keeps the COMPLETED event.
	done := next
	done.Outbox = nil
	fresh, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	done.Version, done.State, done.UpdatedAt = fresh.Version, workspace.Completed, now().Add(3*time.Second)
	completed := event(workspace.ChangeCompleted, ix.ID, "")
	done.Outbox = []*workspace.ChangeEvent{completed}
	must(t, s.UpdateInteraction(ctx(t), &done, workspace.Offered))
	done.Outbox = nil
	must(t, s.ArchiveInteraction(ctx(t), &done))

	want := fmt.Sprint([]string{created.ID, offered.ID, said.ID, completed.ID})
	if got := fmt.Sprint(eventIDs(t, s, 0)); got != want {
		t.Fatalf("events %s\nwant   %s", got, want)
	}
	for _, id := range []string{lost.ID, lost2.ID, lost3.ID} {
		_, err := s.Event(ctx(t), id)
		wantCode(t, err, workspace.ENOTFOUND)
	}
	e, err := s.Event(ctx(t), offered.ID)
	must(t, err)
	if e.Kind != workspace.ChangeOffered || e.InteractionID != ix.ID || !e.At.Equal(offered.At) || e.Seq <= 0 {
		t.Fatalf("Event = %+v, want %+v", e, offered)
	}
	if got, want := fmt.Sprint(eventIDs(t, s, e.Seq)), fmt.Sprint([]string{said.ID, completed.ID}); got != want {
		t.Fatalf("events after %d: %s, want %s", e.Seq, got, want)
	}
	msgEvent, err := s.Event(ctx(t), said.ID)
	must(t, err)
	if msgEvent.MessageID != m.ID {
		t.Fatalf("MESSAGE event's message = %q, want %q", msgEvent.MessageID, m.ID)
	}
	last, err := s.LastEventSeq(ctx(t))
	must(t, err)
	if c, _ := s.Event(ctx(t), completed.ID); c == nil || c.Seq != last {
		t.Fatalf("LastEventSeq = %d, want the COMPLETED event's %+v", last, c)
	}
	// The stores never return an outbox from a read.
	got, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	if got.Outbox != nil || !got.UpdatedAt.Equal(done.UpdatedAt) {
		t.Fatalf("read back outbox %v, updatedAt %v (want %v)", got.Outbox, got.UpdatedAt, done.UpdatedAt)
	}
}

// testUpdatedOrder: with UpdatedAfter, interactions (live and history) come in UpdatedAt
// then ID order, from the time on, after the cursor; PlanID filters.
func testUpdatedOrder(t *testing.T, s workspace.Store) {
	base := now().Add(-time.Hour)
	var ids []string
	at := map[string]time.Time{}
	for i := range 6 {
		ix := newInteraction(base.Add(time.Duration(i) * time.Second))
		// Updated in reverse creation order, so the two orders differ.
		ix.UpdatedAt = base.Add(time.Duration(10-i) * time.Minute)
		if i%2 == 1 {
			ix.PlanID = "plan-2"
		}
		must(t, s.CreateInteraction(ctx(t), ix))
		ids, at[ix.ID] = append(ids, ix.ID), ix.UpdatedAt
		if i == 0 { // one in history
			done := *ix
			done.State, done.UpdatedAt = workspace.Completed, base.Add(11*time.Minute)
			must(t, s.UpdateInteraction(ctx(t), &done, workspace.Queued))
			must(t, s.ArchiveInteraction(ctx(t), &done))
			at[ix.ID] = done.UpdatedAt
		}
	}
	from := base.Add(7 * time.Minute)
	list, err := s.Interactions(ctx(t), workspace.InteractionFilter{UpdatedAfter: &from}, nil, 10)
	must(t, err)
	var got []string
	for _, ix := range list {
		got = append(got, ix.ID)
	}
	// ids[3] at +7 (inclusive), ids[2] +8, ids[1] +9, ids[0] +11 (history).
	if want := fmt.Sprint([]string{ids[3], ids[2], ids[1], ids[0]}); fmt.Sprint(got) != want {
		t.Fatalf("updatedAfter order %v\nwant %s", got, want)
	}
	cur := &workspace.InteractionCursor{CreatedAt: at[ids[2]], ID: ids[2]}
	list, err = s.Interactions(ctx(t), workspace.InteractionFilter{UpdatedAfter: &from}, cur, 1)
	must(t, err)
	if len(list) != 1 || list[0].ID != ids[1] {
		t.Fatalf("after the cursor: %v, want %s", list, ids[1])
	}
	list, err = s.Interactions(ctx(t), workspace.InteractionFilter{PlanID: "plan-2"}, nil, 10)
	must(t, err)
	if len(list) != 3 || list[0].ID != ids[1] || list[2].ID != ids[5] {
		var got []string
		for _, ix := range list {
			got = append(got, ix.ID)
		}
		t.Fatalf("plan-2: %v, want %v", got, []string{ids[1], ids[3], ids[5]})
	}
}

// testWebhooks: webhooks round-trip, their writes are version-guarded, and failed
// deliveries are kept newest first.
func testWebhooks(t *testing.T, s workspace.Store) {
	f := newFiller(t)
	w := full[workspace.Webhook](f)
	w.ID, w.Version, w.Last.WebhookID = uuid.NewString(), 0, ""
	w.Last.WebhookID = w.ID
	must(t, s.CreateWebhook(ctx(t), w))
	wantCode(t, s.CreateWebhook(ctx(t), w), workspace.ECONFLICT)
	got, err := s.Webhook(ctx(t), w.ID)
	must(t, err)
	sameFields(t, "Webhook", got, w)

	next := full[workspace.Webhook](f)
	next.ID, next.Version, next.Last, next.FailingSince = w.ID, w.Version, nil, nil
	must(t, s.UpdateWebhook(ctx(t), next))
	if next.Version != w.Version+1 {
		t.Fatalf("version %d after update, want %d", next.Version, w.Version+1)
	}
	stale := *next
	stale.Version = w.Version
	wantCode(t, s.UpdateWebhook(ctx(t), &stale), workspace.ECONFLICT)
	all, err := s.Webhooks(ctx(t))
	sameFields(t, "Webhooks", one(t, "Webhooks", all, err), next)

	old := &workspace.WebhookDelivery{WebhookID: w.ID, EventID: "e-1", Attempts: 30, LastStatus: 500, LastError: "boom", LastAttemptAt: now().Add(-time.Minute)}
	recent := &workspace.WebhookDelivery{WebhookID: w.ID, EventID: "e-2", Attempts: 29, LastError: "timeout", LastAttemptAt: now()}
	must(t, s.SaveFailedDelivery(ctx(t), old))
	must(t, s.SaveFailedDelivery(ctx(t), recent))
	old.Attempts = 31
	must(t, s.SaveFailedDelivery(ctx(t), old)) // replaces
	list, err := s.FailedDeliveries(ctx(t), w.ID, 10)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d failed deliveries, want 2", len(list))
	}
	sameFields(t, "newest failed delivery", list[0], recent)
	sameFields(t, "older failed delivery", list[1], old)
	must(t, s.DeleteFailedDelivery(ctx(t), w.ID, "e-2"))
	wantCode(t, s.DeleteFailedDelivery(ctx(t), w.ID, "e-2"), workspace.ENOTFOUND)

	must(t, s.DeleteWebhook(ctx(t), w.ID))
	wantCode(t, s.DeleteWebhook(ctx(t), w.ID), workspace.ENOTFOUND)
	_, err = s.Webhook(ctx(t), w.ID)
	wantCode(t, err, workspace.ENOTFOUND)
	if list, err := s.FailedDeliveries(ctx(t), w.ID, 10); err != nil || len(list) != 0 {
		t.Fatalf("failed deliveries of a deleted webhook: %v, %v", list, err)
	}
}

// testInteractionMessages: a create or an update stores the messages it carries
// (Interaction.Messages) with the record: in the transcript, with their events after the
// record's, sharing the record's UpdatedAt, which they do not move. A write that is refused
// stores none of them, and a carried message's ExternalID is as unique as an appended one's.
func testInteractionMessages(t *testing.T, s workspace.Store) {
	at := now()
	ix := newInteraction(at)
	ix.UpdatedAt = at
	// Events are made in the domain's order (stamp): the record's, then its messages'.
	message := func(from workspace.Party, text string, at time.Time) *workspace.Message {
		m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: from, Text: text, SentAt: at}
		m.Outbox = []*workspace.ChangeEvent{event(workspace.ChangeMessage, ix.ID, m.ID)}
		return m
	}
	transcript := func() string {
		t.Helper()
		list, err := s.Messages(ctx(t), ix.ID, "", 10)
		must(t, err)
		var out []string
		for _, m := range list {
			out = append(out, string(m.From)+": "+m.Text+" @"+m.SentAt.Format("15:04:05.000"))
		}
		return fmt.Sprint(out)
	}
	from, err := s.LastEventSeq(ctx(t))
	must(t, err)

	created := event(workspace.ChangeCreated, ix.ID, "")
	first := message(workspace.PartyContact, "Hello", at)
	first.ExternalID = "sms:SM-first"
	ix.Outbox, ix.Messages = []*workspace.ChangeEvent{created}, []*workspace.Message{first}
	must(t, s.CreateInteraction(ctx(t), ix))
	if got, err := s.MessageByExternalID(ctx(t), first.ExternalID); err != nil || got.ID != first.ID {
		t.Fatalf("the first message by its external ID: %+v, %v", got, err)
	}

	next := *ix
	next.State, next.AgentID, next.UpdatedAt = workspace.Active, "agent-1", at.Add(time.Second)
	accepted := event(workspace.ChangeAccepted, ix.ID, "")
	joined := message(workspace.PartySystem, "Sam joined the chat", next.UpdatedAt)
	next.Outbox, next.Messages = []*workspace.ChangeEvent{accepted}, []*workspace.Message{joined}
	must(t, s.UpdateInteraction(ctx(t), &next, workspace.Queued))

	// Refused: a stale version, and a create whose ID is taken. Neither stores its message.
	stale := next
	stale.Version, stale.UpdatedAt = 0, at.Add(2*time.Second)
	lost := message(workspace.PartySystem, "never stored", stale.UpdatedAt)
	stale.Outbox, stale.Messages = nil, []*workspace.Message{lost}
	wantCode(t, s.UpdateInteraction(ctx(t), &stale, workspace.Active), workspace.ECONFLICT)
	dup := newInteraction(at)
	dup.ID = ix.ID
	lost2 := message(workspace.PartyContact, "never stored either", at)
	dup.Messages = []*workspace.Message{lost2}
	wantCode(t, s.CreateInteraction(ctx(t), dup), workspace.ECONFLICT)
	for _, m := range []*workspace.Message{lost, lost2} {
		_, err := s.Message(ctx(t), m.ID)
		wantCode(t, err, workspace.ENOTFOUND)
	}
	// The first message's provider ID is taken, whichever way it came in.
	again := message(workspace.PartyContact, "Hello", at.Add(3*time.Second))
	again.ExternalID = first.ExternalID
	wantCode(t, s.AppendMessage(ctx(t), again), workspace.ECONFLICT)

	want := fmt.Sprint([]string{"CONTACT: Hello @" + at.Format("15:04:05.000"), "SYSTEM: Sam joined the chat @" + next.UpdatedAt.Format("15:04:05.000")})
	if got := transcript(); got != want {
		t.Fatalf("transcript %s\nwant       %s", got, want)
	}
	got, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	if !got.UpdatedAt.Equal(next.UpdatedAt) || got.Version != next.Version || got.Messages != nil || got.Outbox != nil {
		t.Fatalf("read back updatedAt %v version %d (want %v, %d), messages %v, outbox %v", got.UpdatedAt, got.Version, next.UpdatedAt, next.Version, got.Messages, got.Outbox)
	}
	wantEvents := fmt.Sprint([]string{created.ID, first.Outbox[0].ID, accepted.ID, joined.Outbox[0].ID})
	if got := fmt.Sprint(eventIDs(t, s, from)); got != wantEvents {
		t.Fatalf("events %s\nwant   %s", got, wantEvents)
	}
}
