package workspace_test

import (
	"context"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

func offerEvent(topic, id string) workspace.Event {
	return workspace.Event{Topic: topic, Offer: &workspace.OfferEvent{Kind: workspace.OfferOffered, Offer: workspace.Offer{ID: id}}}
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
			if e.Offer.Offer.ID != "1" {
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
		got = append(got, e.Offer.Offer.ID)
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
