package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	coderws "github.com/coder/websocket"
)

const offersSubscription = `subscription { offers { kind offer { id autoAccepted expiresAt interaction { id channel state contact { address name } } } } }`

// publishOffer waits until the agent has a subscriber, then publishes one offer event
// through the hub, the way the lifecycle's routing will.
func publishOffer(t *testing.T, m *server.Main, agentID string) workspace.OfferEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for m.Hub.Subscribers(workspace.AgentTopic(agentID)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscription never reached the hub")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ev := workspace.OfferEvent{Kind: workspace.OfferOffered, Offer: workspace.Offer{
		ID: "offer-1", AgentID: agentID, ExpiresAt: time.Now().Add(30 * time.Second).UTC(),
		Interaction: workspace.Interaction{ID: "7f0c5b1e-1d2b-4a53-9a57-5a8a7f3e2b10", Channel: workspace.Webchat,
			Direction: workspace.Inbound, State: workspace.Offered, Contact: workspace.Contact{Address: "visitor-42", Name: "Dana"}},
	}}
	m.Hub.Publish(workspace.Event{Topic: workspace.AgentTopic(agentID), Payload: &ev})
	return ev
}

func agentID(t *testing.T, m *server.Main, token string) string {
	t.Helper()
	return dig(post(t, m, token, `{ me { id } }`, nil).Data, "me.id").(string)
}

func checkOfferPayload(t *testing.T, payload json.RawMessage) {
	t.Helper()
	var body struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(payload, &body); err != nil || len(body.Errors) > 0 {
		t.Fatalf("payload %s: %v", payload, err)
	}
	if dig(body.Data, "offers.kind") != "OFFERED" || dig(body.Data, "offers.offer.id") != "offer-1" ||
		dig(body.Data, "offers.offer.interaction.contact.name") != "Dana" || dig(body.Data, "offers.offer.interaction.channel") != "WEBCHAT" {
		t.Fatalf("offer event = %s", payload)
	}
}

func TestOffersOverGraphQLTransportWS(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	ws := connectWS(t, m, "graphql-transport-ws", token)
	ws.expect("connection_ack")
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": offersSubscription}})
	publishOffer(t, m, agentID(t, m, token))
	checkOfferPayload(t, ws.expect("next").Payload)

	// ping/pong keeps the connection alive: the server answers a client ping.
	ws.send(map[string]any{"type": "ping"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for {
		var msg wsMessage
		if err := readJSON(ctx, ws.conn, &msg); err != nil {
			t.Fatalf("no pong: %v", err)
		}
		if msg.Type == "pong" {
			break
		}
	}
}

func TestOffersOverLegacyGraphQLWS(t *testing.T) {
	m := start(t)
	token := login(t, m, "bob")
	ws := connectWS(t, m, "graphql-ws", token)
	ws.expect("connection_ack")
	ws.send(map[string]any{"id": "1", "type": "start", "payload": map[string]any{"query": offersSubscription}})
	publishOffer(t, m, agentID(t, m, token))
	checkOfferPayload(t, ws.expect("data").Payload)
}

func TestOffersOverSSE(t *testing.T) {
	m := start(t)
	token := login(t, m, "carol")
	res := openSSE(t, m, token, offersSubscription)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE answer: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	publishOffer(t, m, agentID(t, m, token))
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, "offers") {
			checkOfferPayload(t, json.RawMessage(data))
			return
		}
	}
	t.Fatalf("stream ended without an offer: %v", sc.Err())
}

func TestWebsocketBadTokenCloses4403(t *testing.T) {
	m := start(t)
	for _, token := range []string{"ads_forged", "unknown-api-key"} {
		ws := connectWS(t, m, "graphql-transport-ws", token)
		_, err := ws.next()
		if got := coderws.CloseStatus(err); got != 4403 {
			t.Fatalf("token %q: close status %d (%v), want 4403", token, got, err)
		}
	}
}

func TestWebsocketWithoutTokenCannotSubscribeToOffers(t *testing.T) {
	m := start(t)
	ws := connectWS(t, m, "graphql-transport-ws", "")
	ws.expect("connection_ack")
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": offersSubscription}})
	if msg := refusal(t, ws); !strings.Contains(string(msg.Payload), `"UNAUTHENTICATED"`) {
		t.Fatalf("error payload %s, want UNAUTHENTICATED", msg.Payload)
	}
	ws2 := connectWS(t, m, "graphql-transport-ws", "demo-crm-key")
	ws2.expect("connection_ack")
	ws2.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": offersSubscription}})
	if msg := refusal(t, ws2); !strings.Contains(string(msg.Payload), `"FORBIDDEN"`) {
		t.Fatalf("API key on an agent feed: %s, want FORBIDDEN", msg.Payload)
	}
}

func TestWebsocketOrigins(t *testing.T) {
	m := start(t, func(c *server.Config) { c.AllowedOrigins = []string{"http://localhost:5173"} })
	cases := []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:5173", true},
		{"http://" + m.Addr(), true}, // the server's own pages (the SPA, the playground)
		{"https://evil.example", false},
	}
	for _, c := range cases {
		conn, res, err := dialWS(t, m, "graphql-transport-ws", http.Header{"Origin": {c.origin}})
		if c.ok {
			if err != nil {
				t.Fatalf("origin %s refused: %v", c.origin, err)
			}
			conn.CloseNow()
			continue
		}
		if err == nil {
			conn.CloseNow()
			t.Fatalf("origin %s was allowed", c.origin)
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: %v, want 403", c.origin, err)
		}
	}
}

// TestSubscriptionsDoNotLeak opens and drops many subscriptions and checks that their
// goroutines and hub entries go away.
func TestSubscriptionsDoNotLeak(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	id := agentID(t, m, token)
	before := runtime.NumGoroutine()
	const n = 100
	var conns []*coderws.Conn
	for i := 0; i < n; i++ {
		ws := connectWS(t, m, "graphql-transport-ws", token)
		ws.expect("connection_ack")
		ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": offersSubscription}})
		conns = append(conns, ws.conn)
	}
	waitFor(t, func() bool { return m.Hub.Subscribers(workspace.AgentTopic(id)) == n })
	for _, c := range conns {
		c.Close(coderws.StatusNormalClosure, "")
	}
	waitFor(t, func() bool { return m.Hub.Subscribers(workspace.AgentTopic(id)) == 0 })
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before+5 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in 10 s (goroutines: %d)", runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readJSON(ctx context.Context, c *coderws.Conn, v any) error {
	_, b, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errors.New("empty frame")
	}
	return json.Unmarshal(b, v)
}

// refusal reads a refused subscription's answer: an execution error arrives as a "next"
// carrying errors (then "complete"), a request error as "error".
func refusal(t *testing.T, ws *wsClient) wsMessage {
	t.Helper()
	msg, err := ws.next()
	if err != nil || (msg.Type != "next" && msg.Type != "error") || !strings.Contains(string(msg.Payload), `"errors"`) && msg.Type == "next" {
		t.Fatalf("got %+v %v, want a refusal", msg, err)
	}
	return msg
}

// TestCloseEndsOpenStreams: shutting down ends open SSE streams and websockets at once
// instead of waiting for the shutdown timeout (10 s).
func TestCloseEndsOpenStreams(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	ws := connectWS(t, m, "graphql-transport-ws", token)
	ws.expect("connection_ack")
	openSSE(t, m, token, offersSubscription)
	waitFor(t, func() bool { return m.Hub.Subscribers(workspace.AgentTopic(agentID(t, m, token))) == 1 })

	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v with open streams", took)
	}
	if _, err := ws.next(); err == nil {
		t.Fatal("the websocket is still open after Close")
	}
}

// openSSE starts a subscription over SSE; the stream is closed when the test ends.
func openSSE(t *testing.T, m *server.Main, token, query string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, m.URL()+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

const deskSub = `subscription { deskEvents {
	offer { kind offer { id interaction { id } } }
	interactionUpdate { id state endedBy }
	unpark { interaction { id } }
	transferResult { outcome }
	deliveryUpdate { id delivery } } }`

// TestDeskEventsOnOneSubscription: the desk's five feeds on one subscription, in the order
// things happened, each event with one field set; refused without an agent's credential.
func TestDeskEventsOnOneSubscription(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	ready(t, m, alice)
	ws := connectWS(t, m, "graphql-transport-ws", alice)
	ws.expect("connection_ack")
	ws.send(map[string]any{"id": "desk", "type": "subscribe", "payload": map[string]any{"query": deskSub}})
	waitFor(t, func() bool { return m.Hub.Subscribers(workspace.AgentTopic(agentID(t, m, alice))) == 1 })

	contact, id := startChat(t, m, "Sales", "hello from the desk feed")
	event := func() map[string]any {
		t.Helper()
		msg := ws.expect("next")
		var p struct {
			Data struct{ DeskEvents map[string]any }
		}
		if err := json.Unmarshal(msg.Payload, &p); err != nil {
			t.Fatal(err)
		}
		set := 0
		for _, v := range p.Data.DeskEvents {
			if v != nil {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("an event with %d fields set: %s", set, msg.Payload)
		}
		return p.Data.DeskEvents
	}
	e := event()
	if dig(e, "offer.kind") != "OFFERED" || dig(e, "offer.offer.interaction.id") != id {
		t.Fatalf("first event %v, want the offer of %s", e, id)
	}
	offerID := dig(e, "offer.offer.id")
	p := mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state } userErrors { code } } }`, map[string]any{"o": offerID})
	if dig(p, "interaction.state") != "ACTIVE" {
		t.Fatalf("accept: %v", p)
	}
	mutate(t, m, contact, "endWebchat", `mutation { endWebchat { chat { state } userErrors { code } } }`, nil)
	for {
		e = event()
		if dig(e, "interactionUpdate.state") == "WRAP" {
			break
		}
		if dig(e, "interactionUpdate.id") != id {
			t.Fatalf("an event of something else: %v", e)
		}
	}
	if dig(e, "interactionUpdate.id") != id || dig(e, "interactionUpdate.endedBy") != "CONTACT" {
		t.Fatalf("the contact's ending: %v", e)
	}

	// Only agents follow a desk: no credential, a CRM key and a contact's token are refused.
	for token, code := range map[string]string{"": "UNAUTHENTICATED", "demo-crm-key": "FORBIDDEN", contact: "FORBIDDEN"} {
		other := connectWS(t, m, "graphql-transport-ws", token)
		other.expect("connection_ack")
		other.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": deskSub}})
		if msg := refusal(t, other); !strings.Contains(string(msg.Payload), `"`+code+`"`) {
			t.Fatalf("token %q: %s, want %s", token, msg.Payload, code)
		}
	}
}
