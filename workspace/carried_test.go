package workspace_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// writesStore counts the writes of interactions, messages and Agent Assist examples, keeps
// what completions carried, and runs before, when set, ahead of the next write of an
// interaction that carries a contact's message.
type writesStore struct {
	workspace.Store
	appends, updates, examples atomic.Int64
	carried                    []*workspace.Message
	learnt                     []*workspace.AssistExample
	before                     func()
}

func (w *writesStore) AddAssistExample(ctx context.Context, e *workspace.AssistExample) error {
	w.examples.Add(1)
	return w.Store.AddAssistExample(ctx, e)
}

func (w *writesStore) CompleteInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	err := w.Store.CompleteInteraction(ctx, ix, from)
	if err == nil {
		w.learnt = append(w.learnt, ix.Learnt...)
	}
	return err
}

func (w *writesStore) AppendMessage(ctx context.Context, m *workspace.Message) error {
	w.appends.Add(1)
	return w.Store.AppendMessage(ctx, m)
}

func (w *writesStore) UpdateInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	w.updates.Add(1)
	if len(ix.Messages) > 0 && ix.Messages[0].From == workspace.PartyContact {
		w.carried = append(w.carried, ix.Messages...)
		if f := w.before; f != nil {
			w.before = nil
			f()
		}
	}
	return w.Store.UpdateInteraction(ctx, ix, from)
}

// transcriptTexts are the texts of an interaction's messages from the contact.
func (e *env) contactTexts(id string) []string {
	e.t.Helper()
	ms, err := e.s.Store.Messages(e.t.Context(), id, "", 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.From == workspace.PartyContact {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestContactMessageIsOneWrite (issue 14, K2): a contact's message on an ACTIVE chat is
// stored in the write that restarts the auto-park countdown, one write where there were
// two, with its MESSAGE event, and announced on the chat's messages feed.
func TestContactMessageIsOneWrite(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support")
	store := &writesStore{Store: e.s.Store}
	e.s.Store = store
	feed := e.hub.Subscribe(t.Context(), workspace.MessagesTopic(ix.ID))
	before, err := store.Events(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	m := e.say(contact, "where is my parcel?")
	if store.appends.Load() != 0 || store.updates.Load() != 1 || len(store.carried) != 1 || store.carried[0].Text != "where is my parcel?" {
		t.Fatalf("%d message writes, %d interaction writes carrying %v; want the message carried by one interaction write",
			store.appends.Load(), store.updates.Load(), store.carried)
	}
	got := e.get(ix.ID)
	if got.LastContactAt == nil || !got.LastContactAt.Equal(m.SentAt) || got.AutoParkAt == nil || !got.AutoParkAt.After(*ix.AutoParkAt) {
		t.Fatalf("after the message: lastContactAt %v (message sent %v), autoParkAt %v (was %v)", got.LastContactAt, m.SentAt, got.AutoParkAt, ix.AutoParkAt)
	}
	if texts := e.contactTexts(ix.ID); len(texts) != 2 || texts[1] != "where is my parcel?" {
		t.Fatalf("the contact's messages: %q", texts)
	}
	after, err := store.Events(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var messageEvents int
	for _, ev := range after[len(before):] {
		if ev.Kind == workspace.ChangeMessage && ev.MessageID == m.ID {
			messageEvents++
		}
	}
	if messageEvents != 1 {
		t.Fatalf("%d MESSAGE events for the message in %v", messageEvents, after[len(before):])
	}
	for {
		ev := next(t, feed)
		if me, ok := workspace.As[*workspace.MessageEvent](ev); ok && me.Message.ID == m.ID {
			break
		}
	}
}

// TestContactMessageRacingAPark (K4): when the chat is parked in the instant a contact's
// message arrives, so that the write carrying the message is refused, the message is
// stored all the same, once, and wakes the chat as any reply to a parked chat does.
func TestContactMessageRacingAPark(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	contact, ix := e.active("Support")
	store := &writesStore{Store: e.s.Store}
	e.s.Store = store
	store.before = func() { e.park(ix) }
	e.say(contact, "are you there?")
	if len(store.carried) == 0 {
		t.Fatal("the message was never carried by an interaction write")
	}
	if store.appends.Load() != 1 {
		t.Fatalf("%d message writes after the refused one, want 1", store.appends.Load())
	}
	if texts := e.contactTexts(ix.ID); len(texts) != 2 || texts[1] != "are you there?" {
		t.Fatalf("the contact's messages: %q", texts)
	}
	if got := e.get(ix.ID); got.State == workspace.Parked {
		t.Fatalf("the reply left the chat %s", got.State)
	}
}

// TestCompletionCarriesWhatAssistLearns (issue 14, W4): what a
// completion teaches Agent Assist, one example per code chosen, is stored by the completing
// write itself, not by a write of its own, and the node's model learns it at once.
func TestCompletionCarriesWhatAssistLearns(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	p := e.assistPlan("Assist", "BILLING", "SHIPPING")
	store := &writesStore{Store: e.s.Store}
	e.s.Store = store
	ix := e.chatAbout("Assist", "Sam", "my parcel has not arrived yet")
	e.finishWith(ix, "SHIPPING")
	if store.examples.Load() != 0 || len(store.learnt) != 1 || store.learnt[0].Code != "SHIPPING" || store.learnt[0].PlanID != p.ID {
		t.Fatalf("%d example writes; the completion carried %+v; want one SHIPPING example carried", store.examples.Load(), store.learnt)
	}
	stored, err := store.Store.AssistExamples(t.Context(), p.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].ID != store.learnt[0].ID || !strings.Contains(stored[0].Text, "parcel") {
		t.Fatalf("stored examples: %+v", stored)
	}
}
