package workspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

func offerEvent(topic, id string) workspace.Event {
	return workspace.Event{Topic: topic, Payload: &workspace.OfferEvent{Kind: workspace.OfferOffered, Offer: workspace.Offer{ID: id}}}
}

func TestHubDeliversToTopicOnly(t *testing.T) {
	h := workspace.NewHub(4)
	a := h.Subscribe(t.Context(), "agent:a")
	a2 := h.Subscribe(t.Context(), "agent:a")
	b := h.Subscribe(t.Context(), "agent:b")
	h.Publish(offerEvent("agent:a", "1"))
	for _, ch := range []<-chan workspace.Event{a, a2} {
		select {
		case e := <-ch:
			if offerIn(e).Offer.ID != "1" {
				t.Fatalf("got %+v", e)
			}
		case <-time.After(time.Second):
			t.Fatal("subscriber of the topic got nothing")
		}
	}
	select {
	case e := <-b:
		t.Fatalf("another topic's subscriber got %+v", e)
	default:
	}
}

// TestHubDropsSlowSubscriber: publishing never blocks; a subscriber a whole buffer behind
// is closed so it knows to re-subscribe and re-query, and others keep receiving.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h := workspace.NewHub(2)
	slow := h.Subscribe(t.Context(), "t")
	fast := h.Subscribe(t.Context(), "t")
	done := make(chan struct{})
	go func() {
		for i := 0; i < 3; i++ {
			h.Publish(offerEvent("t", "x"))
			<-fast
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	n := 0
	for range slow {
		n++
	}
	if n != 2 {
		t.Fatalf("slow subscriber got %d buffered events before its channel closed, want 2", n)
	}
	if got := h.Subscribers("t"); got != 1 {
		t.Fatalf("%d subscribers left, want the fast one only", got)
	}
}

func TestHubRemovesSubscriberWhenContextEnds(t *testing.T) {
	h := workspace.NewHub(1)
	ctx, cancel := context.WithCancel(context.Background())
	ch := h.Subscribe(ctx, "t")
	if h.Subscribers("t") != 1 {
		t.Fatal("not subscribed")
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("got an event instead of a close")
		}
	case <-time.After(time.Second):
		t.Fatal("channel not closed after the context ended")
	}
	if h.Subscribers("t") != 0 {
		t.Fatal("subscriber still registered")
	}
	h.Publish(offerEvent("t", "after")) // must not panic on a closed channel
}

// TestHubWatchers: a watcher is called with its topic's events on the publisher's goroutine,
// outside the hub's lock (so it may publish itself), and is gone once its context ends.
func TestHubWatchers(t *testing.T) {
	h := workspace.NewHub(4)
	ctx, cancel := context.WithCancel(t.Context())
	var got []string
	h.Watch(ctx, "session:x", func(e workspace.Event) {
		got = append(got, offerIn(e).Offer.ID)
		h.Publish(offerEvent("elsewhere", "echo")) // would deadlock under the hub's lock
	})
	h.Publish(offerEvent("session:y", "other topic"))
	h.Publish(offerEvent("session:x", "1"))
	h.Publish(offerEvent("session:x", "2"))
	if len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Fatalf("the watcher got %v", got)
	}
	if h.Watchers() != 1 || h.Count() != 0 {
		t.Fatalf("%d watchers and %d subscriptions, want 1 and 0", h.Watchers(), h.Count())
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for h.Watchers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the watcher outlived its context")
		}
		time.Sleep(time.Millisecond)
	}
	h.Publish(offerEvent("session:x", "3"))
	if len(got) != 2 {
		t.Fatalf("a removed watcher got %v", got)
	}
}

// The payloads tests look at, nil when the event carries another kind.

func offerIn(e workspace.Event) *workspace.OfferEvent {
	p, _ := workspace.As[*workspace.OfferEvent](e)
	return p
}

func updateIn(e workspace.Event) *workspace.Interaction {
	if p, ok := workspace.As[*workspace.InteractionEvent](e); ok {
		return p.Interaction
	}
	return nil
}

func messageIn(e workspace.Event) *workspace.Message {
	if p, ok := workspace.As[*workspace.MessageEvent](e); ok {
		return p.Message
	}
	return nil
}

func unparkIn(e workspace.Event) *workspace.UnparkEvent {
	p, _ := workspace.As[*workspace.UnparkEvent](e)
	return p
}

func transferIn(e workspace.Event) *workspace.TransferEvent {
	p, _ := workspace.As[*workspace.TransferEvent](e)
	return p
}

// recorder is a Publisher that keeps every event the service publishes and hands it on.
type recorder struct {
	mu     sync.Mutex
	events []workspace.Event
	next   workspace.Publisher
}

func (r *recorder) Publish(e workspace.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.next.Publish(e)
}

// TestEventsCarryNoSecrets walks a webchat through every kind of event (offers, updates,
// messages, a change of followers, an unpark, a transfer result, a revocation) and checks
// that each interaction an event carries is a copy without the contact's token hash, on this
// node as in the JSON that crosses nodes, and not the service's own record.
func TestEventsCarryNoSecrets(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{next: e.hub}
	e.s.Bus = rec
	e.ready("alice")
	contact, ix := e.active("Support")
	hash := e.get(ix.ID).ContactTokenHash
	if hash == "" {
		t.Fatal("a webchat has a contact token hash")
	}
	e.say(contact, "my router blinks red")
	e.ready("bob")
	if _, err := e.transfer(ix, e.toAgent("bob")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RejectOffer(e.as("bob"), e.get(ix.ID).Transfer.OfferID); err != nil {
		t.Fatal(err)
	}
	e.park(ix)
	e.say(contact, "back again")
	token, _, _, err := e.s.Login(t.Context(), "carol", workspace.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	carol, err := e.s.Authenticate(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Logout(workspace.WithPrincipal(t.Context(), carol)); err != nil {
		t.Fatal(err)
	}
	// A call's signalling carries SDP and candidates, never an interaction.
	e.s.PublishRtcSignal(e.agent("alice").ID, workspace.RtcSignal{InteractionID: ix.ID, Type: "offer", Payload: "v=0"})

	seen := map[workspace.EventKind]bool{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ev := range rec.events {
		seen[ev.Kind()] = true
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(hash)) {
			t.Errorf("a %s event carries the contact's token hash across nodes: %s", ev.Kind(), data)
		}
		var ixs []*workspace.Interaction
		switch p := ev.Payload.(type) {
		case *workspace.OfferEvent:
			ixs = append(ixs, &p.Offer.Interaction)
		case *workspace.InteractionEvent:
			ixs = append(ixs, p.Interaction)
		case *workspace.FollowersEvent:
			ixs = append(ixs, p.Interaction)
		case *workspace.UnparkEvent:
			ixs = append(ixs, p.Interaction)
		case *workspace.TransferEvent:
			ixs = append(ixs, p.Interaction)
		}
		for _, x := range ixs {
			if x.ContactTokenHash != "" {
				t.Errorf("a %s event delivered on this node carries the contact's token hash", ev.Kind())
			}
		}
	}
	for _, kind := range workspace.EventKinds() {
		if !seen[kind] {
			t.Errorf("the walk published no %s event", kind)
		}
	}
	if e.get(ix.ID).ContactTokenHash != hash {
		t.Fatal("publishing changed the stored interaction")
	}
}

// TestHubFollow: a follower gets the values its pick makes of its kind of event, in the order
// they were published, with no goroutine of its own; other kinds and nil picks are skipped;
// a follower a whole buffer behind is dropped (its channel closed), as is one whose context
// ends, and the others go on.
func TestHubFollow(t *testing.T) {
	h := workspace.NewHub(3)
	ctx, cancel := context.WithCancel(t.Context())
	before := runtime.NumGoroutine()
	offers := workspace.Follow(ctx, h, "agent:a", func(e *workspace.OfferEvent) *workspace.Offer {
		if e.Offer.ID == "skip" {
			return nil
		}
		return &e.Offer
	})
	slow := workspace.Follow(t.Context(), h, "agent:a", func(e *workspace.OfferEvent) *workspace.Offer { return &e.Offer })
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("following started %d goroutines", n-before)
	}
	h.Publish(offerEvent("agent:a", "1"))
	h.Publish(workspace.Event{Topic: "agent:a", Payload: &workspace.UnparkEvent{}}) // another kind
	h.Publish(offerEvent("agent:a", "skip"))
	h.Publish(offerEvent("agent:b", "elsewhere"))
	h.Publish(offerEvent("agent:a", "2"))
	for _, want := range []string{"1", "2"} {
		if got := <-offers; got.ID != want {
			t.Fatalf("got offer %s, want %s", got.ID, want)
		}
	}
	// slow read nothing: it holds 1, skip and 2 (a full buffer); one more drops it.
	h.Publish(offerEvent("agent:a", "3"))
	var got []string
	for o := range slow {
		got = append(got, o.ID)
	}
	if fmt.Sprint(got) != "[1 skip 2]" {
		t.Fatalf("the slow follower got %v before its channel closed", got)
	}
	if o := <-offers; o.ID != "3" {
		t.Fatalf("the other follower got %s after the slow one was dropped", o.ID)
	}
	cancel()
	if _, open := <-offers; open {
		t.Fatal("the follower's channel stayed open after its context ended")
	}
	if n := h.Subscribers("agent:a"); n != 0 {
		t.Fatalf("%d subscribers left", n)
	}
}

// TestHubFollowTopics: one stream of several topics, in the order events were published,
// with no goroutine of its own; a follower that falls behind on one topic is dropped from
// all of them, and publishing on the others afterwards neither blocks nor panics.
func TestHubFollowTopics(t *testing.T) {
	h := workspace.NewHub(3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	before := runtime.NumGoroutine()
	pick := func(e workspace.Event) *string {
		o, ok := e.Payload.(*workspace.OfferEvent)
		if !ok || o.Offer.ID == "skip" {
			return nil
		}
		id := e.Topic + "=" + o.Offer.ID
		return &id
	}
	both := workspace.FollowTopics(ctx, h, []string{"agent:a", "updates:a"}, pick)
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("following started %d goroutines", n-before)
	}
	h.Publish(offerEvent("agent:a", "1"))
	h.Publish(offerEvent("updates:a", "2"))
	h.Publish(offerEvent("agent:b", "elsewhere"))
	h.Publish(offerEvent("agent:a", "skip"))
	h.Publish(workspace.Event{Topic: "updates:a", Payload: &workspace.UnparkEvent{}}) // not picked
	h.Publish(offerEvent("agent:a", "3"))
	var got []string
	for range 3 {
		got = append(got, *<-both)
	}
	if fmt.Sprint(got) != "[agent:a=1 updates:a=2 agent:a=3]" {
		t.Fatalf("followed %v", got)
	}
	// Three unread fill the buffer; a fourth, on either topic, drops the follower from both.
	for _, id := range []string{"4", "5", "6"} {
		h.Publish(offerEvent("updates:a", id))
	}
	h.Publish(offerEvent("agent:a", "7"))
	got = nil
	for id := range both {
		got = append(got, *id)
	}
	if fmt.Sprint(got) != "[updates:a=4 updates:a=5 updates:a=6]" {
		t.Fatalf("the slow follower got %v before its stream closed", got)
	}
	h.Publish(offerEvent("updates:a", "8")) // no send on the closed stream
	// Dropped from both topics at once, not when some goroutine gets round to it.
	if n, m := h.Subscribers("agent:a"), h.Subscribers("updates:a"); n != 0 || m != 0 {
		t.Fatalf("the dropped follower is still on its topics: %d and %d", n, m)
	}
	// A follower whose context ends lets go of every topic, and its stream closes.
	ctx2, cancel2 := context.WithCancel(t.Context())
	other := workspace.FollowTopics(ctx2, h, []string{"agent:a", "updates:a"}, pick)
	cancel2()
	if _, open := <-other; open {
		t.Fatal("the stream stayed open after its context ended")
	}
	noSubscribers(t, h, "agent:a", "updates:a")
}

// noSubscribers waits until the topics have no subscriber: a context's end reaches each
// topic's registration on a goroutine of its own (context.AfterFunc).
func noSubscribers(t *testing.T, h *workspace.Hub, topics ...string) {
	t.Helper()
	for _, topic := range topics {
		for deadline := time.Now().Add(10 * time.Second); h.Subscribers(topic) != 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d subscribers left on %s", h.Subscribers(topic), topic)
			}
		}
	}
}
