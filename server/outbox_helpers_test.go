package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/providersim"
)

// What the outbox tests share: a provider simulator on loopback with one Vonage application,
// an SMS identity on it created through the API, and GraphQL over plain URLs (the crash test
// talks to a child process, not to a *server.Main).

// vonageSim is a providersim on an httptest server with one Vonage application.
type vonageSim struct {
	*providersim.Sim
	URL    string
	app    providersim.VonageApp
	keyPEM string
}

// newVonageSim starts a simulator with a Vonage application whose key it makes up; its
// webhook URLs are set by route once the identity exists.
func newVonageSim(t *testing.T) *vonageSim {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sim := providersim.New()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); srv.Close() })
	v := &vonageSim{Sim: sim, URL: srv.URL,
		app: providersim.VonageApp{ApplicationID: "outbox-test-app", PublicKey: &key.PublicKey, APIKey: "outbox1",
			SignatureSecret: rand.Text()},
		keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
	sim.AddVonage(v.app)
	return v
}

// route points the application's inbound and status webhooks at a node's URL.
func (v *vonageSim) route(nodeURL, identityID string) {
	v.app.InboundURL = nodeURL + "/webhooks/vonage/" + identityID + "/inbound"
	v.app.StatusURL = nodeURL + "/webhooks/vonage/" + identityID + "/status"
	v.AddVonage(v.app)
}

// settings are the identity's provider settings: the simulator is its API.
func (v *vonageSim) settings() string {
	b, _ := json.Marshal(map[string]string{"apiUrl": v.URL, "applicationId": v.app.ApplicationID,
		"privateKey": v.keyPEM, "signatureSecret": v.app.SignatureSecret})
	return string(b)
}

// gqlAt posts one GraphQL operation to the node at base.
func gqlAt(t *testing.T, base, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := gqlResponse{Status: res.StatusCode}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
	}
	return out
}

// mutateAt posts a mutation and fails on top-level or user errors; it returns the root field's
// payload.
func mutateAt(t *testing.T, base, token, field, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := gqlAt(t, base, token, query, vars)
	p, _ := r.Data[field].(map[string]any)
	if len(r.Errors) > 0 || userCode(p) != "" {
		t.Fatalf("%s: %+v %v", field, r.Errors, p)
	}
	return p
}

func loginAt(t *testing.T, base, username string) string {
	t.Helper()
	p := mutateAt(t, base, "", "login", `mutation($u:String!){ login(input:{username:$u, password:"demo"}) { token userErrors { code } } }`,
		map[string]any{"u": username})
	token, _ := p["token"].(string)
	if token == "" {
		t.Fatalf("login %s: %v", username, p)
	}
	return token
}

// saveVonageIdentity creates, as the demo supervisor, an outbound SMS identity on the
// simulator's Vonage application, routed to the Support plan, and points the application's
// webhooks at base.
func saveVonageIdentity(t *testing.T, base string, v *vonageSim, address string) string {
	t.Helper()
	admin := loginAt(t, base, "admin")
	r := gqlAt(t, base, admin, `{ interactionPlans(search:"Support") { id } }`, nil)
	plan, _ := dig(r.Data, "interactionPlans.0.id").(string)
	p := mutateAt(t, base, admin, "saveChannelIdentity", `mutation($a:String!, $p:ID!, $s:String!) {
		saveChannelIdentity(input:{channel:SMS, address:$a, name:"Outbox test", outbound:true, planId:$p, provider:"vonage", settings:$s}) {
			identity { id } userErrors { code field message } } }`, map[string]any{"a": address, "p": plan, "s": v.settings()})
	id, _ := dig(p, "identity.id").(string)
	if id == "" {
		t.Fatalf("saveChannelIdentity: %v", p)
	}
	v.route(base, id)
	return id
}

// activeSMS has a contact text the identity (a signed inbound webhook from the simulator to
// the application's InboundURL); the agent, READY, accepts the offer. It returns the ACTIVE
// interaction's ID.
func activeSMS(t *testing.T, base, agentToken string, v *vonageSim, from, to string) string {
	t.Helper()
	mutateAt(t, base, agentToken, "setPresence", `mutation { setPresence(input:{presence:READY}) { agent { id } userErrors { code } } }`, nil)
	status, err := v.VonageInbound(t.Context(), v.app.ApplicationID, providersim.Inbound{From: from, To: to, Text: "Hello, is my order on its way?"})
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound webhook: %d %v", status, err)
	}
	var offerID, ixID string
	waitLong(t, "the offer", func() bool {
		r := gqlAt(t, base, agentToken, `{ myInteractions { id state offer { id } } }`, nil)
		for _, ix := range asList(dig(r.Data, "myInteractions")) {
			if dig(ix, "state") == "OFFERED" {
				offerID, _ = dig(ix, "offer.id").(string)
				ixID, _ = dig(ix, "id").(string)
			}
		}
		return offerID != ""
	})
	mutateAt(t, base, agentToken, "acceptOffer", `mutation($o:ID!){ acceptOffer(input:{offerId:$o}) { interaction { id state } userErrors { code } } }`,
		map[string]any{"o": offerID})
	return ixID
}

// sendMessages queues n replies in the interaction, one request after the other, and returns
// their IDs in the order sent; each is stored PENDING.
func sendMessages(t *testing.T, base, token, interactionID string, n int) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		p := mutateAt(t, base, token, "sendMessage", `mutation($i:ID!, $t:String!){ sendMessage(input:{interactionId:$i, text:$t}) {
			message { id delivery } userErrors { code message } } }`, map[string]any{"i": interactionID, "t": fmt.Sprintf("reply %03d", i)})
		id, _ := dig(p, "message.id").(string)
		if id == "" || dig(p, "message.delivery") != "PENDING" {
			t.Fatalf("sendMessage %d: %v", i, p)
		}
		ids = append(ids, id)
	}
	return ids
}

// deliveries reads the interaction's transcript through the API, page by page, and returns
// the delivery status of each message that has one.
func deliveries(t *testing.T, base, token, interactionID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var after any
	for {
		r := gqlAt(t, base, token, `query($i:ID!, $a:String) { interaction(id:$i) { transcript(first:100, after:$a) {
			edges { node { id delivery } } pageInfo { hasNextPage endCursor } } } }`, map[string]any{"i": interactionID, "a": after})
		if len(r.Errors) > 0 {
			t.Fatalf("transcript: %+v", r.Errors)
		}
		for _, e := range asList(dig(r.Data, "interaction.transcript.edges")) {
			if d, ok := dig(e, "node.delivery").(string); ok {
				out[dig(e, "node.id").(string)] = d
			}
		}
		if dig(r.Data, "interaction.transcript.pageInfo.hasNextPage") != true {
			return out
		}
		after = dig(r.Data, "interaction.transcript.pageInfo.endCursor")
	}
}

// countDelivery counts the messages among ids whose status is one of want.
func countDelivery(got map[string]string, ids []string, want ...string) int {
	n := 0
	for _, id := range ids {
		for _, w := range want {
			if got[id] == w {
				n++
			}
		}
	}
	return n
}

// checkSentOnce checks what the simulator accepted against the messages queued, in order:
// each message's ID (Vonage's client_ref) exactly once, and in the order the agent sent them.
func checkSentOnce(t *testing.T, received []providersim.Sent, ids []string) {
	t.Helper()
	times := map[string]int{}
	for _, s := range received {
		times[s.Ref]++
	}
	for i, id := range ids {
		if times[id] != 1 {
			t.Errorf("message %d (%s) reached the provider %d times", i, id, times[id])
		}
	}
	if len(received) != len(ids) {
		t.Errorf("the provider accepted %d sends for %d messages", len(received), len(ids))
	}
	if t.Failed() {
		return
	}
	for i, s := range received {
		if s.Ref != ids[i] {
			t.Fatalf("send %d is message %s (%q), want %s: out of order", i, s.Ref, s.Text, ids[i])
		}
	}
}

// waitLong polls cond every 50 ms for up to five minutes: long enough for a busy machine,
// never a timing assertion.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 5 minutes", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
