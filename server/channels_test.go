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
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/server"
)

// chanEnv is a node whose three provider identities (Vonage SMS, Twilio SMS, WhatsApp Cloud)
// talk to a provider simulator on loopback: the real adapters, the real webhook paths, the
// providers' documented signatures and formats.
type chanEnv struct {
	t      *testing.T
	m      *server.Main
	sim    *providersim.Sim
	admin  string
	alice  string
	plan   string
	vonage struct{ id, secret string }
	twilio struct{ id, sid, token string }
	wa     struct{ id, number, secret, verify string }
}

const (
	vonageApp  = "app-1"
	twilioSID  = "AC0123456789abcdef0123456789abcdef"
	waNumberID = "1098765432"
	vonageFrom = "+447700900110"
	twilioFrom = "+447700900111"
	waFrom     = "+447700900112"
)

func startChannels(t *testing.T, change ...func(*server.Config)) *chanEnv {
	t.Helper()
	sim := providersim.New()
	api := httptest.NewServer(sim.Handler())
	sim.BaseURL = api.URL // where the files contacts send are served
	t.Cleanup(func() { sim.Close(); api.Close() })
	m := start(t, append([]func(*server.Config){func(c *server.Config) {
		c.OutboxPoll = 20 * time.Millisecond
		c.Outbox.FirstBackoff, c.Outbox.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	}}, change...)...)
	e := &chanEnv{t: t, m: m, sim: sim, admin: login(t, m, "admin"), alice: login(t, m, "alice")}
	r := post(t, m, e.admin, `{ interactionPlans { id name } }`, nil)
	for _, p := range dig(r.Data, "interactionPlans").([]any) {
		if dig(p, "name") == "Support" {
			e.plan = dig(p, "id").(string)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	e.vonage.secret = rand.Text()
	e.vonage.id = e.saveIdentity("SMS", vonageFrom, "vonage", map[string]string{"apiUrl": api.URL,
		"applicationId": vonageApp, "privateKey": pemKey, "signatureSecret": e.vonage.secret})
	sim.AddVonage(providersim.VonageApp{ApplicationID: vonageApp, PublicKey: &key.PublicKey, APIKey: "key", SignatureSecret: e.vonage.secret,
		InboundURL: m.URL() + "/webhooks/vonage/" + e.vonage.id + "/inbound", StatusURL: m.URL() + "/webhooks/vonage/" + e.vonage.id + "/status"})

	e.twilio.sid, e.twilio.token = twilioSID, rand.Text()
	e.twilio.id = e.saveIdentity("SMS", twilioFrom, "twilio", map[string]string{"apiUrl": api.URL, "accountSid": twilioSID, "authToken": e.twilio.token})
	sim.AddTwilio(providersim.TwilioAccount{AccountSID: twilioSID, AuthToken: e.twilio.token, InboundURL: m.URL() + "/webhooks/twilio/" + e.twilio.id + "/inbound"})

	e.wa.secret, e.wa.verify = rand.Text(), rand.Text()
	token := rand.Text()
	e.wa.id = e.saveIdentity("WHATSAPP", waFrom, "whatsapp-cloud", map[string]string{"apiUrl": api.URL, "phoneNumberId": waNumberID,
		"accessToken": token, "appSecret": e.wa.secret, "verifyToken": e.wa.verify})
	sim.AddWhatsApp(providersim.WhatsAppNumber{PhoneNumberID: waNumberID, DisplayPhoneNumber: strings.TrimPrefix(waFrom, "+"),
		WABAID: "555", AccessToken: token, AppSecret: e.wa.secret, WebhookURL: m.URL() + "/webhooks/whatsapp/" + e.wa.id})
	return e
}

// saveIdentity creates an identity through the API, as the supervisor.
func (e *chanEnv) saveIdentity(ch, addr, provider string, settings map[string]string) string {
	e.t.Helper()
	raw, _ := json.Marshal(settings)
	r := post(e.t, e.m, e.admin, `mutation($c: Channel!, $a: String!, $p: ID!, $prov: String!, $s: String!) {
		saveChannelIdentity(input: {channel: $c, address: $a, name: "Desk", outbound: true, planId: $p, provider: $prov, settings: $s}) {
			identity { id } userErrors { code field message } } }`,
		map[string]any{"c": ch, "a": addr, "p": e.plan, "prov": provider, "s": string(raw)})
	id, _ := dig(r.Data, "saveChannelIdentity.identity.id").(string)
	if id == "" {
		e.t.Fatalf("saveChannelIdentity %s: %+v", provider, r)
	}
	return id
}

// text sends a contact's message through the provider's signed inbound webhook.
func (e *chanEnv) text(provider, from, body string) {
	e.t.Helper()
	in := providersim.Inbound{From: from, Text: body, Name: "Ana"}
	var status int
	var err error
	switch provider {
	case "vonage":
		in.To = vonageFrom
		status, err = e.sim.VonageInbound(e.t.Context(), vonageApp, in)
	case "twilio":
		in.To = twilioFrom
		status, err = e.sim.TwilioInbound(e.t.Context(), twilioSID, in)
	default:
		status, err = e.sim.WhatsAppInbound(e.t.Context(), waNumberID, in)
	}
	if err != nil || status != http.StatusOK {
		e.t.Fatalf("%s inbound: %d %v", provider, status, err)
	}
}

// interactionsOf lists the interactions of a contact (CRM read), oldest first.
func (e *chanEnv) interactionsOf(contact string) []any {
	e.t.Helper()
	r := post(e.t, e.m, "demo-crm-key", `query($c: String) { interactions(filter: {contactAddress: $c}, first: 5) {
		edges { node { id state channel identity { id } transcript(first: 40) { edges { node { id from text delivery } } } } } } }`,
		map[string]any{"c": contact})
	if len(r.Errors) > 0 {
		e.t.Fatalf("interactions: %+v", r.Errors)
	}
	edges, _ := dig(r.Data, "interactions.edges").([]any)
	return edges
}

// active makes alice READY, has the contact write, and accepts the offer: the interaction ID.
func (e *chanEnv) active(provider, contact string) string {
	e.t.Helper()
	post(e.t, e.m, e.alice, `mutation { setPresence(input: {presence: READY}) { agent { presence } } }`, nil)
	e.text(provider, contact, "Hello, is anyone there?")
	var offer string
	waitFor(e.t, func() bool {
		r := post(e.t, e.m, e.alice, `{ myInteractions { id state contact { address } offer { id } } }`, nil)
		for _, ix := range dig(r.Data, "myInteractions").([]any) {
			if dig(ix, "contact.address") == contact && dig(ix, "state") == "OFFERED" {
				offer, _ = dig(ix, "offer.id").(string)
			}
		}
		return offer != ""
	})
	r := post(e.t, e.m, e.alice, `mutation($o: ID!) { acceptOffer(input: {offerId: $o}) { interaction { id state } userErrors { code } } }`, map[string]any{"o": offer})
	if dig(r.Data, "acceptOffer.interaction.state") != "ACTIVE" {
		e.t.Fatalf("accept: %+v", r)
	}
	return dig(r.Data, "acceptOffer.interaction.id").(string)
}

// reply sends alice's message; it returns the message ID.
func (e *chanEnv) reply(ix, text string) string {
	e.t.Helper()
	r := post(e.t, e.m, e.alice, `mutation($i: ID!, $t: String!) { sendMessage(input: {interactionId: $i, text: $t}) { message { id delivery } userErrors { code message } } }`,
		map[string]any{"i": ix, "t": text})
	id, _ := dig(r.Data, "sendMessage.message.id").(string)
	if id == "" {
		e.t.Fatalf("sendMessage: %+v", r)
	}
	return id
}

// delivery reads a message's delivery status and error through the interaction's transcript.
func (e *chanEnv) delivery(ix, messageID string) (status, kind, code string) {
	e.t.Helper()
	r := post(e.t, e.m, e.alice, `query($i: ID!) { interaction(id: $i) { transcript(first: 100) { edges { node { id delivery deliveryError { kind providerCode } } } } } }`,
		map[string]any{"i": ix})
	for _, edge := range dig(r.Data, "interaction.transcript.edges").([]any) {
		if dig(edge, "node.id") == messageID {
			status, _ = dig(edge, "node.delivery").(string)
			kind, _ = dig(edge, "node.deliveryError.kind").(string)
			code, _ = dig(edge, "node.deliveryError.providerCode").(string)
		}
	}
	return
}

// waitDelivery waits until the message reaches the status.
func (e *chanEnv) waitDelivery(ix, messageID, want string) (kind, code string) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		status, k, c := e.delivery(ix, messageID)
		if status == want {
			return k, c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("message %s is %s (%s %s), want %s", messageID, status, k, c, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProvidersEndToEnd: for each provider, a contact's message is routed to alice (C3,
// P6), her reply reaches the provider with the documented request, and the provider's
// receipts move it to DELIVERED (READ on WhatsApp), which her deliveryUpdates
// subscription sees.
func TestProvidersEndToEnd(t *testing.T) {
	e := startChannels(t)
	e.sim.SetAutoReceipts(true)
	ws := connectWS(t, e.m, "graphql-transport-ws", e.alice)
	ws.expect("connection_ack")
	ws.send(map[string]any{"id": "d", "type": "subscribe", "payload": map[string]any{"query": `subscription { deliveryUpdates { id delivery } }`}})
	for i, c := range []struct{ provider, contact, final string }{
		{"vonage", "+447700900201", "DELIVERED"},
		{"twilio", "+447700900202", "DELIVERED"},
		{"whatsapp", "+447700900203", "READ"},
	} {
		ix := e.active(c.provider, c.contact)
		edges := e.interactionsOf(c.contact)
		if len(edges) != 1 || dig(edges[0], "node.channel") == nil || dig(edges[0], "node.identity.id") == nil {
			t.Fatalf("%s: interactions of the contact: %v", c.provider, edges)
		}
		msg := e.reply(ix, "Hi, this is Alice from "+c.provider)
		sent, err := e.sim.WaitFor(i+1, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got := sent[i]
		if got.Text != "Hi, this is Alice from "+c.provider || strings.TrimPrefix(got.To, "+") != strings.TrimPrefix(c.contact, "+") || got.Ref != msg {
			t.Fatalf("%s: the provider received %+v", c.provider, got)
		}
		e.waitDelivery(ix, msg, c.final)
		seen := map[string]bool{}
		for !seen[c.final] {
			m := ws.expect("next")
			if id, _ := dig(decode(t, m.Payload), "data.deliveryUpdates.id").(string); id == msg {
				seen[dig(decode(t, m.Payload), "data.deliveryUpdates.delivery").(string)] = true
			}
		}
	}
}

func decode(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWebhookRefusals: a webhook that is unsigned or badly signed gets 401, a malformed one
// 400, an oversized one 413, one for an unknown identity (or another provider's) 404; in
// none of these cases is anything stored. WhatsApp's handshake answers the challenge only to
// the right verify token.
func TestWebhookRefusals(t *testing.T) {
	e := startChannels(t, func(c *server.Config) { c.MaxWebhookBytes = 8 << 10 })
	now := time.Now()
	vonageURL := e.m.URL() + "/webhooks/vonage/" + e.vonage.id + "/inbound"
	twilioURL := e.m.URL() + "/webhooks/twilio/" + e.twilio.id + "/inbound"
	waURL := e.m.URL() + "/webhooks/whatsapp/" + e.wa.id
	const contact = "+447700900301"
	vonageBody := providersim.VonageInboundPayload(providersim.Inbound{ID: "v-1", From: contact, To: vonageFrom, Text: "hi", At: now})
	twilioParams := providersim.TwilioInboundParams(twilioSID, providersim.Inbound{ID: "SM1", From: contact, To: twilioFrom, Text: "hi"})
	waBody := providersim.WhatsAppInboundPayload(providersim.WhatsAppNumber{PhoneNumberID: waNumberID, DisplayPhoneNumber: "447700900112", WABAID: "555"},
		providersim.Inbound{ID: "wamid.1", From: contact, Text: "hi", At: now})
	big := bytes.Repeat([]byte("x"), 9<<10)
	must := func(r *http.Request, err error) *http.Request {
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	unsigned := func(u, ctype string, body []byte) *http.Request {
		r := must(http.NewRequest(http.MethodPost, u, bytes.NewReader(body)))
		r.Header.Set("Content-Type", ctype)
		return r
	}
	cases := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"vonage unsigned", unsigned(vonageURL, "application/json", vonageBody), 401},
		{"vonage wrong secret", must(providersim.VonageRequest(vonageURL, "not-the-secret", vonageBody, now)), 401},
		{"vonage stale iat", must(providersim.VonageRequest(vonageURL, e.vonage.secret, vonageBody, now.Add(-time.Hour))), 401},
		{"vonage tampered body", func() *http.Request {
			r := must(providersim.VonageRequest(vonageURL, e.vonage.secret, vonageBody, now))
			tampered := bytes.Replace(vonageBody, []byte(`"hi"`), []byte(`"ha"`), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(tampered)), int64(len(tampered))
			return r
		}(), 401},
		{"vonage malformed", must(providersim.VonageRequest(vonageURL, e.vonage.secret, []byte(`{"message_uuid":`), now)), 400},
		{"vonage oversized", must(providersim.VonageRequest(vonageURL, e.vonage.secret, big, now)), 413},
		{"twilio unsigned", unsigned(twilioURL, "application/x-www-form-urlencoded", []byte(twilioParams.Encode())), 401},
		{"twilio wrong token", must(providersim.TwilioRequest(twilioURL, "not-the-token", twilioParams)), 401},
		{"twilio signed for another URL", func() *http.Request {
			r := must(providersim.TwilioRequest("https://elsewhere.example/webhooks/twilio/"+e.twilio.id+"/inbound", e.twilio.token, twilioParams))
			r.URL, _ = url.Parse(twilioURL)
			r.Host = r.URL.Host
			return r
		}(), 401},
		{"whatsapp unsigned", unsigned(waURL, "application/json", waBody), 401},
		{"whatsapp wrong secret", must(providersim.WhatsAppRequest(waURL, "not-the-secret", waBody)), 401},
		{"whatsapp malformed", must(providersim.WhatsAppRequest(waURL, e.wa.secret, []byte(`{"object":`))), 400},
		{"unknown identity", must(providersim.VonageRequest(e.m.URL()+"/webhooks/vonage/00000000-0000-4000-8000-000000000000/inbound", e.vonage.secret, vonageBody, now)), 404},
		{"identity of another provider", must(providersim.VonageRequest(e.m.URL()+"/webhooks/vonage/"+e.twilio.id+"/inbound", e.vonage.secret, vonageBody, now)), 404},
		{"not an identity ID", must(providersim.VonageRequest(e.m.URL()+"/webhooks/vonage/x'or'1/inbound", e.vonage.secret, vonageBody, now)), 404},
		{"unknown provider", must(providersim.VonageRequest(e.m.URL()+"/webhooks/nexmo/"+e.vonage.id+"/inbound", e.vonage.secret, vonageBody, now)), 404},
		{"unknown route", must(providersim.VonageRequest(e.m.URL()+"/webhooks/vonage/"+e.vonage.id+"/other", e.vonage.secret, vonageBody, now)), 404},
		{"whatsapp handshake, wrong token", must(http.NewRequest(http.MethodGet, waURL+"?hub.mode=subscribe&hub.challenge=12345&hub.verify_token=wrong", nil)), 403},
	}
	for _, c := range cases {
		res, err := http.DefaultClient.Do(c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, res.StatusCode, body, c.want)
		}
	}
	if got := e.interactionsOf(contact); len(got) != 0 {
		t.Fatalf("refused webhooks stored %d interactions", len(got))
	}
	res, err := http.Get(waURL + "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + url.QueryEscape(e.wa.verify))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "1158201444" {
		t.Fatalf("handshake: %d %q", res.StatusCode, body)
	}
	// The accepted versions of the same calls store the message.
	for _, r := range []*http.Request{must(providersim.VonageRequest(vonageURL, e.vonage.secret, vonageBody, now)),
		must(providersim.TwilioRequest(twilioURL, e.twilio.token, twilioParams)), must(providersim.WhatsAppRequest(waURL, e.wa.secret, waBody))} {
		res, err := http.DefaultClient.Do(r)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("a signed webhook: %v %v", res, err)
		}
		res.Body.Close()
	}
	if got := e.interactionsOf(contact); len(got) != 3 {
		t.Fatalf("the accepted webhooks stored %d interactions, want one per identity", len(got))
	}
}

// TestWebhookDeliveredThreeTimes: a provider delivering the same webhook 3 times (even at
// once) gets 200 each time, and the message is stored once.
func TestWebhookDeliveredThreeTimes(t *testing.T) {
	e := startChannels(t)
	const contact = "+447700900302"
	body := providersim.VonageInboundPayload(providersim.Inbound{ID: "same-id", From: contact, To: vonageFrom, Text: "once", At: time.Now()})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			req, _ := providersim.VonageRequest(e.m.URL()+"/webhooks/vonage/"+e.vonage.id+"/inbound", e.vonage.secret, body, time.Now())
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Errorf("delivery: %v %v", res, err)
				return
			}
			res.Body.Close()
		})
	}
	wg.Wait()
	edges := e.interactionsOf(contact)
	if len(edges) != 1 {
		t.Fatalf("%d interactions, want 1", len(edges))
	}
	if msgs := dig(edges[0], "node.transcript.edges").([]any); len(msgs) != 1 {
		t.Fatalf("%d messages stored, want 1", len(msgs))
	}
}

// TestInboundBurst: 1,000 signed webhooks over 50 contacts, contacts in parallel and each
// contact's messages in the order they were sent: every message is stored once (a tenth of
// them are delivered twice), in order per contact.
func TestInboundBurst(t *testing.T) {
	e := startChannels(t)
	const contacts, each = 50, 20
	inbound := e.m.URL() + "/webhooks/twilio/" + e.twilio.id + "/inbound"
	var wg sync.WaitGroup
	work := make(chan int)
	for range 10 {
		wg.Go(func() {
			for c := range work {
				from := fmt.Sprintf("+4477009004%02d", c)
				for i := range each {
					params := providersim.TwilioInboundParams(twilioSID, providersim.Inbound{ID: fmt.Sprintf("SM%02d%02d", c, i), From: from, To: twilioFrom, Text: fmt.Sprint("message ", i)})
					for range 1 + boolInt(i%10 == 3) {
						req, _ := providersim.TwilioRequest(inbound, e.twilio.token, params)
						res, err := http.DefaultClient.Do(req)
						if err != nil || res.StatusCode != 200 {
							t.Errorf("contact %d message %d: %v %v", c, i, res, err)
							return
						}
						res.Body.Close()
					}
				}
			}
		})
	}
	for c := range contacts {
		work <- c
	}
	close(work)
	wg.Wait()
	for c := range contacts {
		edges := e.interactionsOf(fmt.Sprintf("+4477009004%02d", c))
		if len(edges) != 1 {
			t.Fatalf("contact %d has %d interactions, want 1", c, len(edges))
		}
		msgs := dig(edges[0], "node.transcript.edges").([]any)
		if len(msgs) != each {
			t.Fatalf("contact %d: %d messages stored, want %d", c, len(msgs), each)
		}
		for i, m := range msgs {
			if dig(m, "node.text") != fmt.Sprint("message ", i) {
				t.Fatalf("contact %d: message %d is %q", c, i, dig(m, "node.text"))
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestProviderFailures: a provider answering 5xx is retried with backoff, then the message is
// FAILED TEMPORARY and retryMessage sends it again unchanged; a provider that never answers
// times out the same way; an invalid number is FAILED CONTENT with the provider's code at
// once; WhatsApp's 131047 (window closed on Meta's side) is FAILED with its code.
func TestProviderFailures(t *testing.T) {
	e := startChannels(t, func(c *server.Config) { c.Outbox.Lease = 500 * time.Millisecond })
	const contact = "+447700900501"
	ix := e.active("vonage", contact)

	e.sim.Fail(contact, providersim.ServerError, 0)
	before := e.sim.Attempts()
	msg := e.reply(ix, "Are you still there?")
	if kind, _ := e.waitDelivery(ix, msg, "FAILED"); kind != "TEMPORARY" {
		t.Fatalf("after 5xx: %s", kind)
	}
	if n := e.sim.Attempts() - before; n != 5 {
		t.Fatalf("the provider saw %d attempts, want 5", n)
	}
	e.sim.ClearFaults()
	r := post(t, e.m, e.alice, `mutation($m: ID!) { retryMessage(input: {messageId: $m}) { message { delivery text } userErrors { code } } }`, map[string]any{"m": msg})
	if dig(r.Data, "retryMessage.message.delivery") != "PENDING" || dig(r.Data, "retryMessage.message.text") != "Are you still there?" {
		t.Fatalf("retry: %+v", r)
	}
	e.waitDelivery(ix, msg, "SENT")
	if got := e.sim.Received(); len(got) != 1 || got[0].Text != "Are you still there?" {
		t.Fatalf("after the retry the provider has %+v", got)
	}

	e.sim.Fail(contact, providersim.Hang, 0)
	hung := e.reply(ix, "Hello?")
	if kind, _ := e.waitDelivery(ix, hung, "FAILED"); kind != "TEMPORARY" {
		t.Fatalf("after timeouts: %s", kind)
	}
	e.sim.ClearFaults()

	e.sim.Fail(contact, providersim.InvalidNumber, 1)
	bad := e.reply(ix, "To a number that does not exist")
	if kind, code := e.waitDelivery(ix, bad, "FAILED"); kind != "CONTENT" || code == "" {
		t.Fatalf("invalid number: %s %q", kind, code)
	}

	const waContact = "+447700900502"
	wix := e.active("whatsapp", waContact)
	e.sim.CloseWindow(waContact)
	closed := e.reply(wix, "Free text Meta refuses")
	if kind, code := e.waitDelivery(wix, closed, "FAILED"); kind != "CONTENT" || code != "131047" {
		t.Fatalf("131047: %s %q", kind, code)
	}
}

// TestTwilioSignatureUsesPublicURL: behind a proxy the URL Twilio signs is the public one;
// with -public-url set, a webhook signed for the public URL is accepted wherever it arrives,
// and one signed for the address the server happens to listen on is refused.
func TestTwilioSignatureUsesPublicURL(t *testing.T) {
	const public = "https://desk.example.com"
	e := startChannels(t, func(c *server.Config) { c.PublicURL = public })
	path := "/webhooks/twilio/" + e.twilio.id + "/inbound"
	params := providersim.TwilioInboundParams(twilioSID, providersim.Inbound{ID: "SMpublic", From: "+447700900601", To: twilioFrom, Text: "via the proxy"})
	for _, c := range []struct {
		signedFor string
		want      int
	}{{e.m.URL() + path, 401}, {public + path, 200}} {
		req, err := providersim.TwilioRequest(c.signedFor, e.twilio.token, params)
		if err != nil {
			t.Fatal(err)
		}
		req.URL, _ = url.Parse(e.m.URL() + path) // delivered to the listener, as a proxy does
		req.Host = req.URL.Host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Fatalf("signed for %s: %d, want %d", c.signedFor, res.StatusCode, c.want)
		}
	}
	if got := e.interactionsOf("+447700900601"); len(got) != 1 {
		t.Fatalf("%d interactions, want the accepted one", len(got))
	}
}
