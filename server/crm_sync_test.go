package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

const syncPage = `query($f: InteractionFilter, $n: Int, $a: String) { interactions(filter:$f, first:$n, after:$a) {
	pageInfo { hasNextPage endCursor } edges { cursor node { id state updatedAt } } } }`

// TestCRMSyncByUpdatedAfter: a CRM pages by updatedAfter while interactions change under
// it. Each change moves the interaction's updatedAt, so the CRM meets a changed interaction
// again further on; it sees every interaction, and the paging ends.
func TestCRMSyncByUpdatedAfter(t *testing.T) {
	m := startCRM(t)
	key := workspace.DemoAPIKey
	alice := login(t, m, "alice")
	sinceT := time.Now().Add(-time.Second).UTC()
	since := sinceT.Format(time.RFC3339Nano)
	contacts := map[string]string{}
	var ids []string
	for i := range 6 {
		token, id := startChat(t, m, "Sales", fmt.Sprint("chat ", i))
		contacts[id], ids = token, append(ids, id)
	}
	// One is completed: history is synced too.
	ready(t, m, alice)
	done := finishChat(t, m, alice)

	updatedAt := func(id string) string {
		r := post(t, m, key, `query($i: ID!) { interaction(id:$i) { updatedAt } }`, map[string]any{"i": id})
		return dig(r.Data, "interaction.updatedAt").(string)
	}
	seen := map[string][]string{} // interaction → the updatedAts it was seen with, in order
	var order []string
	var after any
	var prevAt time.Time
	changed := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatalf("still paging after 20 pages: %v", order)
		}
		r := post(t, m, key, syncPage, map[string]any{"f": map[string]any{"updatedAfter": since}, "n": 2, "a": after})
		if len(r.Errors) > 0 {
			t.Fatalf("page %d: %+v", pages, r.Errors)
		}
		for _, e := range asList(dig(r.Data, "interactions.edges")) {
			id, at := dig(e, "node.id").(string), dig(e, "node.updatedAt").(string)
			parsed, err := time.Parse(time.RFC3339Nano, at)
			if err != nil || parsed.Before(prevAt) || parsed.Before(sinceT) {
				t.Fatalf("%s at %s after %s (since %s): not in updatedAt order", id, at, prevAt, since)
			}
			prevAt = parsed
			seen[id] = append(seen[id], at)
			order = append(order, id)
		}
		if pages == 0 {
			// Change an interaction the CRM has already seen: the contact writes again.
			changed = order[0]
			if changed == done {
				changed = order[1]
			}
			mutate(t, m, contacts[changed], "sendContactMessage", `mutation { sendContactMessage(input:{text:"one more thing"}) { message { id } } }`, nil)
		}
		if dig(r.Data, "interactions.pageInfo.hasNextPage") != true {
			break
		}
		after = dig(r.Data, "interactions.pageInfo.endCursor")
	}
	for _, id := range append(slices.Clone(ids), done) {
		if len(seen[id]) == 0 {
			t.Fatalf("%s never seen; order %v", id, order)
		}
		// The last copy the CRM saw is the current one.
		if got := seen[id][len(seen[id])-1]; got != updatedAt(id) {
			t.Errorf("%s: synced at %s, now %s", id, got, updatedAt(id))
		}
	}
	if len(seen[changed]) != 2 || seen[changed][0] == seen[changed][1] {
		t.Errorf("the interaction changed while paging was seen %v", seen[changed])
	}
	// planId filters; a malformed one is INVALID.
	r := post(t, m, key, syncPage, map[string]any{"f": map[string]any{"planId": planID(t, m, "Support")}, "n": 50})
	if n := len(asList(dig(r.Data, "interactions.edges"))); len(r.Errors) > 0 || n != 0 {
		t.Errorf("Support plan: %d interactions, %+v", n, r.Errors)
	}
	r = post(t, m, key, syncPage, map[string]any{"f": map[string]any{"planId": planID(t, m, "Sales")}, "n": 50})
	if n := len(asList(dig(r.Data, "interactions.edges"))); n != 6 {
		t.Errorf("Sales plan: %d interactions, want 6", n)
	}
	if r := post(t, m, key, syncPage, map[string]any{"f": map[string]any{"planId": "nope"}}); r.code() != workspace.EINVALID {
		t.Errorf("malformed planId: %+v", r)
	}
	// A cursor of the createdAt order is refused in the updatedAt order.
	r = post(t, m, key, syncPage, map[string]any{"n": 1})
	cur := dig(r.Data, "interactions.pageInfo.endCursor")
	if r := post(t, m, key, syncPage, map[string]any{"f": map[string]any{"updatedAfter": since}, "a": cur}); r.code() != workspace.EINVALID {
		t.Errorf("createdAt cursor in updatedAt order: %+v", r)
	}
}

// TestUpdatedAtMoves: updatedAt moves with the state, the holder, notes, codes and messages.
func TestUpdatedAtMoves(t *testing.T) {
	m := startCRM(t)
	alice := login(t, m, "alice")
	contact, id := startChat(t, m, "Sales", "hello")
	at := func() time.Time { // compared as times: RFC 3339 drops trailing zeros of the fraction
		r := post(t, m, workspace.DemoAPIKey, `query($i: ID!) { interaction(id:$i) { updatedAt } }`, map[string]any{"i": id})
		v, err := time.Parse(time.RFC3339Nano, dig(r.Data, "interaction.updatedAt").(string))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	prev := at()
	step := func(what string, do func()) {
		t.Helper()
		do()
		now := at()
		if !now.After(prev) {
			t.Errorf("%s: updatedAt %s, before it %s", what, now.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano))
		}
		prev = now
	}
	step("offered", func() { ready(t, m, alice); waitFor(t, func() bool { return !at().Equal(prev) }) })
	step("accepted", func() {
		r := post(t, m, alice, `{ myInteractions { offer { id } } }`, nil)
		mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`,
			map[string]any{"o": dig(r.Data, "myInteractions.0.offer.id")})
	})
	step("contact message", func() {
		mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"more"}) { message { id } } }`, nil)
	})
	step("notes", func() {
		mutate(t, m, alice, "setNotes", `mutation($i: ID!) { setNotes(input:{interactionId:$i, notes:"n"}) { interaction { id } } }`, map[string]any{"i": id})
	})
	step("code", func() {
		mutate(t, m, alice, "selectDisposition", `mutation($i: ID!) { selectDisposition(input:{interactionId:$i, code:"SALE"}) { interaction { id } } }`, map[string]any{"i": id})
	})
}

// eventsSub is the stream as a CRM opens it.
const eventsSub = `subscription($k: [InteractionEventKind!], $a: ID) { interactionEvents(kinds:$k, after:$a) {
	id kind at interaction { id } message { id text } } }`

// subscribeEvents opens the stream over a websocket. Without a resume point it waits until
// the node watches for stored events on its behalf (the stream starts from then); with one,
// where the stream starts does not depend on when it is registered.
func subscribeEvents(t *testing.T, m *server.Main, token string, vars map[string]any) *wsClient {
	t.Helper()
	c := connectWS(t, m, "graphql-transport-ws", token)
	c.expect("connection_ack")
	before := m.Hub.Watchers()
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": eventsSub, "variables": vars}})
	if vars["a"] == nil {
		waitFor(t, func() bool { return m.Hub.Watchers() > before })
	}
	return c
}

type streamed struct{ id, kind, interaction string }

func asStreamed(ev map[string]any) streamed {
	return streamed{dig(ev, "interactionEvents.id").(string), dig(ev, "interactionEvents.kind").(string), dig(ev, "interactionEvents.interaction.id").(string)}
}

// storedSince lists the stored events after the one with the ID ("" from the start).
func storedSince(t *testing.T, m *server.Main, afterID string) []streamed {
	t.Helper()
	var from int64
	if afterID != "" {
		e, err := m.Store.Event(t.Context(), afterID)
		if err != nil {
			t.Fatal(err)
		}
		from = e.Seq
	}
	events, err := m.Store.Events(t.Context(), from, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []streamed
	for _, e := range events {
		out = append(out, streamed{e.ID, string(e.Kind), e.InteractionID})
	}
	return out
}

// TestInteractionEventsResume: a CRM key follows the stream over a websocket, drops the
// connection while changes go on, and resumes after the last event it saw: it receives
// exactly the events it missed, in the store's order, then the live ones. A supervisor
// resumes over SSE the same way. Kinds filter; an unknown or malformed resume point is
// refused.
func TestInteractionEventsResume(t *testing.T) {
	m := startCRM(t)
	key, admin := workspace.DemoAPIKey, login(t, m, "admin")

	sub := subscribeEvents(t, m, key, nil)
	contact, first := startChat(t, m, "Sales", "first")
	got := []streamed{asStreamed(sub.event()), asStreamed(sub.event())}
	if got[0].kind != "CREATED" || got[1].kind != "MESSAGE" || got[0].interaction != first {
		t.Fatalf("first events %v", got)
	}
	lastSeen := got[1].id
	sub.conn.CloseNow()

	// Missed while disconnected.
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"while you were away"}) { message { id } } }`, nil)
	startChat(t, m, "Support", "second")
	missed := storedSince(t, m, lastSeen)
	if len(missed) != 3 {
		t.Fatalf("stored since: %v", missed)
	}

	sub = subscribeEvents(t, m, key, map[string]any{"a": lastSeen})
	var resumed []streamed
	for range missed {
		resumed = append(resumed, asStreamed(sub.event()))
	}
	if fmt.Sprint(resumed) != fmt.Sprint(missed) {
		t.Fatalf("resumed %v\nwant    %v", resumed, missed)
	}
	// Then live.
	_, third := startChat(t, m, "Sales", "third")
	if e := asStreamed(sub.event()); e.interaction != third || e.kind != "CREATED" {
		t.Fatalf("live event %v", e)
	}

	// A supervisor over SSE, from the first event, only MESSAGE.
	stream := openEventsSSE(t, m, admin, map[string]any{"a": got[0].id, "k": []string{"MESSAGE"}})
	var want []streamed
	for _, e := range storedSince(t, m, got[0].id) {
		if e.kind == "MESSAGE" {
			want = append(want, e)
		}
	}
	var sse []streamed
	for range want {
		sse = append(sse, asStreamed(stream.next(t)))
	}
	if fmt.Sprint(sse) != fmt.Sprint(want) || len(want) != 4 {
		t.Fatalf("SSE %v\nwant %v", sse, want)
	}

	// Refused resume points and kinds.
	for vars, code := range map[string]string{
		`{"a":"00000000-0000-4000-8000-000000000000"}`: workspace.ENOTFOUND,
		`{"a":"not-an-id"}`:                            workspace.EINVALID,
	} {
		var v map[string]any
		_ = json.Unmarshal([]byte(vars), &v)
		c := connectWS(t, m, "graphql-transport-ws", key)
		c.expect("connection_ack")
		c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": eventsSub, "variables": v}})
		// gqlgen answers a resolver's error as a next message with errors, then complete.
		msg, err := c.next()
		if err != nil || !strings.Contains(string(msg.Payload), `"code":"`+code+`"`) {
			t.Errorf("%s: %s, want %s", vars, msg.Payload, code)
		}
	}
	if r := post(t, m, key, `subscription { interactionEvents(kinds:[NOPE]) { id } }`, nil); len(r.Errors) == 0 {
		t.Errorf("unknown kind accepted: %+v", r)
	}
}

// sseStream is a subscription over SSE.
type sseStream struct {
	events chan map[string]any
}

func openEventsSSE(t *testing.T, m *server.Main, token string, vars map[string]any) *sseStream {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": eventsSub, "variables": vars})
	req := queryRequest(t.Context(), m, token, body)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("no stream: HTTP %d", res.StatusCode)
	}
	s := &sseStream{events: make(chan map[string]any, 100)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			} else if data, ok := strings.CutPrefix(line, "data: "); ok && event == "next" {
				var p struct {
					Data   map[string]any `json:"data"`
					Errors []any          `json:"errors"`
				}
				if json.Unmarshal([]byte(data), &p) != nil || len(p.Errors) > 0 {
					return
				}
				s.events <- p.Data
			}
		}
	}()
	return s
}

func (s *sseStream) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			t.Fatal("the SSE stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no SSE event in 10 s")
	}
	return nil
}

// TestWebhookInputRefused: URLs the server will not call, kinds that do not exist, IDs
// that name no webhook, and callers who may not manage webhooks are all refused.
func TestWebhookInputRefused(t *testing.T) {
	m := start(t) // without -webhooks-allow-loopback
	admin, alice := login(t, m, "admin"), login(t, m, "alice")
	create := `mutation($u: String!, $k: [InteractionEventKind!]!) { createWebhook(input:{url:$u, kinds:$k}) {
		webhook { id } secret userErrors { code field message } } }`
	for _, u := range []string{
		"http://crm.example.com/hook",       // not https
		"ftp://crm.example.com/hook",        // not https
		"https://no-such-host.invalid/hook", // does not resolve
		"https://10.1.2.3/hook",             // private
		"https://192.168.0.10/hook",         // private
		"https://169.254.169.254/latest",    // link-local (cloud metadata)
		"https://[fd00::1]/hook",            // private IPv6
		"https://0.0.0.0/hook",              // unspecified
		"http://127.0.0.1:9/hook",           // loopback, not allowed on this node
		"https://localhost/hook",            // loopback by name
		"https://user:pass@crm.example.com/hook",
		"not a url",
		"https://crm.example.com/" + strings.Repeat("x", 3000),
	} {
		p := mutate(t, m, admin, "createWebhook", create, map[string]any{"u": u, "k": []string{"CREATED"}})
		if userCode(p) != workspace.EINVALID || dig(p, "webhook") != nil || dig(p, "secret") != nil {
			t.Errorf("%.60s: %v", u, p)
		}
	}
	if p := mutate(t, m, admin, "createWebhook", create, map[string]any{"u": "https://crm.example.com/hook", "k": []string{}}); userCode(p) != workspace.EINVALID {
		t.Errorf("no kinds: %v", p)
	}
	if r := post(t, m, admin, create, map[string]any{"u": "https://crm.example.com/hook", "k": []string{"NOPE"}}); len(r.Errors) == 0 {
		t.Errorf("unknown kind: %+v", r)
	}
	for _, op := range []string{
		`mutation { deleteWebhook(input:{webhookId:"00000000-0000-4000-8000-000000000000"}) { deletedId userErrors { code field } } }`,
		`mutation { rotateWebhookSecret(input:{webhookId:"00000000-0000-4000-8000-000000000000"}) { secret userErrors { code field } } }`,
	} {
		r := post(t, m, admin, op, nil)
		for _, p := range r.Data {
			if userCode(p.(map[string]any)) != workspace.ENOTFOUND {
				t.Errorf("unknown webhook: %+v", r)
			}
		}
	}
	r := post(t, m, admin, `mutation { deleteWebhook(input:{webhookId:"42"}) { deletedId userErrors { code field } } }`, nil)
	if userCode(r.Data["deleteWebhook"].(map[string]any)) != workspace.EINVALID {
		t.Errorf("malformed webhook ID: %+v", r)
	}
	// Agents and CRM keys manage no webhooks; CRM keys only read.
	for _, token := range []string{alice, workspace.DemoAPIKey} {
		if r := post(t, m, token, create, map[string]any{"u": "https://crm.example.com/hook", "k": []string{"CREATED"}}); r.code() != workspace.EFORBIDDEN {
			t.Errorf("createWebhook by %.8s: %+v", token, r)
		}
		if r := post(t, m, token, `{ webhooks { id } }`, nil); r.code() != workspace.EFORBIDDEN {
			t.Errorf("webhooks by %.8s: %+v", token, r)
		}
	}
	// The flag, and its environment fallback, allow loopback; -demo does not imply it.
	for _, c := range []struct {
		args []string
		env  string
		want bool
	}{
		{[]string{"-demo"}, "", false},
		{[]string{"-webhooks-allow-loopback"}, "", true},
		{nil, "true", true},
		{[]string{"-webhooks-allow-loopback=false"}, "true", false},
	} {
		cfg, err := server.ParseConfig(c.args, func(k string) string {
			if k == "AGENTDESK_WEBHOOKS_ALLOW_LOOPBACK" {
				return c.env
			}
			return ""
		}, io.Discard)
		if err != nil || cfg.Webhooks.AllowLoopback != c.want {
			t.Errorf("%v env %q: allow loopback %v (%v), want %v", c.args, c.env, cfg.Webhooks.AllowLoopback, err, c.want)
		}
	}
}

// TestInteractionEventsLeakNothing: streams opened and dropped leave no watcher and no
// goroutine behind.
func TestInteractionEventsLeakNothing(t *testing.T) {
	m := startCRM(t, func(c *server.Config) { c.WebhookPoll = 0 }) // no webhook runner: the streams alone watch
	baseGoroutines := runtime.NumGoroutine()
	var subs []*wsClient
	for range 50 {
		subs = append(subs, subscribeEvents(t, m, workspace.DemoAPIKey, nil))
	}
	startChat(t, m, "Sales", "to every stream")
	for _, s := range subs {
		if e := asStreamed(s.event()); e.kind != "CREATED" {
			t.Fatalf("first event %v", e)
		}
	}
	if n := m.Hub.TopicWatchers(workspace.ChangesTopic); n != 50 {
		t.Fatalf("%d streams watch for stored events, want 50", n)
	}
	for _, s := range subs {
		s.conn.CloseNow()
	}
	waitLong(t, "the streams to end", func() bool {
		return m.Hub.TopicWatchers(workspace.ChangesTopic) == 0 && runtime.NumGoroutine() <= baseGoroutines+5
	})
}
