package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/email/emailtest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
)

// emailAgents are signed in, READY and listening for offers of emails.
const emailAgents = 20

// emailBurst is how many emails the burst delivers at once.
const emailBurst = 1000

// emailIdentity stores an EMAIL identity on the plan (its sending goes nowhere: only inbound
// mail is measured).
func emailIdentity(b *testing.B, m *server.Main, planID, address string) *workspace.Identity {
	b.Helper()
	id := &workspace.Identity{ID: uuid.NewString(), Channel: workspace.Email, Address: address, Name: "Bench " + address,
		PlanID: planID, Provider: "smtp", Settings: map[string]string{"host": "127.0.0.1", "port": "25", "tls": "none"}, CreatedAt: time.Now()}
	if err := m.Store.CreateIdentity(b.Context(), id); err != nil {
		b.Fatal(err)
	}
	return id
}

func benchMail(from, to, msgID, body string) string {
	return "From: " + from + "\r\nTo: " + to + "\r\nSubject: Where is my order?\r\nMessage-ID: <" + msgID + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		body + "\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + body + "</p>\r\n--b--\r\n"
}

// deliverOne is one delivery over a new SMTP connection, as a mail server makes it.
func deliverOne(addr, from, to, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, []string{to}, strings.NewReader(raw))
}

// BenchmarkInboundEmailOffer measures how long an email takes to reach an agent: from a mail
// server connecting to agentdesk's SMTP listener on loopback (multipart/alternative, a new
// thread from a new sender each time) to the offer arriving on the websocket of whichever of
// 20 READY agents routing chose, at a steady 20 emails per second. The floor, measured on the
// same node in the same run, is what that path cannot avoid: the three writes of an offer
// (offerWrites), one SMTP delivery of the same message over loopback to a bare go-smtp server
// that keeps it in memory, and one websocket round trip. Parsing, sanitising, the threading
// lookups and the identity read are not part of it.
//
// Then a burst: 1,000 emails delivered at once over 8 connections to an identity whose plan
// has no agent READY, timed until the last delivery is acknowledged (the listener answers
// DATA once the message is stored), and the stored count, which must be 1,000.
// Run with -benchtime=1x.
func BenchmarkInboundEmailOffer(b *testing.B) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	m := startNode(b)
	defer m.Close()
	c := newClient(m)
	plan := copyPlan(b, m, planNamed(b, m, "Support"), "Email (bench)")
	plan.OfferTimeoutSeconds = int((*inboundRun + 60*time.Second).Seconds())
	if err := m.Store.UpdatePlan(ctx, plan); err != nil {
		b.Fatal(err)
	}
	floorPlan := copyPlan(b, m, plan, "Email (bench floor)")
	identity := emailIdentity(b, m, plan.ID, "bench@acme.test")
	agents := createAgents(b, m, "mail", emailAgents, []string{plan.ID}, 4)
	floorAgent := createAgents(b, m, "mailfloor", 1, []string{floorPlan.ID}, 4)[0]
	for _, a := range append(agents, floorAgent) {
		a.Capacity[workspace.Email] = 1000
		if err := m.Store.UpdateAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	sessions := signInWith(b, m, c, agents, `subscription { offers { kind offer { id interaction { id contact { address } } } } }`)
	defer closeAll(sessions)

	times := &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}
	var errs firstError
	var readers sync.WaitGroup
	defer readers.Wait()
	defer cancel()
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
	addr := m.SMTPAddr()
	sender := 0
	send := func(n int, times *offerTimes) {
		tick := time.NewTicker(time.Second / offerRate)
		defer tick.Stop()
		var wg sync.WaitGroup
		for range n {
			<-tick.C
			from := fmt.Sprintf("customer-%05d@example.com", sender)
			sender++
			wg.Go(func() {
				times.send(from, time.Now())
				if err := deliverOne(addr, from, identity.Address, benchMail(from, identity.Address, uuid.NewString()+"@example.com", "Hello, where is my order?")); err != nil {
					errs.set(err)
				}
			})
		}
		wg.Wait()
	}
	send(offerRate, &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}})
	n := int(inboundRun.Seconds() * offerRate)
	send(n, times)
	for deadline := time.Now().Add(30 * time.Second); times.pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	latency, missing := times.samples()
	if missing > 0 || len(latency) != n {
		b.Fatalf("%d of %d emails offered", len(latency), n)
	}

	// The floor: the offer's writes, a bare SMTP delivery, a websocket trip.
	sink := emailtest.Start(b)
	const stepSMTP = "loopback SMTP delivery to a bare go-smtp server"
	floorRecord, err := m.Store.Agent(ctx, floorAgent.ID)
	if err != nil {
		b.Fatal(err)
	}
	floor, storeSteps := pathFloor(b, m, c, floorAgent, func(ctx context.Context, steps *Steps) error {
		now := time.Now()
		from := "floor-" + uuid.NewString() + "@example.com"
		msgID := uuid.NewString() + "@example.com"
		if err := steps.Time(stepSMTP, func() error {
			return deliverOne(sink.Addr, from, identity.Address, benchMail(from, identity.Address, msgID, "Hello, where is my order?"))
		}); err != nil {
			return err
		}
		ix := &workspace.Interaction{
			ID: uuid.NewString(), Channel: workspace.Email, Direction: workspace.Inbound, State: workspace.Queued,
			Contact: workspace.Contact{Address: from}, PlanID: floorPlan.ID, IdentityID: identity.ID,
			ThreadKey: identity.ID + "|<" + msgID + ">", CreatedAt: now, ContactWroteAt: &now,
		}
		return offerWrites(ctx, m.Store, floorRecord, ix, identity.ID+"|"+msgID, steps)
	})
	// storeSteps names every step timed inside the callback: the SMTP delivery and the writes.
	floorTotal := floor.Totals(append(append([]string{}, storeSteps...), stepPing)...)

	// The burst.
	burstPlan := copyPlan(b, m, plan, "Email burst (bench)")
	burstIdentity := emailIdentity(b, m, burstPlan.ID, "burst@acme.test")
	var next atomic.Int64
	var burstErrs firstError
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			cl, err := smtp.Dial(addr)
			if err != nil {
				burstErrs.set(err)
				return
			}
			defer cl.Close()
			for {
				i := next.Add(1)
				if i > emailBurst {
					return
				}
				from := fmt.Sprintf("burst-%05d@example.com", i)
				if err := cl.SendMail(from, []string{burstIdentity.Address}, strings.NewReader(benchMail(from, burstIdentity.Address, uuid.NewString()+"@example.com", "Burst"))); err != nil {
					burstErrs.set(err)
					return
				}
			}
		})
	}
	wg.Wait()
	burst := time.Since(start)
	if err := burstErrs.get(); err != nil {
		b.Fatal(err)
	}
	stored, err := m.Store.LiveInteractions(ctx, workspace.LiveFilter{PlanIDs: []string{burstPlan.ID}})
	if err != nil {
		b.Fatal(err)
	}
	messages := 0
	for _, ix := range stored {
		k, err := m.Store.CountMessages(ctx, ix.ID)
		if err != nil {
			b.Fatal(err)
		}
		messages += k
	}

	w := os.Stdout
	fmt.Fprintf(w, "\ninbound email (SMTP) → offer on sqlite: %d READY agents, %d emails/s for %s (%d emails)\n", emailAgents, offerRate, *inboundRun, n)
	Row(w, "SMTP delivery started → offer on agent's socket", latency)
	for _, name := range storeSteps {
		if name == stepSMTP {
			Row(w, name, floor.By[name])
		} else {
			Row(w, "store: "+name, floor.By[name])
		}
	}
	Row(w, stepPing, floor.By[stepPing])
	Row(w, "floor = the writes + 1 SMTP delivery + 1 ws trip", floorTotal)
	Ratio(w, "inbound email → offer / floor", latency, floorTotal)
	fmt.Fprintf(w, "  burst: %d emails over 8 SMTP connections stored in %s (%.0f emails/s); stored interactions %d, messages %d\n",
		emailBurst, burst.Round(time.Millisecond), float64(emailBurst)/burst.Seconds(), len(stored), messages)
	if len(stored) != emailBurst || messages != emailBurst {
		b.Fatalf("burst: %d interactions and %d messages stored, want %d each", len(stored), messages, emailBurst)
	}
	b.ReportMetric(float64(latency.Percentile(50).Microseconds()), "email-p50-µs")
	b.ReportMetric(float64(latency.Percentile(99).Microseconds()), "email-p99-µs")
	b.ReportMetric(float64(latency.Percentile(50))/float64(floorTotal.Percentile(50)), "x-floor-p50")
	b.ReportMetric(float64(latency.Percentile(99))/float64(floorTotal.Percentile(99)), "x-floor-p99")
	b.ReportMetric(burst.Seconds(), "burst-s")
}
