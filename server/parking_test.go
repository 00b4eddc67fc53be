package server_test

import (
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// acceptChat starts a chat in the plan and has the agent accept its offer; it returns the
// contact's token and the chat's ID.
func acceptChat(t *testing.T, m *server.Main, agent, plan, text string) (contact, id string) {
	t.Helper()
	contact, id = startChat(t, m, plan, text)
	r := post(t, m, agent, `query($i: ID!) { interaction(id:$i) { offer { id } } }`, map[string]any{"i": id})
	p := mutate(t, m, agent, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state } userErrors { code } } }`, map[string]any{"o": dig(r.Data, "interaction.offer.id")})
	if dig(p, "interaction.state") != "ACTIVE" {
		t.Fatalf("accept: %v", p)
	}
	return contact, id
}

const (
	parkMutation     = `mutation($i: ID!) { parkInteraction(input:{interactionId:$i}) { interaction { id state parkedAt parkedUntil parkedBy { name } } userErrors { code message field } } }`
	transferMutation = `mutation($i: ID!, $a: ID, $p: ID) { transferInteraction(input:{interactionId:$i, toAgentId:$a, toPlanId:$p}) {
		interaction { id state pendingTransfer { offerId expiresAt from { name } to { name } } } userErrors { code message field } } }`
	unparkSub   = `subscription { unparkNotifications { interaction { id state agent { name } parkedUntil parkedBy { name } } message { from text } } }`
	transferSub = `subscription { transferResults { outcome reason target { name } interaction { id state agent { name } } } }`
)

// TestParkingOverGraphQL walks K1–K6 over the real transports: park, the Parked list, a
// contact reply that unparks with a notification on the agent's websocket, and the plan
// settings that govern it.
func TestParkingOverGraphQL(t *testing.T) {
	m := start(t)
	alice := login(t, m, "alice")
	ready(t, m, alice)
	unparked := subscribe(t, m, alice, unparkSub, nil)

	r := post(t, m, alice, `{ interactionPlans { name autoParkSeconds parkedTimeoutSeconds postParkingPlan { name } } }`, nil)
	for _, p := range dig(r.Data, "interactionPlans").([]any) {
		post := dig(p, "postParkingPlan.name")
		switch dig(p, "name") {
		case "Support":
			if post != "Support" {
				t.Fatalf("Support's post-parking plan = %v, want Support (demo data)", post)
			}
		case "Sales":
			if post != nil {
				t.Fatalf("Sales' post-parking plan = %v, want none (demo data)", post)
			}
		}
		if dig(p, "autoParkSeconds") != float64(600) || dig(p, "parkedTimeoutSeconds") != float64(3600) {
			t.Fatalf("plan %v: want the defaults of 10 and 60 minutes", p)
		}
	}

	contact, id := acceptChat(t, m, alice, "Support", "Where is my parcel?")
	p := mutate(t, m, alice, "parkInteraction", parkMutation, map[string]any{"i": id})
	if dig(p, "interaction.state") != "PARKED" || dig(p, "interaction.parkedUntil") == nil || dig(p, "interaction.parkedBy.name") != "Alice Martin" {
		t.Fatalf("park: %v", p)
	}
	r = post(t, m, alice, `{ me { capacity { channel used } } myInteractions { id state parkedUntil parkedBy { name } } }`, nil)
	if dig(r.Data, "myInteractions.0.state") != "PARKED" || dig(r.Data, "myInteractions.0.parkedUntil") != dig(p, "interaction.parkedUntil") ||
		dig(r.Data, "myInteractions.0.parkedBy.name") != "Alice Martin" {
		t.Fatalf("myInteractions: %v", r.Data)
	}
	for _, c := range dig(r.Data, "me.capacity").([]any) {
		if dig(c, "used") != float64(0) {
			t.Fatalf("capacity in use while parked: %v (K1)", c)
		}
	}

	m2 := mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"It is order 4711"}) { message { id } userErrors { code } } }`, nil)
	if dig(m2, "message.id") == nil {
		t.Fatalf("contact reply: %v", m2)
	}
	ev := unparked.event()
	if dig(ev, "unparkNotifications.interaction.id") != id || dig(ev, "unparkNotifications.interaction.state") != "ACTIVE" ||
		dig(ev, "unparkNotifications.interaction.parkedUntil") != nil || dig(ev, "unparkNotifications.interaction.parkedBy") != nil ||
		dig(ev, "unparkNotifications.message.text") != "It is order 4711" {
		t.Fatalf("unpark notification: %v", ev)
	}

	// K6 without a post-parking plan: the reply ends it.
	contact2, id2 := acceptChat(t, m, alice, "Sales", "Do you ship to Iceland?")
	mutate(t, m, alice, "parkInteraction", parkMutation, map[string]any{"i": id2})
	mutate(t, m, contact2, "sendContactMessage", `mutation { sendContactMessage(input:{text:"Hello?"}) { message { id } } }`, nil)
	ev = unparked.event()
	if dig(ev, "unparkNotifications.interaction.id") != id2 || dig(ev, "unparkNotifications.interaction.state") != "WRAP" {
		t.Fatalf("K6 notification: %v", ev)
	}
	r = post(t, m, contact2, `{ myChat { state endedBy } }`, nil)
	if dig(r.Data, "myChat.state") != "WRAP" || dig(r.Data, "myChat.endedBy") != "SYSTEM" {
		t.Fatalf("the contact's chat after K6: %v", r.Data)
	}
	wantMetrics(t, m, `agentdesk_unparks_total{state="ACTIVE"} 1`, `agentdesk_unparks_total{state="WRAP"} 1`)
}

// TestTransfersOverGraphQL walks T1–T6 over the real transports with two agents: a transfer
// offer on bob's offers feed, his view of the transcript, alice's transfer results, and the
// end of her access once he accepted.
func TestTransfersOverGraphQL(t *testing.T) {
	m := start(t)
	alice, bob := login(t, m, "alice"), login(t, m, "bob")
	ready(t, m, alice)
	contact, id := acceptChat(t, m, alice, "Support", "My router blinks red")
	contactMsgs := subscribe(t, m, contact, `subscription($id: ID!) { messages(interactionId:$id) { from text } }`, map[string]any{"id": id})
	ready(t, m, bob)
	bobID := agentID(t, m, bob)
	results := subscribe(t, m, alice, transferSub, nil)
	offers := subscribe(t, m, bob, `subscription { offers { kind offer { id expiresAt transferredBy { name } interaction { id state } } } }`, nil)

	r := post(t, m, alice, `query($s: String) { transferTargets(search:$s) { username presence } recent: transferTargets(recentOnly:true) { username } }`, map[string]any{"s": "bo"})
	if dig(r.Data, "transferTargets.0.username") != "bob" || len(dig(r.Data, "transferTargets").([]any)) != 1 || len(dig(r.Data, "recent").([]any)) != 0 {
		t.Fatalf("transferTargets: %v", r.Data)
	}

	// Rejected first (T6): alice keeps it.
	p := mutate(t, m, alice, "transferInteraction", transferMutation, map[string]any{"i": id, "a": bobID})
	if dig(p, "interaction.state") != "ACTIVE" || dig(p, "interaction.pendingTransfer.to.name") != "Bob Okafor" {
		t.Fatalf("transfer: %v", p)
	}
	ev := offers.event()
	offerID := dig(ev, "offers.offer.id")
	if dig(ev, "offers.kind") != "OFFERED" || dig(ev, "offers.offer.transferredBy.name") != "Alice Martin" || offerID != dig(p, "interaction.pendingTransfer.offerId") {
		t.Fatalf("bob's offer: %v", ev)
	}
	mutate(t, m, bob, "rejectOffer", `mutation($o: ID!) { rejectOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": offerID})
	if ev := results.event(); dig(ev, "transferResults.outcome") != "REJECTED" || dig(ev, "transferResults.reason") != "REJECTED_BY_TARGET" || dig(ev, "transferResults.target.name") != "Bob Okafor" ||
		dig(ev, "transferResults.interaction.agent.name") != "Alice Martin" {
		t.Fatalf("result: %v", ev)
	}

	// Then accepted (T5): bob reads the whole transcript, alice loses it.
	p = mutate(t, m, alice, "transferInteraction", transferMutation, map[string]any{"i": id, "a": bobID})
	offerID = dig(offers.event(), "offers.offer.id")
	if offerID != dig(p, "interaction.pendingTransfer.offerId") {
		t.Fatalf("second transfer: %v, offer %v", p, offerID)
	}
	r = post(t, m, bob, `{ myInteractions { id state agent { name } offer { id transferredBy { name } } transcript { totalCount edges { node { text } } } } }`, nil)
	if dig(r.Data, "myInteractions.0.offer.id") != offerID || dig(r.Data, "myInteractions.0.agent.name") != "Alice Martin" ||
		dig(r.Data, "myInteractions.0.transcript.edges.0.node.text") != "My router blinks red" {
		t.Fatalf("bob's log with the transfer offer: %v", r)
	}
	mutate(t, m, bob, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": offerID})
	if ev := results.event(); dig(ev, "transferResults.outcome") != "ACCEPTED" || dig(ev, "transferResults.interaction.agent.name") != "Bob Okafor" {
		t.Fatalf("result: %v", ev)
	}
	r = post(t, m, alice, `mutation($i: ID!) { sendMessage(input:{interactionId:$i, text:"still me"}) { message { id } } }`, map[string]any{"i": id})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != workspace.EFORBIDDEN {
		t.Fatalf("alice sends after the transfer: %+v", r)
	}
	if r := post(t, m, alice, `{ myInteractions { id } }`, nil); len(dig(r.Data, "myInteractions").([]any)) != 0 {
		t.Fatalf("alice's log: %v", r.Data)
	}
	if r := post(t, m, alice, `query($i: ID!) { interaction(id:$i) { agent { name } transcript { totalCount } } }`, map[string]any{"i": id}); dig(r.Data, "interaction.agent.name") != "Bob Okafor" {
		t.Fatalf("alice reads what she handled: %+v", r)
	}
	// T4: the contact's next message is bob's reply, with nothing about the transfer before it.
	mutate(t, m, bob, "sendMessage", `mutation($i: ID!) { sendMessage(input:{interactionId:$i, text:"Bob here, let me look"}) { message { id } } }`, map[string]any{"i": id})
	if ev := contactMsgs.event(); dig(ev, "messages.text") != "Bob here, let me look" {
		t.Fatalf("the contact saw %v first", ev)
	}
	if r := post(t, m, alice, `{ recent: transferTargets(recentOnly:true) { username } }`, nil); dig(r.Data, "recent.0.username") != "bob" {
		t.Fatalf("alice's recent targets: %v", r.Data)
	}

	// To a plan: accepted at once by its queue.
	_, id2 := acceptChat(t, m, alice, "Support", "second chat")
	p = mutate(t, m, alice, "transferInteraction", transferMutation, map[string]any{"i": id2, "p": planID(t, m, "Sales")})
	if len(dig(p, "userErrors").([]any)) != 0 {
		t.Fatalf("transfer to a plan: %v", p)
	}
	if ev := results.event(); dig(ev, "transferResults.outcome") != "ACCEPTED" || dig(ev, "transferResults.target") != nil {
		t.Fatalf("result: %v", ev)
	}
	wantMetrics(t, m,
		`agentdesk_transfers_total{outcome="REJECTED",reason="REJECTED_BY_TARGET",target="agent"} 1`,
		`agentdesk_transfers_total{outcome="ACCEPTED",reason="none",target="agent"} 1`,
		`agentdesk_transfers_total{outcome="ACCEPTED",reason="none",target="plan"} 1`,
		`agentdesk_offers_total{kind="OFFERED",transfer="true"} 2`)
}

// wantMetrics checks /metrics has each line.
func wantMetrics(t *testing.T, m *server.Main, lines ...string) {
	t.Helper()
	text := metricsText(t, m)
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("/metrics lacks %s", l)
		}
	}
}

// TestParkingAndTransferBadInput: wrong state, wrong principal, malformed and oversized
// input each get a clear error and change nothing.
func TestParkingAndTransferBadInput(t *testing.T) {
	m := start(t)
	alice, bob, carol := login(t, m, "alice"), login(t, m, "bob"), login(t, m, "carol")
	ready(t, m, alice)
	contact, id := acceptChat(t, m, alice, "Support", "hello")
	ready(t, m, bob)
	bobID, carolID, aliceID := agentID(t, m, bob), agentID(t, m, carol), agentID(t, m, alice)
	mutate(t, m, carol, "setPresence", `mutation { setPresence(input:{presence:NOT_READY}) { agent { id } } }`, nil)
	huge := strings.Repeat("x", 100_000)
	cases := []struct {
		name, token, query string
		vars               map[string]any
		code               string
	}{
		{"park by another agent", bob, parkMutation, map[string]any{"i": id}, workspace.EFORBIDDEN},
		{"park by the contact", contact, parkMutation, map[string]any{"i": id}, workspace.EFORBIDDEN},
		{"park by a CRM key", workspace.DemoAPIKey, parkMutation, map[string]any{"i": id}, workspace.EFORBIDDEN},
		{"park anonymously", "", parkMutation, map[string]any{"i": id}, workspace.EUNAUTHENTICATED},
		{"park a malformed ID", alice, parkMutation, map[string]any{"i": "123"}, workspace.EINVALID},
		{"park an oversized ID", alice, parkMutation, map[string]any{"i": huge}, workspace.EINVALID},
		{"park an unknown ID", alice, parkMutation, map[string]any{"i": "0b2c7d62-5d1e-4f0e-9a55-1f0c0b7f0e11"}, workspace.ENOTFOUND},
		{"transfer to a NOT_READY agent", alice, transferMutation, map[string]any{"i": id, "a": carolID}, workspace.ETARGETUNAVAILABLE},
		{"transfer to oneself", alice, transferMutation, map[string]any{"i": id, "a": aliceID}, workspace.EINVALID},
		{"transfer to an unknown plan", alice, transferMutation, map[string]any{"i": id, "p": "0b2c7d62-5d1e-4f0e-9a55-1f0c0b7f0e11"}, workspace.ENOTFOUND},
		{"transfer to a malformed plan", alice, transferMutation, map[string]any{"i": id, "p": huge}, workspace.EINVALID},
		{"transfer to no one", alice, transferMutation, map[string]any{"i": id}, workspace.EINVALID},
		{"transfer by another agent", bob, transferMutation, map[string]any{"i": id, "a": carolID}, workspace.EFORBIDDEN},
		{"transfer by the contact", contact, transferMutation, map[string]any{"i": id, "a": bobID}, workspace.EFORBIDDEN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			field := "parkInteraction"
			if strings.Contains(c.query, "transferInteraction") {
				field = "transferInteraction"
			}
			// Refusals about the input come as userErrors; about the caller or a missing
			// object as GraphQL errors with extensions.code (see docs/api.md, "Errors").
			r := post(t, m, c.token, c.query, c.vars)
			payload, _ := r.Data[field].(map[string]any)
			code, msg := userCode(payload), dig(payload, "userErrors.0.message")
			if len(r.Errors) > 0 {
				code, _ = r.Errors[0].Extensions["code"].(string)
				msg = r.Errors[0].Message
			}
			if code != c.code || msg == nil || msg == "" {
				t.Fatalf("got %+v, want %s with a message", r, c.code)
			}
			r = post(t, m, alice, `query($i: ID!) { interaction(id:$i) { state agent { username } pendingTransfer { offerId } } }`, map[string]any{"i": id})
			if dig(r.Data, "interaction.state") != "ACTIVE" || dig(r.Data, "interaction.agent.username") != "alice" || dig(r.Data, "interaction.pendingTransfer") != nil {
				t.Fatalf("a refused request changed the interaction: %v", r.Data)
			}
		})
	}
	// Reads and feeds need an agent.
	if r := post(t, m, contact, `{ transferTargets { id } }`, nil); len(r.Errors) == 0 {
		t.Fatal("a contact listed transfer targets")
	}
	if r := post(t, m, alice, `query($s: String) { transferTargets(search:$s) { id } }`, map[string]any{"s": huge}); len(r.Errors) == 0 {
		t.Fatal("an oversized search was accepted")
	}
	for _, sub := range []string{unparkSub, transferSub} {
		c := subscribeRaw(t, m, contact, sub, nil)
		if msg := c.expect("next"); !strings.Contains(string(msg.Payload), `"code":"FORBIDDEN"`) {
			t.Fatalf("a contact subscribed to %q: %s", sub, msg.Payload)
		}
	}
	// Wrong state: parking twice.
	mutate(t, m, alice, "parkInteraction", parkMutation, map[string]any{"i": id})
	if p := mutate(t, m, alice, "parkInteraction", parkMutation, map[string]any{"i": id}); userCode(p) != workspace.EWRONGSTATE {
		t.Fatalf("parking a PARKED interaction: %v", p)
	}
	if p := mutate(t, m, alice, "transferInteraction", transferMutation, map[string]any{"i": id, "a": bobID}); userCode(p) != workspace.EWRONGSTATE {
		t.Fatalf("transferring a PARKED interaction: %v", p)
	}
}

// TestC6_NoConsultationForDigitalChannels: transfers are cold; the API has no operation to
// consult another agent first.
func TestC6_NoConsultationForDigitalChannels(t *testing.T) {
	m := start(t)
	r := post(t, m, "", `{ __schema { mutationType { fields { name } } subscriptionType { fields { name } } } }`, nil)
	var names []string
	for _, root := range []string{"__schema.mutationType.fields", "__schema.subscriptionType.fields"} {
		for _, f := range dig(r.Data, root).([]any) {
			names = append(names, dig(f, "name").(string))
		}
	}
	if len(names) < 10 {
		t.Fatalf("introspection returned %v", names)
	}
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), "consult") || strings.Contains(strings.ToLower(n), "conference") {
			t.Errorf("operation %s looks like a consultation (C6: transfers are cold)", n)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "transferInteraction") {
		t.Fatal("no transferInteraction")
	}
}

// TestUnparkCrossesNodes: a contact's reply arriving at node B unparks a chat whose agent is
// subscribed on node A; the notification crosses through the MongoDB event bus.
func TestUnparkCrossesNodes(t *testing.T) {
	for name, uri := range mongoURIs(t) {
		t.Run(name, func(t *testing.T) {
			nodes := cluster(t, uri(t), 2)
			a, b := nodes[0], nodes[1]
			alice := login(t, a, "alice")
			ready(t, a, alice)
			unparked := subscribe(t, a, alice, unparkSub, nil)
			contact, id := acceptChat(t, a, alice, "Support", "hello from node A")
			mutate(t, a, alice, "parkInteraction", parkMutation, map[string]any{"i": id})
			mutate(t, b, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"reply via node B"}) { message { id } } }`, nil)
			ev := unparked.event()
			if dig(ev, "unparkNotifications.interaction.id") != id || dig(ev, "unparkNotifications.interaction.state") != "ACTIVE" ||
				dig(ev, "unparkNotifications.message.text") != "reply via node B" {
				t.Fatalf("node A got %v", ev)
			}
		})
	}
}
