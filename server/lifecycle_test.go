package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// subscribe opens a graphql-transport-ws subscription with the token and waits until the
// node's hub has registered it, so events produced next reach it.
func subscribe(t *testing.T, m *server.Main, token, query string, vars map[string]any) *wsClient {
	t.Helper()
	c := connectWS(t, m, "graphql-transport-ws", token)
	c.expect("connection_ack")
	// Counted after the ack: the socket's own watch for revocation subscribes before it.
	before := m.Hub.Count()
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	waitFor(t, func() bool { return m.Hub.Count() > before })
	return c
}

// subscribeRaw opens a subscription without waiting for it to be registered.
func subscribeRaw(t *testing.T, m *server.Main, token, query string, vars map[string]any) *wsClient {
	t.Helper()
	c := connectWS(t, m, "graphql-transport-ws", token)
	c.expect("connection_ack")
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	return c
}

// event reads the next `next` payload's data.
func (c *wsClient) event() map[string]any {
	c.t.Helper()
	msg := c.expect("next")
	var p struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
		c.t.Fatalf("event %s: %v", msg.Payload, err)
	}
	return p.Data
}

// startChat starts a webchat as an anonymous visitor and returns the token and chat id.
func startChat(t *testing.T, m *server.Main, planName, text string) (token, id string) {
	t.Helper()
	vars := map[string]any{"text": text}
	if planName != "" {
		vars["plan"] = planID(t, m, planName)
	}
	r := post(t, m, "", `mutation($plan: ID, $text: String!) { startWebchat(input:{name:"Visitor", planId:$plan, text:$text}) {
		token chat { id state } userErrors { code message } } }`, vars)
	token, _ = dig(r.Data, "startWebchat.token").(string)
	id, _ = dig(r.Data, "startWebchat.chat.id").(string)
	if token == "" || id == "" {
		t.Fatalf("startWebchat: %+v", r)
	}
	return token, id
}

func planID(t *testing.T, m *server.Main, name string) string {
	t.Helper()
	r := post(t, m, workspace.DemoAPIKey, `query($s:String){ interactionPlans(search:$s) { id name } }`, map[string]any{"s": name})
	id, _ := dig(r.Data, "interactionPlans.0.id").(string)
	if id == "" {
		t.Fatalf("plan %s: %+v", name, r)
	}
	return id
}

// mutate posts a mutation and fails on top-level errors; it returns the root field's payload.
func mutate(t *testing.T, m *server.Main, token, field, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := post(t, m, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	p, _ := r.Data[field].(map[string]any)
	return p
}

func userCode(p map[string]any) string {
	c, _ := dig(p, "userErrors.0.code").(string)
	return c
}

func ready(t *testing.T, m *server.Main, token string) {
	t.Helper()
	mutate(t, m, token, "setPresence", `mutation { setPresence(input:{presence:READY}) { agent { id } } }`, nil)
}

const offerSub = `subscription { offers { kind offer { id expiresAt autoAccepted interaction { id state channel contact { name } } } } }`

// TestWebchatLifecycleOverGraphQL walks a chat end to end over the real transports: the
// visitor starts it, the offer reaches the agent's websocket, replies cross both ways, notes
// and codes are saved, the contact ends it, wrap and completion follow (P1, H1–H3, C4, W1–W5).
func TestWebchatLifecycleOverGraphQL(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	ready(t, m, alice)
	offers := subscribe(t, m, alice, offerSub, nil)
	updates := subscribe(t, m, alice, `subscription { interactionUpdates { id state endedBy durationSeconds } }`, nil)

	contact, id := startChat(t, m, "Support", "My order has not arrived")
	ev := offers.event()
	if dig(ev, "offers.kind") != "OFFERED" || dig(ev, "offers.offer.interaction.id") != id || dig(ev, "offers.offer.expiresAt") == nil {
		t.Fatalf("offer event: %v", ev)
	}
	offerID := dig(ev, "offers.offer.id").(string)

	// The contact follows their chat's messages with their own token.
	contactMsgs := subscribe(t, m, contact, `subscription($id: ID!) { messages(interactionId:$id) { from text agent { id } } }`, map[string]any{"id": id})
	p := mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state acceptedAt } userErrors { code } } }`, map[string]any{"o": offerID})
	if dig(p, "interaction.state") != "ACTIVE" || dig(p, "interaction.acceptedAt") == nil {
		t.Fatalf("accept: %v", p)
	}
	if dig(updates.event(), "interactionUpdates.state") != "ACTIVE" {
		t.Fatal("no ACTIVE update")
	}
	if e := contactMsgs.event(); dig(e, "messages.from") != "SYSTEM" || dig(e, "messages.text") != "Alice Martin joined the chat" {
		t.Fatalf("contact saw %v", e)
	}

	agentMsgs := subscribe(t, m, alice, `subscription($id: ID!) { messages(interactionId:$id) { from text } }`, map[string]any{"id": id})
	p = mutate(t, m, alice, "sendMessage", `mutation($i: ID!) { sendMessage(input:{interactionId:$i, text:"Let me check that for you."}) { message { id from } userErrors { code } } }`, map[string]any{"i": id})
	if dig(p, "message.from") != "AGENT" {
		t.Fatalf("sendMessage: %v", p)
	}
	if e := contactMsgs.event(); dig(e, "messages.text") != "Let me check that for you." || dig(e, "messages.agent") != nil {
		t.Fatalf("contact saw %v (agent details must stay hidden)", e)
	}
	p = mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"Thanks!"}) { message { from } userErrors { code } } }`, nil)
	if dig(p, "message.from") != "CONTACT" {
		t.Fatalf("sendContactMessage: %v", p)
	}
	if e := agentMsgs.event(); dig(e, "messages.from") != "AGENT" { // the agent's own reply comes first
		t.Fatalf("agent saw %v", e)
	}
	if e := agentMsgs.event(); dig(e, "messages.text") != "Thanks!" {
		t.Fatalf("agent saw %v", e)
	}
	if e := updates.event(); dig(e, "interactionUpdates.state") != "ACTIVE" { // K2: its auto-park countdown restarted
		t.Fatalf("update after the contact wrote: %v", e)
	}

	mutate(t, m, alice, "setNotes", `mutation($i: ID!) { setNotes(input:{interactionId:$i, notes:"Parcel lost"}) { interaction { notes } } }`, map[string]any{"i": id})
	updates.event()
	mutate(t, m, alice, "selectDisposition", `mutation($i: ID!) { selectDisposition(input:{interactionId:$i, code:"RESOLVED"}) { interaction { id } } }`, map[string]any{"i": id})
	updates.event()

	p = mutate(t, m, contact, "endWebchat", `mutation { endWebchat { chat { state endedBy agentName } userErrors { code } } }`, nil)
	if dig(p, "chat.state") != "WRAP" || dig(p, "chat.endedBy") != "CONTACT" || dig(p, "chat.agentName") != "Alice Martin" {
		t.Fatalf("endWebchat: %v", p)
	}
	if e := updates.event(); dig(e, "interactionUpdates.state") != "WRAP" || dig(e, "interactionUpdates.endedBy") != "CONTACT" || dig(e, "interactionUpdates.durationSeconds") == nil {
		t.Fatalf("W2 update: %v", e)
	}

	p = mutate(t, m, alice, "completeInteraction", `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { state completedAt notes dispositions { code label } } userErrors { code } } }`, map[string]any{"i": id})
	if dig(p, "interaction.state") != "COMPLETED" || dig(p, "interaction.notes") != "Parcel lost" || dig(p, "interaction.dispositions.0.label") != "Resolved" {
		t.Fatalf("complete: %v", p)
	}
	r := post(t, m, alice, `{ myInteractions { id } me { capacity { channel used } } }`, nil)
	if n := len(dig(r.Data, "myInteractions").([]any)); n != 0 {
		t.Fatalf("log holds %d after completion", n)
	}

	// The CRM reads it from history with the whole transcript (D1).
	r = post(t, m, workspace.DemoAPIKey, `query($id: ID!) { interaction(id:$id) { id state endedBy agent { username } plan { name }
		transcript { totalCount edges { node { from text } } } } }`, map[string]any{"id": id})
	if dig(r.Data, "interaction.state") != "COMPLETED" || dig(r.Data, "interaction.agent.username") != "alice" ||
		dig(r.Data, "interaction.transcript.totalCount") != float64(5) {
		t.Fatalf("CRM read: %+v", r)
	}
	var lines []string
	for _, e := range dig(r.Data, "interaction.transcript.edges").([]any) {
		lines = append(lines, fmt.Sprint(dig(e, "node.from"), ":", dig(e, "node.text")))
	}
	want := "CONTACT:My order has not arrived|SYSTEM:Alice Martin joined the chat|AGENT:Let me check that for you.|CONTACT:Thanks!|SYSTEM:The visitor ended the chat"
	if got := strings.Join(lines, "|"); got != want {
		t.Fatalf("transcript\n%s\nwant\n%s", got, want)
	}
}

// TestBadInputOverGraphQL checks that every refusal has a clear code and changes nothing.
func TestBadInputOverGraphQL(t *testing.T) {
	m := start(t, func(c *server.Config) { c.MaxMessageChars = 50 })
	alice, bob := login(t, m, "alice"), login(t, m, "bob")
	ready(t, m, alice)
	contact, id := startChat(t, m, "Support", "Hello")
	r := post(t, m, alice, `{ myInteractions { id offer { id } } }`, nil)
	offerID := dig(r.Data, "myInteractions.0.offer.id").(string)
	if r := post(t, m, bob, `{ myInteractions { id offer { id } } }`, nil); len(dig(r.Data, "myInteractions").([]any)) != 0 {
		t.Fatal("bob sees alice's offer")
	}

	accept := `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } userErrors { code } } }`
	if r := post(t, m, bob, accept, map[string]any{"o": offerID}); r.code() != workspace.EFORBIDDEN {
		t.Fatalf("bob accepting alice's offer: %+v", r)
	}
	if r := post(t, m, contact, accept, map[string]any{"o": offerID}); r.code() != workspace.EFORBIDDEN {
		t.Fatalf("contact token on an agent operation: %+v", r)
	}
	if r := post(t, m, "", accept, map[string]any{"o": offerID}); r.code() != workspace.EUNAUTHENTICATED {
		t.Fatalf("anonymous accept: %+v", r)
	}
	mutate(t, m, alice, "acceptOffer", accept, map[string]any{"o": offerID})
	if p := mutate(t, m, alice, "acceptOffer", accept, map[string]any{"o": offerID}); userCode(p) != workspace.EWRONGSTATE {
		t.Fatalf("accepting a taken offer: %v", p)
	}
	if p := mutate(t, m, alice, "acceptOffer", accept, map[string]any{"o": "garbage"}); userCode(p) != workspace.EINVALID {
		t.Fatalf("malformed offer id: %v", p)
	}

	send := `mutation($i: ID!, $t: String!) { sendMessage(input:{interactionId:$i, text:$t}) { message { id } userErrors { code field } } }`
	for _, text := range []string{"", "  ", strings.Repeat("x", 51)} {
		if p := mutate(t, m, alice, "sendMessage", send, map[string]any{"i": id, "t": text}); userCode(p) != workspace.EINVALID || dig(p, "userErrors.0.field.0") != "text" {
			t.Fatalf("text %q: %v", text, p)
		}
	}
	if r := post(t, m, alice, send, map[string]any{"i": "00000000-0000-0000-0000-000000000000", "t": "hi"}); r.code() != workspace.ENOTFOUND {
		t.Fatalf("unknown id: %+v", r)
	}
	if p := mutate(t, m, alice, "sendMessage", send, map[string]any{"i": "nope", "t": "hi"}); userCode(p) != workspace.EINVALID {
		t.Fatalf("malformed id: %v", p)
	}
	if r := post(t, m, bob, send, map[string]any{"i": id, "t": "hi"}); r.code() != workspace.EFORBIDDEN {
		t.Fatalf("bob on alice's chat: %+v", r)
	}
	cm := `mutation($t: String!) { sendContactMessage(input:{text:$t}) { message { id } userErrors { code } } }`
	if p := mutate(t, m, contact, "sendContactMessage", cm, map[string]any{"t": strings.Repeat("y", 51)}); userCode(p) != workspace.EINVALID {
		t.Fatalf("contact over-long: %v", p)
	}
	if r := post(t, m, alice, cm, map[string]any{"t": "hi"}); r.code() != workspace.EFORBIDDEN {
		t.Fatalf("agent on a contact operation: %+v", r)
	}

	// A second chat's token cannot follow the first chat.
	other, _ := startChat(t, m, "Support", "Hi")
	ws := subscribeRaw(t, m, other, `subscription($id: ID!) { messages(interactionId:$id) { text } }`, map[string]any{"id": id})
	if msg, err := ws.next(); err != nil || !strings.Contains(string(msg.Payload), workspace.EFORBIDDEN) {
		t.Fatalf("other chat's token: %s", msg.Payload)
	}

	complete := `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { id } userErrors { code } } }`
	if p := mutate(t, m, alice, "completeInteraction", complete, map[string]any{"i": id}); userCode(p) != workspace.EWRONGSTATE {
		t.Fatalf("completing an ACTIVE interaction: %v", p)
	}
	mutate(t, m, alice, "endInteraction", `mutation($i: ID!) { endInteraction(input:{interactionId:$i}) { interaction { id } } }`, map[string]any{"i": id})
	if p := mutate(t, m, alice, "completeInteraction", complete, map[string]any{"i": id}); userCode(p) != workspace.EDISPOSITIONREQUIRED {
		t.Fatalf("completing without the required code: %v", p)
	}

	// Nothing was lost: the transcript holds the two accepted messages and the notices.
	r = post(t, m, alice, `query($id: ID!) { interaction(id:$id) { state transcript { totalCount } } }`, map[string]any{"id": id})
	if dig(r.Data, "interaction.state") != "WRAP" || dig(r.Data, "interaction.transcript.totalCount") != float64(3) {
		t.Fatalf("after the refusals: %+v", r)
	}
}

// TestWebchatFloodLimits refuses a chat that sends too fast, and a network that starts too
// many chats, with RATE_LIMITED; the messages accepted before are kept.
func TestWebchatFloodLimits(t *testing.T) {
	m := start(t, func(c *server.Config) {
		c.WebchatTokenRate, c.WebchatTokenBurst, c.WebchatIPRate, c.WebchatIPBurst = 0.01, 3, 0.01, 6
	})
	contact, id := startChat(t, m, "", "one") // 1 from the IP
	cm := `mutation($t: String!) { sendContactMessage(input:{text:$t}) { message { id } userErrors { code } } }`
	accepted := 0
	var limited gqlResponse
	for i := range 5 {
		r := post(t, m, contact, cm, map[string]any{"t": fmt.Sprint("msg ", i)})
		if r.code() == server.ERATELIMITED {
			limited = r
			break
		}
		accepted++
	}
	if accepted != 3 || !strings.Contains(limited.Errors[0].Message, "too fast") {
		t.Fatalf("accepted %d before the per-token limit (want 3): %+v", accepted, limited)
	}
	// The IP bucket (6) is nearly spent: 1 start + 4 sends; the next two starts hit it.
	startChat(t, m, "", "two")
	r := post(t, m, "", `mutation { startWebchat(input:{text:"three"}) { token } }`, nil)
	if r.code() != server.ERATELIMITED {
		t.Fatalf("per-IP limit: %+v", r)
	}
	agent := login(t, m, "admin")
	r = post(t, m, agent, `query($id: ID!) { interaction(id:$id) { transcript { totalCount } } }`, map[string]any{"id": id})
	if dig(r.Data, "interaction.transcript.totalCount") != float64(4) {
		t.Fatalf("kept messages: %+v", r)
	}
}

// TestReconnectLosesNothing: a subscriber disconnects, events happen, and on reconnect a
// re-query returns everything (subscriptions notify, state is queryable).
func TestReconnectLosesNothing(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	ready(t, m, alice)
	offers := subscribe(t, m, alice, offerSub, nil)
	contact, id := startChat(t, m, "Sales", "first")
	offerID := dig(offers.event(), "offers.offer.id").(string)
	mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": offerID})
	msgs := subscribe(t, m, alice, `subscription($id: ID!) { messages(interactionId:$id) { id text } }`, map[string]any{"id": id})
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"seen live"}) { message { id } } }`, nil)
	last := dig(msgs.event(), "messages.id").(string)

	// Drop both sockets, then the world moves on.
	offers.conn.CloseNow()
	msgs.conn.CloseNow()
	waitFor(t, func() bool { return m.Hub.Subscribers(workspace.MessagesTopic(id)) == 0 })
	for _, text := range []string{"while away 1", "while away 2"} {
		mutate(t, m, contact, "sendContactMessage", `mutation($t: String!) { sendContactMessage(input:{text:$t}) { message { id } } }`, map[string]any{"t": text})
	}
	_, id2 := startChat(t, m, "Sales", "a second chat")

	// Reconnect and re-query: the log has the new offer, the transcript the missed messages.
	r := post(t, m, alice, `{ myInteractions { id state offer { id } } }`, nil)
	if len(dig(r.Data, "myInteractions").([]any)) != 2 || dig(r.Data, "myInteractions.1.id") != id2 || dig(r.Data, "myInteractions.1.offer.id") == nil {
		t.Fatalf("log after reconnect: %+v", r)
	}
	page := post(t, m, alice, `query($id: ID!) { interaction(id:$id) { transcript(first: 100) { edges { cursor node { id text } } } } }`, map[string]any{"id": id})
	edges := dig(page.Data, "interaction.transcript.edges").([]any)
	var cursor string
	for _, e := range edges {
		if dig(e, "node.id") == last {
			cursor = dig(e, "cursor").(string)
		}
	}
	r = post(t, m, alice, `query($id: ID!, $after: String) { interaction(id:$id) { transcript(first: 10, after: $after) { edges { node { text } } } } }`, map[string]any{"id": id, "after": cursor})
	if dig(r.Data, "interaction.transcript.edges.0.node.text") != "while away 1" || dig(r.Data, "interaction.transcript.edges.1.node.text") != "while away 2" {
		t.Fatalf("missed messages after the last seen one: %+v", r)
	}
}

// TestRestartTimersFireOnce stops a node while an offer and a transfer offer are pending, a
// wrap timer runs, one chat waits for auto-park and another is parked; a new node on the same
// data fires each timer once (P5, W3, K2, K5, T6), even with two nodes ticking at once.
func TestRestartTimersFireOnce(t *testing.T) {
	for name, config := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cfg := config(t)
			cfg.Tick = 0 // the test ticks by hand
			clock := workspace.NewManualClock(time.Now())
			first := server.NewMain(cfg)
			first.Clock, first.Stdout = clock, nil
			runMain(t, first)
			alice, bob := login(t, first, "alice"), login(t, first, "bob")
			ready(t, first, alice)
			accepted := func(plan, text string) string {
				_, id := startChat(t, first, plan, text)
				r := post(t, first, alice, `query($i: ID!) { interaction(id:$i) { offer { id } } }`, map[string]any{"i": id})
				mutate(t, first, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": dig(r.Data, "interaction.offer.id")})
				return id
			}
			onIx := func(token, field, id string) {
				p := mutate(t, first, token, field, `mutation($i: ID!) { `+field+`(input:{interactionId:$i}) { userErrors { code } } }`, map[string]any{"i": id})
				if userCode(p) != "" {
					t.Fatalf("%s: %v", field, p)
				}
			}
			parked := accepted("Support", "will time out parked")
			onIx(alice, "parkInteraction", parked)
			autoParked := accepted("Support", "will go quiet")
			transferred := accepted("Support", "will be transferred")
			wrapping := accepted("Sales", "will wrap")
			onIx(alice, "endInteraction", wrapping)
			_, pending := startChat(t, first, "Sales", "will expire")
			ready(t, first, bob)
			bobID := agentID(t, first, bob)
			p := mutate(t, first, alice, "transferInteraction", `mutation($i: ID!, $b: ID!) { transferInteraction(input:{interactionId:$i, toAgentId:$b}) { userErrors { code } } }`, map[string]any{"i": transferred, "b": bobID})
			if userCode(p) != "" {
				t.Fatalf("transfer: %v", p)
			}
			mutate(t, first, bob, "setPresence", `mutation { setPresence(input:{presence:NOT_READY}) { agent { id } } }`, nil)
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}

			// Past the offers (30 s), the wrap (60 s), auto-park (10 min) and the parked timeout (60 min).
			clock.Advance(61 * time.Minute)
			nodes := []*server.Main{server.NewMain(cfg)}
			if cfg.MongoURI != "" {
				// A second node shares the MongoDB and ticks at the same time. They share one
				// client, as the test engine is atomic only through one connection.
				store, err := mongo.Open(t.Context(), cfg.MongoURI)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { store.Close() })
				nodes = append(nodes, server.NewMain(cfg))
				for i, n := range nodes {
					n.Store, n.Config.Node = store, fmt.Sprint("node-", i)
				}
			}
			for _, n := range nodes {
				n.Clock = clock
				runMain(t, n)
			}
			second := nodes[0]
			offersA := subscribe(t, second, alice, offerSub, nil)
			results := subscribe(t, second, alice, `subscription { transferResults { outcome interaction { id } } }`, nil)
			// Two rounds, every node ticking at once in each: the lapsed transfer offer lets the
			// overdue auto-park of its chat fire in the second.
			for range 2 {
				done := make(chan error, 2*len(nodes))
				for range 2 {
					for _, n := range nodes {
						go func() { done <- n.Service.Tick(t.Context()) }()
					}
				}
				for range 2 * len(nodes) {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
			}
			ev := offersA.event()
			if dig(ev, "offers.kind") != "EXPIRED" || dig(ev, "offers.offer.interaction.id") != pending {
				t.Fatalf("expected the pending offer's expiry, got %v", ev)
			}
			if ev := offersA.event(); dig(ev, "offers.kind") != "OFFERED" {
				t.Fatalf("then its re-offer, got %v", ev) // alice is the only READY agent
			}
			ix, err := second.Store.Interaction(t.Context(), pending)
			if err != nil || ix.OfferSeq != 2 || ix.State != workspace.Offered {
				t.Fatalf("pending chat: %+v, %v (want offer 2: expired exactly once)", ix, err)
			}
			a, _ := second.Store.AgentByUsername(t.Context(), "alice")
			if a.MissedOffers != 1 {
				t.Fatalf("alice missed %d offers, want 1", a.MissedOffers)
			}
			if b, _ := second.Store.AgentByUsername(t.Context(), "bob"); b.MissedOffers != 1 || len(b.Holds) != 0 {
				t.Fatalf("bob: %d missed offers, holds %v; want the transfer offer expired once", b.MissedOffers, b.Holds)
			}
			if ev := results.event(); dig(ev, "transferResults.outcome") != "REJECTED" || dig(ev, "transferResults.interaction.id") != transferred {
				t.Fatalf("transfer result %v", ev)
			}
			// Versions count the writes: created 0, offered 1, accepted 2, then one per step.
			for _, want := range []struct {
				id      string
				state   workspace.InteractionState
				version int64
			}{
				{parked, workspace.Wrap, 4},        // parked 3, timed out 4 (K5)
				{autoParked, workspace.Parked, 3},  // auto-parked 3 (K2)
				{transferred, workspace.Parked, 5}, // transfer 3, lapsed 4 (T6), auto-parked 5
			} {
				ix, err := second.Store.Interaction(t.Context(), want.id)
				if err != nil || ix.State != want.state || ix.Version != want.version {
					t.Fatalf("%s: %s at version %d (%v), want %s at %d", want.id, ix.State, ix.Version, err, want.state, want.version)
				}
			}
			w, err := second.Store.Interaction(t.Context(), wrapping)
			// Created 0, offered 1, accepted 2, ended 3, completed 4: a second firing would
			// have failed its guard, and the version shows the timer fired once.
			if err != nil || w.State != workspace.Completed || w.Version != 4 {
				t.Fatalf("wrapping chat: %+v, %v", w, err)
			}
		})
	}
}

func runMain(t *testing.T, m *server.Main) {
	t.Helper()
	if m.Stdout == nil {
		m.Stdout = nopWriter{}
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
