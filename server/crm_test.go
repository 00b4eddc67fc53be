package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// finishChat accepts, ends, codes and completes the chat the agent was just offered.
func finishChat(t *testing.T, m *server.Main, token string) string {
	t.Helper()
	r := post(t, m, token, `{ myInteractions { id state offer { id } } }`, nil)
	var id, offer string
	for _, ix := range dig(r.Data, "myInteractions").([]any) {
		if o, _ := dig(ix, "offer.id").(string); o != "" {
			id, offer = dig(ix, "id").(string), o
		}
	}
	if offer == "" {
		t.Fatalf("no offer in %+v", r)
	}
	mutate(t, m, token, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": offer})
	mutate(t, m, token, "endInteraction", `mutation($i: ID!) { endInteraction(input:{interactionId:$i}) { interaction { id } } }`, map[string]any{"i": id})
	mutate(t, m, token, "selectDisposition", `mutation($i: ID!) { selectDisposition(input:{interactionId:$i, code:"SALE"}) { interaction { id } } }`, map[string]any{"i": id})
	p := mutate(t, m, token, "completeInteraction", `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { state } userErrors { code } } }`, map[string]any{"i": id})
	if dig(p, "interaction.state") != "COMPLETED" {
		t.Fatalf("complete: %v", p)
	}
	return id
}

// TestD1_CRMReads: with an API key a CRM fetches live and completed interactions by GUID,
// pages through them with filters and opaque cursors, and pages through transcripts.
func TestD1_CRMReads(t *testing.T) {
	m := start(t)
	alice, bob := login(t, m, "alice"), login(t, m, "bob")
	ready(t, m, alice)
	var completed []string
	for i := range 5 {
		startChat(t, m, "Sales", fmt.Sprint("completed chat ", i))
		completed = append(completed, finishChat(t, m, alice))
	}
	_, live := startChat(t, m, "Sales", "still live") // offered to alice, not accepted
	key := workspace.DemoAPIKey

	// interaction(id) for history and live alike.
	for _, id := range []string{completed[0], live} {
		r := post(t, m, key, `query($id: ID!) { interaction(id:$id) { id state } }`, map[string]any{"id": id})
		if dig(r.Data, "interaction.id") != id {
			t.Fatalf("interaction(%s): %+v", id, r)
		}
	}

	// The connection, oldest first, two at a time, with no gaps or repeats.
	list := `query($f: InteractionFilter, $n: Int, $a: String) { interactions(filter:$f, first:$n, after:$a) {
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id state } } } }`
	var seen []string
	var after any
	for pages := 0; ; pages++ {
		r := post(t, m, key, list, map[string]any{"n": 2, "a": after})
		if len(r.Errors) > 0 || pages > 5 {
			t.Fatalf("page %d: %+v", pages, r)
		}
		for _, e := range dig(r.Data, "interactions.edges").([]any) {
			seen = append(seen, dig(e, "node.id").(string))
		}
		if dig(r.Data, "interactions.pageInfo.hasPreviousPage") != (after != nil) {
			t.Fatalf("hasPreviousPage on page %d: %+v", pages, r)
		}
		if dig(r.Data, "interactions.pageInfo.hasNextPage") != true {
			break
		}
		after = dig(r.Data, "interactions.pageInfo.endCursor")
	}
	if want := append(append([]string{}, completed...), live); fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("paged %v\nwant   %v", seen, want)
	}

	// Filters.
	count := func(filter map[string]any) int {
		r := post(t, m, key, list, map[string]any{"f": filter, "n": 100})
		if len(r.Errors) > 0 {
			t.Fatalf("filter %v: %+v", filter, r)
		}
		return len(dig(r.Data, "interactions.edges").([]any))
	}
	aliceID := agentID(t, m, alice)
	cases := []struct {
		filter map[string]any
		want   int
	}{
		{map[string]any{"states": []string{"COMPLETED"}}, 5},
		{map[string]any{"states": []string{"OFFERED", "ACTIVE"}}, 1},
		{map[string]any{"channels": []string{"EMAIL"}}, 0},
		{map[string]any{"agentId": aliceID}, 6},
		{map[string]any{"createdAfter": time.Now().Add(time.Minute).Format(time.RFC3339)}, 0},
		{map[string]any{"createdBefore": time.Now().Add(time.Minute).Format(time.RFC3339)}, 6},
	}
	for _, c := range cases {
		if got := count(c.filter); got != c.want {
			t.Errorf("filter %v: %d, want %d", c.filter, got, c.want)
		}
	}
	r := post(t, m, key, `query($id: ID!) { interaction(id:$id) { contact { address } } }`, map[string]any{"id": live})
	if got := count(map[string]any{"contactAddress": dig(r.Data, "interaction.contact.address")}); got != 1 {
		t.Errorf("by contact address: %d, want 1", got)
	}

	// Bad page arguments and cursors are INVALID; unknown and malformed IDs are clear.
	for _, vars := range []map[string]any{{"n": 0}, {"n": 101}, {"n": 5, "a": "not-a-cursor"}} {
		if r := post(t, m, key, list, vars); r.code() != workspace.EINVALID {
			t.Errorf("%v: %+v", vars, r)
		}
	}
	if r := post(t, m, key, `{ interaction(id:"00000000-0000-0000-0000-000000000000") { id } }`, nil); r.code() != workspace.ENOTFOUND {
		t.Errorf("unknown id: %+v", r)
	}
	if r := post(t, m, key, `{ interaction(id:"42") { id } }`, nil); r.code() != workspace.EINVALID {
		t.Errorf("malformed id: %+v", r)
	}

	// Agents see their own; bob sees none of alice's, and may not ask for hers.
	if r := post(t, m, bob, `query($id: ID!) { interaction(id:$id) { id } }`, map[string]any{"id": completed[0]}); r.code() != workspace.EFORBIDDEN {
		t.Errorf("bob reading alice's interaction: %+v", r)
	}
	if r := post(t, m, bob, list, map[string]any{"n": 100}); len(dig(r.Data, "interactions.edges").([]any)) != 0 {
		t.Errorf("bob's list: %+v", r)
	}
	if r := post(t, m, bob, list, map[string]any{"f": map[string]any{"agentId": aliceID}}); r.code() != workspace.EFORBIDDEN {
		t.Errorf("bob filtering on alice: %+v", r)
	}
	if r := post(t, m, login(t, m, "admin"), list, map[string]any{"n": 100}); len(dig(r.Data, "interactions.edges").([]any)) != 6 {
		t.Errorf("supervisor's list: %+v", r)
	}
}

// TestD1_TranscriptPages pages through a long transcript with opaque cursors.
func TestD1_TranscriptPages(t *testing.T) {
	m := start(t, func(c *server.Config) { c.WebchatTokenRate, c.WebchatIPRate = 0, 0 })
	contact, id := startChat(t, m, "Sales", "message 0")
	for i := 1; i < 130; i++ {
		mutate(t, m, contact, "sendContactMessage", `mutation($t: String!) { sendContactMessage(input:{text:$t}) { message { id } } }`, map[string]any{"t": fmt.Sprint("message ", i)})
	}
	page := `query($id: ID!, $a: String) { interaction(id:$id) { transcript(first: 50, after: $a) {
		totalCount pageInfo { hasNextPage endCursor } edges { node { text } } } } }`
	var texts []string
	var after any
	for {
		r := post(t, m, workspace.DemoAPIKey, page, map[string]any{"id": id, "a": after})
		if dig(r.Data, "interaction.transcript.totalCount") != float64(130) {
			t.Fatalf("%+v", r)
		}
		for _, e := range dig(r.Data, "interaction.transcript.edges").([]any) {
			texts = append(texts, dig(e, "node.text").(string))
		}
		if dig(r.Data, "interaction.transcript.pageInfo.hasNextPage") != true {
			break
		}
		after = dig(r.Data, "interaction.transcript.pageInfo.endCursor")
	}
	if len(texts) != 130 || texts[0] != "message 0" || texts[129] != "message 129" {
		t.Fatalf("read %d messages: first %q last %q", len(texts), texts[0], texts[len(texts)-1])
	}
	if r := post(t, m, workspace.DemoAPIKey, page, map[string]any{"id": id, "a": "bm9wZQ"}); r.code() != workspace.EINVALID {
		t.Fatalf("bad cursor: %+v", r)
	}
	// The query of docs/api.md's Node example fits the complexity limit at 100 per page.
	r := post(t, m, workspace.DemoAPIKey, `query($after: String) { interactions(first: 100, after: $after) {
		pageInfo { hasNextPage endCursor }
		edges { node { id contact { address } agent { name } durationSeconds dispositions { code } } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("docs example: %+v", r.Errors)
	}
}
