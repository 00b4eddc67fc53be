package server_test

import (
	"testing"

	"github.com/agentdesk/agentdesk/server"
)

func TestLoginMeLogout(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")

	r := post(t, m, token, `{ me { username name role presence capacity { channel max used } } }`, nil)
	if dig(r.Data, "me.name") != "Alice Martin" || dig(r.Data, "me.role") != "AGENT" || dig(r.Data, "me.presence") != "OFFLINE" {
		t.Fatalf("me = %+v", r)
	}
	if got := len(dig(r.Data, "me.capacity").([]any)); got != 6 {
		t.Fatalf("capacity rows = %d, want one per channel (6)", got)
	}

	r = post(t, m, token, `mutation { logout }`, nil)
	if dig(r.Data, "logout") != true {
		t.Fatalf("logout = %+v", r)
	}
	r = post(t, m, token, `{ me { name } }`, nil)
	if r.code() != "UNAUTHENTICATED" {
		t.Fatalf("me after logout: code %q, want UNAUTHENTICATED", r.code())
	}
	other := login(t, m, "alice")
	r = post(t, m, other, `{ me { presence } }`, nil)
	if dig(r.Data, "me.presence") != "OFFLINE" {
		t.Fatalf("logout must leave the agent OFFLINE, got %v", dig(r.Data, "me.presence"))
	}
}

func TestLoginErrors(t *testing.T) {
	m := start(t)
	for _, c := range []struct{ name, user, pass, code string }{
		{"wrong password", "alice", "nope", "INVALID_CREDENTIALS"},
		{"unknown user", "mallory", "demo", "INVALID_CREDENTIALS"},
		{"empty password", "alice", "", "INVALID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, m, "", `mutation($u:String!,$p:String!){ login(input:{username:$u,password:$p}) { token agent { id } userErrors { code message } } }`,
				map[string]any{"u": c.user, "p": c.pass})
			if len(r.Errors) > 0 {
				t.Fatalf("a failed login is a userError, not a top-level error: %+v", r.Errors)
			}
			if dig(r.Data, "login.token") != nil || dig(r.Data, "login.agent") != nil {
				t.Fatalf("failed login returned a token or agent: %+v", r.Data)
			}
			if got := dig(r.Data, "login.userErrors.0.code"); got != c.code {
				t.Fatalf("userError code = %v, want %s", got, c.code)
			}
			if dig(r.Data, "login.userErrors.0.message") == "" {
				t.Fatal("userError without a message")
			}
		})
	}
}

func TestTokensRequired(t *testing.T) {
	m := start(t)
	for _, c := range []struct{ name, token string }{
		{"no token", ""},
		{"unknown session token", "ads_notarealtoken"},
		{"unknown API key", "not-a-key-at-all"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, m, c.token, `{ me { name } }`, nil)
			if r.code() != "UNAUTHENTICATED" || r.Errors[0].Message == "" {
				t.Fatalf("me: %+v, want UNAUTHENTICATED with a message", r)
			}
			r = post(t, m, c.token, `mutation { setPresence(input:{presence:READY}) { agent { id } } }`, nil)
			if r.code() != "UNAUTHENTICATED" {
				t.Fatalf("setPresence: %+v, want UNAUTHENTICATED", r)
			}
			r = post(t, m, c.token, `{ interactionPlans { name } }`, nil)
			if r.code() != "UNAUTHENTICATED" {
				t.Fatalf("interactionPlans: %+v, want UNAUTHENTICATED", r)
			}
		})
	}
}

func TestExpiredSession(t *testing.T) {
	m := start(t, func(c *server.Config) { c.SessionTTL = 1 })
	token := login(t, m, "bob")
	if r := post(t, m, token, `{ me { name } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("expired token: %+v, want UNAUTHENTICATED", r)
	}
}

func TestAPIKeyIsReadOnly(t *testing.T) {
	m := start(t)
	const key = "demo-crm-key"
	r := post(t, m, key, `{ interactionPlans(search: "sup") { id name dispositionRequired wrapSeconds dispositionCodes { code label } } }`, nil)
	if len(r.Errors) > 0 || dig(r.Data, "interactionPlans.0.name") != "Support" || dig(r.Data, "interactionPlans.1") != nil {
		t.Fatalf("CRM read of plans: %+v", r)
	}
	if dig(r.Data, "interactionPlans.0.dispositionRequired") != true || dig(r.Data, "interactionPlans.0.wrapSeconds") != nil {
		t.Fatalf("Support requires codes and has no wrap timer: %+v", r.Data)
	}
	planID := dig(r.Data, "interactionPlans.0.id").(string)
	r = post(t, m, key, `query($id:ID!){ node(id:$id) { __typename ... on InteractionPlan { name } } }`, map[string]any{"id": planID})
	if dig(r.Data, "node.name") != "Support" {
		t.Fatalf("node(plan): %+v", r)
	}
	r = post(t, m, key, `mutation { setPresence(input:{presence:READY}) { agent { id } } }`, nil)
	if r.code() != "FORBIDDEN" {
		t.Fatalf("API key mutation: %+v, want FORBIDDEN", r)
	}
	r = post(t, m, key, `{ me { name } }`, nil)
	if r.code() != "FORBIDDEN" {
		t.Fatalf("API key me: %+v, want FORBIDDEN", r)
	}
}

func TestNodeLookup(t *testing.T) {
	m := start(t)
	token := login(t, m, "carol")
	me := post(t, m, token, `{ me { id } }`, nil)
	id := dig(me.Data, "me.id").(string)
	r := post(t, m, token, `query($id:ID!){ node(id:$id) { __typename id ... on Agent { username } } }`, map[string]any{"id": id})
	if dig(r.Data, "node.__typename") != "Agent" || dig(r.Data, "node.username") != "carol" {
		t.Fatalf("node(agent) = %+v", r)
	}
	r = post(t, m, token, `{ node(id:"00000000-0000-4000-8000-000000000000") { id } }`, nil)
	if r.code() != "NOT_FOUND" {
		t.Fatalf("unknown id: %+v, want NOT_FOUND", r)
	}
	r = post(t, m, token, `{ node(id:"not-an-id") { id } }`, nil)
	if r.code() != "INVALID" {
		t.Fatalf("malformed id: %+v, want INVALID", r)
	}
}

func TestSetPresence(t *testing.T) {
	m := start(t)
	token := login(t, m, "alice")
	for _, p := range []string{"READY", "NOT_READY", "OFFLINE", "READY"} {
		r := post(t, m, token, `mutation($p:PresenceState!){ setPresence(input:{presence:$p}) { agent { presence presenceSince } userErrors { code } } }`, map[string]any{"p": p})
		if dig(r.Data, "setPresence.agent.presence") != p {
			t.Fatalf("setPresence %s: %+v", p, r)
		}
	}
	r := post(t, m, token, `mutation { setPresence(input:{presence:BUSY}) { agent { presence } } }`, nil)
	if r.code() != "INVALID" {
		t.Fatalf("unknown presence: %+v, want INVALID", r)
	}
	// Repeating the same state keeps presenceSince, which routing uses for "idle longest".
	a := post(t, m, token, `mutation { setPresence(input:{presence:READY}) { agent { presenceSince } } }`, nil)
	b := post(t, m, token, `mutation { setPresence(input:{presence:READY}) { agent { presenceSince } } }`, nil)
	if dig(a.Data, "setPresence.agent.presenceSince") != dig(b.Data, "setPresence.agent.presenceSince") {
		t.Fatal("setting the same presence again restarted presenceSince")
	}
}
