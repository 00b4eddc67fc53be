package server_test

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// The admin API (issue 13) over GraphQL, on a real node: a fresh install configured through
// the API alone, the validation of every operation, what a change does at once, conflicts
// between two supervisors, the audit log and the live view's feeds.

const (
	createPlanDoc = `mutation($in: PlanInput!) { createPlan(input: $in) { plan { id name version channels offerTimeoutSeconds postParkingPlan { id } }
		userErrors { code message field } } }`
	updatePlanDoc = `mutation($in: PlanInput!) { updatePlan(input: $in) { plan { id name version channels offerTimeoutSeconds wrapSeconds postParkingPlan { id } }
		userErrors { code message field } } }`
	createAgentDoc = `mutation($in: CreateAgentInput!) { createAgent(input: $in) { agent { id username role disabled plans { id } capacity { channel max used } }
		userErrors { code message field } } }`
	updateAgentDoc = `mutation($in: UpdateAgentInput!) { updateAgent(input: $in) { agent { id name role disabled capacity { channel max used } plans { id } }
		userErrors { code message field } } }`
)

// freshInstall starts a node without -demo and creates its first supervisor the way the
// README says (agentdesk add-agent -supervisor); it returns the node and the supervisor's token.
func freshInstall(t *testing.T) (*server.Main, string) {
	t.Helper()
	dir := t.TempDir()
	var out strings.Builder
	if err := server.Admin(t.Context(), []string{"add-agent", "-supervisor", "-username", "boss", "-data", dir},
		func(string) string { return "" }, strings.NewReader("first-password\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", dir}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = 4
	m := run(t, cfg)
	return m, signIn(t, m, "boss", "first-password")
}

// signIn signs in with a password and returns the session token.
func signIn(t *testing.T, m *server.Main, username, password string) string {
	t.Helper()
	p := loginAs(t, m, username, password)
	token, _ := p["token"].(string)
	if token == "" {
		t.Fatalf("login %s: %v", username, p)
	}
	return token
}

// ok fails unless the payload has no userErrors, and returns it.
func ok(t *testing.T, p map[string]any) map[string]any {
	t.Helper()
	if errs, _ := p["userErrors"].([]any); len(errs) > 0 {
		t.Fatalf("userErrors: %v", errs)
	}
	return p
}

// refused checks a payload's first userError code and field.
func refused(t *testing.T, p map[string]any, code, field string) {
	t.Helper()
	if userCode(p) != code {
		t.Fatalf("got %v, want userError %s", p, code)
	}
	if field != "" && dig(p, "userErrors.0.field.0") != field {
		t.Fatalf("got field %v, want %s: %v", dig(p, "userErrors.0.field"), field, p)
	}
}

// TestAdminFirstRun: from a fresh install with nothing but its first supervisor, the API
// alone reaches a working webchat desk: a plan, an agent, an API key, a routed chat.
func TestAdminFirstRun(t *testing.T) {
	m, boss := freshInstall(t)
	if r := post(t, m, "", `mutation { startWebchat(input:{name:"Early", text:"hello"}) { token userErrors { code message } } }`, nil); userCode(r.Data["startWebchat"].(map[string]any)) != workspace.EINVALID {
		t.Fatalf("a webchat started before any plan: %+v", r)
	}
	plan := ok(t, mutate(t, m, boss, "createPlan", createPlanDoc, map[string]any{"in": map[string]any{
		"name": "Support", "channels": []string{"WEBCHAT"}, "dispositionCodes": []any{map[string]any{"code": "RESOLVED", "label": "Resolved"}}}}))
	planID := dig(plan, "plan.id").(string)
	if dig(plan, "plan.offerTimeoutSeconds") != float64(workspace.DefaultOfferTimeout) {
		t.Fatalf("defaults: %v", plan)
	}
	agent := ok(t, mutate(t, m, boss, "createAgent", createAgentDoc, map[string]any{"in": map[string]any{
		"username": "ann", "name": "Ann", "password": "ann-password", "planIds": []string{planID},
		"capacity": []any{map[string]any{"channel": "WEBCHAT", "max": 2}}}}))
	if dig(agent, "agent.plans.0.id") != planID || dig(agent, "agent.role") != "AGENT" {
		t.Fatalf("created %v", agent)
	}
	key := ok(t, mutate(t, m, boss, "createApiKey", `mutation { createApiKey(input:{name:"CRM"}) { apiKey { id name revoked lastUsedAt } secret userErrors { code } } }`, nil))
	secret := key["secret"].(string)
	if r := post(t, m, secret, `{ interactions(first: 1) { edges { node { id } } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the new key does not read: %+v", r)
	}
	keys := post(t, m, boss, `{ apiKeys { id name lastUsedAt revoked } }`, nil)
	if dig(keys.Data, "apiKeys.0.name") != "CRM" || dig(keys.Data, "apiKeys.0.lastUsedAt") == nil {
		t.Fatalf("apiKeys after one use: %+v", keys)
	}
	if strings.Contains(mustJSON(keys.Data), secret) {
		t.Fatal("apiKeys shows the secret")
	}

	ann := signIn(t, m, "ann", "ann-password")
	offers := subscribe(t, m, ann, offerSub, nil)
	ready(t, m, ann)
	_, id := startChat(t, m, "", "hello, anyone?")
	if ev := offers.event(); dig(ev, "offers.offer.interaction.id") != id {
		t.Fatalf("offer %v", ev)
	}
}

// watch opens a subscription that the service serves with hub watchers (the live view's)
// and waits until they are registered.
func watch(t *testing.T, m *server.Main, token, query string) *wsClient {
	t.Helper()
	c := connectWS(t, m, "graphql-transport-ws", token)
	c.expect("connection_ack")
	before := m.Hub.Watchers()
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	waitFor(t, func() bool { return m.Hub.Watchers() > before })
	return c
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAdminValidation: every bad input gets a userError on its field and changes nothing.
func TestAdminValidation(t *testing.T) {
	m, boss := freshInstall(t)
	plan := func(in map[string]any) map[string]any {
		return mutate(t, m, boss, "createPlan", createPlanDoc, map[string]any{"in": in})
	}
	a := dig(ok(t, plan(map[string]any{"name": "Alpha", "channels": []string{"WEBCHAT", "SMS"}})), "plan.id").(string)
	b := dig(ok(t, plan(map[string]any{"name": "Beta", "channels": []string{"WEBCHAT"}, "postParkingPlanId": a})), "plan.id").(string)

	for _, c := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"duplicate name, other case", workspace.ETAKEN, "name", map[string]any{"name": "alpha", "channels": []string{"SMS"}}},
		{"blank name", workspace.EINVALID, "name", map[string]any{"name": " \u200b ", "channels": []string{"SMS"}}},
		{"no channels", workspace.EINVALID, "channels", map[string]any{"name": "Gamma", "channels": []string{}}},
		{"offer timeout too short", workspace.EINVALID, "offerTimeoutSeconds", map[string]any{"name": "Gamma", "channels": []string{"SMS"}, "offerTimeoutSeconds": 1}},
		{"auto-park too short", workspace.EINVALID, "autoParkSeconds", map[string]any{"name": "Gamma", "channels": []string{"SMS"}, "autoParkSeconds": 5}},
		{"codes required without codes", workspace.EINVALID, "dispositionRequired", map[string]any{"name": "Gamma", "channels": []string{"SMS"}, "dispositionRequired": true}},
		{"bad code", workspace.EINVALID, "dispositionCodes", map[string]any{"name": "Gamma", "channels": []string{"SMS"}, "dispositionCodes": []any{map[string]any{"code": "no spaces", "label": "x"}}}},
		{"repeated code", workspace.EINVALID, "dispositionCodes", map[string]any{"name": "Gamma", "channels": []string{"SMS"}, "dispositionCodes": []any{map[string]any{"code": "A", "label": "x"}, map[string]any{"code": "a", "label": "y"}}}},
		{"unknown post-parking plan", workspace.ENOTFOUND, "postParkingPlanId", map[string]any{"name": "Gamma", "channels": []string{"SMS"}, "postParkingPlanId": "00000000-0000-4000-8000-000000000000"}},
	} {
		t.Run("createPlan/"+c.name, func(t *testing.T) { refused(t, plan(c.in), c.code, c.field) })
	}
	t.Run("updatePlan/post-parking cycle", func(t *testing.T) {
		refused(t, mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": a, "postParkingPlanId": b}}), workspace.ECYCLE, "postParkingPlanId")
	})
	t.Run("updatePlan/its own post-parking plan is its own queue, not a cycle", func(t *testing.T) {
		r := mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": a, "postParkingPlanId": a}})
		if userCode(r) != "" {
			t.Fatalf("a plan waking parked work into its own queue: %v", r)
		}
		// Such a plan (the demo's Support is one) stays editable.
		if r := mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": a, "wrapSeconds": 45}}); userCode(r) != "" {
			t.Fatalf("editing a plan that is its own post-parking plan: %v", r)
		}
	})
	t.Run("updatePlan/rename onto another", func(t *testing.T) {
		refused(t, mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": b, "name": "ALPHA"}}), workspace.ETAKEN, "name")
	})
	t.Run("updatePlan/channel removed while its interactions wait", func(t *testing.T) {
		r := post(t, m, "", `mutation($p: ID) { startWebchat(input:{name:"Waiting", planId:$p, text:"hi"}) { token userErrors { code } } }`, map[string]any{"p": a})
		if dig(r.Data, "startWebchat.token") == nil {
			t.Fatalf("startWebchat: %+v", r)
		}
		refused(t, mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": a, "channels": []string{"SMS"}}}), workspace.EINUSE, "channels")
		// Taking away a channel nothing waits on is fine.
		ok(t, mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": a, "channels": []string{"WEBCHAT"}}}))
	})

	agent := func(in map[string]any) map[string]any {
		return mutate(t, m, boss, "createAgent", createAgentDoc, map[string]any{"in": in})
	}
	ok(t, agent(map[string]any{"username": "zed", "name": "Zed", "password": "long enough"}))
	for _, c := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"duplicate username", workspace.ETAKEN, "username", map[string]any{"username": "zed", "name": "Zed 2", "password": "long enough"}},
		{"short password", workspace.EINVALID, "password", map[string]any{"username": "yan", "name": "Yan", "password": "short"}},
		{"capacity below 0", workspace.EINVALID, "capacity", map[string]any{"username": "yan", "name": "Yan", "password": "long enough", "capacity": []any{map[string]any{"channel": "SMS", "max": -1}}}},
		{"capacity above 100", workspace.EINVALID, "capacity", map[string]any{"username": "yan", "name": "Yan", "password": "long enough", "capacity": []any{map[string]any{"channel": "SMS", "max": 101}}}},
		{"unknown plan", workspace.ENOTFOUND, "planIds", map[string]any{"username": "yan", "name": "Yan", "password": "long enough", "planIds": []string{"00000000-0000-4000-8000-000000000000"}}},
		{"username with a space", workspace.EINVALID, "username", map[string]any{"username": "y an", "name": "Yan", "password": "long enough"}},
	} {
		t.Run("createAgent/"+c.name, func(t *testing.T) { refused(t, agent(c.in), c.code, c.field) })
	}
	bossID := dig(post(t, m, boss, `{ me { id } }`, nil).Data, "me.id").(string)
	t.Run("updateAgent/own account", func(t *testing.T) {
		refused(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": bossID, "disabled": true}}), workspace.EINVALID, "disabled")
		refused(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": bossID, "role": "AGENT"}}), workspace.EINVALID, "role")
	})
	t.Run("updateAgent/unknown agent", func(t *testing.T) {
		refused(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": "00000000-0000-4000-8000-000000000000", "name": "X"}}), workspace.ENOTFOUND, "agentId")
	})
	t.Run("oversized input", func(t *testing.T) {
		refused(t, agent(map[string]any{"username": "big", "name": strings.Repeat("n", 101), "password": "long enough"}), workspace.EINVALID, "")
		refused(t, mutate(t, m, boss, "saveCannedResponse", `mutation($t: String!) { saveCannedResponse(input:{title:"Big", text:$t}) { cannedResponse { id } userErrors { code field } } }`,
			map[string]any{"t": strings.Repeat("x", workspace.DefaultMaxMessageChars+1)}), workspace.EINVALID, "text")
	})
	// Nothing refused above was stored.
	r := post(t, m, boss, `{ agents { totalCount } interactionPlans { name } }`, nil)
	if dig(r.Data, "agents.totalCount") != float64(2) || len(r.Data["interactionPlans"].([]any)) != 2 {
		t.Fatalf("after the refusals: %+v", r)
	}
}

// TestAdminPlanConflict: two supervisors edit the same plan from the same version at once:
// exactly one wins; the other gets CONFLICT with the current values, and nothing is
// silently overwritten.
func TestAdminPlanConflict(t *testing.T) {
	m, boss := freshInstall(t)
	other := signIn(t, m, "boss", "first-password")
	p := ok(t, mutate(t, m, boss, "createPlan", createPlanDoc, map[string]any{"in": map[string]any{"name": "Shared", "channels": []string{"WEBCHAT"}}}))
	id, version := dig(p, "plan.id"), dig(p, "plan.version")
	results := make([]map[string]any, 2)
	var wg sync.WaitGroup
	for i, tok := range []string{boss, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = post(t, m, tok, updatePlanDoc, map[string]any{"in": map[string]any{"planId": id, "version": version, "offerTimeoutSeconds": 40 + i}}).Data["updatePlan"].(map[string]any)
		}()
	}
	wg.Wait()
	wins, conflicts := 0, 0
	var winner float64
	for _, r := range results {
		switch userCode(r) {
		case "":
			wins++
			winner = dig(r, "plan.offerTimeoutSeconds").(float64)
		case workspace.ECONFLICT:
			conflicts++
		}
	}
	if wins != 1 || conflicts != 1 {
		t.Fatalf("results %v", results)
	}
	for _, r := range results {
		if userCode(r) == workspace.ECONFLICT && dig(r, "plan.offerTimeoutSeconds") != winner {
			t.Fatalf("the conflict did not carry the winner's values (%v): %v", winner, r)
		}
	}
	// Without a version, a change applies to the latest plan.
	ok(t, mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": id, "wrapSeconds": 30}}))
	got := post(t, m, boss, `query($id: ID!) { node(id: $id) { ... on InteractionPlan { offerTimeoutSeconds wrapSeconds } } }`, map[string]any{"id": id})
	if dig(got.Data, "node.offerTimeoutSeconds") != winner || dig(got.Data, "node.wrapSeconds") != float64(30) {
		t.Fatalf("plan now %+v", got)
	}
}

// TestAdminChangesApplyAtOnce: capacity and plan membership route waiting work at once;
// lowering capacity drops nothing; disabling requeues what the agent holds with a notice.
func TestAdminChangesApplyAtOnce(t *testing.T) {
	m, boss := freshInstall(t)
	planID := dig(ok(t, mutate(t, m, boss, "createPlan", createPlanDoc, map[string]any{"in": map[string]any{"name": "Chat", "channels": []string{"WEBCHAT"}}})), "plan.id").(string)
	newAgent := func(username string, plans []string, capacity int) string {
		p := ok(t, mutate(t, m, boss, "createAgent", createAgentDoc, map[string]any{"in": map[string]any{"username": username, "name": username, "password": "long enough",
			"planIds": plans, "capacity": []any{map[string]any{"channel": "WEBCHAT", "max": capacity}}}}))
		return dig(p, "agent.id").(string)
	}
	annID := newAgent("ann", []string{planID}, 0)
	benID := newAgent("ben", nil, 1)
	ann, ben := signIn(t, m, "ann", "long enough"), signIn(t, m, "ben", "long enough")
	annOffers, benOffers := subscribe(t, m, ann, offerSub, nil), subscribe(t, m, ben, offerSub, nil)
	ready(t, m, ann)
	ready(t, m, ben)
	_, first := startChat(t, m, "", "first")
	queued := func(id string) bool {
		return dig(post(t, m, boss, `query($i: ID!) { interaction(id: $i) { state } }`, map[string]any{"i": id}).Data, "interaction.state") == "QUEUED"
	}
	if !queued(first) {
		t.Fatal("routed to an agent with no webchat capacity")
	}

	t.Run("raising capacity routes the waiting chat", func(t *testing.T) {
		ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": annID, "capacity": []any{map[string]any{"channel": "WEBCHAT", "max": 1}}}}))
		ev := annOffers.event()
		if dig(ev, "offers.offer.interaction.id") != first {
			t.Fatalf("offer %v", ev)
		}
		mutate(t, m, ann, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state } } }`, map[string]any{"o": dig(ev, "offers.offer.id")})
	})
	_, second := startChat(t, m, "", "second")
	t.Run("adding an agent to the plan routes the waiting chat", func(t *testing.T) {
		if !queued(second) {
			t.Fatal("the second chat should wait: ann is full, ben serves no plan")
		}
		ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": benID, "planIds": []string{planID}}}))
		if ev := benOffers.event(); dig(ev, "offers.offer.interaction.id") != second {
			t.Fatalf("offer %v", ev)
		}
	})
	t.Run("lowering capacity below the load drops nothing", func(t *testing.T) {
		p := ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": annID, "capacity": []any{map[string]any{"channel": "WEBCHAT", "max": 0}}}}))
		if !strings.Contains(mustJSON(p), `"channel":"WEBCHAT","max":0,"used":1`) {
			t.Fatalf("ann after lowering: %v", p)
		}
		if dig(post(t, m, ann, `query($i: ID!) { interaction(id: $i) { state agent { username } } }`, map[string]any{"i": first}).Data, "interaction.state") != "ACTIVE" {
			t.Fatal("lowering capacity took the chat away")
		}
	})
	t.Run("disabling requeues with a notice and signs out", func(t *testing.T) {
		annSocket := subscribe(t, m, ann, `subscription { interactionUpdates { id state } }`, nil)
		ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": annID, "disabled": true}}))
		wantRevoked(t, annSocket, "disabled")
		r := post(t, m, boss, `query($i: ID!) { interaction(id: $i) { state agent { id } transcript(first: 10) { edges { node { from text } } } } }`, map[string]any{"i": first})
		if s := dig(r.Data, "interaction.state"); s != "QUEUED" && s != "OFFERED" {
			t.Fatalf("ann's chat after disabling: %+v", r)
		}
		if !strings.Contains(mustJSON(r.Data), `"from":"SYSTEM","text":"ann is no longer available`) {
			t.Fatalf("no system notice: %s", mustJSON(r.Data))
		}
		if r := post(t, m, ann, `{ me { id } }`, nil); r.code() != workspace.EUNAUTHENTICATED {
			t.Fatalf("a disabled agent's session works: %+v", r)
		}
	})
}

// TestAdminAuditLog: each change is recorded with who, what, and the changed fields before
// and after; no secret ever appears; supervisors filter by object.
func TestAdminAuditLog(t *testing.T) {
	m, boss := freshInstall(t)
	id := dig(ok(t, mutate(t, m, boss, "createPlan", createPlanDoc, map[string]any{"in": map[string]any{"name": "Audited", "channels": []string{"WEBCHAT"}}})), "plan.id").(string)
	ok(t, mutate(t, m, boss, "updatePlan", updatePlanDoc, map[string]any{"in": map[string]any{"planId": id, "offerTimeoutSeconds": 45}}))
	agentID := dig(ok(t, mutate(t, m, boss, "createAgent", createAgentDoc, map[string]any{"in": map[string]any{"username": "amy", "name": "Amy", "password": "secret-password"}})), "agent.id").(string)
	ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": agentID, "password": "other-secret-password"}}))
	key := ok(t, mutate(t, m, boss, "createApiKey", `mutation { createApiKey(input:{name:"Audit CRM"}) { apiKey { id } secret } }`, nil))
	ok(t, mutate(t, m, boss, "revokeApiKey", `mutation($k: ID!) { revokeApiKey(input:{apiKeyId:$k}) { apiKey { revoked } userErrors { code } } }`, map[string]any{"k": dig(key, "apiKey.id")}))

	const q = `query($t: String, $o: ID, $after: String) { auditLog(objectType: $t, objectId: $o, first: 2, after: $after) {
		edges { cursor node { action objectType objectId objectName before after actor { username } } } pageInfo { hasNextPage endCursor } } }`
	var all []any
	var after any
	for {
		r := post(t, m, boss, q, map[string]any{"after": after})
		all = append(all, r.Data["auditLog"].(map[string]any)["edges"].([]any)...)
		if dig(r.Data, "auditLog.pageInfo.hasNextPage") != true {
			break
		}
		after = dig(r.Data, "auditLog.pageInfo.endCursor")
	}
	var actions []string
	for _, e := range all {
		actions = append(actions, dig(e, "node.action").(string))
	}
	want := "apiKey.revoke apiKey.create agent.update agent.create plan.update plan.create agent.create"
	if strings.Join(actions, " ") != want {
		t.Fatalf("actions newest first = %v, want %s", actions, want)
	}
	text := mustJSON(all)
	for _, secret := range []string{"secret-password", "other-secret-password", key["secret"].(string), "$2a$"} {
		if strings.Contains(text, secret) {
			t.Fatalf("the audit log shows a secret %q", secret)
		}
	}
	if first := all[len(all)-1]; dig(first, "node.objectName") != "boss" || dig(first, "node.actor") != nil {
		t.Fatalf("the first supervisor, created on the command line, is logged with no actor: %v", first)
	}
	update := all[4]
	if dig(update, "node.before") != `{"offerTimeoutSeconds":30}` || dig(update, "node.after") != `{"offerTimeoutSeconds":45}` || dig(update, "node.actor.username") != "boss" {
		t.Fatalf("plan.update entry %v", update)
	}
	r := post(t, m, boss, q, map[string]any{"o": id})
	if n := len(dig(r.Data, "auditLog.edges").([]any)); n != 2 {
		t.Fatalf("filtered by the plan: %d entries: %+v", n, r)
	}
	r = post(t, m, boss, q, map[string]any{"t": "NOT_A_TYPE"})
	if r.code() != workspace.EINVALID {
		t.Fatalf("a bad object type: %+v", r)
	}
}

// TestChangePassword: the agent's other sessions and sockets end; the session that made the
// change, and its socket, stay.
func TestChangePassword(t *testing.T) {
	m := start(t)
	here, elsewhere := login(t, m, "carol"), login(t, m, "carol")
	hereSocket := subscribe(t, m, here, `subscription { offers { kind } }`, nil)
	elsewhereSocket := subscribe(t, m, elsewhere, `subscription { offers { kind } }`, nil)
	const doc = `mutation($c: String!, $n: String!) { changePassword(input:{currentPassword:$c, newPassword:$n}) { agent { username } userErrors { code field } } }`
	refused(t, mutate(t, m, here, "changePassword", doc, map[string]any{"c": "wrong", "n": "new password"}), workspace.EINVALIDCREDENTIALS, "currentPassword")
	refused(t, mutate(t, m, here, "changePassword", doc, map[string]any{"c": "demo", "n": "short"}), workspace.EINVALID, "newPassword")
	ok(t, mutate(t, m, here, "changePassword", doc, map[string]any{"c": "demo", "n": "new password"}))
	wantRevoked(t, elsewhereSocket, "password was changed")
	if r := post(t, m, elsewhere, `{ me { id } }`, nil); r.code() != workspace.EUNAUTHENTICATED {
		t.Fatalf("the other session still works: %+v", r)
	}
	if r := post(t, m, here, `{ me { username } }`, nil); dig(r.Data, "me.username") != "carol" {
		t.Fatalf("the changing session stopped working: %+v", r)
	}
	hereSocket.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": `{ me { username } }`}})
	if msg := hereSocket.expect("next"); !strings.Contains(string(msg.Payload), "carol") {
		t.Fatalf("the changing session's socket: %s", msg.Payload)
	}
	signIn(t, m, "carol", "new password")
}

// TestCannedResponses: global and per-plan responses; agents see those of their plans.
func TestCannedResponses(t *testing.T) {
	m := start(t)
	admin := login(t, m, "admin")
	const save = `mutation($in: CannedResponseInput!) { saveCannedResponse(input:$in) { cannedResponse { id title plan { name } } userErrors { code field } } }`
	ok(t, mutate(t, m, admin, "saveCannedResponse", save, map[string]any{"in": map[string]any{"title": "Greeting", "text": "Hello, how can I help?"}}))
	sales := planID(t, m, "Sales")
	salesOnly := ok(t, mutate(t, m, admin, "saveCannedResponse", save, map[string]any{"in": map[string]any{"title": "Refund timeline", "text": "Refunds take 5 days.", "planId": sales}}))
	titles := func(token string, vars map[string]any) string {
		r := post(t, m, token, `query($s: String, $p: ID) { cannedResponses(search: $s, planId: $p) { title } }`, vars)
		var out []string
		for _, c := range r.Data["cannedResponses"].([]any) {
			out = append(out, dig(c, "title").(string))
		}
		return strings.Join(out, ",")
	}
	alice := login(t, m, "alice") // serves every demo plan
	if got := titles(alice, nil); got != "Greeting,Refund timeline" {
		t.Fatalf("alice sees %q", got)
	}
	if got := titles(alice, map[string]any{"s": "REFUND"}); got != "Refund timeline" {
		t.Fatalf("search: %q", got)
	}
	// Someone outside the Sales plan does not see its responses.
	ok(t, mutate(t, m, admin, "createAgent", createAgentDoc, map[string]any{"in": map[string]any{"username": "outsider", "name": "Out", "password": "long enough"}}))
	if got := titles(signIn(t, m, "outsider", "long enough"), nil); got != "Greeting" {
		t.Fatalf("an agent of no plan sees %q", got)
	}
	ok(t, mutate(t, m, admin, "deleteCannedResponse", `mutation($i: ID!) { deleteCannedResponse(input:{cannedResponseId:$i}) { deletedId userErrors { code } } }`, map[string]any{"i": dig(salesOnly, "cannedResponse.id")}))
	if got := titles(alice, nil); got != "Greeting" {
		t.Fatalf("after delete alice sees %q", got)
	}
}

// TestLiveViewFeeds: queueStats counts a plan's queue and agents; queueStatsUpdates pushes
// the waiting count going 1 → 0 and agentUpdates the agent's load going 0 → 1.
func TestLiveViewFeeds(t *testing.T) {
	m := start(t)
	admin, alice := login(t, m, "admin"), login(t, m, "alice")
	stats := watch(t, m, admin, `subscription { queueStatsUpdates { plan { name } waiting oldestWaitingSince offered active agentsReady completedToday } }`)
	agents := watch(t, m, admin, `subscription { agentUpdates { username presence capacity { channel used } } }`)
	sales := func(ev map[string]any) map[string]any {
		for _, q := range ev["queueStatsUpdates"].([]any) {
			if dig(q, "plan.name") == "Sales" {
				return q.(map[string]any)
			}
		}
		t.Fatalf("no Sales in %v", ev)
		return nil
	}
	// The first push is the current figures.
	if q := sales(stats.event()); q["waiting"] != float64(0) {
		t.Fatalf("first push %v", q)
	}
	_, id := startChat(t, m, "Sales", "anyone there?")
	waitStats := func(pred func(map[string]any) bool) map[string]any {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if q := sales(stats.event()); pred(q) {
				return q
			}
		}
		t.Fatal("the figures never got there")
		return nil
	}
	q := waitStats(func(q map[string]any) bool { return q["waiting"] == float64(1) })
	if q["oldestWaitingSince"] == nil {
		t.Fatalf("waiting without an oldest wait: %v", q)
	}
	offers := subscribe(t, m, alice, offerSub, nil)
	ready(t, m, alice)
	ev := offers.event()
	mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state } } }`, map[string]any{"o": dig(ev, "offers.offer.id")})
	waitStats(func(q map[string]any) bool { return q["waiting"] == float64(0) && q["active"] == float64(1) })
	for deadline := time.Now().Add(10 * time.Second); ; {
		a := agents.event()
		if dig(a, "agentUpdates.username") == "alice" && strings.Contains(mustJSON(a), `{"channel":"WEBCHAT","used":1}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alice's load never reached 1")
		}
	}
	// Accepting changed no agent record, but alice's current interactions: she is sent again.
	watchAgents := watch(t, m, admin, `subscription { agentUpdates { username currentInteractions { id state } } }`)
	_, second := startChat(t, m, "Sales", "a second chat")
	ev = offers.event()
	mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state } } }`, map[string]any{"o": dig(ev, "offers.offer.id")})
	for deadline := time.Now().Add(10 * time.Second); ; {
		a := watchAgents.event()
		if strings.Contains(mustJSON(a), `{"id":"`+second+`","state":"ACTIVE"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the live view never saw alice's second chat ACTIVE")
		}
	}
	r := post(t, m, admin, `{ queueStats { plan { name } waiting active agentsReady agentsNotReady } agents(search: "ali") { totalCount edges { node { username currentInteractions { id state } } } } }`, nil)
	if dig(r.Data, "agents.edges.0.node.currentInteractions.0.id") != id || dig(r.Data, "agents.totalCount") != float64(1) {
		t.Fatalf("alice's current interactions: %+v", r)
	}
}

// TestLiveViewAcrossNodes: a supervisor watching node A sees what happens on node B: a chat
// waiting, then accepted, and the agent's load (MongoDB, two nodes, the event bus).
func TestLiveViewAcrossNodes(t *testing.T) {
	for name, uri := range mongoURIs(t) {
		t.Run(name, func(t *testing.T) {
			nodes := cluster(t, uri(t), 2, func(c *server.Config) { c.OutboxPoll = 0 })
			a, b := nodes[0], nodes[1]
			admin := login(t, a, "admin")
			stats := watch(t, a, admin, `subscription { queueStatsUpdates { plan { name } waiting active } }`)
			agents := watch(t, a, admin, `subscription { agentUpdates { username capacity { channel used } } }`)
			support := func(pred func(q map[string]any) bool) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for time.Now().Before(deadline) {
					for _, q := range stats.event()["queueStatsUpdates"].([]any) {
						if dig(q, "plan.name") == "Support" && pred(q.(map[string]any)) {
							return
						}
					}
				}
				t.Fatal("node A's live view never showed it")
			}
			_, id := startChat(t, b, "Support", "on node B")
			support(func(q map[string]any) bool { return q["waiting"] == float64(1) })
			bob := login(t, b, "bob")
			offers := subscribe(t, b, bob, offerSub, nil)
			ready(t, b, bob)
			ev := offers.event()
			if dig(ev, "offers.offer.interaction.id") != id {
				t.Fatalf("offer %v", ev)
			}
			mutate(t, b, bob, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { state } } }`, map[string]any{"o": dig(ev, "offers.offer.id")})
			support(func(q map[string]any) bool { return q["waiting"] == float64(0) && q["active"] == float64(1) })
			for deadline := time.Now().Add(20 * time.Second); ; {
				u := agents.event()
				if dig(u, "agentUpdates.username") == "bob" && strings.Contains(mustJSON(u), `{"channel":"WEBCHAT","used":1}`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("node A never saw bob's load")
				}
			}
		})
	}
}

// TestAdminRoleChange: a promoted agent may configure at once; a demoted supervisor is signed
// out, so no open socket keeps a supervisor's feeds.
func TestAdminRoleChange(t *testing.T) {
	m, boss := freshInstall(t)
	id := dig(ok(t, mutate(t, m, boss, "createAgent", createAgentDoc, map[string]any{"in": map[string]any{"username": "pat", "name": "Pat", "password": "long enough"}})), "agent.id").(string)
	pat := signIn(t, m, "pat", "long enough")
	if r := post(t, m, pat, `{ queueStats { waiting } }`, nil); r.code() != workspace.EFORBIDDEN {
		t.Fatalf("an agent read the live view: %+v", r)
	}
	ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": id, "role": "SUPERVISOR"}}))
	if r := post(t, m, pat, `{ queueStats { waiting } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("a promoted agent cannot read the live view: %+v", r)
	}
	feed := watch(t, m, pat, `subscription { agentUpdates { id } }`)
	ok(t, mutate(t, m, boss, "updateAgent", updateAgentDoc, map[string]any{"in": map[string]any{"agentId": id, "role": "AGENT"}}))
	wantRevoked(t, feed, "role was changed")
	if r := post(t, m, pat, `{ me { id } }`, nil); r.code() != workspace.EUNAUTHENTICATED {
		t.Fatalf("a demoted supervisor's session works: %+v", r)
	}
}
