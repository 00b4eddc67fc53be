package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/server"
	"github.com/coder/websocket/wsjson"
)

// fastOutbox polls every 100 ms and retries quickly, so a test waits for its work, not for
// the production timings.
func fastOutbox(c *server.Config) {
	c.OutboxPoll = 100 * time.Millisecond
	c.Outbox.Lease, c.Outbox.FirstBackoff, c.Outbox.MaxBackoff, c.Outbox.MaxAttempts = 5*time.Second, 100*time.Millisecond, 500*time.Millisecond, 1000
}

// TestOutboxExactlyOnceAcrossNodes: two nodes share one MongoDB store and both run their
// outbox. The agent's 100 replies are queued through both nodes in turn (each queueing wakes
// that node's outbox, and both poll), half of them while the provider fails every send: the
// provider receives each message exactly once, in the order sent, and every one is SENT.
func TestOutboxExactlyOnceAcrossNodes(t *testing.T) {
	t.Parallel() // one of the longest: see "Parallel tests" in helpers_test.go
	for name, uri := range mongoURIs(t) {
		t.Run(name, func(t *testing.T) {
			const n = 100
			nodes := cluster(t, uri(t), 2, fastOutbox)
			a, b := nodes[0], nodes[1]
			sim := newVonageSim(t)
			saveVonageIdentity(t, a.URL(), sim, "+447700900160")
			alice := loginAt(t, a.URL(), "alice")
			ix := activeSMS(t, a.URL(), alice, sim, "+447700900161", "+447700900160")

			var ids []string
			for i := range n / 10 {
				if i == n/20 { // the second half: the provider fails until the last one is queued
					sim.Fail("", providersim.ServerError, 0)
				}
				ids = append(ids, sendMessages(t, nodes[i%2].URL(), alice, ix, 10)...)
			}
			sim.ClearFaults()
			received, err := sim.WaitFor(n, 5*time.Minute)
			if err != nil {
				t.Fatalf("the provider received %d of %d: %v", len(received), n, err)
			}
			var got map[string]string
			waitLong(t, "every message SENT", func() bool {
				got = deliveries(t, b.URL(), alice, ix)
				return countDelivery(got, ids, "SENT") == n
			})
			t.Logf("%d send attempts for %d messages", sim.Attempts(), n)
			checkSentOnce(t, sim.Received(), ids)
		})
	}
}

// TestDeliveryReportCrossesNodes: the agent's deliveryUpdates subscription is on node A; the
// provider's status webhooks for the message go to node B. The agent sees SENT, then
// DELIVERED and READ, on node A.
func TestDeliveryReportCrossesNodes(t *testing.T) {
	for name, uri := range mongoURIs(t) {
		t.Run(name, func(t *testing.T) {
			nodes := cluster(t, uri(t), 2, fastOutbox)
			a, b := nodes[0], nodes[1]
			sim := newVonageSim(t)
			identity := saveVonageIdentity(t, a.URL(), sim, "+447700900170")
			alice := loginAt(t, a.URL(), "alice")
			ix := activeSMS(t, a.URL(), alice, sim, "+447700900171", "+447700900170")
			sim.route(b.URL(), identity) // statuses (and inbound) now reach node B only
			updates := subscribe(t, a, alice, `subscription { deliveryUpdates { id interactionId delivery } }`, nil)

			id := sendMessages(t, a.URL(), alice, ix, 1)[0]
			expectDelivery(t, updates, id, "SENT")
			sent, err := sim.WaitFor(1, 5*time.Minute)
			if err != nil || sent[0].Ref != id {
				t.Fatalf("the provider received %+v: %v", sent, err)
			}
			for _, step := range []struct{ vonage, want string }{{"delivered", "DELIVERED"}, {"read", "READ"}} {
				if status, err := sim.Receipt(t.Context(), sent[0].ID, step.vonage, ""); err != nil || status != http.StatusOK {
					t.Fatalf("status webhook %s to node B: %d %v", step.vonage, status, err)
				}
				expectDelivery(t, updates, id, step.want)
			}
			if got := deliveries(t, a.URL(), alice, ix)[id]; got != "READ" {
				t.Fatalf("node A's API shows %s", got)
			}
		})
	}
}

// expectDelivery reads deliveryUpdates events until one says the message reached want; an
// event of another message, or a later state, fails. It waits up to a minute per event.
func expectDelivery(t *testing.T, c *wsClient, messageID, want string) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		var msg wsMessage
		err := wsjson.Read(ctx, c.conn, &msg)
		cancel()
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if msg.Type == "ka" || msg.Type == "ping" || msg.Type == "pong" {
			continue
		}
		var p struct {
			Data struct {
				DeliveryUpdates struct{ ID, InteractionID, Delivery string }
			}
			Errors []any
		}
		if err := json.Unmarshal(msg.Payload, &p); msg.Type != "next" || err != nil || len(p.Errors) > 0 {
			t.Fatalf("deliveryUpdates: %s %s", msg.Type, msg.Payload)
		}
		u := p.Data.DeliveryUpdates
		if u.ID != messageID {
			t.Fatalf("an update of message %s, want %s", u.ID, messageID)
		}
		if u.Delivery == want {
			return
		}
		t.Fatalf("message %s is %s, want %s", u.ID, u.Delivery, want)
	}
}
