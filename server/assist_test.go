package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// Agent Assist (issue 17) over GraphQL on a real node with the demo data: the demo plans have
// both switches on and generated history, so a chat about a lost card is suggested its code
// at once.

const (
	suggestionsQuery = `query($i: ID!) { interaction(id:$i) { dispositionSuggestions { code { code label } confidence } } }`
	insertSummaryDoc = `mutation($i: ID!) { insertSummary(input:{interactionId:$i}) { interaction { id notes } userErrors { code message field } } }`
	selectCodeDoc    = `mutation($i: ID!, $c: String!) { selectDisposition(input:{interactionId:$i, code:$c}) { interaction { id } userErrors { code } } }`
)

func suggestedCodes(t *testing.T, m *server.Main, token, id string) []string {
	t.Helper()
	r := post(t, m, token, suggestionsQuery, map[string]any{"i": id})
	if len(r.Errors) > 0 {
		t.Fatalf("dispositionSuggestions: %+v", r.Errors)
	}
	list, _ := dig(r.Data, "interaction.dispositionSuggestions").([]any)
	var out []string
	for _, s := range list {
		out = append(out, dig(s, "code.code").(string))
	}
	return out
}

func TestAssistOverGraphQL(t *testing.T) {
	m := start(t)
	alice, admin := login(t, m, "alice"), login(t, m, "admin")
	ready(t, m, alice)

	// The demo plans have both switches on; updatePlan turns them off and on.
	support := planID(t, m, "Support")
	r := post(t, m, admin, `query { interactionPlans { name dispositionAssist summaryAssist } }`, nil)
	for _, p := range r.Data["interactionPlans"].([]any) {
		if dig(p, "dispositionAssist") != true || dig(p, "summaryAssist") != true {
			t.Fatalf("demo plan: %v", p)
		}
	}

	_, id := acceptChat(t, m, alice, "Support", "Hi, I lost my card yesterday, what should I do?")
	got := suggestedCodes(t, m, alice, id)
	if len(got) == 0 || got[0] != "CARD_LOST" {
		t.Fatalf("lost card: suggested %v", got)
	}
	if sup := suggestedCodes(t, m, admin, id); len(sup) == 0 || sup[0] != "CARD_LOST" {
		t.Fatalf("supervisor: suggested %v", sup)
	}
	if p := mutate(t, m, alice, "selectDisposition", selectCodeDoc, map[string]any{"i": id, "c": "CARD_LOST"}); userCode(p) != "" {
		t.Fatal(p)
	}
	mutate(t, m, alice, "setNotes", `mutation($i: ID!) { setNotes(input:{interactionId:$i, notes:"Agent's own note."}) { interaction { id } } }`, map[string]any{"i": id})
	p := ok(t, mutate(t, m, alice, "insertSummary", insertSummaryDoc, map[string]any{"i": id}))
	if notes := dig(p, "interaction.notes").(string); !strings.HasPrefix(notes, "Agent's own note.\n\nSummary (offline):\nVisitor asked: Hi, I lost my card") {
		t.Fatalf("notes: %q", notes)
	}
	mutate(t, m, alice, "endInteraction", `mutation($i: ID!) { endInteraction(input:{interactionId:$i}) { interaction { state } } }`, map[string]any{"i": id})
	mutate(t, m, alice, "completeInteraction", `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { state } } }`, map[string]any{"i": id})
	wantMetrics(t, m,
		fmt.Sprintf(`agentdesk_assist_choices_total{plan_id="%s",taken="true"} 1`, support),
		fmt.Sprintf(`agentdesk_assist_acceptance_ratio{plan_id="%s"} 1`, support))

	// Bad input: malformed and oversized IDs, wrong state (completed), the switch off.
	for _, bad := range []string{"nope", strings.Repeat("9", 5000)} {
		p := mutate(t, m, alice, "insertSummary", insertSummaryDoc, map[string]any{"i": bad})
		refused(t, p, workspace.EINVALID, "interactionId")
	}
	refused(t, mutate(t, m, alice, "insertSummary", insertSummaryDoc, map[string]any{"i": id}), workspace.EWRONGSTATE, "")
	sales := planID(t, m, "Sales")
	r = post(t, m, admin, `mutation($p: ID!) { updatePlan(input:{planId:$p, dispositionAssist:false, summaryAssist:false}) { plan { dispositionAssist summaryAssist } userErrors { code } } }`,
		map[string]any{"p": sales})
	if dig(r.Data, "updatePlan.plan.dispositionAssist") != false || dig(r.Data, "updatePlan.plan.summaryAssist") != false {
		t.Fatalf("updatePlan: %+v", r)
	}
	_, id2 := acceptChat(t, m, alice, "Sales", "I'd like to buy the premium plan")
	if got := suggestedCodes(t, m, alice, id2); len(got) != 0 {
		t.Fatalf("assist off: %v", got)
	}
	refused(t, mutate(t, m, alice, "insertSummary", insertSummaryDoc, map[string]any{"i": id2}), workspace.EASSISTOFF, "")
	// A plan created without the switches has them off (outside -demo nothing turns them on).
	r = post(t, m, admin, `mutation { createPlan(input:{name:"Plain", channels:[WEBCHAT]}) { plan { dispositionAssist summaryAssist } userErrors { code } } }`, nil)
	if dig(r.Data, "createPlan.plan.dispositionAssist") != false || dig(r.Data, "createPlan.plan.summaryAssist") != false {
		t.Fatalf("createPlan: %+v", r)
	}
}

// TestAssistLanguageModelFlag: with -llm-url, Insert Summary asks the endpoint, and says so;
// when it answers 500 the offline summary is used, and says so.
func TestAssistLanguageModelFlag(t *testing.T) {
	status := http.StatusOK
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != http.StatusOK {
			http.Error(w, "down", status)
			return
		}
		fmt.Fprint(w, `{"choices":[{"message":{"role":"assistant","content":"Lost card reported; card blocked."}}]}`)
	}))
	defer llm.Close()
	m := start(t, func(c *server.Config) { c.LLMURL, c.LLMModel = llm.URL+"/v1", "fake" })
	alice := login(t, m, "alice")
	ready(t, m, alice)
	_, id := acceptChat(t, m, alice, "Support", "I lost my card")
	p := ok(t, mutate(t, m, alice, "insertSummary", insertSummaryDoc, map[string]any{"i": id}))
	if notes := dig(p, "interaction.notes"); notes != "Summary (language model fake):\nLost card reported; card blocked." {
		t.Fatalf("notes: %q", notes)
	}
	status = http.StatusInternalServerError
	p = ok(t, mutate(t, m, alice, "insertSummary", insertSummaryDoc, map[string]any{"i": id}))
	if notes := dig(p, "interaction.notes").(string); !strings.Contains(notes, "\n\nSummary (offline; the language model did not answer usably):\nVisitor asked: I lost my card") {
		t.Fatalf("notes: %q", notes)
	}
}

func TestAssistConfigFlags(t *testing.T) {
	for _, args := range [][]string{{"-llm-url", "http://127.0.0.1:1/v1"}, {"-llm-model", "x"}, {"-llm-url", "ftp://x/v1", "-llm-model", "x"}} {
		if _, err := server.ParseConfig(args, func(string) string { return "" }, &strings.Builder{}); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestAssistAcrossNodes: on MongoDB, what one node learns from completions is suggested by
// another, which had already built its model for the plan (it follows the stored examples,
// reading them at most once a second).
// Most of the plan's history is stored directly, for BILLING and LOGIN; SHIPPING is learnt
// only from chats completed on node A, so node B suggesting it shows that B learnt them.
// (Each chat costs the test engine about a second, and ten under the race detector.)
func TestAssistAcrossNodes(t *testing.T) {
	nodes := cluster(t, mongotest.Start(t), 2)
	a, b := nodes[0], nodes[1]
	admin := login(t, a, "admin")
	r := post(t, a, admin, `mutation { createPlan(input:{name:"Assist", channels:[WEBCHAT], dispositionAssist:true,
		dispositionCodes:[{code:"BILLING", label:"Billing"}, {code:"SHIPPING", label:"Shipping"}, {code:"LOGIN", label:"Login"}]}) { plan { id } userErrors { code message } } }`, nil)
	plan, _ := dig(r.Data, "createPlan.plan.id").(string)
	if plan == "" {
		t.Fatalf("createPlan: %+v", r)
	}
	aliceID := dig(post(t, a, admin, `query { agents(search:"alice", first:1) { edges { node { id } } } }`, nil).Data, "agents.edges.0.node.id")
	if p := mutate(t, a, admin, "updateAgent", `mutation($a: ID!, $p: [ID!]) { updateAgent(input:{agentId:$a, planIds:$p}) { agent { id } userErrors { code message } } }`,
		map[string]any{"a": aliceID, "p": []string{plan}}); userCode(p) != "" {
		t.Fatal(p)
	}
	alice := login(t, a, "alice")
	ready(t, a, alice)
	_, probe := acceptChat(t, b, alice, "Assist", "hello, where is my parcel? the delivery has not arrived")
	if got := suggestedCodes(t, b, alice, probe); len(got) != 0 { // node B builds its model: no history yet
		t.Fatalf("no history: %v", got)
	}
	texts := map[string][]string{
		"BILLING":  {"my invoice is wrong", "I was billed twice", "why is my bill so high", "a wrong charge on my invoice"},
		"SHIPPING": {"my parcel has not arrived", "where is my delivery", "the courier lost my package", "track my shipment"},
		"LOGIN":    {"I cannot log in", "I forgot my password", "my account is locked", "reset my password please"},
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 8 {
		for _, code := range []string{"BILLING", "LOGIN"} {
			e := &workspace.AssistExample{ID: fmt.Sprintf("%013x.seeded-%d.%s", at.UnixMilli(), i, code), PlanID: plan, Code: code,
				Text: fmt.Sprintf("Hello, %s (%d)", texts[code][i%4], i), At: at}
			if err := a.Store.AddAssistExample(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := suggestedCodes(t, b, alice, probe); len(got) != 0 { // 16 examples: under MinAssistHistory
		t.Fatalf("with too little history: %v", got)
	}
	for i := range workspace.MinAssistHistory - 16 {
		_, id := acceptChat(t, a, alice, "Assist", fmt.Sprintf("Hello, %s (%d)", texts["SHIPPING"][i%4], i))
		vars := map[string]any{"i": id, "c": "SHIPPING"}
		mutate(t, a, alice, "selectDisposition", selectCodeDoc, vars)
		mutate(t, a, alice, "endInteraction", `mutation($i: ID!) { endInteraction(input:{interactionId:$i}) { interaction { state } } }`, vars)
		mutate(t, a, alice, "completeInteraction", `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { state } } }`, vars)
	}
	// Node B reads the examples other nodes stored at most once a second (assistRefresh).
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got = suggestedCodes(t, b, alice, probe); (len(got) > 0 && got[0] == "SHIPPING") || time.Now().After(deadline) {
			break
		}
	}
	if len(got) == 0 || got[0] != "SHIPPING" {
		t.Fatalf("node B after %d completions on node A: %v", workspace.MinAssistHistory-16, got)
	}
}
