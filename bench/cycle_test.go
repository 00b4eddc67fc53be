package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// cycleRun is how long the full-cycle run lasts.
var cycleRun = durationFlag("cycle-run", "BENCH_CYCLE_RUN", 5*time.Second, "how long the full-cycle run loops")

// cycleWorkers are the agents looping through cycles at once, each with its own chats.
const cycleWorkers = 8

// cycleStored is how many agents the store holds during the run.
const cycleStored = 500

// The operations of one cycle, as the widget and the agent's SPA send them.
const (
	qStartChat = `mutation($p: ID, $t: String!) { startWebchat(input:{name:"Visitor", planId:$p, text:$t}) { token chat { id } userErrors { code } } }`
	qAccept    = `mutation($o: ID!) { acceptOffer(input:{offerId:$o}) { interaction { id state } userErrors { code } } }`
	qContact   = `mutation($t: String!) { sendContactMessage(input:{text:$t}) { message { id } userErrors { code } } }`
	qReply     = `mutation($i: ID!, $t: String!) { sendMessage(input:{interactionId:$i, text:$t}) { message { id } userErrors { code } } }`
	qEnd       = `mutation($i: ID!) { endInteraction(input:{interactionId:$i}) { interaction { id state } userErrors { code } } }`
	qDispose   = `mutation($i: ID!) { selectDisposition(input:{interactionId:$i, code:"RESOLVED"}) { interaction { id } userErrors { code } } }`
	qComplete  = `mutation($i: ID!) { completeInteraction(input:{interactionId:$i}) { interaction { id state } userErrors { code } } }`
)

// BenchmarkFullCycle counts complete webchat cycles per second over the GraphQL HTTP API:
// the visitor starts a chat, the offer reaches the agent's websocket, the agent accepts,
// visitor and agent exchange four messages (the visitor with the chat's token), the agent
// ends it, picks a disposition and completes it. Eight agents loop at once; each is the only
// READY agent of its own plan, so the chats it starts are offered to it, and 491 more members
// of those plans are stored, OFFLINE (500 stored agents: issue 14's aim). The floor is the store
// writes of one cycle, made directly on the same store: SQLite has one writer, so they bound
// the rate whatever the rest costs. Run with -benchtime=1x.
func BenchmarkFullCycle(b *testing.B) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	m := startNode(b)
	defer m.Close()
	c := newClient(m)
	support := planNamed(b, m, "Support") // disposition required: no wrap timer, the agent completes

	var agents []*workspace.Agent
	var plans []*workspace.Plan
	for i := range cycleWorkers + 1 { // the last agent and plan are the floor's
		p := copyPlan(b, m, support, fmt.Sprintf("Cycle %d", i))
		plans = append(plans, p)
		agents = append(agents, createAgents(b, m, fmt.Sprintf("cycle%d", i), 1, []string{p.ID}, 4)...)
	}
	// Issue 14's cycle aim counts 500 stored agents: the rest are members of the cycles'
	// plans who are not working, whom routing must not pay for.
	var cyclePlans []string
	for _, p := range plans[:cycleWorkers] {
		cyclePlans = append(cyclePlans, p.ID)
	}
	createAgents(b, m, "offline", cycleStored-len(agents), cyclePlans, 4)
	sessions := signIn(b, m, c, agents[:cycleWorkers])
	defer closeAll(sessions)

	// Each worker loops until the deadline; a few cycles each warm up first.
	var errs firstError
	var mu sync.Mutex
	var cycles Samples
	var steps Steps // each step of the cycles, as the visitor or the agent waits for it
	run := func(warm bool, until time.Time) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine Steps
				defer func() {
					mu.Lock()
					defer mu.Unlock()
					steps.Add(mine)
				}()
				for n := 0; ; n++ {
					if (warm && n == 3) || (!warm && time.Now().After(until)) || errs.get() != nil {
						return
					}
					t := time.Now()
					into := &mine
					if warm {
						into = &Steps{}
					}
					if err := cycle(ctx, c, s, plans[i].ID, n, into); err != nil {
						errs.set(fmt.Errorf("%s: %w", s.agent.Username, err))
						return
					}
					if !warm {
						mu.Lock()
						cycles = append(cycles, time.Since(t))
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	run(true, time.Time{})
	elapsed := run(false, time.Now().Add(*cycleRun))
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	rate := float64(len(cycles)) / elapsed.Seconds()

	// The floor: the writes of one cycle, made one after the other on the same store.
	floor, perCycle := cycleFloor(b, m, agents[cycleWorkers], plans[cycleWorkers].ID)
	floorRate := float64(time.Second) / float64(perCycle.Mean())

	w := os.Stdout
	fmt.Fprintf(w, "\nfull cycle on sqlite: %d agents (of %d stored) looping start → offer → accept → 4 messages → end → disposition → complete, for %s\n",
		cycleWorkers, cycleStored, *cycleRun)
	fmt.Fprintf(w, "  %-44s %9.1f cycles/s (%d cycles in %s)\n", "throughput over GraphQL HTTP + websocket", rate, len(cycles), elapsed.Round(time.Millisecond))
	Row(w, "one cycle, as one agent waits for it", cycles)
	for _, name := range steps.Names {
		Row(w, "  "+name, steps.By[name])
	}
	for _, name := range floor.Names {
		Row(w, fmt.Sprintf("store: %s, %d per cycle, each", name, len(floor.By[name])/len(perCycle)), floor.By[name])
	}
	Row(w, fmt.Sprintf("floor = the %d store writes of one cycle", countCalls(floor)/len(perCycle)), perCycle)
	fmt.Fprintf(w, "  %-44s %9.1f cycles/s (one writer, at the floor's mean)\n", "floor rate", floorRate)
	fmt.Fprintf(w, "  %-44s %8.2fx\n", "time per cycle / floor (= floor rate / rate)", floorRate/rate)
	b.ReportMetric(rate, "cycles/s")
	b.ReportMetric(floorRate, "floor-cycles/s")
	b.ReportMetric(floorRate/rate, "x-floor")
}

// cycle walks one chat through its whole life as its visitor and its agent, timing each step
// into steps.
func cycle(ctx context.Context, c *gqlClient, s *session, planID string, n int, steps *Steps) error {
	var start struct {
		StartWebchat struct {
			Token string
			Chat  struct{ ID string }
		}
	}
	if err := steps.Time("startWebchat", func() error {
		return c.do(ctx, "", qStartChat, map[string]any{"p": planID, "t": fmt.Sprintf("Hello, chat %d here", n)}, &start)
	}); err != nil {
		return err
	}
	id, contact := start.StartWebchat.Chat.ID, start.StartWebchat.Token
	// The offer was published while startWebchat ran; it is on its way, or already here.
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var offer offerEvent
	waited := time.Now()
	for offer.InteractionID != id || offer.Kind != string(workspace.OfferOffered) {
		var err error
		if offer, err = s.offers.nextOffer(wait); err != nil {
			return fmt.Errorf("waiting for the offer of %s: %w", id, err)
		}
	}
	steps.Record("offer, after startWebchat answered", time.Since(waited))
	ix := map[string]any{"i": id}
	for _, st := range []struct {
		name, token, query string
		vars               map[string]any
	}{
		{"acceptOffer", s.token, qAccept, map[string]any{"o": offer.OfferID}},
		{"sendContactMessage", contact, qContact, map[string]any{"t": "My parcel has not arrived."}},
		{"sendMessage", s.token, qReply, map[string]any{"i": id, "t": "Let me check that for you."}},
		{"sendContactMessage", contact, qContact, map[string]any{"t": "Thank you!"}},
		{"sendMessage", s.token, qReply, map[string]any{"i": id, "t": "It arrives tomorrow. Anything else?"}},
		{"endInteraction", s.token, qEnd, ix},
		{"selectDisposition", s.token, qDispose, ix},
		{"completeInteraction", s.token, qComplete, ix},
	} {
		if err := steps.Time(st.name, func() error { return c.do(ctx, st.token, st.query, st.vars, nil) }); err != nil {
			return err
		}
	}
	return nil
}

// floorCycles is how many cycles of writes the floor makes, after a tenth as many to warm up.
const floorCycles = 500

// cycleFloor makes, directly on the node's store, the writes of floorCycles cycles, in the
// order the domain makes them and with records like its own, for an agent and a plan the
// run leaves alone. It returns the writes step by step and the time of each cycle's writes.
func cycleFloor(b *testing.B, m *server.Main, agent *workspace.Agent, planID string) (Steps, Samples) {
	b.Helper()
	ctx := b.Context()
	var warm, steps Steps
	for range floorCycles / 10 {
		if err := cycleWrites(ctx, m.Store, agent, planID, true, &warm); err != nil {
			b.Fatal(err)
		}
	}
	perCycle := make(Samples, 0, floorCycles)
	for range floorCycles {
		before := steps.Spent()
		if err := cycleWrites(ctx, m.Store, agent, planID, true, &steps); err != nil {
			b.Fatal(err)
		}
		perCycle = append(perCycle, steps.Spent()-before)
	}
	return steps, perCycle
}

// cycleWrites makes the store writes of one cycle, as the domain makes them: each change of
// the interaction with the event that describes it (the CRM change feed is part of the job),
// each message with its MESSAGE event, and the notes a step leaves in the transcript carried
// by that step's write (Interaction.Messages). a is the agent's current record; its version
// follows the writes. Without events, the same writes carry none (BenchmarkCRMOutboxCost).
func cycleWrites(ctx context.Context, st workspace.Store, a *workspace.Agent, planID string, events bool, steps *Steps) error {
	now := time.Now()
	ix := &workspace.Interaction{
		ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: "visitor-" + uuid.NewString()[:8], Name: "Visitor"}, PlanID: planID,
		CreatedAt: now, ContactTokenHash: workspace.HashToken(uuid.NewString()),
	}
	event := func(kind workspace.ChangeKind, messageID string) []*workspace.ChangeEvent {
		return changeEvent(ix, kind, messageID)
	}
	// stamp moves the record's updatedAt, as the domain does with every write of it (the CRM
	// change feed): to now, and by a millisecond at least.
	stamp := func() {
		t := time.Now()
		if next := ix.UpdatedAt.Truncate(time.Millisecond).Add(time.Millisecond); t.Before(next) {
			t = next
		}
		ix.UpdatedAt = t
	}
	newMessage := func(from workspace.Party, text string, sentAt time.Time) *workspace.Message {
		m := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: from, Text: text, SentAt: sentAt}
		if from == workspace.PartyAgent {
			m.AgentID = a.ID
		}
		m.Outbox = event(workspace.ChangeMessage, m.ID)
		return m
	}
	message := func(from workspace.Party, text string) func() error {
		// Sent now: its write moves the record's updatedAt (AppendMessage), as a reply's does.
		return func() error { return st.AppendMessage(ctx, newMessage(from, text, time.Now())) }
	}
	// carrying is the note a step's write stores with the record, stamped with its updatedAt.
	carrying := func(from workspace.Party, text string) {
		ix.Messages = []*workspace.Message{newMessage(from, text, ix.UpdatedAt)}
	}
	// sent empties what a write carried, as the domain does once it is stored.
	sent := func(err error) error {
		ix.Outbox, ix.Messages = nil, nil
		return err
	}
	// move changes the interaction and writes it with its event, guarded by the state it was in.
	move := func(kind workspace.ChangeKind, change func()) func() error {
		return func() error {
			from := ix.State
			stamp()
			change()
			ix.Outbox = event(kind, "")
			return sent(st.UpdateInteraction(ctx, ix, from))
		}
	}
	// heard is a contact's message on the ACTIVE chat, carried by the write that restarts its
	// auto-park countdown (a change without an event of its own).
	heard := func(text string) func() error {
		return func() error {
			from := ix.State
			stamp()
			ix.LastContactAt, ix.DueAt = &now, now.Add(10*time.Minute)
			carrying(workspace.PartyContact, text)
			return sent(st.UpdateInteraction(ctx, ix, from))
		}
	}
	const (
		create   = stepArrival
		appends  = "AppendMessage"
		update   = "UpdateInteraction"
		agent    = "UpdateAgent"
		complete = "CompleteInteraction"
	)
	writes := []struct {
		kind string
		op   func() error
	}{
		// startWebchat: the chat with its first message, the hold, the offer.
		{create, func() error { return createWithFirst(ctx, st, ix, "", events) }},
		{agent, func() error {
			a.Holds = append(a.Holds, workspace.Hold{InteractionID: ix.ID, Channel: ix.Channel, Since: now})
			a.LastOfferAt = now
			return st.UpdateAgent(ctx, a)
		}},
		{update, move(workspace.ChangeOffered, func() {
			ix.State, ix.AgentID, ix.OfferSeq, ix.OfferedAt = workspace.Offered, a.ID, 1, &now
			ix.DueAt = now.Add(workspace.DefaultOfferTimeout * time.Second)
		})},
		// acceptOffer, with its notice in the transcript.
		{update, move(workspace.ChangeAccepted, func() {
			ix.State, ix.AcceptedAt, ix.DueAt = workspace.Active, &now, time.Time{}
			carrying(workspace.PartySystem, a.Name+" joined the chat")
		})},
		// Four messages: the contact's each with the countdown's restart, the agent's alone.
		{update, heard("My parcel has not arrived.")},
		{appends, message(workspace.PartyAgent, "Let me check that for you.")},
		{update, heard("Thank you!")},
		{appends, message(workspace.PartyAgent, "It arrives tomorrow. Anything else?")},
		// endInteraction, with its notice.
		{update, move(workspace.ChangeEnded, func() {
			ix.State, ix.EndedAt, ix.EndedBy = workspace.Wrap, &now, workspace.PartyAgent
			carrying(workspace.PartySystem, "The chat has ended")
		})},
		// selectDisposition.
		{update, move(workspace.ChangeUpdated, func() { ix.Dispositions = []string{"RESOLVED"} })},
		// completeInteraction: the record, moved to history in the same write with what Agent
		// Assist learns from it (the plan has it on); the hold's release.
		{complete, func() error {
			from := ix.State
			stamp()
			ix.State, ix.CompletedAt, ix.Outbox = workspace.Completed, &now, changeEvent(ix, workspace.ChangeCompleted, "")
			ix.Learnt = []*workspace.AssistExample{{ID: fmt.Sprintf("%013x.%s.RESOLVED", now.UnixMilli(), ix.ID), PlanID: planID,
				Code: "RESOLVED", Text: "My parcel has not arrived.\nLet me check that for you.\nThank you!", At: now}}
			err := st.CompleteInteraction(ctx, ix, from)
			ix.Learnt = nil
			return sent(err)
		}},
		{agent, func() error { a.Holds = a.Holds[:len(a.Holds)-1]; return st.UpdateAgent(ctx, a) }},
	}
	for _, w := range writes {
		if err := steps.Time(w.kind, w.op); err != nil {
			return fmt.Errorf("%s: %w", w.kind, err)
		}
	}
	return nil
}

// countCalls counts the calls the steps timed.
func countCalls(s Steps) int {
	n := 0
	for _, name := range s.Names {
		n += len(s.By[name])
	}
	return n
}
