package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/providersim"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// inboundRun is how long the inbound-SMS run posts webhooks.
var inboundRun = durationFlag("inbound-run", "BENCH_INBOUND_RUN", 8*time.Second, "how long the inbound-SMS run posts webhooks, at 20 per second")

const (
	// inboundAgents are signed in, READY and listening for offers of SMS conversations.
	inboundAgents = 100
	// outboxInteractions are the ACTIVE SMS conversations the outbox benchmark queues
	// replies in, outboxPerInteraction replies each (the first is startOutbound's).
	outboxInteractions   = 10
	outboxPerInteraction = 50
)

// Twilio account of the benchmarks' identity.
const (
	benchTwilioSID   = "AC00000000000000000000000000bench"
	benchTwilioToken = "bench-auth-token"
)

// BenchmarkInboundSMSOffer measures how long a contact's SMS takes to reach an agent: from
// posting the provider's signed webhook (Twilio's "A message comes in", built with
// providersim's builders) over loopback HTTP to the offer arriving on the websocket of
// whichever of 100 READY agents routing chose, at a steady 20 new contacts per second. The
// floor is what that path cannot avoid, measured on the same node in the same run: the store
// calls of the webhook and of Receive for a new contact (the identity, the idempotency
// check, the thread, the new interaction and its message, and routing's reservation and
// offer), one loopback HTTP request and one websocket round trip. Run with -benchtime=1x.
func BenchmarkInboundSMSOffer(b *testing.B) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	m := startNode(b)
	defer m.Close()
	c := newClient(m)
	plan := copyPlan(b, m, planNamed(b, m, "Support"), "SMS (bench)")
	// No offer may lapse while it is measured (see measureOffers).
	plan.OfferTimeoutSeconds = int((*inboundRun + 60*time.Second).Seconds())
	if err := m.Store.UpdatePlan(ctx, plan); err != nil {
		b.Fatal(err)
	}
	floorPlan := copyPlan(b, m, plan, "SMS (bench floor)")
	identity := twilioIdentity(b, m, c, plan.ID, "+447700900190", "http://provider.invalid")
	agents := smsAgents(b, m, "sms", inboundAgents, plan.ID)
	floorAgent := smsAgents(b, m, "smsfloor", 1, floorPlan.ID)[0]
	sessions := signInWith(b, m, c, agents, `subscription { offers { kind offer { id interaction { id contact { address } } } } }`)
	defer closeAll(sessions)

	times := &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}
	var errs firstError
	var readers sync.WaitGroup
	defer readers.Wait()
	defer cancel() // runs before readers.Wait
	readSockets(ctx, sessions, &readers, &errs, func(_ *session, msg wsMessage, at time.Time) error {
		var p struct {
			Data struct {
				Offers struct {
					Kind  string
					Offer struct {
						Interaction struct{ Contact struct{ Address string } }
					}
				}
			}
		}
		if msg.Type != "next" || json.Unmarshal(msg.Payload, &p) != nil {
			return fmt.Errorf("offers subscription: %s %s", msg.Type, msg.Payload)
		}
		if p.Data.Offers.Kind == string(workspace.OfferOffered) {
			times.arrive(p.Data.Offers.Offer.Interaction.Contact.Address, at)
		}
		return nil
	})

	hook := m.URL() + "/webhooks/twilio/" + identity + "/inbound"
	contact := 0
	post := func(n int, times *offerTimes) {
		tick := time.NewTicker(time.Second / offerRate)
		defer tick.Stop()
		var wg sync.WaitGroup
		for range n {
			<-tick.C
			from := fmt.Sprintf("+44770090%04d", contact)
			contact++
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := providersim.TwilioRequest(hook, benchTwilioToken, providersim.TwilioInboundParams(benchTwilioSID,
					providersim.Inbound{ID: "SM" + strings.ReplaceAll(uuid.NewString(), "-", ""), From: from, To: "+447700900190", Text: "Hello, where is my order?"}))
				if err != nil {
					errs.set(err)
					return
				}
				sent := time.Now()
				res, err := c.http.Do(req.WithContext(ctx))
				if err != nil {
					errs.set(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs.set(fmt.Errorf("webhook: %s", res.Status))
					return
				}
				times.send(from, sent)
			}()
		}
		wg.Wait()
	}
	// A second of webhooks warms up connections and caches; then the measured run.
	post(offerRate, &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}})
	n := int(inboundRun.Seconds() * offerRate)
	post(n, times)
	for deadline := time.Now().Add(30 * time.Second); times.pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	latency, missing := times.samples()
	if missing > 0 || len(latency) != n {
		b.Fatalf("%d of %d webhooks answered, %d offers never arrived", len(latency)+missing, n, missing)
	}

	floor, storeSteps := pathFloor(b, m, c, floorAgent, func(ctx context.Context, steps *Steps) error {
		return receiveSMSStoreCalls(ctx, m.Store, identity, floorAgent.ID, floorPlan, steps)
	})
	w := os.Stdout
	fmt.Fprintf(w, "\ninbound SMS → offer on sqlite: %d READY agents, %d webhooks/s for %s (%d webhooks)\n", inboundAgents, offerRate, *inboundRun, n)
	Row(w, "Twilio webhook posted → offer on agent's socket", latency)
	for _, name := range storeSteps {
		Row(w, "store: "+name, floor.By[name])
	}
	Row(w, fmt.Sprintf("store calls of one new inbound SMS (%d)", len(storeSteps)), floor.Totals(storeSteps...))
	Row(w, stepHealthz, floor.By[stepHealthz])
	Row(w, stepPing, floor.By[stepPing])
	Row(w, "floor = store calls + 1 HTTP + 1 ws trip", floor.Totals())
	Ratio(w, "inbound SMS → offer / floor", latency, floor.Totals())
	b.ReportMetric(float64(latency.Percentile(50).Microseconds()), "inbound-p50-µs")
	b.ReportMetric(float64(latency.Percentile(99).Microseconds()), "inbound-p99-µs")
	b.ReportMetric(float64(latency.Percentile(50))/float64(floor.Totals().Percentile(50)), "x-floor-p50")
	b.ReportMetric(float64(latency.Percentile(99))/float64(floor.Totals().Percentile(99)), "x-floor-p99")
}

// receiveSMSStoreCalls makes, directly on the store, the calls the webhook handler and
// workspace.Receive make for a new contact's SMS that is offered to the first candidate: the
// webhook's read of the identity, the idempotency check (a miss), Receive's read of the
// identity and of the contact's open thread (none), the new interaction and its message,
// then routing's as in startWebchatStoreCalls.
func receiveSMSStoreCalls(ctx context.Context, st workspace.Store, identityID, agentID string, plan *workspace.Plan, steps *Steps) error {
	now := time.Now()
	from := "+4477009" + fmt.Sprint(now.UnixNano()%100000)
	thread := identityID + "|" + from + "|" + uuid.NewString()
	miss := func(err error) error {
		if workspace.ErrorCode(err) == workspace.ENOTFOUND {
			return nil
		}
		return fmt.Errorf("expected NOT_FOUND, got %v", err)
	}
	if err := steps.Time("Identity (the webhook's)", func() error { _, err := st.Identity(ctx, identityID); return err }); err != nil {
		return err
	}
	external := identityID + "|SM" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if err := steps.Time("MessageByExternalID (idempotency: none)", func() error { _, err := st.MessageByExternalID(ctx, external); return miss(err) }); err != nil {
		return err
	}
	if err := steps.Time("Identity (Receive's)", func() error { _, err := st.Identity(ctx, identityID); return err }); err != nil {
		return err
	}
	if err := steps.Time("LiveInteractionByThread (none open)", func() error { _, err := st.LiveInteractionByThread(ctx, thread); return miss(err) }); err != nil {
		return err
	}
	ix := &workspace.Interaction{
		ID: uuid.NewString(), Channel: workspace.SMS, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: from}, PlanID: plan.ID, IdentityID: identityID, ThreadKey: thread,
		CreatedAt: now, ContactWroteAt: &now,
	}
	if err := steps.Time("CreateInteraction", func() error { return st.CreateInteraction(ctx, ix) }); err != nil {
		return err
	}
	msg := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact,
		Text: "Hello, where is my order?", SentAt: now, ExternalID: external}
	if err := steps.Time("AppendMessage (the SMS)", func() error { return st.AppendMessage(ctx, msg) }); err != nil {
		return err
	}
	if err := steps.Time("ReadyAgents (routing's candidates)", func() error { _, err := st.ReadyAgents(ctx, []string{plan.ID}, workspace.SMS); return err }); err != nil {
		return err
	}
	if err := steps.Time("Plan (offer timeout)", func() error { _, err := st.Plan(ctx, plan.ID); return err }); err != nil {
		return err
	}
	var a *workspace.Agent
	if err := steps.Time("Agent (fresh record to reserve on)", func() (err error) { a, err = st.Agent(ctx, agentID); return err }); err != nil {
		return err
	}
	a.Holds = append(a.Holds[max(0, len(a.Holds)-2):], workspace.Hold{InteractionID: ix.ID, Channel: ix.Channel, Since: now})
	a.LastOfferAt = now
	if err := steps.Time("UpdateAgent (reserve a hold)", func() error { return st.UpdateAgent(ctx, a) }); err != nil {
		return err
	}
	var fresh *workspace.Interaction
	if err := steps.Time("Interaction (fresh record to offer)", func() (err error) { fresh, err = st.Interaction(ctx, ix.ID); return err }); err != nil {
		return err
	}
	fresh.State, fresh.AgentID, fresh.OfferSeq, fresh.OfferedAt = workspace.Offered, agentID, 1, &now
	fresh.DueAt = now.Add(time.Duration(plan.OfferTimeoutSeconds) * time.Second)
	return steps.Time("UpdateInteraction (→ OFFERED)", func() error { return st.UpdateInteraction(ctx, fresh, workspace.Queued) })
}

// BenchmarkOutboxThroughput measures how fast the outbox empties: 500 replies queued PENDING
// in 10 ACTIVE SMS conversations (50 each) while no outbox runs, then the outbox's passes
// (DeliverDue, what the node's runner calls) until the provider simulator, on an httptest
// server in this process, has accepted all 500 through the Twilio adapter. The floor, on the
// same node, simulator and client in the same run, is what each message cannot avoid: the
// claim and the outcome (two version-guarded writes of the message) and the send itself (the
// same Twilio request, signed in and posted to the simulator).
func BenchmarkOutboxThroughput(b *testing.B) {
	ctx := b.Context()
	m := startNode(b, func(c *server.Config) { c.OutboxPoll = 0 }) // the benchmark runs the outbox's passes
	defer m.Close()
	c := newClient(m)
	sim := providersim.New()
	sim.AddTwilio(providersim.TwilioAccount{AccountSID: benchTwilioSID, AuthToken: benchTwilioToken})
	srv := httptest.NewServer(sim.Handler())
	defer func() { sim.Close(); srv.Close() }()
	plan := planNamed(b, m, "Support")
	identity := twilioIdentity(b, m, c, plan.ID, "+447700900191", srv.URL)
	agent := smsAgents(b, m, "sender", 1, plan.ID)[0]
	var login struct{ Login struct{ Token string } }
	if err := c.do(ctx, "", `mutation($u: String!, $p: String!) { login(input:{username:$u, password:$p}) { token userErrors { code } } }`,
		map[string]any{"u": agent.Username, "p": agentPassword}, &login); err != nil {
		b.Fatal(err)
	}
	token := login.Login.Token
	total := outboxInteractions * outboxPerInteraction
	for i := range outboxInteractions {
		var out struct {
			StartOutbound struct{ Interaction struct{ ID string } }
		}
		if err := c.do(ctx, token, `mutation($id: ID!, $to: String!) { startOutbound(input:{channel:SMS, identityId:$id, to:$to, text:"Hello, this is Acme Support."}) {
			interaction { id } userErrors { code message } } }`, map[string]any{"id": identity, "to": fmt.Sprintf("+44770090%04d", 2000+i)}, &out); err != nil {
			b.Fatal(err)
		}
		for j := 1; j < outboxPerInteraction; j++ {
			if err := c.do(ctx, token, `mutation($i: ID!, $t: String!) { sendMessage(input:{interactionId:$i, text:$t}) { message { id } userErrors { code } } }`,
				map[string]any{"i": out.StartOutbound.Interaction.ID, "t": fmt.Sprintf("Reply %d: your order ships tomorrow.", j)}, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	due, err := m.Store.DueMessages(ctx, time.Now(), total+1)
	if err != nil || len(due) != total || len(sim.Received()) != 0 {
		b.Fatalf("%d messages due (%v), %d sent, want %d due and none sent", len(due), err, len(sim.Received()), total)
	}

	started := time.Now()
	for len(sim.Received()) < total {
		n, err := m.Service.DeliverDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 && time.Since(started) > 5*time.Minute {
			b.Fatalf("%d of %d sent after 5 minutes", len(sim.Received()), total)
		}
	}
	elapsed := time.Since(started)
	if got := len(sim.Received()); got != total {
		b.Fatalf("the provider accepted %d sends for %d messages", got, total)
	}

	floor := outboxFloor(b, m.Store, srv.URL)
	perMessage := floor.Totals()
	measured := float64(total) / elapsed.Seconds()
	floorRate := float64(time.Second) / float64(perMessage.Mean())
	w := os.Stdout
	fmt.Fprintf(w, "\noutbox throughput on sqlite to the provider simulator (Twilio, loopback): %d messages in %d conversations\n", total, outboxInteractions)
	fmt.Fprintf(w, "  %-44s %9.0f msg/s  (%s per message, %s in all)\n", "outbox: queued → accepted by the provider", measured, round(elapsed/time.Duration(total)), round(elapsed))
	for _, name := range floor.Names {
		Row(w, name, floor.By[name])
	}
	Row(w, "floor = 2 message writes + 1 send", perMessage)
	fmt.Fprintf(w, "  %-44s %9.0f msg/s\n", "floor throughput (1 / mean floor)", floorRate)
	fmt.Fprintf(w, "  %-44s %9.2fx\n", "floor throughput / outbox throughput", floorRate/measured)
	b.ReportMetric(measured, "msg/s")
	b.ReportMetric(floorRate, "floor-msg/s")
	b.ReportMetric(floorRate/measured, "x-floor")
}

// outboxFloor times, floorSamples times after a tenth as many to warm up, the claim of a
// PENDING message (a guarded write), a Twilio send of it to the simulator (the adapter's
// request: form body, basic auth, on the default transport as the adapter uses) and the
// write of its outcome. The messages belong to an interaction of their own that no outbox
// pass sees (they are claimed before any could).
func outboxFloor(b *testing.B, st workspace.Store, simURL string) Steps {
	b.Helper()
	ctx := b.Context()
	ixID := uuid.NewString()
	endpoint := simURL + "/2010-04-01/Accounts/" + benchTwilioSID + "/Messages.json"
	run := func(steps *Steps) error {
		now := time.Now()
		msg := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ixID, From: workspace.PartyAgent,
			Text: "Reply: your order ships tomorrow.", SentAt: now, Delivery: workspace.DeliveryPending, NextAttemptAt: now.Add(time.Hour)}
		if err := st.AppendMessage(ctx, msg); err != nil {
			return err
		}
		msg.Attempts, msg.NextAttemptAt = 1, now.Add(30*time.Second)
		if err := steps.Time("store: UpdateMessage (claim)", func() error { return st.UpdateMessage(ctx, msg) }); err != nil {
			return err
		}
		var sid string
		if err := steps.Time("send: POST to the simulator (Twilio)", func() error {
			form := url.Values{"To": {"+447700902999"}, "From": {"+447700900191"}, "Body": {msg.Text},
				"StatusCallback": {"http://127.0.0.1:1/webhooks/twilio/x/status?m=" + msg.ID}}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
			if err != nil {
				return err
			}
			req.SetBasicAuth(benchTwilioSID, benchTwilioToken)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			var ok struct{ SID string }
			if err := json.NewDecoder(res.Body).Decode(&ok); err != nil || res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
				return fmt.Errorf("simulator answered %s: %v", res.Status, err)
			}
			sid = ok.SID
			return nil
		}); err != nil {
			return err
		}
		msg.Delivery, msg.NextAttemptAt, msg.ExternalID = workspace.DeliverySent, time.Time{}, "floor|"+sid
		return steps.Time("store: UpdateMessage (outcome)", func() error { return st.UpdateMessage(ctx, msg) })
	}
	var warm, steps Steps
	for range floorSamples / 10 {
		if err := run(&warm); err != nil {
			b.Fatal(err)
		}
	}
	for range floorSamples {
		if err := run(&steps); err != nil {
			b.Fatal(err)
		}
	}
	return steps
}

// twilioIdentity creates, as the demo supervisor over GraphQL, an outbound SMS identity on
// the benchmarks' Twilio account whose API is at apiURL, routed to the plan.
func twilioIdentity(b *testing.B, m *server.Main, c *gqlClient, planID, address, apiURL string) string {
	b.Helper()
	ctx := b.Context()
	var login struct{ Login struct{ Token string } }
	if err := c.do(ctx, "", `mutation { login(input:{username:"admin", password:"demo"}) { token userErrors { code } } }`, nil, &login); err != nil {
		b.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]string{"apiUrl": apiURL, "accountSid": benchTwilioSID, "authToken": benchTwilioToken})
	var out struct {
		SaveChannelIdentity struct{ Identity struct{ ID string } }
	}
	if err := c.do(ctx, login.Login.Token, `mutation($a: String!, $p: ID!, $s: String!) {
		saveChannelIdentity(input:{channel:SMS, address:$a, name:"Bench SMS", outbound:true, planId:$p, provider:"twilio", settings:$s}) {
			identity { id } userErrors { code field message } } }`, map[string]any{"a": address, "p": planID, "s": string(settings)}, &out); err != nil {
		b.Fatal(err)
	}
	return out.SaveChannelIdentity.Identity.ID
}

// smsAgents creates n OFFLINE agents serving the plan with room for 1,000 SMS conversations.
func smsAgents(b *testing.B, m *server.Main, prefix string, n int, planID string) []*workspace.Agent {
	b.Helper()
	agents := createAgents(b, m, prefix, n, []string{planID}, 4)
	for _, a := range agents {
		a.Capacity[workspace.SMS] = 1000
		if err := m.Store.UpdateAgent(b.Context(), a); err != nil {
			b.Fatal(err)
		}
	}
	return agents
}
