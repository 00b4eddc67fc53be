package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

const (
	// tickParked PARKED chats wait for their contacts, their timeouts spread evenly over the
	// next hour, beside tickActive ACTIVE chats whose auto-park is due later.
	tickParked = 5_000
	tickActive = 400
	// tickActiveFrom is when the first ACTIVE chat's auto-park falls due: after the window the
	// firing ticks walk through, so that only parked timeouts fire there.
	tickActiveFrom = 15 * time.Minute
	// tickSamples ticks with nothing due are measured on each store.
	tickSamples = 2_000
	// tickDueTicks ticks each fire tickDuePerTick parked timeouts.
	tickDueTicks   = 100
	tickDuePerTick = 10
)

// BenchmarkSchedulerTickWithParked measures Service.Tick on an embedded store holding 5,000
// PARKED chats (timeouts spread over the next hour, as parking leaves them) and 400 ACTIVE
// ones (auto-park due later): first when nothing is due, against the same tick on a store
// with the ACTIVE chats and no parked ones, measured in turn with it; then with the clock
// moving 7.2 s per tick, so that each tick fires 10 parked timeouts. The floors, measured on
// the same store in the same run: a `SELECT 1` through the store's reader pool (Ping) and one
// interaction read by ID for the idle tick, and the store calls of ten parked timeouts, made
// directly on the store between the firing ticks, for the firing one. The tick's query uses
// the due-time index, so the parked chats should cost the idle tick nothing: the ratio to the
// store without them should stay near 1. Each store has a service of its own on a manual
// clock and no node around it: no node's scheduler ticks it meanwhile. Run with -benchtime=1x.
func BenchmarkSchedulerTickWithParked(b *testing.B) {
	ctx := b.Context()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	started := time.Now()
	full := newTickStore(b, t0, tickParked)
	empty := newTickStore(b, t0, 0)
	seeded := time.Since(started)

	// Nothing due: the two ticks and the floor's reads take turns, the ticks swapping places
	// every round, so a change of load on the machine reaches all of them alike.
	const (
		tickFull  = "Tick, nothing due, 5,000 parked"
		tickEmpty = "Tick, nothing due, 0 parked"
		ping      = "store: Ping (SELECT 1)"
		read      = "store: Interaction (one parked, by ID)"
	)
	var warm, idle Steps
	for i := range tickSamples + tickSamples/10 {
		steps := &idle
		if i < tickSamples/10 {
			steps = &warm
		}
		id := full.parked[i%len(full.parked)]
		round := []struct {
			name string
			op   func() error
		}{
			{tickFull, func() error { return full.svc.Tick(ctx) }},
			{tickEmpty, func() error { return empty.svc.Tick(ctx) }},
			{ping, func() error { return full.store.Ping(ctx) }},
			{read, func() error { _, err := full.store.Interaction(ctx, id); return err }},
		}
		if i%2 == 1 {
			round[0], round[1] = round[1], round[0]
		}
		for _, step := range round {
			if err := steps.Time(step.name, step.op); err != nil {
				b.Fatal(err)
			}
		}
	}
	full.wantParked(b, tickParked) // nothing fired

	// Ten parked timeouts due at each tick: each ends its chat (WRAP, ended by the system).
	// Each tick takes turns with ten runs of the store calls one parked timeout makes: the
	// tick is set against the ten that follow it, each side a sum over ten timers.
	const firingTick = "Tick firing 10 parked timeouts"
	step := time.Hour / tickParked * tickDuePerTick
	var dueWarm, due, timeoutWarm, timeout Steps
	for i := range 5 + tickDueTicks {
		ticks, calls := &due, &timeout
		if i < 5 {
			ticks, calls = &dueWarm, &timeoutWarm
		}
		full.clock.Advance(step)
		if err := ticks.Time(firingTick, func() error { return full.svc.Tick(ctx) }); err != nil {
			b.Fatal(err)
		}
		for range tickDuePerTick {
			full.parkedTimeoutFloor(b, calls)
		}
	}
	fired := (5 + tickDueTicks) * tickDuePerTick
	full.wantParked(b, tickParked-fired)
	firing := due.By[firingTick]
	perTimer := make(Samples, len(firing))
	tenTimeouts := make(Samples, len(firing))
	each := timeout.Totals()
	for i, d := range firing {
		perTimer[i] = d / tickDuePerTick
		for _, calls := range each[i*tickDuePerTick : (i+1)*tickDuePerTick] {
			tenTimeouts[i] += calls
		}
	}

	w := os.Stdout
	fmt.Fprintf(w, "\nscheduler tick on sqlite: %d PARKED (timeouts over the next hour) + %d ACTIVE (auto-park in %s–%s); seeded both stores in %s\n",
		tickParked, tickActive, tickActiveFrom, tickActiveFrom+10*time.Minute, seeded.Round(time.Millisecond))
	fmt.Fprintf(w, "nothing due (%d ticks of each store, in turn with the floors)\n", tickSamples)
	for _, name := range []string{tickFull, tickEmpty, ping, read} {
		Row(w, name, idle.By[name])
	}
	Ratio(w, "tick, 5,000 parked / Ping", idle.By[tickFull], idle.By[ping])
	Ratio(w, "tick, 5,000 parked / Interaction read", idle.By[tickFull], idle.By[read])
	Ratio(w, "tick, 0 parked / Interaction read", idle.By[tickEmpty], idle.By[read])
	Ratio(w, "tick: 5,000 parked / 0 parked", idle.By[tickFull], idle.By[tickEmpty])
	fmt.Fprintf(w, "%d parked timeouts due per tick (%d ticks, clock +%s each, %d timeouts fired; in turn with the floor's calls)\n",
		tickDuePerTick, tickDueTicks, step, fired)
	Row(w, firingTick, firing)
	Row(w, "per fired timer (tick / 10)", perTimer)
	for _, name := range timeout.Names {
		Row(w, "store: "+name, timeout.By[name])
	}
	Row(w, fmt.Sprintf("store calls of one parked timeout (%d)", len(timeout.Names)), timeout.Totals())
	Row(w, fmt.Sprintf("store calls of 10 parked timeouts (%d)", tickDuePerTick*len(timeout.Names)), tenTimeouts)
	Ratio(w, "tick firing 10 / Interaction read", firing, idle.By[read])
	Ratio(w, "tick firing 10 / store calls of 10 timeouts", firing, tenTimeouts)
	b.ReportMetric(float64(idle.By[tickFull].Percentile(50).Microseconds()), "tick-idle-p50-µs")
	b.ReportMetric(float64(idle.By[tickFull].Percentile(50))/float64(idle.By[tickEmpty].Percentile(50)), "x-0-parked-p50")
	b.ReportMetric(float64(firing.Percentile(50).Microseconds()), "tick-10-due-p50-µs")
	b.ReportMetric(float64(perTimer.Percentile(50).Microseconds()), "per-timer-p50-µs")
	b.ReportMetric(float64(firing.Percentile(50))/float64(tenTimeouts.Percentile(50)), "x-floor-10-due-p50")
}

// tickStore is an embedded store with the demo data and a service on a manual clock.
type tickStore struct {
	store  *sqlite.Store
	svc    *workspace.Service
	clock  *workspace.ManualClock
	agents []*workspace.Agent
	// template is a PARKED chat as ParkInteraction wrote it; parked are the IDs of the
	// copies, soonest due first.
	template *workspace.Interaction
	parked   []string
}

// newTickStore opens a store in a temp folder at t0 and fills it: tickActive ACTIVE chats and
// parked PARKED ones. One chat goes through the domain (started, accepted, parked, then ended
// and completed so it leaves the live set); the others are copies of its ACTIVE and PARKED
// records with new IDs, contacts and tokens and every time moved, written with the store's
// CreateInteraction.
func newTickStore(b *testing.B, t0 time.Time, parked int) *tickStore {
	b.Helper()
	ctx := b.Context()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ts := &tickStore{store: st, clock: workspace.NewManualClock(t0)}
	ts.svc = workspace.NewService(st, workspace.NewHub(64), ts.clock)
	ts.svc.BcryptCost = 4
	if err := ts.svc.SeedDemo(ctx); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		a, err := st.AgentByUsername(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		ts.agents = append(ts.agents, a)
	}
	active, parkedTemplate := ts.parkOne(b)
	ts.template = parkedTemplate
	for i := range parked {
		until := t0.Add(time.Duration(i+1) * time.Hour / time.Duration(parked))
		ix := movedCopy(parkedTemplate, ts.agents[i%len(ts.agents)].ID, until.Sub(*parkedTemplate.ParkedUntil))
		if err := st.CreateInteraction(ctx, ix); err != nil {
			b.Fatal(err)
		}
		ts.parked = append(ts.parked, ix.ID)
	}
	for i := range tickActive {
		at := t0.Add(tickActiveFrom + time.Duration(i+1)*10*time.Minute/tickActive)
		ix := movedCopy(active, ts.agents[i%len(ts.agents)].ID, at.Sub(*active.AutoParkAt))
		if err := st.CreateInteraction(ctx, ix); err != nil {
			b.Fatal(err)
		}
	}
	ts.wantParked(b, parked)
	if due, err := st.LiveInteractions(ctx, workspace.LiveFilter{DueBefore: t0, Limit: 500}); err != nil || len(due) > 0 {
		b.Fatalf("%d interactions due at the start, %v", len(due), err)
	}
	return ts
}

// parkOne walks one Support chat through the domain as alice: started, offered, accepted,
// parked. It returns its ACTIVE and PARKED records as the store holds them, and then ends and
// completes it.
func (ts *tickStore) parkOne(b *testing.B) (active, parked *workspace.Interaction) {
	b.Helper()
	ctx := b.Context()
	as := func() context.Context {
		a, err := ts.store.Agent(ctx, ts.agents[0].ID)
		if err != nil {
			b.Fatal(err)
		}
		return workspace.WithPrincipal(ctx, workspace.Principal{Kind: workspace.AgentPrincipal, Agent: a})
	}
	var supportID string
	plans, err := ts.store.Plans(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range plans {
		if p.Name == "Support" { // disposition required: a parked timeout leaves no wrap timer
			supportID = p.ID
		}
	}
	if _, err := ts.svc.SetPresence(as(), workspace.Ready); err != nil {
		b.Fatal(err)
	}
	_, ix, err := webchat.New(ts.svc).Start(ctx, webchat.Start{Name: "Visitor", PlanID: supportID, Text: "Hello, where is my order?"})
	if err != nil {
		b.Fatal(err)
	}
	get := func() *workspace.Interaction {
		got, err := ts.store.Interaction(ctx, ix.ID)
		if err != nil {
			b.Fatal(err)
		}
		return got
	}
	offered := get()
	if offered.State != workspace.Offered || offered.AgentID != ts.agents[0].ID {
		b.Fatalf("template chat is %s with %s, want OFFERED to alice", offered.State, offered.AgentID)
	}
	if _, err := ts.svc.AcceptOffer(as(), offered.OfferID()); err != nil {
		b.Fatal(err)
	}
	active = get()
	if _, err := ts.svc.ParkInteraction(as(), ix.ID); err != nil {
		b.Fatal(err)
	}
	parked = get()
	if active.AutoParkAt == nil || parked.State != workspace.Parked || parked.ParkedUntil == nil || !parked.DueAt.Equal(*parked.ParkedUntil) {
		b.Fatalf("template records: ACTIVE %+v, PARKED %+v", active, parked)
	}
	if _, err := ts.svc.EndInteraction(as(), ix.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := ts.svc.SelectDisposition(as(), ix.ID, "RESOLVED"); err != nil {
		b.Fatal(err)
	}
	if _, err := ts.svc.CompleteInteraction(as(), ix.ID); err != nil {
		b.Fatal(err)
	}
	return active, parked
}

// wantParked fails unless the store holds n PARKED interactions.
func (ts *tickStore) wantParked(b *testing.B, n int) {
	b.Helper()
	got, err := ts.store.LiveInteractions(b.Context(), workspace.LiveFilter{States: []workspace.InteractionState{workspace.Parked}})
	if err != nil || len(got) != n {
		b.Fatalf("%d PARKED interactions, want %d (%v)", len(got), n, err)
	}
}

// parkedTimeoutFloor measures once, on the store, the calls one parked timeout makes after
// the tick's read: the fresh record, its plan, the move to WRAP and the system's notice in
// the transcript. It first writes (untimed) a copy of the template, due beyond the clock's
// reach.
func (ts *tickStore) parkedTimeoutFloor(b *testing.B, steps *Steps) {
	b.Helper()
	ctx := b.Context()
	ix := movedCopy(ts.template, ts.agents[0].ID, 2*time.Hour)
	if err := ts.store.CreateInteraction(ctx, ix); err != nil {
		b.Fatal(err)
	}
	if err := parkedTimeoutStoreCalls(ctx, ts.store, ix.ID, ts.clock.Now(), steps); err != nil {
		b.Fatal(err)
	}
}

// parkedTimeoutStoreCalls makes, directly on the store, the calls the scheduler's parked
// timeout makes for one due interaction (workspace's end, by the system).
func parkedTimeoutStoreCalls(ctx context.Context, st workspace.Store, id string, now time.Time, steps *Steps) error {
	var ix *workspace.Interaction
	if err := steps.Time("Interaction (fresh record to end)", func() (err error) { ix, err = st.Interaction(ctx, id); return err }); err != nil {
		return err
	}
	if err := steps.Time("Plan (wrap rules)", func() error { _, err := st.Plan(ctx, ix.PlanID); return err }); err != nil {
		return err
	}
	ix.State, ix.EndedAt, ix.EndedBy, ix.DueAt, ix.WrapDeadline = workspace.Wrap, &now, workspace.PartySystem, time.Time{}, nil
	ix.Transfer, ix.AutoParkAt, ix.ParkedUntil = nil, nil, nil
	if err := steps.Time("UpdateInteraction (PARKED → WRAP)", func() error { return st.UpdateInteraction(ctx, ix, workspace.Parked) }); err != nil {
		return err
	}
	notice := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: id, From: workspace.PartySystem,
		Text: "The chat has ended", SentAt: now}
	return steps.Time("AppendMessage (the system's notice)", func() error { return st.AppendMessage(ctx, notice) })
}

// movedCopy is a copy of a record the domain wrote, as another chat of the same kind: a new
// ID, contact and token, held by agentID, with every time moved by d.
func movedCopy(from *workspace.Interaction, agentID string, d time.Duration) *workspace.Interaction {
	ix := *from
	ix.ID, ix.AgentID = uuid.NewString(), agentID
	ix.Outbox = nil // the events of the record copied are its own: a copy writes none
	ix.Contact.Address = "visitor-" + ix.ID[:8]
	if ix.ThreadKey != "" { // one open interaction per thread: each copy is a contact of its own
		ix.ThreadKey += "|" + ix.ID
	}
	ix.ContactTokenHash = workspace.HashToken(uuid.NewString())
	ix.CreatedAt = ix.CreatedAt.Add(d)
	if !ix.DueAt.IsZero() {
		ix.DueAt = ix.DueAt.Add(d)
	}
	for _, t := range []**time.Time{&ix.AcceptedAt, &ix.EndedAt, &ix.CompletedAt, &ix.WrapDeadline, &ix.OfferedAt,
		&ix.LastContactAt, &ix.AutoParkAt, &ix.ParkedAt, &ix.ParkedUntil} {
		if *t != nil {
			moved := (*t).Add(d)
			*t = &moved
		}
	}
	return &ix
}

// unparkRun is how long the unpark-latency run sends replies.
var unparkRun = durationFlag("unpark-run", "BENCH_UNPARK_RUN", 15*time.Second, "how long the unpark-latency run sends contact replies, at 20 per second")

const (
	// unparkRate is the steady rate of contact replies to parked chats.
	unparkRate = 20
	// unparkAgents park chats and listen for their unparks; each is the only agent of its
	// own plan, with room for every chat it parked to come back.
	unparkAgents   = 20
	unparkCapacity = 100

	qPark              = `mutation($i: ID!) { parkInteraction(input:{interactionId:$i}) { interaction { id state } userErrors { code } } }`
	unparkSubscription = `subscription { unparkNotifications { interaction { id state } message { id text } } }`
)

// parkedChat is a chat its agent parked, and its contact's token.
type parkedChat struct {
	id, token string
}

// BenchmarkUnparkNotificationLatency measures how long a contact's reply to a parked chat
// takes to reach the agent who parked it: from sending sendContactMessage over HTTP, with the
// chat's token, to the unparkNotifications event arriving on that agent's websocket, at a
// steady 20 replies per second. 20 agents, signed in over GraphQL and READY, each started,
// accepted and parked their chats first, and have room for all of them to come back: every
// reply takes the K4 path back to its agent. The floor is what that path cannot avoid,
// measured on the same node in the same run: the store calls of one unpark, one loopback
// HTTP request and one websocket round trip. Run with -benchtime=1x.
func BenchmarkUnparkNotificationLatency(b *testing.B) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	m := startNode(b)
	defer m.Close()
	c := newClient(m)
	support := planNamed(b, m, "Support") // a post-parking plan: a reply wakes the chat (K4)

	var agents []*workspace.Agent
	var plans []*workspace.Plan
	for i := range unparkAgents + 1 { // the last agent and plan are the floor's
		p := copyPlan(b, m, support, fmt.Sprintf("Parking %d", i))
		plans = append(plans, p)
		agents = append(agents, createAgents(b, m, fmt.Sprintf("parker%d", i), 1, []string{p.ID}, unparkCapacity)...)
	}
	sessions := signIn(b, m, c, agents[:unparkAgents])
	defer closeAll(sessions)

	// Each agent starts, accepts and parks its share of the chats, agents at once.
	warmChats := unparkRate
	runChats := int(unparkRun.Seconds() * unparkRate)
	perAgent := (warmChats + runChats + unparkAgents - 1) / unparkAgents
	started := time.Now()
	byAgent := make([][]parkedChat, unparkAgents)
	var errs firstError
	var setup sync.WaitGroup
	for i, s := range sessions {
		setup.Add(1)
		go func() {
			defer setup.Done()
			for n := range perAgent {
				chat, err := startAndPark(ctx, c, s, plans[i].ID, n)
				if err != nil {
					errs.set(fmt.Errorf("%s: %w", s.agent.Username, err))
					return
				}
				byAgent[i] = append(byAgent[i], chat)
			}
		}()
	}
	setup.Wait()
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	// Replies go to the agents in turn, each agent's chats in the order they were parked.
	var chats []parkedChat
	for n := range perAgent {
		for i := range byAgent {
			chats = append(chats, byAgent[i][n])
		}
	}
	template, err := m.Store.Interaction(ctx, chats[0].id)
	if err != nil || template.State != workspace.Parked {
		b.Fatalf("a parked chat: %+v, %v", template, err)
	}
	parkedIn := time.Since(started)

	// Every agent's websocket also carries its unpark notifications; one goroutine per agent
	// reads it and notes when each arrives.
	before := m.Hub.Count()
	for _, s := range sessions {
		if err := s.offers.subscribe(ctx, "unpark", unparkSubscription, nil); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); m.Hub.Count() < before+len(sessions); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d unpark subscriptions registered", m.Hub.Count()-before, len(sessions))
		}
	}
	times := &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}
	var readers sync.WaitGroup
	defer readers.Wait()
	defer cancel() // runs before readers.Wait
	readSockets(ctx, sessions, &readers, &errs, func(_ *session, msg wsMessage, at time.Time) error {
		if msg.ID != "unpark" {
			return nil
		}
		id, err := unparkedActive(msg)
		if err == nil {
			times.arrive(id, at)
		}
		return err
	})

	// A second of replies warms up connections and caches; then the measured run.
	sendReplies(ctx, c, chats[:warmChats], &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}, &errs)
	sendReplies(ctx, c, chats[warmChats:warmChats+runChats], times, &errs)
	for deadline := time.Now().Add(5 * time.Second); times.pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	latency, missing := times.samples()
	if missing > 0 || len(latency) != runChats {
		b.Fatalf("%d of %d replies sent, %d unparks never arrived", len(latency)+missing, runChats, missing)
	}

	// The floor, on the same node and store, after the load; its agent signs in only now.
	floor, storeSteps := unparkFloor(b, m, c, agents[unparkAgents], plans[unparkAgents].ID, template)

	w := os.Stdout
	fmt.Fprintf(w, "\nunpark latency on sqlite: %d READY agents, %d chats parked (in %s), %d replies/s for %s (%d replies)\n",
		unparkAgents, len(chats), parkedIn.Round(time.Millisecond), unparkRate, *unparkRun, runChats)
	Row(w, "sendContactMessage sent → unpark on socket", latency)
	for _, name := range storeSteps {
		Row(w, "store: "+name, floor.By[name])
	}
	Row(w, fmt.Sprintf("store calls of one unpark (%d)", len(storeSteps)), floor.Totals(storeSteps...))
	Row(w, stepHealthz, floor.By[stepHealthz])
	Row(w, stepPing, floor.By[stepPing])
	Row(w, "floor = store calls + 1 HTTP + 1 ws trip", floor.Totals())
	Ratio(w, "unpark latency / floor", latency, floor.Totals())
	b.ReportMetric(float64(latency.Percentile(50).Microseconds()), "unpark-p50-µs")
	b.ReportMetric(float64(latency.Percentile(99).Microseconds()), "unpark-p99-µs")
	b.ReportMetric(float64(latency.Percentile(50))/float64(floor.Totals().Percentile(50)), "x-floor-p50")
	b.ReportMetric(float64(latency.Percentile(99))/float64(floor.Totals().Percentile(99)), "x-floor-p99")
}

// startAndPark starts a chat in the agent's own plan as its visitor, and accepts and parks
// it as the agent, over GraphQL HTTP.
func startAndPark(ctx context.Context, c *gqlClient, s *session, planID string, n int) (parkedChat, error) {
	var start struct {
		StartWebchat struct {
			Token string
			Chat  struct{ ID string }
		}
	}
	if err := c.do(ctx, "", qStartChat, map[string]any{"p": planID, "t": fmt.Sprintf("Hello, chat %d here: where is my order?", n)}, &start); err != nil {
		return parkedChat{}, err
	}
	chat := parkedChat{id: start.StartWebchat.Chat.ID, token: start.StartWebchat.Token}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var offer offerEvent
	for offer.InteractionID != chat.id || offer.Kind != string(workspace.OfferOffered) {
		var err error
		if offer, err = s.offers.nextOffer(wait); err != nil {
			return chat, fmt.Errorf("waiting for the offer of %s: %w", chat.id, err)
		}
	}
	if err := c.do(ctx, s.token, qAccept, map[string]any{"o": offer.OfferID}, nil); err != nil {
		return chat, err
	}
	return chat, c.do(ctx, s.token, qPark, map[string]any{"i": chat.id}, nil)
}

// unparkedActive reads one unparkNotifications event and returns its chat's ID; the chat
// must be ACTIVE again, woken by a contact message.
func unparkedActive(msg wsMessage) (string, error) {
	var p struct {
		Data struct {
			UnparkNotifications struct {
				Interaction struct{ ID, State string }
				Message     *struct{ ID, Text string }
			}
		}
		Errors []json.RawMessage
	}
	if msg.Type != "next" || json.Unmarshal(msg.Payload, &p) != nil || len(p.Errors) > 0 {
		return "", fmt.Errorf("unpark subscription: %s %s", msg.Type, msg.Payload)
	}
	u := p.Data.UnparkNotifications
	if u.Interaction.State != string(workspace.Active) || u.Message == nil || u.Message.Text == "" {
		return "", fmt.Errorf("unparked to %s, want ACTIVE with its agent, woken by a message: %s", u.Interaction.State, msg.Payload)
	}
	return u.Interaction.ID, nil
}

// sendReplies sends one contact message to each chat over HTTP with its token, at unparkRate,
// each in its own goroutine so a slow one does not delay the next, noting when each request
// was sent. It returns when all have been answered.
func sendReplies(ctx context.Context, c *gqlClient, chats []parkedChat, times *offerTimes, errs *firstError) {
	tick := time.NewTicker(time.Second / unparkRate)
	defer tick.Stop()
	var wg sync.WaitGroup
	for _, chat := range chats {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			times.send(chat.id, time.Now())
			errs.set(c.do(ctx, chat.token, qContact, map[string]any{"t": "I found the order number: 4711"}, nil))
		}()
	}
	wg.Wait()
}

// unparkFloor signs the floor's agent in (its plan gets no chats) and measures, on the
// node's own store, the store calls one unpark makes, then one loopback HTTP request and one
// websocket ping → pong on the agent's open connection: floorSamples runs of the sequence,
// after a tenth as many to warm up. Each run first writes (untimed) a copy of a chat the run
// parked, held by the floor's agent in its plan. It returns the steps and the names of the
// store calls among them.
func unparkFloor(b *testing.B, m *server.Main, c *gqlClient, agent *workspace.Agent, planID string, template *workspace.Interaction) (Steps, []string) {
	b.Helper()
	ctx := b.Context()
	s := signIn(b, m, c, []*workspace.Agent{agent})[0]
	defer s.offers.close()
	var warm, steps Steps
	for i := range floorSamples + floorSamples/10 {
		run := &steps
		if i < floorSamples/10 {
			run = &warm
		}
		ix := movedCopy(template, agent.ID, 0)
		ix.PlanID = planID
		if err := m.Store.CreateInteraction(ctx, ix); err != nil {
			b.Fatal(err)
		}
		if err := unparkStoreCalls(ctx, m.Store, ix.ID, agent.ID, run); err != nil {
			b.Fatal(err)
		}
		if err := run.Time(stepHealthz, func() error { return c.get("/healthz") }); err != nil {
			b.Fatal(err)
		}
		if err := run.Time(stepPing, func() error { return s.offers.ping(ctx) }); err != nil {
			b.Fatal(err)
		}
	}
	return steps, steps.Names[:len(steps.Names)-2]
}

// unparkStoreCalls makes, directly on the store, the calls a contact's reply to a parked chat
// makes when it goes back to its READY agent (K4): the token's check against the chat, the
// chat read by SendContactMessage, the message, the plan's parking rules, the hold reserved on
// the agent's fresh record, and the move back to ACTIVE on the chat's fresh record.
func unparkStoreCalls(ctx context.Context, st workspace.Store, id, agentID string, steps *Steps) error {
	read := func(name string) (ix *workspace.Interaction, err error) {
		err = steps.Time(name, func() (err error) { ix, err = st.Interaction(ctx, id); return err })
		return ix, err
	}
	if _, err := read("Interaction (contact token check)"); err != nil {
		return err
	}
	ix, err := read("Interaction (the chat to write to)")
	if err != nil {
		return err
	}
	now := time.Now()
	reply := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: id, From: workspace.PartyContact,
		Text: "I found the order number: 4711", SentAt: now}
	if err := steps.Time("AppendMessage (the reply)", func() error { return st.AppendMessage(ctx, reply) }); err != nil {
		return err
	}
	var plan *workspace.Plan
	if err := steps.Time("Plan (parking rules)", func() (err error) { plan, err = st.Plan(ctx, ix.PlanID); return err }); err != nil {
		return err
	}
	var a *workspace.Agent
	if err := steps.Time("Agent (fresh record to hold on)", func() (err error) { a, err = st.Agent(ctx, agentID); return err }); err != nil {
		return err
	}
	// The run's agents hold up to 16 woken chats by its end; keep the floor agent's at about half.
	a.Holds = append(a.Holds[max(0, len(a.Holds)-7):], workspace.Hold{InteractionID: id, Channel: ix.Channel, Since: now})
	if err := steps.Time("UpdateAgent (reserve a hold)", func() error { return st.UpdateAgent(ctx, a) }); err != nil {
		return err
	}
	fresh, err := read("Interaction (fresh record to unpark)")
	if err != nil {
		return err
	}
	autoPark := now.Add(time.Duration(plan.AutoParkSeconds) * time.Second)
	fresh.LastContactAt, fresh.ParkedUntil, fresh.State, fresh.AutoParkAt, fresh.DueAt = &now, nil, workspace.Active, &autoPark, autoPark
	return steps.Time("UpdateInteraction (PARKED → ACTIVE)", func() error { return st.UpdateInteraction(ctx, fresh, workspace.Parked) })
}
