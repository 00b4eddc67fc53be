package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/coder/websocket/wsjson"
)

// receiver is a CRM's webhook endpoint on loopback: it verifies each delivery's signature
// against the secret it holds (at the time of the clock it is given), records the events it
// accepts in order, deduplicates on the event ID, and fails or hangs on demand.
type receiver struct {
	t   *testing.T
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	secret   string
	fail     int           // answer 500 to this many more deliveries
	hang     chan struct{} // when set, deliveries wait for it to close (or give up)
	accepted []received    // in order, once per event ID
	seen     map[string]int
	attempts []string // every request: "<event id> <X-Agentdesk-Delivery-Count> <status>"
	badSigs  int
}

type received struct {
	ID, Kind, InteractionID, MessageID string
	Body                               workspace.EventBody
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	r := &receiver{t: t, now: now, seen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.mu.Lock()
		if r.hang != nil {
			close(r.hang)
			r.hang = nil
		}
		r.mu.Unlock()
		r.srv.Close()
	})
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret, hang := r.secret, r.hang
	r.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-req.Context().Done():
			return
		}
	}
	status := http.StatusOK
	var ev workspace.EventBody
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !workspace.VerifySignature(secret, req.Header.Get(workspace.SignatureHeader), body, r.now(), 5*time.Minute):
		r.badSigs++
		status = http.StatusUnauthorized
	case json.Unmarshal(body, &ev) != nil || ev.ID == "" || req.Header.Get("X-Agentdesk-Event-Id") != ev.ID:
		status = http.StatusBadRequest
	case r.fail > 0:
		r.fail--
		status = http.StatusInternalServerError
	}
	r.attempts = append(r.attempts, ev.ID+" "+req.Header.Get("X-Agentdesk-Delivery-Count")+" "+strconv.Itoa(status))
	if status == http.StatusOK {
		r.seen[ev.ID]++
		if r.seen[ev.ID] == 1 {
			rec := received{ID: ev.ID, Kind: string(ev.Kind), Body: ev}
			if ev.Interaction != nil {
				rec.InteractionID = ev.Interaction.ID
			}
			if ev.Message != nil {
				rec.MessageID = ev.Message.ID
			}
			r.accepted = append(r.accepted, rec)
		}
	}
	w.WriteHeader(status)
}

func (r *receiver) url() string { return r.srv.URL + "/hook" }

func (r *receiver) events() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.accepted)
}

func (r *receiver) set(f func(r *receiver)) {
	r.mu.Lock()
	f(r)
	r.mu.Unlock()
}

// waitOr waits for cond like waitFor, and says what report says if it never holds.
func waitOr(t *testing.T, cond func() bool, report func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in 10 s: %s", report())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startCRM runs a node whose webhooks may reach loopback and poll often.
func startCRM(t *testing.T, change ...func(*server.Config)) *server.Main {
	return start(t, append([]func(*server.Config){func(c *server.Config) {
		c.Webhooks.AllowLoopback = true
		c.WebhookPoll = 20 * time.Millisecond
	}}, change...)...)
}

// createWebhook registers url for the kinds (all when none) as the demo supervisor and
// returns its ID and secret.
func createWebhook(t *testing.T, base, admin, url string, kinds ...string) (id, secret string) {
	t.Helper()
	if len(kinds) == 0 {
		kinds = []string{"CREATED", "OFFERED", "ACCEPTED", "MESSAGE", "PARKED", "UNPARKED", "TRANSFERRED", "ENDED", "COMPLETED", "UPDATED"}
	}
	p := mutateAt(t, base, admin, "createWebhook", `mutation($u: String!, $k: [InteractionEventKind!]!) {
		createWebhook(input:{url:$u, kinds:$k}) { webhook { id url kinds active } secret userErrors { code field message } } }`,
		map[string]any{"u": url, "k": kinds})
	id, _ = dig(p, "webhook.id").(string)
	secret, _ = dig(p, "secret").(string)
	if id == "" || !strings.HasPrefix(secret, "whsec_") || dig(p, "webhook.active") != true {
		t.Fatalf("createWebhook: %v", p)
	}
	return id, secret
}

// lifecycle runs one chat through its whole life on node m: created, offered, accepted,
// messages both ways, notes, a code, ended, completed. It returns the chat's ID.
func lifecycle(t *testing.T, m *server.Main, alice string, text string) string {
	t.Helper()
	contact, id := startChat(t, m, "Sales", text)
	offer := ""
	waitFor(t, func() bool {
		r := post(t, m, alice, `{ myInteractions { id offer { id } } }`, nil)
		for _, ix := range asList(dig(r.Data, "myInteractions")) {
			if dig(ix, "id") == id {
				offer, _ = dig(ix, "offer.id").(string)
			}
		}
		return offer != ""
	})
	mutate(t, m, alice, "acceptOffer", `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id } } }`, map[string]any{"o": offer})
	mutate(t, m, alice, "sendMessage", `mutation($i: ID!) { sendMessage(input:{interactionId:$i, text:"How can I help?"}) { message { id } } }`, map[string]any{"i": id})
	mutate(t, m, contact, "sendContactMessage", `mutation { sendContactMessage(input:{text:"Where is my order?"}) { message { id } } }`, nil)
	mutate(t, m, alice, "setNotes", `mutation($i: ID!) { setNotes(input:{interactionId:$i, notes:"order question"}) { interaction { id } } }`, map[string]any{"i": id})
	mutate(t, m, alice, "endInteraction", `mutation($i: ID!) { endInteraction(input:{interactionId:$i}) { interaction { id } } }`, map[string]any{"i": id})
	mutate(t, m, alice, "selectDisposition", `mutation($i: ID!) { selectDisposition(input:{interactionId:$i, code:"SALE"}) { interaction { id } } }`, map[string]any{"i": id})
	p := mutate(t, m, alice, "completeInteraction", `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { state } } }`, map[string]any{"i": id})
	if dig(p, "interaction.state") != "COMPLETED" {
		t.Fatalf("complete: %v", p)
	}
	return id
}

// lifeKinds is what lifecycle's chat goes through, in order: the system writes a message
// when the agent joins and when the chat ends.
var lifeKinds = []string{"CREATED", "MESSAGE", "OFFERED", "ACCEPTED", "MESSAGE", "MESSAGE", "MESSAGE", "UPDATED", "ENDED",
	"MESSAGE", "UPDATED", "COMPLETED"}

func kindsOf(events []received, interactionID string) []string {
	var out []string
	for _, e := range events {
		if e.InteractionID == interactionID {
			out = append(out, e.Kind)
		}
	}
	return out
}

// TestWebhookDeliversSignedEventsInOrder: a webhook receives every change of two chats,
// each once, signed with its secret, in the order of each interaction's life; a webhook for
// some kinds receives only those.
func TestWebhookDeliversSignedEventsInOrder(t *testing.T) {
	m := startCRM(t)
	admin, alice := login(t, m, "admin"), login(t, m, "alice")
	ready(t, m, alice)
	all, onlyMessages := newReceiver(t, time.Now), newReceiver(t, time.Now)
	_, secret := createWebhook(t, m.URL(), admin, all.url())
	all.set(func(r *receiver) { r.secret = secret })
	_, secret2 := createWebhook(t, m.URL(), admin, onlyMessages.url(), "MESSAGE")
	onlyMessages.set(func(r *receiver) { r.secret = secret2 })

	first := lifecycle(t, m, alice, "first chat")
	second := lifecycle(t, m, alice, "second chat")
	waitOr(t, func() bool { return len(all.events()) == 2*len(lifeKinds) && len(onlyMessages.events()) == 10 },
		func() string {
			return fmt.Sprint(kindsOf(all.events(), first), kindsOf(all.events(), second), len(onlyMessages.events()))
		})
	got := all.events()
	for _, id := range []string{first, second} {
		if k := kindsOf(got, id); fmt.Sprint(k) != fmt.Sprint(lifeKinds) {
			t.Errorf("%s: kinds %v\nwant %v", id, k, lifeKinds)
		}
	}
	// The first chat's events all come before the second's: the store's one order.
	if got[len(lifeKinds)-1].InteractionID != first || got[len(lifeKinds)].InteractionID != second {
		t.Errorf("deliveries interleave two chats that ran one after the other: %v", got)
	}
	for _, e := range got {
		if e.Kind == "MESSAGE" && (e.MessageID == "" || e.Body.Message.Text == "") {
			t.Errorf("MESSAGE without its message: %+v", e.Body)
		}
		if e.Body.Interaction.UpdatedAt.IsZero() || e.Body.Interaction.PlanID == "" {
			t.Errorf("event without the interaction: %+v", e.Body)
		}
	}
	for _, e := range onlyMessages.events() {
		if e.Kind != "MESSAGE" {
			t.Errorf("the MESSAGE webhook received %s", e.Kind)
		}
	}
	all.mu.Lock()
	defer all.mu.Unlock()
	if all.badSigs != 0 || len(all.attempts) != len(got) {
		t.Errorf("%d bad signatures, %d attempts for %d events", all.badSigs, len(all.attempts), len(got))
	}
}

// TestWebhookSignature: the signature covers the timestamp and the body under the secret;
// any change to one of them, another secret or an old timestamp fails verification.
func TestWebhookSignature(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"e1","kind":"CREATED"}`)
	sig := workspace.Sign("whsec_a", at, body)
	if !strings.HasPrefix(sig, "t=1796205600,v1=") || len(sig) != len("t=1796205600,v1=")+64 {
		t.Fatalf("signature %q", sig)
	}
	if !workspace.VerifySignature("whsec_a", sig, body, at.Add(time.Minute), 5*time.Minute) {
		t.Fatal("a fresh signature does not verify")
	}
	for name, ok := range map[string]bool{
		"other secret":   workspace.VerifySignature("whsec_b", sig, body, at, 5*time.Minute),
		"other body":     workspace.VerifySignature("whsec_a", sig, []byte(`{"id":"e2","kind":"CREATED"}`), at, 5*time.Minute),
		"replayed later": workspace.VerifySignature("whsec_a", sig, body, at.Add(10*time.Minute), 5*time.Minute),
		"moved time":     workspace.VerifySignature("whsec_a", strings.Replace(sig, "t=1796205600", "t=1796205601", 1), body, at, 5*time.Minute),
		"no signature":   workspace.VerifySignature("whsec_a", "", body, at, 5*time.Minute),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

// webhookState reads a webhook as its supervisor sees it.
func webhookState(t *testing.T, base, admin, id string) map[string]any {
	t.Helper()
	r := gqlAt(t, base, admin, `{ webhooks { id retryingAttempts nextAttemptAt
		lastDelivery { eventId attempts lastStatus lastError lastAttemptAt }
		failedDeliveries(first: 10) { eventId attempts lastStatus lastError } } }`, nil)
	for _, w := range asList(dig(r.Data, "webhooks")) {
		if dig(w, "id") == id {
			return w.(map[string]any)
		}
	}
	t.Fatalf("webhook %s not listed: %+v", id, r)
	return nil
}

// TestWebhookRetriesWithBackoff: the receiver answers 500 five times, then 200. Each retry
// waits for its backoff on the node's clock, which the test moves; the event is accepted
// once, and the attempts are visible to the supervisor and to the receiver.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	clock := workspace.NewManualClock(time.Now().Truncate(time.Millisecond))
	m := server.NewMain(crmConfig(t))
	m.Clock = clock
	runMain(t, m)
	admin := login(t, m, "admin")
	rec := newReceiver(t, clock.Now)
	id, secret := createWebhook(t, m.URL(), admin, rec.url(), "CREATED")
	rec.set(func(r *receiver) { r.secret, r.fail = secret, 5 })
	startChat(t, m, "Sales", "please retry")

	policy := workspace.DefaultWebhookPolicy()
	for attempt := 1; attempt <= 5; attempt++ {
		waitFor(t, func() bool { return dig(webhookState(t, m.URL(), admin, id), "retryingAttempts") == float64(attempt) })
		w := webhookState(t, m.URL(), admin, id)
		if dig(w, "lastDelivery.lastStatus") != float64(500) || dig(w, "lastDelivery.attempts") != float64(attempt) {
			t.Fatalf("after attempt %d: %v", attempt, w)
		}
		next, _ := time.Parse(time.RFC3339Nano, dig(w, "nextAttemptAt").(string))
		// Exponential: the wait doubles with each failure.
		if want := clock.Now().Add(policy.FirstBackoff << (attempt - 1)); !next.Equal(want) {
			t.Fatalf("attempt %d: next at %v, want %v", attempt, next, want)
		}
		// Not before its time: nudging the runner without moving the clock delivers nothing.
		clock.Advance(policy.FirstBackoff<<(attempt-1) - time.Millisecond)
		m.Service.DeliverWebhooks(t.Context(), true)
		m.Service.WaitWebhooks()
		if n := len(rec.attemptList()); n != attempt {
			t.Fatalf("%d attempts before the backoff of attempt %d passed", n, attempt)
		}
		clock.Advance(time.Millisecond)
	}
	waitFor(t, func() bool { return len(rec.events()) == 1 })
	// The receiver has the event before the node has recorded its answer: wait for the record.
	waitFor(t, func() bool { return dig(webhookState(t, m.URL(), admin, id), "lastDelivery.attempts") == float64(6) })
	w := webhookState(t, m.URL(), admin, id)
	if dig(w, "retryingAttempts") != float64(0) || dig(w, "lastDelivery.attempts") != float64(6) || dig(w, "lastDelivery.lastStatus") != float64(200) {
		t.Fatalf("after the success: %v", w)
	}
	attempts := rec.attemptList()
	if len(attempts) != 6 || !strings.HasSuffix(attempts[5], " 6 200") || !strings.HasSuffix(attempts[0], " 1 500") {
		t.Fatalf("receiver saw %v", attempts)
	}
	// The node's metrics count the attempts by outcome.
	res, err := http.Get(m.MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	metrics, _ := io.ReadAll(res.Body)
	for _, line := range []string{`agentdesk_crm_deliveries_total{outcome="5xx"} 5`, `agentdesk_crm_deliveries_total{outcome="2xx"} 1`, "agentdesk_crm_delivery_duration_seconds_count 6"} {
		if !strings.Contains(string(metrics), line+"\n") {
			t.Errorf("metrics lack %s", line)
		}
	}
}

func (r *receiver) attemptList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.attempts)
}

// crmConfig is startCRM's configuration, for tests that set up Main themselves.
func crmConfig(t *testing.T) server.Config {
	cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo",
		"-webhooks-allow-loopback", "-webhook-poll", "20ms"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = 4
	return cfg
}

// TestWebhookFailsAfter24Hours: an event the receiver refuses for 24 hours is kept as a
// failed delivery and the webhook moves on to the next event; redelivering it later, once
// the receiver is back, succeeds and clears it.
func TestWebhookFailsAfter24Hours(t *testing.T) {
	clock := workspace.NewManualClock(time.Now().Truncate(time.Millisecond))
	cfg := crmConfig(t)
	cfg.SessionTTL = 100 * time.Hour // the supervisor stays signed in while the clock moves a day
	m := server.NewMain(cfg)
	m.Clock = clock
	runMain(t, m)
	admin := login(t, m, "admin")
	rec := newReceiver(t, clock.Now)
	id, secret := createWebhook(t, m.URL(), admin, rec.url(), "CREATED")
	rec.set(func(r *receiver) { r.secret, r.fail = secret, 1_000_000 })
	_, doomed := startChat(t, m, "Sales", "nobody hears this")

	var failedEvent string
	for tries := 0.0; failedEvent == ""; {
		var w map[string]any
		waitFor(t, func() bool {
			w = webhookState(t, m.URL(), admin, id)
			return dig(w, "retryingAttempts").(float64) > tries || len(asList(dig(w, "failedDeliveries"))) > 0
		})
		if f := asList(dig(w, "failedDeliveries")); len(f) > 0 {
			failedEvent = dig(f[0], "eventId").(string)
			if dig(f[0], "lastStatus") != float64(500) || dig(f[0], "attempts").(float64) != tries+1 || tries < 10 {
				t.Fatalf("failed delivery after %v retries: %v", tries, f[0])
			}
			break
		}
		tries = dig(w, "retryingAttempts").(float64)
		if tries > 100 {
			t.Fatalf("still retrying after %v attempts", tries)
		}
		next, _ := time.Parse(time.RFC3339Nano, dig(w, "nextAttemptAt").(string))
		clock.Set(next)
	}
	// Giving up is two writes, the failed delivery and then the webhook's cursor (on MongoDB
	// there is no transaction to join them): between them a reader sees both. Once the
	// second is made the webhook has stopped retrying.
	waitFor(t, func() bool { return webhookState(t, m.URL(), admin, id)["retryingAttempts"] == float64(0) })
	rec.mu.Lock()
	first := rec.attempts[0]
	rec.mu.Unlock()
	if !strings.HasPrefix(first, failedEvent+" ") {
		t.Fatalf("failed %s, but the first attempt was %s", failedEvent, first)
	}

	// The webhook moved on: the next chat's event is delivered once the receiver is back.
	rec.set(func(r *receiver) { r.fail = 0 })
	_, next := startChat(t, m, "Sales", "after the outage")
	waitFor(t, func() bool { return len(rec.events()) == 1 })
	if got := rec.events()[0].InteractionID; got != next {
		t.Fatalf("delivered %s, want the next chat %s", got, next)
	}

	redeliver := `mutation($w: ID!, $e: ID!) { redeliverWebhookEvent(input:{webhookId:$w, eventId:$e}) {
		delivered delivery { attempts lastStatus } userErrors { code field } } }`
	p := mutate(t, m, admin, "redeliverWebhookEvent", redeliver, map[string]any{"w": id, "e": failedEvent})
	if dig(p, "delivered") != true || dig(p, "delivery.lastStatus") != float64(200) {
		t.Fatalf("redeliver: %v", p)
	}
	if evs := rec.events(); len(evs) != 2 || evs[1].ID != failedEvent || evs[1].InteractionID != doomed {
		t.Fatalf("after redelivery the receiver has %+v", evs)
	}
	if f := asList(dig(webhookState(t, m.URL(), admin, id), "failedDeliveries")); len(f) != 0 {
		t.Fatalf("still failed after redelivery: %v", f)
	}
	// Redelivering again: it is no failed delivery any more.
	p = mutate(t, m, admin, "redeliverWebhookEvent", redeliver, map[string]any{"w": id, "e": failedEvent})
	if userCode(p) != workspace.ENOTFOUND {
		t.Fatalf("second redelivery: %v", p)
	}
}

// TestWebhookSlowReceiver: a receiver that hangs holds only its own webhook: another
// receiver gets every event meanwhile, and the hung delivery times out and is retried.
func TestWebhookSlowReceiver(t *testing.T) {
	m := startCRM(t, func(c *server.Config) { c.Webhooks.Timeout = 300 * time.Millisecond })
	admin, alice := login(t, m, "admin"), login(t, m, "alice")
	ready(t, m, alice)
	slow, fast := newReceiver(t, time.Now), newReceiver(t, time.Now)
	slowID, s1 := createWebhook(t, m.URL(), admin, slow.url())
	_, s2 := createWebhook(t, m.URL(), admin, fast.url())
	hang := make(chan struct{})
	slow.set(func(r *receiver) { r.secret, r.hang = s1, hang })
	fast.set(func(r *receiver) { r.secret = s2 })

	id := lifecycle(t, m, alice, "is anyone slow?")
	waitFor(t, func() bool { return len(kindsOf(fast.events(), id)) == len(lifeKinds) })
	if n := len(slow.events()); n != 0 {
		t.Fatalf("the hanging receiver accepted %d events", n)
	}
	waitFor(t, func() bool {
		w := webhookState(t, m.URL(), admin, slowID)
		return dig(w, "retryingAttempts") == float64(1)
	})
	w := webhookState(t, m.URL(), admin, slowID)
	if e, _ := dig(w, "lastDelivery.lastError").(string); !strings.Contains(e, "timeout") || dig(w, "lastDelivery.lastStatus") != nil {
		t.Fatalf("the hung delivery: %v", w)
	}
}

// TestWebhookSecretRotation: after a rotation, deliveries are signed with the new secret;
// a receiver still holding the old one refuses them, and accepts the retry once it holds
// the new one.
func TestWebhookSecretRotation(t *testing.T) {
	clock := workspace.NewManualClock(time.Now().Truncate(time.Millisecond))
	m := server.NewMain(crmConfig(t))
	m.Clock = clock
	runMain(t, m)
	admin := login(t, m, "admin")
	rec := newReceiver(t, clock.Now)
	id, old := createWebhook(t, m.URL(), admin, rec.url(), "CREATED")
	rec.set(func(r *receiver) { r.secret = old })
	startChat(t, m, "Sales", "before the rotation")
	waitFor(t, func() bool { return len(rec.events()) == 1 })

	p := mutate(t, m, admin, "rotateWebhookSecret", `mutation($w: ID!) { rotateWebhookSecret(input:{webhookId:$w}) { webhook { id } secret userErrors { code } } }`, map[string]any{"w": id})
	fresh, _ := dig(p, "secret").(string)
	if fresh == "" || fresh == old || !strings.HasPrefix(fresh, "whsec_") {
		t.Fatalf("rotate: %v", p)
	}
	_, after := startChat(t, m, "Sales", "after the rotation")
	waitFor(t, func() bool { return dig(webhookState(t, m.URL(), admin, id), "retryingAttempts") == float64(1) })
	rec.mu.Lock()
	bad := rec.badSigs
	rec.mu.Unlock()
	if w := webhookState(t, m.URL(), admin, id); dig(w, "lastDelivery.lastStatus") != float64(401) || len(rec.events()) != 1 || bad != 1 {
		t.Fatalf("a delivery signed with the old secret was accepted after the rotation: %v", w)
	}
	rec.set(func(r *receiver) { r.secret = fresh })
	clock.Advance(workspace.DefaultWebhookPolicy().FirstBackoff)
	waitFor(t, func() bool { return len(rec.events()) == 2 })
	if got := rec.events()[1].InteractionID; got != after {
		t.Fatalf("delivered %s, want %s", got, after)
	}

	// Both are in the audit log, which never holds a secret.
	r := gqlAt(t, m.URL(), admin, `{ auditLog(objectType: "WEBHOOK", first: 10) { edges { node { action objectId before after } } } }`, nil)
	var actions []string
	for _, e := range asList(dig(r.Data, "auditLog.edges")) {
		actions = append(actions, dig(e, "node.action").(string))
		if dig(e, "node.objectId") != id {
			t.Errorf("audit entry of another object: %v", e)
		}
		if b, _ := json.Marshal(e); strings.Contains(string(b), "whsec_") {
			t.Errorf("a secret in the audit log: %s", b)
		}
	}
	if fmt.Sprint(actions) != "[webhook.rotateSecret webhook.create]" {
		t.Errorf("audit log %v (%+v)", actions, r.Errors)
	}
}

// TestWebhooksSurviveKill9: the real binary stores 200 events while the receiver refuses
// every delivery, and is killed with SIGKILL; started again on the same folder, it delivers
// every event, and the receiver, which deduplicates on the event ID, accepts each once, in
// each interaction's order.
func TestWebhooksSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const chats = 100 // CREATED and MESSAGE each: 200 events
	bin := buildAgentdesk(t)
	data := t.TempDir()
	flags := []string{"-webhooks-allow-loopback", "-webhook-poll", "50ms", "-webhook-backoff", "50ms", "-webhook-max-backoff", "200ms"}
	first := startAgentdesk(t, bin, data, flags...)
	rec := newReceiver(t, time.Now)
	admin := loginAt(t, first.url, "admin")
	_, secret := createWebhook(t, first.url, admin, rec.url())
	rec.set(func(r *receiver) { r.secret, r.fail = secret, 1_000_000 })
	var ids []string
	for i := range chats {
		r := gqlAt(t, first.url, "", `mutation($t: String!) { startWebchat(input:{name:"Visitor", text:$t}) { chat { id } } }`,
			map[string]any{"t": fmt.Sprint("chat ", i)})
		ids = append(ids, dig(r.Data, "startWebchat.chat.id").(string))
	}
	waitLong(t, "refused deliveries", func() bool { return len(rec.attemptList()) >= 3 })
	first.kill(t)
	if n := len(rec.events()); n != 0 {
		t.Fatalf("the receiver accepted %d events while refusing all", n)
	}

	rec.set(func(r *receiver) { r.fail = 0 })
	second := startAgentdesk(t, bin, data, flags...)
	waitLong(t, "every event accepted", func() bool { return len(rec.events()) == 2*chats })
	got := rec.events()
	for _, id := range ids {
		if k := kindsOf(got, id); fmt.Sprint(k) != "[CREATED MESSAGE]" {
			t.Fatalf("%s: %v\n%s", id, k, second.logs())
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, n := range rec.seen {
		if n != 1 {
			t.Logf("event %s delivered %d times (at least once; the receiver kept one)", id, n)
		}
	}
}

// TestWebhookTwoNodes: two nodes on one MongoDB both store events and both run webhooks;
// each event is delivered once, and a stream on one node carries both nodes' events in the
// stored order.
func TestWebhookTwoNodes(t *testing.T) {
	for name, uri := range mongoURIs(t) {
		t.Run(name, func(t *testing.T) {
			nodes := cluster(t, uri(t), 2, func(c *server.Config) {
				c.Webhooks.AllowLoopback, c.WebhookPoll, c.OutboxPoll = true, 20*time.Millisecond, 0
			})
			a, b := nodes[0], nodes[1]
			admin := login(t, a, "admin")
			rec := newReceiver(t, time.Now)
			id, secret := createWebhook(t, a.URL(), admin, rec.url())
			rec.set(func(r *receiver) { r.secret = secret })
			// A CRM follows the stream on node A while both nodes store events.
			stream := subscribeEvents(t, a, workspace.DemoAPIKey, nil)
			const chats = 15
			for i := range chats {
				startChat(t, nodes[i%2], "Sales", fmt.Sprint("chat ", i))
			}
			var streamed []streamed
			for range 2 * chats {
				streamed = append(streamed, asStreamed(stream.eventWithin(2*time.Minute)))
			}
			if stored := storedSince(t, b, ""); fmt.Sprint(streamed) != fmt.Sprint(stored) {
				t.Errorf("streamed on node A %v\nstored %v", streamed, stored)
			}
			waitLong(t, "every event accepted", func() bool { return len(rec.events()) == 2*chats })
			// Both nodes are done: the webhook has read every stored event and holds no lease.
			waitLong(t, "the runs to end", func() bool {
				w, err := b.Store.Webhook(t.Context(), id)
				last, err2 := b.Store.LastEventSeq(t.Context())
				return err == nil && err2 == nil && w.Cursor == last && w.LeaseUntil.IsZero()
			})
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for ev, n := range rec.seen {
				if n != 1 {
					t.Errorf("event %s delivered %d times", ev, n)
				}
			}
			if len(rec.attempts) != 2*chats || rec.badSigs != 0 {
				t.Errorf("%d attempts, %d bad signatures for %d events", len(rec.attempts), rec.badSigs, 2*chats)
			}
		})
	}
}

// eventWithin reads the next event like event, waiting up to d: the MongoDB test engine
// under the race detector is slow.
func (c *wsClient) eventWithin(d time.Duration) map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, d)
	defer cancel()
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			c.t.Fatalf("waiting for an event: %v", err)
		}
		if msg.Type != "next" {
			if msg.Type == "ka" || msg.Type == "ping" || msg.Type == "pong" {
				continue
			}
			c.t.Fatalf("got %s %s, want next", msg.Type, msg.Payload)
		}
		var p struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
			c.t.Fatalf("event %s: %v", msg.Payload, err)
		}
		return p.Data
	}
}
