package server_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The authorisation matrix: every query, mutation and subscription of schema.graphqls, called
// by every kind of caller, over HTTP (POST, or SSE for subscriptions) and over a
// graphql-transport-ws websocket. Each cell checks that authorisation is decided as the
// product intends; it does not check that the operation succeeds.
//
// Outcome classes:
//
//   - ALLOWED: the operation got past authorisation. No top-level error says
//     UNAUTHENTICATED or FORBIDDEN; the payload may still carry userErrors such as WRONG_STATE
//     or DISPOSITION_REQUIRED, which are decided after authorisation. A subscription is
//     ALLOWED when the node's hub registers it (no error arrived first), or when it delivers
//     an event.
//   - UNAUTHENTICATED: a top-level error with extensions.code UNAUTHENTICATED: the caller
//     sent no credential, or one that does not authenticate.
//   - FORBIDDEN: a top-level error with extensions.code FORBIDDEN: the caller is known but
//     may not do this.
//
// Anything else (a top-level NOT_FOUND, INVALID, INTERNAL, a websocket closed for another
// reason, no answer) is reported as such and fails the cell: the fixtures are valid, so such
// an answer means the row or the server is broken.
//
// A websocket authenticates once, in connection_init; a credential that does not
// authenticate (bad, revoked, expired) closes the socket with 4403 before any operation.
// That refusal is accepted for those three callers whatever the row expects over HTTP, and
// logged, since it denies even the public operations (login, startWebchat): the client has
// to connect without its stale credential. If the server acked such a socket instead, the
// cell is held to the HTTP expectation.
//
// Product intent the expectations are written from (see also the docs in schema.graphqls):
// agents act only on interactions they hold, or on an offer made to them; former holders
// may still read. Supervisors read everything but act like agents (they do not act on
// interactions other agents hold). The CRM key (read scope) only reads, through queries,
// and has no signed-in agent (me, myInteractions and transferTargets are refused). A
// webchat contact uses only myChat, sendContactMessage, endWebchat and the messages
// subscription of their own chat. Anonymous callers may only login and startWebchat; those
// two are public, so any credential, even a stale one, may call them over HTTP.

// azOutcome is an outcome class.
type azOutcome string

const (
	azAllowed         azOutcome = "ALLOWED"
	azUnauthenticated azOutcome = "UNAUTHENTICATED"
	azForbidden       azOutcome = "FORBIDDEN"

	// azRefused is a websocket whose connection_init was refused with close code 4403.
	azRefused azOutcome = "REFUSED_4403"
)

// azPrincipal is a kind of caller.
type azPrincipal int

const (
	pNone         azPrincipal = iota // no credential at all
	pBad                             // a random string
	pContact                         // the webchat contact of the interaction the row acts on
	pOtherContact                    // the webchat contact of another (ended) chat
	pHolder                          // alice, who holds the interaction (or was offered it)
	pOther                           // bob, another agent
	pSupervisor                      // admin
	pCRM                             // the demo CRM key, read scope
	pRevoked                         // a session token of alice after logout
	pExpired                         // a session token of alice that outlived SessionTTL
	azPrincipals
)

var azPrincipalNames = [azPrincipals]string{"none", "bad_token", "contact", "other_contact", "holder", "other_agent", "supervisor", "crm_key", "revoked_token", "expired_token"}

func (p azPrincipal) String() string { return azPrincipalNames[p] }

// rejected reports whether the principal's credential does not authenticate.
func (p azPrincipal) rejected() bool { return p == pBad || p == pRevoked || p == pExpired }

// azExpect is a row's expected outcome per principal, in azPrincipal order:
//
//	none bad contact other_contact holder other_agent supervisor crm_key revoked expired
type azExpect [azPrincipals]azOutcome

// azFixture is what one cell acts on.
type azFixture struct {
	id      string // the interaction
	offerID string // its open offer, for the offer rows
	contact string // the contact token of its chat
	fresh   bool   // made for this cell alone: ended after it
	call    bool   // a call: its holder ends it
}

// azRow is one operation of the schema: how to call it validly and who may.
type azRow struct {
	op   string // "Query.me", "Mutation.login", "Subscription.offers"
	doc  string
	vars func(e *azEnv, f *azFixture) map[string]any
	// fixture makes what the cell acts on; nil shares the interaction alice holds.
	fixture func(e *azEnv, t *testing.T) *azFixture
	// freshSession signs agents in anew for each cell (logout revokes the token it uses).
	freshSession bool
	// after undoes what an allowed cell changed outside its fixture.
	after  func(t *testing.T, e *azEnv, r azResult)
	expect azExpect
}

func azIx(_ *azEnv, f *azFixture) map[string]any { return map[string]any{"i": f.id} }

// azElsewhere are operations the matrix cannot call, each with the test that checks who
// may: uploads take a multipart body, which neither JSON posts nor websockets carry.
var azElsewhere = map[string]string{
	"Mutation.uploadAttachment": "TestUploadAuthorisation",
}

// azRows is the matrix. Expectations come from the product's intent, not from the code.
func azRows() []azRow {
	const A, U, F = azAllowed, azUnauthenticated, azForbidden
	// Each vector lists, in order: none, bad token, contact, other contact, holder, other
	// agent, supervisor, CRM key, revoked token, expired token.
	agentSelf := azExpect{U, U, F, F, A, A, A, F, U, U}  // the signed-in agent's own things
	reader := azExpect{U, U, F, F, A, A, A, A, U, U}     // directory reads for agents and CRM
	readHeld := azExpect{U, U, F, F, A, F, A, A, U, U}   // reads of the held interaction
	actHeld := azExpect{U, U, F, F, A, F, F, F, U, U}    // acting on the held interaction or its offer
	contactOwn := azExpect{U, U, A, A, F, F, F, F, U, U} // the contact's own chat
	public := azExpect{A, A, A, A, A, A, A, A, A, A}     // open to everyone
	followHeld := azExpect{U, U, A, F, A, F, A, F, U, U} // live messages of the held chat
	agentFeeds := azExpect{U, U, F, F, A, A, A, F, U, U} // the signed-in agent's own feeds
	supervisorOnly := azExpect{U, U, F, F, F, F, A, F, U, U}
	crmFeed := azExpect{U, U, F, F, F, F, A, A, U, U} // every interaction's events: CRM keys and supervisors
	backReady := func(t *testing.T, e *azEnv, _ azResult) { e.ready(t) }

	return []azRow{
		{op: "Query.myChat", doc: `query { myChat { id state agentName messages(first: 5) { totalCount } } }`, expect: contactOwn},
		{op: "Query.me", doc: `query { me { id username role } }`, expect: agentSelf},
		{op: "Query.node", doc: `query($id: ID!) { node(id: $id) { __typename id } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"id": e.aliceID} }, expect: reader},
		{op: "Query.interaction", doc: `query($i: ID!) { interaction(id: $i) { id state notes transcript(first: 5) { totalCount } } }`,
			vars: azIx, expect: readHeld},
		// Filtered on the holder: another agent lists only their own interactions.
		{op: "Query.interactions", doc: `query($a: ID) { interactions(filter: {agentId: $a}, first: 5) { edges { node { id state } } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"a": e.aliceID} }, expect: readHeld},
		{op: "Query.myInteractions", doc: `query { myInteractions { id state } }`, expect: agentSelf},
		{op: "Query.interactionPlans", doc: `query { interactionPlans { id name } }`, expect: reader},
		{op: "Query.transferTargets", doc: `query { transferTargets { id name } }`, expect: agentSelf},

		{op: "Mutation.login", doc: `mutation { login(input: {username: "carol", password: "demo"}) { token userErrors { code } } }`, expect: public},
		{op: "Mutation.logout", doc: `mutation { logout }`, freshSession: true, after: backReady, expect: agentSelf},
		{op: "Mutation.setPresence", doc: `mutation { setPresence(input: {presence: NOT_READY}) { agent { presence } userErrors { code } } }`,
			after: backReady, expect: agentSelf},
		{op: "Mutation.acceptOffer", doc: `mutation($o: ID!) { acceptOffer(input: {offerId: $o}) { interaction { id state } userErrors { code } } }`,
			vars: func(_ *azEnv, f *azFixture) map[string]any { return map[string]any{"o": f.offerID} }, fixture: (*azEnv).offered, expect: actHeld},
		{op: "Mutation.rejectOffer", doc: `mutation($o: ID!) { rejectOffer(input: {offerId: $o}) { interaction { id state } userErrors { code } } }`,
			vars: func(_ *azEnv, f *azFixture) map[string]any { return map[string]any{"o": f.offerID} }, fixture: (*azEnv).offered, expect: actHeld},
		{op: "Mutation.sendMessage", doc: `mutation($i: ID!) { sendMessage(input: {interactionId: $i, text: "from the matrix"}) { message { id } userErrors { code } } }`,
			vars: azIx, expect: actHeld},
		{op: "Mutation.setNotes", doc: `mutation($i: ID!) { setNotes(input: {interactionId: $i, notes: "matrix"}) { interaction { id } userErrors { code } } }`,
			vars: azIx, expect: actHeld},
		{op: "Mutation.selectDisposition", doc: `mutation($i: ID!) { selectDisposition(input: {interactionId: $i, code: "SALE"}) { interaction { id } userErrors { code } } }`,
			vars: azIx, expect: actHeld},
		{op: "Mutation.insertSummary", doc: `mutation($i: ID!) { insertSummary(input: {interactionId: $i}) { interaction { id notes } userErrors { code } } }`,
			vars: azIx, expect: actHeld},
		{op: "Mutation.endInteraction", doc: `mutation($i: ID!) { endInteraction(input: {interactionId: $i}) { interaction { id state } userErrors { code } } }`,
			vars: azIx, fixture: (*azEnv).active, expect: actHeld},
		// Extending a wrap changes only its deadline: the cells share one wrap.
		{op: "Mutation.extendWrap", doc: `mutation($i: ID!) { extendWrap(input: {interactionId: $i}) { interaction { id wrapDeadline } userErrors { code } } }`,
			vars: azIx, fixture: func(e *azEnv, _ *testing.T) *azFixture { return e.wrap }, expect: actHeld},
		{op: "Mutation.completeInteraction", doc: `mutation($i: ID!) { completeInteraction(input: {interactionId: $i}) { interaction { id state } userErrors { code } } }`,
			vars: azIx, fixture: (*azEnv).wrapped, expect: actHeld},
		{op: "Mutation.parkInteraction", doc: `mutation($i: ID!) { parkInteraction(input: {interactionId: $i}) { interaction { id state } userErrors { code } } }`,
			vars: azIx, fixture: (*azEnv).active, expect: actHeld},
		{op: "Mutation.transferInteraction", doc: `mutation($i: ID!, $p: ID) { transferInteraction(input: {interactionId: $i, toPlanId: $p}) { interaction { id state } userErrors { code } } }`,
			vars: func(e *azEnv, f *azFixture) map[string]any { return map[string]any{"i": f.id, "p": e.supportPlan} }, fixture: (*azEnv).active, expect: actHeld},
		{op: "Mutation.startWebchat", doc: `mutation($p: ID) { startWebchat(input: {name: "Matrix", planId: $p, text: "hello"}) { token chat { id } userErrors { code } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"p": e.salesPlan} },
			after: func(t *testing.T, e *azEnv, r azResult) {
				token, _ := dig(r.data, "startWebchat.token").(string)
				id, _ := dig(r.data, "startWebchat.chat.id").(string)
				if token != "" && id != "" {
					e.end(t, &azFixture{id: id, contact: token})
				}
			}, expect: public},
		{op: "Mutation.sendContactMessage", doc: `mutation { sendContactMessage(input: {text: "from the matrix"}) { message { id } userErrors { code } } }`, expect: contactOwn},
		{op: "Mutation.endWebchat", doc: `mutation { endWebchat { chat { id state } userErrors { code } } }`, fixture: (*azEnv).active, expect: contactOwn},

		{op: "Query.channelIdentities", doc: `query { channelIdentities(outboundOnly: true) { id channel address name outbound } }`, expect: agentSelf},
		{op: "Query.messageTemplates", doc: `query($w: ID!) { messageTemplates(identityId: $w) { id name body parameterCount } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"w": e.channels(t0(e)).wa} }, expect: agentSelf},
		// Invalid after authorisation ("to" is no number), so an allowed cell starts nothing.
		{op: "Mutation.startOutbound", doc: `mutation($s: ID!) { startOutbound(input: {channel: SMS, identityId: $s, to: "not a number", text: "hi"}) { interaction { id } userErrors { code field } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"s": e.channels(t0(e)).sms} }, expect: agentSelf},
		// The held chat's first message is no FAILED provider message: WRONG_STATE after authorisation.
		{op: "Mutation.retryMessage", doc: `mutation($m: ID!) { retryMessage(input: {messageId: $m}) { message { id } userErrors { code } } }`,
			vars: func(e *azEnv, f *azFixture) map[string]any { return map[string]any{"m": e.firstMessage(t0(e), f.id)} }, expect: actHeld},
		// Invalid after authorisation (over 10,000 characters), so an allowed cell changes nothing (E2).
		{op: "Mutation.setSignature", doc: `mutation($h: String!) { setSignature(input: {html: $h}) { agent { id signature } userErrors { code field } } }`,
			vars: func(_ *azEnv, _ *azFixture) map[string]any { return map[string]any{"h": strings.Repeat("x", 10_001)} }, expect: agentSelf},
		// Voice (issue 16). startCall is invalid after authorisation ("to" is no number); the
		// signalling and controls act on a call alice holds.
		{op: "Mutation.startCall", doc: `mutation($s: ID!) { startCall(input: {to: "not a number", identityId: $s}) { interaction { id } userErrors { code field } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"s": e.channels(t0(e)).sms} }, expect: agentSelf},
		// On a call alice placed to the demo caller (a fixture of its own, ended after the cell).
		{op: "Mutation.sendRtcSignal", doc: `mutation($i: ID!) { sendRtcSignal(input: {interactionId: $i, type: "bye", payload: ""}) }`,
			vars: azIx, fixture: (*azEnv).call, expect: actHeld},
		{op: "Mutation.controlCall", doc: `mutation($i: ID!) { controlCall(input: {interactionId: $i, mute: true}) }`,
			vars: azIx, fixture: (*azEnv).call, expect: actHeld},
		{op: "Mutation.setCallEndpoint", doc: `mutation { setCallEndpoint(input: {callEndpoint: SOFTPHONE}) { agent { callEndpoint } userErrors { code } } }`, expect: agentSelf},
		{op: "Mutation.saveChannelIdentity", doc: `mutation($s: ID!) { saveChannelIdentity(input: {identityId: $s, name: "   "}) { identity { id } userErrors { code field } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"s": e.channels(t0(e)).sms} }, expect: supervisorOnly},
		{op: "Mutation.saveMessageTemplate", doc: `mutation($w: ID!) { saveMessageTemplate(input: {identityId: $w, name: "Not Valid", language: "en", body: "x"}) { template { id } userErrors { code field } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"w": e.channels(t0(e)).wa} }, expect: supervisorOnly},

		// Administration (issue 13): each allowed cell is refused after authorisation (a blank
		// name, a short password, an unknown ID), so the matrix changes no configuration.
		{op: "Query.agents", doc: `query { agents(first: 5) { totalCount edges { node { id username disabled plans { id } } } } }`, expect: supervisorOnly},
		{op: "Query.apiKeys", doc: `query { apiKeys { id name revoked } }`, expect: supervisorOnly},
		{op: "Query.queueStats", doc: `query { queueStats { plan { id } waiting oldestWaitingSince } }`, expect: supervisorOnly},
		{op: "Query.cannedResponses", doc: `query { cannedResponses(search: "x") { id title } }`, expect: agentSelf},
		{op: "Query.auditLog", doc: `query { auditLog(first: 5) { edges { node { id action } } } }`, expect: supervisorOnly},
		{op: "Mutation.createAgent", doc: `mutation { createAgent(input: {username: "matrix", name: "Matrix", password: "short"}) { agent { id } userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.updateAgent", doc: `mutation($a: ID!) { updateAgent(input: {agentId: $a, name: "   "}) { agent { id } userErrors { code field } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"a": e.aliceID} }, expect: supervisorOnly},
		{op: "Mutation.changePassword", doc: `mutation { changePassword(input: {currentPassword: "not the password", newPassword: "long enough"}) { agent { id } userErrors { code field } } }`, expect: agentSelf},
		{op: "Mutation.createPlan", doc: `mutation { createPlan(input: {name: "   ", channels: [WEBCHAT]}) { plan { id } userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.updatePlan", doc: `mutation($p: ID!) { updatePlan(input: {planId: $p, name: "   "}) { plan { id } userErrors { code field } } }`,
			vars: func(e *azEnv, _ *azFixture) map[string]any { return map[string]any{"p": e.salesPlan} }, expect: supervisorOnly},
		{op: "Mutation.createApiKey", doc: `mutation { createApiKey(input: {name: "   "}) { apiKey { id } secret userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.revokeApiKey", doc: `mutation { revokeApiKey(input: {apiKeyId: "00000000-0000-4000-8000-000000000000"}) { apiKey { id } userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.saveCannedResponse", doc: `mutation { saveCannedResponse(input: {title: "   ", text: "x"}) { cannedResponse { id } userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.deleteCannedResponse", doc: `mutation { deleteCannedResponse(input: {cannedResponseId: "00000000-0000-4000-8000-000000000000"}) { deletedId userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Subscription.queueStatsUpdates", doc: `subscription { queueStatsUpdates { plan { id } waiting } }`, expect: supervisorOnly},
		{op: "Subscription.agentUpdates", doc: `subscription { agentUpdates { id presence } }`, expect: supervisorOnly},

		// CRM integration (issue 18): supervisors manage webhooks (CRM keys only read); every
		// allowed cell is refused after authorisation (a URL the server refuses, an unknown ID).
		{op: "Query.webhooks", doc: `query { webhooks { id url kinds active failedDeliveries(first: 5) { eventId } } }`, expect: supervisorOnly},
		{op: "Mutation.createWebhook", doc: `mutation { createWebhook(input: {url: "http://crm.example.com/hook", kinds: [CREATED]}) { webhook { id } secret userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.deleteWebhook", doc: `mutation { deleteWebhook(input: {webhookId: "00000000-0000-4000-8000-000000000000"}) { deletedId userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.rotateWebhookSecret", doc: `mutation { rotateWebhookSecret(input: {webhookId: "00000000-0000-4000-8000-000000000000"}) { secret userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Mutation.redeliverWebhookEvent", doc: `mutation { redeliverWebhookEvent(input: {webhookId: "00000000-0000-4000-8000-000000000000", eventId: "00000000-0000-4000-8000-000000000000"}) { delivered userErrors { code field } } }`, expect: supervisorOnly},
		{op: "Subscription.interactionEvents", doc: `subscription { interactionEvents(kinds: [MESSAGE]) { id kind interaction { id } } }`, expect: crmFeed},

		{op: "Subscription.offers", doc: `subscription { offers { kind offer { id } } }`, expect: agentFeeds},
		{op: "Subscription.messages", doc: `subscription($i: ID!) { messages(interactionId: $i) { id text } }`, vars: azIx, expect: followHeld},
		{op: "Subscription.interactionUpdates", doc: `subscription { interactionUpdates { id state } }`, expect: agentFeeds},
		{op: "Subscription.unparkNotifications", doc: `subscription { unparkNotifications { interaction { id } } }`, expect: agentFeeds},
		{op: "Subscription.transferResults", doc: `subscription { transferResults { outcome } }`, expect: agentFeeds},
		{op: "Subscription.rtcSignals", doc: `subscription { rtcSignals { interactionId type } }`, expect: agentFeeds},
		{op: "Subscription.deliveryUpdates", doc: `subscription { deliveryUpdates { id delivery } }`, expect: agentFeeds},
		{op: "Subscription.deskEvents", doc: `subscription { deskEvents { offer { kind } interactionUpdate { id } deliveryUpdate { id } } }`, expect: agentFeeds},
	}
}

// TestAuthorisationMatrix runs every operation of the schema as every kind of caller over
// every transport; see the top of this file for the outcome classes and the intent.
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel() // one of the longest: see "Parallel tests" in helpers_test.go
	schema := azSchema(t)
	rows := map[string]azRow{}
	for _, r := range azRows() {
		if _, dup := rows[r.op]; dup {
			t.Errorf("the matrix has two rows for %s", r.op)
		}
		rows[r.op] = r
	}
	// The schema decides what is tested: an operation without a row fails, and so does a row
	// for an operation the schema no longer has.
	var ops []string
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range root.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				ops = append(ops, root.Name+"."+f.Name)
			}
		}
	}
	for _, op := range ops {
		if _, ok := rows[op]; !ok && azElsewhere[op] == "" {
			t.Errorf("add a row for %s to the matrix (server/authz_matrix_test.go)", op)
		}
	}
	for op := range rows {
		if !slices.Contains(ops, op) {
			t.Errorf("the matrix has a row for %s, which is no longer in the schema: remove it", op)
		}
	}
	// Each row's document must be valid against the schema and call its operation.
	for _, op := range ops {
		r, ok := rows[op]
		if !ok {
			continue
		}
		doc, errs := gqlparser.LoadQueryWithRules(schema, r.doc, nil) // nil: the default validation rules
		if len(errs) > 0 {
			t.Errorf("%s: the row's document is not valid against the schema: %v", op, errs)
			delete(rows, op)
			continue
		}
		got := ""
		if len(doc.Operations) == 1 && len(doc.Operations[0].SelectionSet) == 1 {
			if f, ok := doc.Operations[0].SelectionSet[0].(*ast.Field); ok {
				got = azRootName(schema, doc.Operations[0].Operation) + "." + f.Name
			}
		}
		if got != op {
			t.Errorf("%s: the row's document must call %s alone, not %q", op, op, got)
			delete(rows, op)
		}
	}

	began := time.Now()
	e := azStart(t)
	seen := map[string]*[azPrincipals][2]azOutcome{}
	for _, op := range ops {
		r, ok := rows[op]
		if !ok {
			continue
		}
		sub := strings.HasPrefix(op, "Subscription.")
		seen[op] = &[azPrincipals][2]azOutcome{}
		t.Run(op, func(t *testing.T) {
			e.checkShared(t)
			for p := range azPrincipals {
				t.Run(p.String(), func(t *testing.T) {
					for i, ws := range []bool{false, true} {
						name := "http"
						if ws {
							name = "ws"
						} else if sub {
							name = "sse"
						}
						t.Run(name, func(t *testing.T) { seen[op][p][i] = e.cell(t, r, p, ws, sub) })
					}
				})
			}
		})
	}
	t.Logf("%d operations × %d principals × 2 transports in %v\n%s", len(seen), azPrincipals, time.Since(began).Round(time.Millisecond), azTable(ops, seen))
}

func azSchema(t *testing.T) *ast.Schema {
	t.Helper()
	b, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(b)})
	if err != nil {
		t.Fatalf("schema.graphqls: %v", err)
	}
	return schema
}

func azRootName(s *ast.Schema, op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return s.Mutation.Name
	case ast.Subscription:
		return s.Subscription.Name
	}
	return s.Query.Name
}

// azTable renders the observed outcomes, http/ws per cell: A allowed, U unauthenticated,
// F forbidden, R websocket refused with 4403, ? anything else.
func azTable(ops []string, seen map[string]*[azPrincipals][2]azOutcome) string {
	short := func(o azOutcome) string {
		switch o {
		case azAllowed, azUnauthenticated, azForbidden:
			return string(o[:1])
		case azRefused:
			return "R"
		case "":
			return "-"
		}
		return "?"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-33s", "")
	for p := range azPrincipals {
		fmt.Fprintf(&b, " %-13s", p)
	}
	for _, op := range ops {
		cells, ok := seen[op]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n%-33s", op)
		for p := range azPrincipals {
			fmt.Fprintf(&b, " %-13s", short(cells[p][0])+"/"+short(cells[p][1]))
		}
	}
	return b.String()
}

// azEnv is one node with the demo data, the callers' credentials and the shared fixtures.
type azEnv struct {
	t     *testing.T
	m     *server.Main
	clock *workspace.ManualClock

	aliceID, adminID, salesPlan, supportPlan string
	// ops are sessions the test itself uses to build and end fixtures, by agent ID; no cell
	// ever uses them, so a logout cell cannot take them away.
	ops map[string]string
	// The callers' credentials.
	alice, bob, admin, bad, revoked, expired, otherContact string
	// held is an ACTIVE webchat alice holds; wrap is one in WRAP with a countdown (Sales).
	held, wrap *azFixture
	// ids are the demo's SMS and WhatsApp identities, read once.
	ids *azChannels
}

// azChannels are the demo's identities the channel rows act on.
type azChannels struct{ sms, wa string }

// t0 is the test a vars function runs under: vars get none, and the IDs they read exist in
// every demo, so a failure to read them is fatal to the whole test.
func t0(e *azEnv) *testing.T { return e.t }

// channels reads the demo identities (as the supervisor, through the API).
func (e *azEnv) channels(t *testing.T) azChannels {
	if e.ids == nil {
		r := post(t, e.m, e.ops[e.adminID], `{ channelIdentities { id channel } }`, nil)
		e.ids = &azChannels{}
		for _, id := range dig(r.Data, "channelIdentities").([]any) {
			switch dig(id, "channel") {
			case "SMS":
				e.ids.sms = dig(id, "id").(string)
			case "WHATSAPP":
				e.ids.wa = dig(id, "id").(string)
			}
		}
		if e.ids.sms == "" || e.ids.wa == "" {
			t.Fatalf("demo identities: %+v", r)
		}
	}
	return *e.ids
}

// firstMessage is the ID of an interaction's first message.
func (e *azEnv) firstMessage(t *testing.T, id string) string {
	r := post(t, e.m, workspace.DemoAPIKey, `query($i: ID!) { interaction(id: $i) { transcript(first: 1) { edges { node { id } } } } }`, map[string]any{"i": id})
	edges, _ := dig(r.Data, "interaction.transcript.edges").([]any)
	if len(edges) == 0 {
		t.Fatalf("no message in %s: %+v", id, r)
	}
	return dig(edges[0], "node.id").(string)
}

// azStart runs a node on a manual clock with the scheduler off, so nothing expires unless
// the test moves the clock; webchat flood limits are off, since the matrix starts many
// chats from one address.
func azStart(t *testing.T) *azEnv {
	t.Helper()
	const ttl = time.Hour
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = 4
	cfg.SessionTTL = ttl
	cfg.Tick = 0
	cfg.WebchatIPRate, cfg.WebchatTokenRate = 0, 0
	m := server.NewMain(cfg)
	m.Stdout = io.Discard
	clock := workspace.NewManualClock(time.Now())
	m.Clock = clock
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := &azEnv{t: t, m: m, clock: clock, bad: rand.Text(), ops: map[string]string{}}

	// A session that outlives the TTL: valid now, expired once the clock moves past it.
	e.expired = login(t, m, "alice")
	if r := post(t, m, e.expired, `{ me { id } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the session to expire does not work yet: %+v", r)
	}
	clock.Advance(ttl + time.Second)

	for _, name := range []string{"alice", "bob", "carol", "admin"} {
		token := login(t, m, name)
		e.ops[agentID(t, m, token)] = token
	}
	e.alice, e.bob, e.admin = login(t, m, "alice"), login(t, m, "bob"), login(t, m, "admin")
	e.aliceID, e.adminID = agentID(t, m, e.alice), agentID(t, m, e.admin)

	// A session revoked by logout, which also sets alice OFFLINE.
	e.revoked = login(t, m, "alice")
	if r := post(t, m, e.revoked, `mutation { logout }`, nil); dig(r.Data, "logout") != true {
		t.Fatalf("logout: %+v", r)
	}

	r := post(t, m, workspace.DemoAPIKey, `{ interactionPlans { id name } }`, nil)
	for _, p := range dig(r.Data, "interactionPlans").([]any) {
		switch dig(p, "name") {
		case "Sales":
			e.salesPlan = dig(p, "id").(string)
		case "Support":
			e.supportPlan = dig(p, "id").(string)
		}
	}
	if e.salesPlan == "" || e.supportPlan == "" {
		t.Fatalf("demo plans: %+v", r)
	}

	// Only alice is READY, so every chat is offered to her.
	e.ready(t)
	other := e.offered(t)
	e.end(t, other) // an ended chat: its contact's token stays valid for its own chat
	e.otherContact = other.contact
	e.wrap, e.held = e.wrapped(t), e.active(t)
	e.wrap.fresh, e.held.fresh = false, false
	return e
}

// ready sets alice READY.
func (e *azEnv) ready(t *testing.T) {
	t.Helper()
	mutate(t, e.m, e.ops[e.aliceID], "setPresence", `mutation { setPresence(input: {presence: READY}) { agent { presence } } }`, nil)
}

// offered starts a webchat in Sales, which is offered to alice.
func (e *azEnv) offered(t *testing.T) *azFixture {
	t.Helper()
	p := mutate(t, e.m, "", "startWebchat", `mutation($p: ID) { startWebchat(input: {name: "Visitor", planId: $p, text: "Hello"}) {
		token chat { id } userErrors { code message } } }`, map[string]any{"p": e.salesPlan})
	f := &azFixture{contact: fmt.Sprint(dig(p, "token")), fresh: true}
	f.id, _ = dig(p, "chat.id").(string)
	if f.id == "" {
		t.Fatalf("startWebchat: %v", p)
	}
	for attempt := 0; ; attempt++ {
		r := post(t, e.m, e.ops[e.aliceID], `query($i: ID!) { interaction(id: $i) { state offer { id } } }`, map[string]any{"i": f.id})
		if f.offerID, _ = dig(r.Data, "interaction.offer.id").(string); f.offerID != "" {
			return f
		}
		if attempt > 0 {
			t.Fatalf("the new chat was not offered to alice (is she READY with room?): %+v", r)
		}
		e.ready(t) // a cell may have changed her presence: READY again routes the chat to her
	}
}

// active is a chat alice accepted: ACTIVE, holding one of her four webchat slots.
func (e *azEnv) active(t *testing.T) *azFixture {
	t.Helper()
	f := e.offered(t)
	p := mutate(t, e.m, e.ops[e.aliceID], "acceptOffer", `mutation($o: ID!) { acceptOffer(input: {offerId: $o}) { interaction { state } userErrors { code } } }`, map[string]any{"o": f.offerID})
	if dig(p, "interaction.state") != "ACTIVE" {
		t.Fatalf("accept: %v", p)
	}
	return f
}

// call is a call alice placed from the demo voice identity to the demo caller, which
// answers it; made for one cell and ended after it.
func (e *azEnv) call(t *testing.T) *azFixture {
	t.Helper()
	e.callerIdle(t)
	r := post(t, e.m, e.ops[e.aliceID], `{ channelIdentities(channel: VOICE, outboundOnly: true) { id } }`, nil)
	identity, _ := dig(r.Data, "channelIdentities.0.id").(string)
	p := mutate(t, e.m, e.ops[e.aliceID], "startCall", `mutation($s: ID!) { startCall(input: {to: "+442079460000", identityId: $s}) { interaction { id state } userErrors { code message } } }`, map[string]any{"s": identity})
	id, _ := dig(p, "interaction.id").(string)
	if id == "" || dig(p, "interaction.state") != "ACTIVE" {
		t.Fatalf("startCall: %v", p)
	}
	waitFor(t, func() bool { return !e.callerIdleNow() }) // answered
	// The contacts' credentials are the held chat's: no contact has a say in a call.
	return &azFixture{id: id, fresh: true, call: true, contact: e.held.contact}
}

// callerIdle waits until the demo caller has no call: the previous cell's BYE has reached it.
func (e *azEnv) callerIdle(t *testing.T) {
	t.Helper()
	waitFor(t, e.callerIdleNow)
}

func (e *azEnv) callerIdleNow() bool {
	res, err := http.Get(e.m.URL() + "/demo/call/api/state")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var st struct{ InCall bool }
	return json.NewDecoder(res.Body).Decode(&st) == nil && !st.InCall
}

// wrapped is a chat alice parked and then ended: in WRAP with a countdown (Sales codes are
// optional), and holding no capacity, since a wrap after parking takes no slot.
func (e *azEnv) wrapped(t *testing.T) *azFixture {
	t.Helper()
	f := e.active(t)
	for _, step := range []string{"parkInteraction", "endInteraction"} {
		p := mutate(t, e.m, e.ops[e.aliceID], step, `mutation($i: ID!) { `+step+`(input: {interactionId: $i}) { interaction { state } userErrors { code } } }`, map[string]any{"i": f.id})
		if c := userCode(p); c != "" {
			t.Fatalf("%s: %v", step, p)
		}
	}
	return f
}

// end finishes a chat so it holds no capacity: the contact leaves it (a chat no one accepted
// is completed at once), and its agent completes the wrap.
func (e *azEnv) end(t *testing.T, f *azFixture) {
	t.Helper()
	const read = `query($i: ID!) { interaction(id: $i) { state agent { id } plan { dispositionRequired dispositionCodes { code } } } }`
	r := post(t, e.m, workspace.DemoAPIKey, read, map[string]any{"i": f.id})
	switch dig(r.Data, "interaction.state") {
	case "QUEUED", "OFFERED", "ACTIVE", "PARKED":
		if f.call {
			holder, _ := dig(r.Data, "interaction.agent.id").(string)
			mutate(t, e.m, e.ops[holder], "endInteraction", `mutation($i: ID!) { endInteraction(input: {interactionId: $i}) { interaction { state } userErrors { code } } }`, map[string]any{"i": f.id})
		} else {
			mutate(t, e.m, f.contact, "endWebchat", `mutation { endWebchat { chat { state } userErrors { code } } }`, nil)
		}
		r = post(t, e.m, workspace.DemoAPIKey, read, map[string]any{"i": f.id})
	}
	if dig(r.Data, "interaction.state") == "WRAP" {
		holder, _ := dig(r.Data, "interaction.agent.id").(string)
		if code, _ := dig(r.Data, "interaction.plan.dispositionCodes.0.code").(string); code != "" && dig(r.Data, "interaction.plan.dispositionRequired") == true {
			mutate(t, e.m, e.ops[holder], "selectDisposition", `mutation($i: ID!, $c: String!) { selectDisposition(input: {interactionId: $i, code: $c}) { interaction { id } userErrors { code } } }`, map[string]any{"i": f.id, "c": code})
		}
		p := mutate(t, e.m, e.ops[holder], "completeInteraction", `mutation($i: ID!) { completeInteraction(input: {interactionId: $i}) { interaction { state } userErrors { code } } }`, map[string]any{"i": f.id})
		if dig(p, "interaction.state") != "COMPLETED" {
			t.Fatalf("completing the fixture %s: %v", f.id, p)
		}
	}
}

// checkShared makes sure the shared fixtures are as the rows expect; an earlier cell that
// changed them (a missed denial) fails the test, and they are rebuilt.
func (e *azEnv) checkShared(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		f     **azFixture
		state string
		make  func(*testing.T) *azFixture
	}{{&e.held, "ACTIVE", e.active}, {&e.wrap, "WRAP", e.wrapped}} {
		r := post(t, e.m, workspace.DemoAPIKey, `query($i: ID!) { interaction(id: $i) { state agent { id } } }`, map[string]any{"i": (*c.f).id})
		if dig(r.Data, "interaction.state") == c.state && dig(r.Data, "interaction.agent.id") == e.aliceID {
			continue
		}
		t.Errorf("the shared %s chat was changed by an earlier cell: %+v", c.state, r.Data)
		e.end(t, *c.f)
		*c.f = c.make(t)
		(*c.f).fresh = false
	}
}

// credential is what the principal sends.
func (e *azEnv) credential(t *testing.T, p azPrincipal, r azRow, f *azFixture) string {
	t.Helper()
	agent := func(token, name string) string {
		if r.freshSession {
			return login(t, e.m, name)
		}
		return token
	}
	switch p {
	case pBad:
		return e.bad
	case pContact:
		return f.contact
	case pOtherContact:
		return e.otherContact
	case pHolder:
		return agent(e.alice, "alice")
	case pOther:
		return agent(e.bob, "bob")
	case pSupervisor:
		return agent(e.admin, "admin")
	case pCRM:
		return workspace.DemoAPIKey
	case pRevoked:
		return e.revoked
	case pExpired:
		return e.expired
	}
	return ""
}

// cell runs one operation as one principal over one transport and checks the outcome.
func (e *azEnv) cell(t *testing.T, r azRow, p azPrincipal, ws, sub bool) azOutcome {
	f := e.held
	if r.fixture != nil {
		f = r.fixture(e, t)
	}
	if f.fresh {
		defer e.end(t, f)
	}
	var vars map[string]any
	if r.vars != nil {
		vars = r.vars(e, f)
	}
	token := e.credential(t, p, r, f)
	root := r.op[strings.Index(r.op, ".")+1:]
	var res azResult
	switch {
	case ws:
		res = e.overWebsocket(t, token, r.doc, vars, root, sub)
	case sub:
		res = e.overSSE(t, token, r.doc, vars, root)
	default:
		res = e.overHTTP(t, token, r.doc, vars, root)
	}
	if r.after != nil {
		r.after(t, e, res)
	}
	want := r.expect[p]
	switch {
	case ws && p.rejected() && res.outcome == azRefused:
		t.Logf("%s: %s (the connection is refused before any operation; counts as %s)", res.outcome, res.detail, want)
	case res.outcome != want:
		t.Errorf("%s as %s over %s: got %s, want %s (%s)", r.op, p, azTransport(ws, sub), res.outcome, want, res.detail)
	default:
		t.Logf("%s %s", res.outcome, res.detail)
	}
	return res.outcome
}

func azTransport(ws, sub bool) string {
	switch {
	case ws:
		return "websocket"
	case sub:
		return "HTTP (SSE)"
	}
	return "HTTP"
}

// azResult is what a cell observed.
type azResult struct {
	outcome azOutcome
	detail  string
	data    map[string]any
}

type azError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type azBody struct {
	Data   map[string]any `json:"data"`
	Errors []azError      `json:"errors"`
}

// classify sorts a GraphQL response into an outcome class.
func (b azBody) classify(root string) azResult {
	if len(b.Errors) > 0 {
		var codes []string
		for _, e := range b.Errors {
			code, _ := e.Extensions["code"].(string)
			codes = append(codes, fmt.Sprintf("%s at %v: %s", code, e.Path, e.Message))
		}
		detail := strings.Join(codes, "; ")
		for _, e := range b.Errors {
			switch code, _ := e.Extensions["code"].(string); code {
			case string(azUnauthenticated), string(azForbidden):
				return azResult{outcome: azOutcome(code), detail: detail, data: b.Data}
			}
		}
		code, _ := b.Errors[0].Extensions["code"].(string)
		return azResult{outcome: azOutcome("ERROR " + code), detail: detail, data: b.Data}
	}
	detail := "no errors"
	if ue, _ := dig(b.Data, root+".userErrors").([]any); len(ue) > 0 {
		detail = fmt.Sprintf("past authorisation, userErrors %v", ue)
	}
	return azResult{outcome: azAllowed, detail: detail, data: b.Data}
}

// overHTTP posts a query or mutation.
func (e *azEnv) overHTTP(t *testing.T, token, query string, vars map[string]any, root string) azResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, err := http.DefaultClient.Do(queryRequest(t.Context(), e.m, token, body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var b azBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return azResult{outcome: azOutcome(fmt.Sprintf("HTTP %d", res.StatusCode)), detail: string(raw)}
	}
	out := b.classify(root)
	if res.StatusCode != http.StatusOK {
		out.detail = fmt.Sprintf("HTTP %d: %s", res.StatusCode, out.detail)
	}
	return out
}

// azSettle is how long an accepted subscription is watched for a late error.
const azSettle = 50 * time.Millisecond

// registered waits for a subscription's answer: an event or error from next, or the hub
// counting one more subscriber than before (the subscription was accepted).
func (e *azEnv) registered(ctx context.Context, before int, next <-chan azResult) azResult {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-next:
			return r
		case <-tick.C:
			if e.hubLoad() <= before {
				continue
			}
			select { // accepted; an error arriving right after would still count
			case r := <-next:
				return r
			case <-time.After(azSettle):
				return azResult{outcome: azAllowed, detail: "subscription registered"}
			}
		case <-ctx.Done():
			return azResult{outcome: "NO ANSWER", detail: "neither an error nor a registered subscription in 10 s"}
		}
	}
}

// drained waits until the subscriptions a cell opened are gone, so the next cell's hub count
// starts from the same place.
func (e *azEnv) drained(t *testing.T, before int) {
	t.Helper()
	waitFor(t, func() bool { return e.hubLoad() <= before })
}

// overSSE opens a subscription over HTTP with Accept: text/event-stream.
func (e *azEnv) overSSE(t *testing.T, token, query string, vars map[string]any, root string) azResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	before := e.hubLoad()
	defer e.drained(t, before)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := queryRequest(ctx, e.m, token, body)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(res.Body)
		var b azBody
		if json.Unmarshal(raw, &b) != nil {
			return azResult{outcome: azOutcome(fmt.Sprintf("HTTP %d", res.StatusCode)), detail: string(raw)}
		}
		out := b.classify(root)
		out.detail = fmt.Sprintf("HTTP %d without a stream: %s", res.StatusCode, out.detail)
		return out
	}
	next := make(chan azResult, 1)
	go func() {
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
				if event == "complete" {
					next <- azResult{outcome: "COMPLETE", detail: "the stream completed without an event or error"}
					return
				}
			} else if data, ok := strings.CutPrefix(line, "data: "); ok && event == "next" {
				var b azBody
				if err := json.Unmarshal([]byte(data), &b); err != nil {
					next <- azResult{outcome: "BAD EVENT", detail: data}
				} else {
					out := b.classify(root)
					if out.outcome == azAllowed {
						out.detail = "delivered an event"
					}
					next <- out
				}
				return
			}
		}
		select {
		case next <- azResult{outcome: "CLOSED", detail: fmt.Sprintf("the stream ended: %v", sc.Err())}:
		case <-ctx.Done():
		}
	}()
	return e.registered(ctx, before, next)
}

// azWSMessage is a graphql-transport-ws message.
type azWSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// overWebsocket connects with graphql-transport-ws, sends connection_init with the token,
// and runs the operation as a subscribe message.
func (e *azEnv) overWebsocket(t *testing.T, token, query string, vars map[string]any, root string, sub bool) azResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	initial := e.hubLoad()
	if sub {
		defer e.drained(t, initial)
	}
	defer cancel()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(e.m.URL(), "http")+"/query",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	init := map[string]any{}
	if token != "" {
		init["Authorization"] = "Bearer " + token
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": init}); err != nil {
		t.Fatal(err)
	}

	msgs := make(chan azWSMessage, 4)
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(msgs)
		for {
			var m azWSMessage
			if readErr = wsjson.Read(ctx, conn, &m); readErr != nil {
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()
	defer conn.CloseNow() // ends the reader before wg.Wait
	closed := func() azResult {
		wg.Wait()
		if coderws.CloseStatus(readErr) == 4403 {
			var ce coderws.CloseError
			reason := readErr.Error()
			if errors.As(readErr, &ce) {
				reason = ce.Reason
			}
			return azResult{outcome: azRefused, detail: reason}
		}
		return azResult{outcome: "CLOSED", detail: fmt.Sprint(readErr)}
	}

	// connection_ack, or a refusal.
	for ack := false; !ack; {
		select {
		case m, ok := <-msgs:
			switch {
			case !ok:
				return closed()
			case m.Type == "connection_ack":
				ack = true
			case m.Type != "ping" && m.Type != "pong":
				return azResult{outcome: "NO ACK", detail: fmt.Sprintf("%s %s", m.Type, m.Payload)}
			}
		case <-ctx.Done():
			return azResult{outcome: "NO ACK", detail: "no connection_ack in 10 s"}
		}
	}
	// Counted after the ack: an authenticated socket watches its credential from
	// connection_init on, which is no subscription. Counted before, that watch looked like
	// the subscription registering whenever a refusal took longer than azSettle to arrive.
	before := e.hubLoad()
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}}); err != nil {
		t.Fatal(err)
	}
	answers := make(chan azResult, 1)
	go func() {
		for m := range msgs {
			var out azResult
			switch m.Type {
			case "next":
				var b azBody
				if err := json.Unmarshal(m.Payload, &b); err != nil {
					out = azResult{outcome: "BAD MESSAGE", detail: string(m.Payload)}
				} else if out = b.classify(root); out.outcome == azAllowed && sub {
					out.detail = "delivered an event"
				}
			case "error":
				var errs []azError
				if err := json.Unmarshal(m.Payload, &errs); err != nil {
					out = azResult{outcome: "BAD MESSAGE", detail: string(m.Payload)}
				} else {
					out = azBody{Errors: errs}.classify(root)
				}
			case "complete":
				out = azResult{outcome: "COMPLETE", detail: "completed without a result"}
			default:
				continue
			}
			select {
			case answers <- out:
			default:
			}
			return
		}
		select {
		case answers <- closed():
		default:
		}
	}()
	if sub {
		return e.registered(ctx, before, answers)
	}
	select {
	case out := <-answers:
		return out
	case <-ctx.Done():
		return azResult{outcome: "NO ANSWER", detail: "no result in 10 s"}
	}
}

// hubLoad counts the node's hub subscribers and watchers: a subscription registers one or
// the other (the live view's feeds watch).
func (e *azEnv) hubLoad() int { return e.m.Hub.Count() + e.m.Hub.Watchers() }
