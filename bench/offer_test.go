package bench

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the driver the embedded store uses, for filling history
)

// offerRun is how long each offer-latency run starts chats; mongoOfferRun is the same on
// the MongoDB test engine, where chats start more slowly (mongoOfferRate).
var (
	offerRun      = durationFlag("offer-run", "BENCH_OFFER_RUN", 8*time.Second, "how long each offer-latency run starts chats, at 20 per second")
	mongoOfferRun = durationFlag("offer-run-mongo", "BENCH_OFFER_RUN_MONGO", time.Minute, "how long each offer-latency run on the MongoDB test engine starts chats, one every 3 s")
)

const (
	// offerRate is the steady rate of new chats: a ticker, not a burst.
	offerRate = 20
	// mongoOfferEvery is the pace of new chats on the MongoDB test engine. The engine
	// (FerretDB on SQLite) uses no index to find documents: any query but one by _id alone
	// decodes the whole collection: on this 2-core machine, idle, a conditional write of one
	// agent took 20 ms among 50 stored and 91 ms among 5,000; beside other jobs, several
	// times that.
	// Routing a chat reads the READY agents and writes one agent conditionally, two passes
	// over the 1,000 stored; the node's sweep queries the agents every 2 s (one more pass
	// here, where MongoDB would use its indexes: Store.SweptAgents), and the bus's
	// reader polls the events 20 times a second. At 20, 5 and then 1 chat a second the
	// engine's queue grew without end (it placed a chat every 2 s or so beside other work
	// on the machine), and the figure measured the queue.
	mongoOfferEvery = 3 * time.Second
	// offerAgents are signed in, READY and listening for offers.
	offerAgents = 100
	// historySize is how many completed interactions BenchmarkOfferLatencyWithHistory puts
	// in history, with historyMessages messages each.
	historySize     = 20_000
	historyMessages = 4
	// floorSamples is how many times each step of a floor is measured; mongoFloorSamples on
	// the MongoDB test engine, where one sample of the offer's floor takes most of a second.
	floorSamples      = 300
	mongoFloorSamples = 60
)

// BenchmarkOfferLatency measures how long a webchat takes to reach an agent: from sending
// startWebchat over HTTP to the offer arriving on the websocket of whichever of 100 READY
// agents (of 1,000 stored: issue 14's offer aim) routing chose, at a steady 20 new chats per
// second. The floor is what that path cannot avoid, measured on the same node in the same
// run: the three writes of an offer (offerWrites), one loopback HTTP request and one websocket
// round trip. Agents only receive offers here; their capacity is high enough that none fills
// up. Run with -benchtime=1x.
func BenchmarkOfferLatency(b *testing.B) {
	r := measureOffers(b, offerSetup{ready: offerAgents, offline: 900})
	r.print(os.Stdout)
	r.report(b, "")
}

// BenchmarkOfferLatencyWithHistory runs BenchmarkOfferLatency's measurement on two nodes side
// by side (compareOffers): an empty store and one holding 20,000 completed interactions with
// their transcripts. The live path never reads history, so the ratio should stay near 1.
func BenchmarkOfferLatencyWithHistory(b *testing.B) {
	empty, full := compareOffers(b, offerSetup{ready: offerAgents}, offerSetup{ready: offerAgents, history: historySize})
	w := os.Stdout
	empty.print(w)
	full.print(w)
	fmt.Fprintf(w, "\nhistory independence: %d completed interactions in history vs none\n", historySize)
	Ratio(w, "offer latency: with history / empty", full.latency, empty.latency)
	Ratio(w, "floor: with history / empty", full.floor.Totals(), empty.floor.Totals())
	b.ReportMetric(float64(full.latency.Percentile(50))/float64(empty.latency.Percentile(50)), "x-empty-p50")
	b.ReportMetric(float64(full.latency.Percentile(99))/float64(empty.latency.Percentile(99)), "x-empty-p99")
	full.report(b, "history-")
}

// BenchmarkOfferLatencyStoredAgents runs BenchmarkOfferLatency's measurement on two nodes side
// by side (compareOffers): 50 READY agents and no other agent stored, and the same with 4,950
// more OFFLINE members of the plan (5,000 stored). Routing reads the READY agents with room
// alone (Store.ReadyAgents), so the ratio should stay near 1 (issue 14's aim: at most 1.2).
func BenchmarkOfferLatencyStoredAgents(b *testing.B) {
	few, many := compareOffers(b, offerSetup{ready: 50}, offerSetup{ready: 50, offline: 4950})
	w := os.Stdout
	few.print(w)
	many.print(w)
	fmt.Fprintf(w, "\nstored agents: 5,000 (50 READY) vs 50 (all READY)\n")
	Ratio(w, "offer latency: 5,000 stored / 50 stored", many.latency, few.latency)
	b.ReportMetric(float64(many.latency.Percentile(50))/float64(few.latency.Percentile(50)), "x-few-p50")
	b.ReportMetric(float64(many.latency.Percentile(99))/float64(few.latency.Percentile(99)), "x-few-p99")
}

// BenchmarkOfferLatencyMongo is BenchmarkOfferLatency on the MongoDB adapter, talking to the
// test engine (FerretDB on SQLite, one connection, in a process of its own) over the wire
// protocol, at mongoOfferRate for mongoOfferRun, with its own floor: the same three writes
// through the same adapter, mongoFloorSamples times. The test engine is no production
// MongoDB: it reads a whole collection for every query but one by _id, so its times grow
// with what is stored, where MongoDB's indexes keep them flat.
func BenchmarkOfferLatencyMongo(b *testing.B) {
	r := measureOffers(b, offerSetup{ready: offerAgents, offline: 900, mongo: true, every: mongoOfferEvery})
	r.print(os.Stdout)
	r.report(b, "mongo-")
}

// BenchmarkOfferLatencyMongoStoredAgents is the scale check on the MongoDB test engine: 50
// READY agents alone, and among 5,000 stored. On this engine the ratio says what its full
// reads cost (see mongoOfferRate), not what MongoDB's indexes would. The two are measured one
// after the other, not side by side: the idle node's sweep queries its agents every 2 s,
// which this engine answers by decoding all 5,000 (mongoOfferEvery), and that would slow the
// other half as much as its own.
func BenchmarkOfferLatencyMongoStoredAgents(b *testing.B) {
	few := measureOffers(b, offerSetup{ready: 50, mongo: true, every: mongoOfferEvery})
	many := measureOffers(b, offerSetup{ready: 50, offline: 4950, mongo: true, every: mongoOfferEvery})
	w := os.Stdout
	few.print(w)
	many.print(w)
	fmt.Fprintf(w, "\nstored agents on the MongoDB test engine: 5,000 (50 READY) vs 50 (all READY)\n")
	Ratio(w, "offer latency: 5,000 stored / 50 stored", many.latency, few.latency)
	b.ReportMetric(float64(many.latency.Percentile(50))/float64(few.latency.Percentile(50)), "mongo-x-few-p50")
}

// offerSetup is what one offer-latency run starts with: ready agents signed in and READY,
// offline more members of the plan stored, history completed chats (SQLite only), on the
// embedded store or, with mongo, on the MongoDB test engine.
type offerSetup struct {
	ready, offline, history int
	mongo                   bool
	// every is the time between new chats; 0 means offerRate a second.
	every time.Duration
}

// offerResult is one offer-latency run and its floor.
type offerResult struct {
	store                         string
	ready, stored, history, chats int
	every, run                    time.Duration
	// setUp is how long storing the agents took, signIn signing in the READY ones.
	setUp, signIn time.Duration
	// latency runs from sending startWebchat to the offer event arriving.
	latency Samples
	// floor holds the steps of the floor, timed once between every two chats of the run:
	// the writes of one offer (storeSteps), one loopback HTTP request and one websocket
	// round trip. backToBack holds the same, made one after the other after the run.
	floor, backToBack Steps
	storeSteps        []string
}

const (
	stepHealthz = "loopback HTTP: GET /healthz"
	stepPing    = "websocket round trip: ping → pong"
)

func (r offerResult) print(w io.Writer) {
	pace := fmt.Sprintf("%d chats/s", time.Second/r.every)
	if r.every > time.Second {
		pace = "a chat every " + r.every.String()
	}
	fmt.Fprintf(w, "\noffer latency on %s: %d READY agents of %d stored, %s for %s (%d chats), %d interactions in history\n",
		r.store, r.ready, r.stored, pace, r.run, r.chats, r.history)
	fmt.Fprintf(w, "  (set-up: agents stored in %s, the READY ones signed in in %s; the floor: %d samples in the run, one between every two chats, and %d back to back after it)\n",
		r.setUp.Round(time.Millisecond), r.signIn.Round(time.Millisecond), len(r.floor.Totals()), len(r.backToBack.Totals()))
	Row(w, "startWebchat sent → offer on agent's socket", r.latency)
	for _, name := range r.storeSteps {
		Row(w, "store: "+name, r.floor.By[name])
	}
	Row(w, fmt.Sprintf("the %d writes an offer cannot avoid", len(r.storeSteps)), r.floor.Totals(r.storeSteps...))
	Row(w, stepHealthz, r.floor.By[stepHealthz])
	Row(w, stepPing, r.floor.By[stepPing])
	Row(w, "floor = the writes + 1 HTTP + 1 ws trip", r.floor.Totals())
	Ratio(w, "offer latency / floor", r.latency, r.floor.Totals())
	Row(w, "the same floor, back to back after the run", r.backToBack.Totals())
	Ratio(w, "offer latency / floor back to back", r.latency, r.backToBack.Totals())
}

func (r offerResult) report(b *testing.B, prefix string) {
	b.ReportMetric(float64(r.latency.Percentile(50).Microseconds()), prefix+"offer-p50-µs")
	b.ReportMetric(float64(r.latency.Percentile(99).Microseconds()), prefix+"offer-p99-µs")
	b.ReportMetric(float64(r.latency.Percentile(50))/float64(r.floor.Totals().Percentile(50)), prefix+"x-floor-p50")
	b.ReportMetric(float64(r.latency.Percentile(99))/float64(r.floor.Totals().Percentile(99)), prefix+"x-floor-p99")
	b.ReportMetric(float64(r.latency.Percentile(50))/float64(r.backToBack.Totals().Percentile(50)), prefix+"x-b2b-floor-p50")
}

// measureOffers starts a node, puts history completed interactions in its history, signs in
// the agents, starts chats at the setup's rate for offerRun and then measures the floor.
func measureOffers(b *testing.B, setup offerSetup) offerResult {
	n := startOfferNode(b, setup)
	defer n.close()
	n.run(n.chats)
	return n.result()
}

// compareOffers measures two set-ups side by side: both nodes are started first, and then
// their chats alternate in blocks, in the order ABBA ABBA, each node's chats at the set-up's
// pace while the other node waits. Measured one after the other, as they were until this
// change, the two halves of a ratio were a minute apart, and whatever the machine did
// meanwhile entered the ratio whole: in one run the second node's own floor (the same
// writes, the same loopback) was 1.23 times the first's. Alternating cancels a drift, and
// blocks of a quarter of the run keep each node's caches as warm as a run of its own does.
// The node that waits still runs its timers and sweep, which both halves then share.
func compareOffers(b *testing.B, a, z offerSetup) (offerResult, offerResult) {
	na, nz := startOfferNode(b, a), startOfferNode(b, z)
	defer na.close()
	defer nz.close()
	const blocks = 4 // per node
	for i := range 2 * blocks {
		n := na
		if i%4 == 1 || i%4 == 2 { // ABBA
			n = nz
		}
		n.run(n.chats / blocks)
	}
	return na.result(), nz.result()
}

// offerNode is a node set up for offer-latency runs: its agents stored and signed in, their
// sockets read, a second of chats made to warm it up, and the floor's sampler open.
type offerNode struct {
	b     *testing.B
	ctx   context.Context
	c     *gqlClient
	setup offerResult // what it was set up with; run and result fill in the rest
	chats int         // a whole run's chats
	// samples is how many times result measures the floor back to back.
	samples int
	times   *offerTimes
	errs    *firstError
	floor   *floorSampler
	inRun   Steps // the floor, sampled beside the chats
	made    int   // the chats run has made
	closed  bool
	stop    []func() // run by close, last first
}

func startOfferNode(b *testing.B, setup offerSetup) *offerNode {
	ready, history, offline := setup.ready, setup.history, setup.offline
	ctx, cancel := context.WithCancel(b.Context())
	n := &offerNode{b: b, ctx: ctx, stop: []func(){cancel}}
	store := "sqlite"
	var onMongo []func(*server.Config)
	if setup.mongo {
		store = "the MongoDB test engine"
		uri := mongotest.Start(b)
		onMongo = append(onMongo, func(c *server.Config) {
			c.MongoURI = uri
			// The sockets are read once every agent has signed in (readSockets). On the test
			// engine signing in 100 agents took longer than two ping intervals (15 s each), and
			// the node dropped the first sockets, whose pongs nobody had read.
			c.SocketPing = time.Hour
		})
	}
	m := startNode(b, onMongo...)
	n.stop = append(n.stop, func() { m.Close() })
	b.Cleanup(n.close) // should the set-up fail; before the test engine's own clean-up
	c := newClient(m)
	n.c = c
	sales := planNamed(b, m, "Sales") // the first plan taking webchat: where startWebchat routes
	// No offer may lapse while it is measured: a lapsed offer is offered again, and agents
	// who miss three go NOT_READY. The plan's timeout outlasts the run and the floor (on
	// the MongoDB test engine a timeout of the run's length plus 30 s lapsed during the
	// floor, and the node's offering again competed with the floor's writes).
	sales.OfferTimeoutSeconds = max(sales.OfferTimeoutSeconds, int(time.Hour.Seconds()))
	if err := m.Store.UpdatePlan(ctx, sales); err != nil {
		b.Fatal(err)
	}
	setUpStart := time.Now()
	agents := createAgents(b, m, "agent", ready, []string{sales.ID}, 1000)
	// The floor's chats go to a copy of the plan that no READY agent serves, so that the
	// node's sweep does not route them, and to an agent who stays OFFLINE. Its name sorts
	// after Sales, which stays the default webchat plan.
	floorPlan := copyPlan(b, m, sales, "Sales (floor)")
	floorAgent := createAgents(b, m, "floor", 1, []string{floorPlan.ID}, 1000)[0]
	if history > 0 {
		if setup.mongo {
			b.Fatal("history is filled on the embedded store only")
		}
		fillHistory(b, m, history, agents, sales.ID)
	}
	if offline > 0 { // stored agents who are not working: routing should not pay for them
		createAgents(b, m, "offline", offline, []string{sales.ID}, 4)
	}
	setUp := time.Since(setUpStart)
	signInStart := time.Now()
	sessions := signIn(b, m, c, agents)
	signedIn := time.Since(signInStart)
	n.stop = append(n.stop, func() { closeAll(sessions) })

	// Each agent's websocket is read by its own goroutine, which notes when offers arrive.
	n.times = &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}
	n.errs = &firstError{}
	readers := &sync.WaitGroup{}
	n.stop = append(n.stop, readers.Wait, cancel) // the readers end once ctx is cancelled
	readSockets(ctx, sessions, readers, n.errs, func(_ *session, msg wsMessage, at time.Time) error {
		ev, err := parseOffer(msg)
		if err == nil && ev.Kind == string(workspace.OfferOffered) {
			n.times.arrive(ev.InteractionID, at)
		}
		return err
	})

	// A second of chats (one, at a slower pace) warms up connections and caches.
	every, run, samples := cmp.Or(setup.every, time.Second/offerRate), *offerRun, floorSamples
	if setup.mongo {
		run, samples = *mongoOfferRun, mongoFloorSamples
	}
	startChats(ctx, c, max(1, int(time.Second/every)), every, &offerTimes{sent: map[string]time.Time{}, arrived: map[string]time.Time{}}, n.errs)
	n.chats, n.samples = int(run/every), samples
	n.setup = offerResult{store: store, ready: ready, stored: ready + offline, history: history, chats: n.chats, every: every,
		run: run, setUp: setUp, signIn: signedIn}
	n.floor = offerFloor(b, m, c, floorAgent, floorPlan.ID)
	n.stop = append(n.stop, n.floor.close)
	return n
}

// run starts chats chats at the node's pace, with the floor sampled beside them, and waits
// for their offers.
func (n *offerNode) run(chats int) {
	b, every := n.b, n.setup.every
	// The floor is measured in the run, at its pace: one sample halfway between two chats.
	// A sample made every 50 ms starts on a machine as idle as each chat does, with caches
	// as cold, which a sample made right after another does not; the floor is measured back
	// to back after the run too, and both are printed.
	type pacedFloor struct {
		steps Steps
		err   error
	}
	paced := make(chan pacedFloor, 1)
	go func() {
		steps, err := n.floor.paced(n.ctx, chats, every)
		paced <- pacedFloor{steps, err}
	}()
	startChats(n.ctx, n.c, chats, every, n.times, n.errs)
	for deadline := time.Now().Add(30 * time.Second); n.times.pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	inRun := <-paced
	if err := cmp.Or(n.errs.get(), inRun.err); err != nil {
		b.Fatal(err)
	}
	n.inRun.Add(inRun.steps)
	n.made += chats
}

// result is what the runs measured, with the floor measured again back to back after them;
// then it closes the node.
func (n *offerNode) result() offerResult {
	b := n.b
	r := n.setup
	var missing int
	r.latency, missing = n.times.samples()
	if missing > 0 || len(r.latency) != n.made {
		b.Fatalf("%d of %d chats started, %d offers never arrived", len(r.latency)+missing, n.made, missing)
	}
	r.chats, r.run = n.made, time.Duration(n.made)*r.every
	r.floor = n.inRun
	r.storeSteps = r.floor.Names[:len(r.floor.Names)-2]
	// The floor again, back to back on the same node and store, after the load.
	r.backToBack, _ = n.floor.backToBack(b, n.samples)
	n.close()
	return r
}

// close stops the node's readers and sessions and the node; once.
func (n *offerNode) close() {
	if n.closed {
		return
	}
	n.closed = true
	for i := len(n.stop) - 1; i >= 0; i-- {
		n.stop[i]()
	}
}

// startChats starts n chats over HTTP, one every interval, each in its own goroutine so a
// slow one does not delay the next, and notes when each request was sent. It returns when
// all have been answered.
func startChats(ctx context.Context, c *gqlClient, n int, every time.Duration, times *offerTimes, errs *firstError) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct {
				StartWebchat struct{ Chat struct{ ID string } }
			}
			sent := time.Now()
			if err := c.do(ctx, "", `mutation($t: String!) { startWebchat(input:{name:"Visitor", text:$t}) { token chat { id } userErrors { code } } }`,
				map[string]any{"t": fmt.Sprintf("Hello, this is chat %d: where is my order?", i)}, &out); err != nil {
				errs.set(err)
				return
			}
			times.send(out.StartWebchat.Chat.ID, sent)
		}()
	}
	wg.Wait()
}

// offerTimes pairs when each chat was started with when its first offer reached an agent;
// the offer often arrives before startWebchat's response names the chat.
type offerTimes struct {
	mu            sync.Mutex
	sent, arrived map[string]time.Time
}

func (o *offerTimes) send(id string, at time.Time) {
	o.mu.Lock()
	o.sent[id] = at
	o.mu.Unlock()
}

func (o *offerTimes) arrive(id string, at time.Time) {
	o.mu.Lock()
	if _, seen := o.arrived[id]; !seen {
		o.arrived[id] = at
	}
	o.mu.Unlock()
}

// pending counts started chats whose offer has not arrived.
func (o *offerTimes) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for id := range o.sent {
		if _, ok := o.arrived[id]; !ok {
			n++
		}
	}
	return n
}

// samples returns the latencies of the chats whose offer arrived, and how many did not.
func (o *offerTimes) samples() (Samples, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(Samples, 0, len(o.sent))
	for id, sent := range o.sent {
		if at, ok := o.arrived[id]; ok {
			out = append(out, at.Sub(sent))
		}
	}
	return out, len(o.sent) - len(out)
}

// offerFloor samples, on the node's own store, the writes an offered webchat cannot avoid
// (offerWrites), then one loopback HTTP request and one websocket ping → pong on an open
// connection. Reads are not part of the floor: what the design reads today is what the
// run's latency may shed.
func offerFloor(b *testing.B, m *server.Main, c *gqlClient, agent *workspace.Agent, planID string) *floorSampler {
	b.Helper()
	a, err := m.Store.Agent(b.Context(), agent.ID)
	if err != nil {
		b.Fatal(err)
	}
	return newFloorSampler(b, m, c, agent, func(ctx context.Context, steps *Steps) error {
		ix := &workspace.Interaction{
			ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
			Contact: workspace.Contact{Address: "visitor-" + uuid.NewString()[:8], Name: "Visitor"}, PlanID: planID,
			CreatedAt: time.Now(), ContactTokenHash: workspace.HashToken(uuid.NewString()),
		}
		return offerWrites(ctx, m.Store, a, ix, "", steps)
	})
}

// pathFloor measures a floor of the offer path: storeCalls (the store calls of the path, each
// timed as a step), then one loopback HTTP request and one websocket ping → pong on an open
// connection of agent's: floorSamples runs of the sequence, after a tenth as many to warm
// up. It returns the steps and the names of the store calls among them.
func pathFloor(b *testing.B, m *server.Main, c *gqlClient, agent *workspace.Agent, storeCalls func(ctx context.Context, steps *Steps) error) (Steps, []string) {
	b.Helper()
	return pathFloorN(b, m, c, agent, floorSamples, storeCalls)
}

// pathFloorN is pathFloor with samples runs instead of floorSamples.
func pathFloorN(b *testing.B, m *server.Main, c *gqlClient, agent *workspace.Agent, samples int, storeCalls func(ctx context.Context, steps *Steps) error) (Steps, []string) {
	b.Helper()
	f := newFloorSampler(b, m, c, agent, storeCalls)
	defer f.close()
	return f.backToBack(b, samples)
}

// floorSampler runs one sample of a floor at a time: storeCalls, each timed as a step, then
// one loopback HTTP request and one websocket ping → pong on an open connection of an
// agent's, signed in once.
type floorSampler struct {
	c          *gqlClient
	ws         *wsConn
	storeCalls func(ctx context.Context, steps *Steps) error
}

func newFloorSampler(b *testing.B, m *server.Main, c *gqlClient, agent *workspace.Agent, storeCalls func(ctx context.Context, steps *Steps) error) *floorSampler {
	b.Helper()
	ctx := b.Context()
	var login struct{ Login struct{ Token string } }
	if err := c.do(ctx, "", `mutation($u: String!, $p: String!) { login(input:{username:$u, password:$p}) { token userErrors { code } } }`,
		map[string]any{"u": agent.Username, "p": agentPassword}, &login); err != nil {
		b.Fatal(err)
	}
	ws, err := openWS(ctx, m, login.Login.Token)
	if err != nil {
		b.Fatal(err)
	}
	return &floorSampler{c: c, ws: ws, storeCalls: storeCalls}
}

func (f *floorSampler) close() { f.ws.close() }

// sample runs the sequence once and records its steps.
func (f *floorSampler) sample(ctx context.Context, steps *Steps) error {
	if err := f.storeCalls(ctx, steps); err != nil {
		return err
	}
	if err := steps.Time(stepHealthz, func() error { return f.c.get("/healthz") }); err != nil {
		return err
	}
	return steps.Time(stepPing, func() error { return f.ws.ping(ctx) })
}

// backToBack runs samples runs of the sequence one after the other, after a tenth as many
// to warm up. It returns the steps and the names of the store calls among them.
func (f *floorSampler) backToBack(b *testing.B, samples int) (Steps, []string) {
	b.Helper()
	var warm, steps Steps
	for range samples / 10 {
		if err := f.sample(b.Context(), &warm); err != nil {
			b.Fatal(err)
		}
	}
	for range samples {
		if err := f.sample(b.Context(), &steps); err != nil {
			b.Fatal(err)
		}
	}
	return steps, steps.Names[:len(steps.Names)-2]
}

// paced runs n samples of the sequence, one every interval from half an interval on: beside
// a run that starts a chat every interval, each falls halfway between two of its chats.
func (f *floorSampler) paced(ctx context.Context, n int, every time.Duration) (Steps, error) {
	var steps Steps
	select {
	case <-time.After(every / 2):
	case <-ctx.Done():
		return steps, ctx.Err()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			<-tick.C
		}
		if err := f.sample(ctx, &steps); err != nil {
			return steps, err
		}
	}
	return steps, nil
}

// offerWrites makes, directly on the store, the writes that offer a new contact's first
// message to an agent, whatever the design: store the interaction with the message (one
// write, as Interaction.Messages lets the domain make it), reserve a hold on the agent's
// record, and mark the interaction OFFERED; each change with the event that describes it,
// as the CRM change feed needs. a is the agent's record as last written (its version moves
// with each call), so nothing is read.
func offerWrites(ctx context.Context, st workspace.Store, a *workspace.Agent, ix *workspace.Interaction, external string, steps *Steps) error {
	now := ix.CreatedAt
	if err := steps.Time(stepArrival, func() error { return createWithFirst(ctx, st, ix, external, true) }); err != nil {
		return err
	}
	// A READY agent of the run holds two or three offers; keep the floor agent's record alike.
	// The node's sweep may write the record meanwhile (on the MongoDB test engine, where each
	// step is slow, it did): then the record is read again, untimed, and the write made again;
	// the floor counts the write that succeeded.
	for attempt := 1; ; attempt++ {
		a.Holds = append(a.Holds[max(0, len(a.Holds)-2):], workspace.Hold{InteractionID: ix.ID, Channel: ix.Channel, Since: now})
		a.LastOfferAt = now
		start := time.Now()
		err := st.UpdateAgent(ctx, a)
		if workspace.ErrorCode(err) == workspace.ECONFLICT && attempt < 5 {
			fresh, rerr := st.Agent(ctx, a.ID)
			if rerr != nil {
				return rerr
			}
			*a = *fresh
			continue
		}
		if err != nil {
			return err
		}
		steps.Record("UpdateAgent (reserve a hold)", time.Since(start))
		break
	}
	offered := *ix
	offered.State, offered.AgentID, offered.OfferSeq, offered.OfferedAt = workspace.Offered, a.ID, 1, &now
	offered.DueAt = now.Add(workspace.DefaultOfferTimeout * time.Second)
	// Stamped as the domain stamps a change: after the message, whose write moved the
	// interaction's updatedAt (a MongoDB store refuses an older stamp as CONFLICT).
	offered.UpdatedAt = time.Now()
	offered.Outbox = changeEvent(&offered, workspace.ChangeOffered, "")
	return steps.Time("UpdateInteraction (→ OFFERED)", func() error { return st.UpdateInteraction(ctx, &offered, workspace.Queued) })
}

// stepArrival names the write that stores a new interaction with its first message.
const stepArrival = "CreateInteraction (with its first message)"

// createWithFirst stores ix, a new interaction, with the contact's first message in one
// write as the domain does; with events, the CREATED and MESSAGE events go with them.
func createWithFirst(ctx context.Context, st workspace.Store, ix *workspace.Interaction, external string, events bool) error {
	first := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact,
		Text: "Hello, where is my order?", SentAt: ix.CreatedAt, ExternalID: external}
	ix.UpdatedAt = ix.CreatedAt
	if events {
		first.Outbox = changeEvent(ix, workspace.ChangeMessage, first.ID)
		ix.Outbox = changeEvent(ix, workspace.ChangeCreated, "")
	}
	ix.Messages = []*workspace.Message{first}
	err := st.CreateInteraction(ctx, ix)
	ix.Outbox, ix.Messages = nil, nil
	return err
}

// changeEvent is the event the domain writes with a change of ix (or of its message).
func changeEvent(ix *workspace.Interaction, kind workspace.ChangeKind, messageID string) []*workspace.ChangeEvent {
	return []*workspace.ChangeEvent{{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, At: time.Now(), InteractionID: ix.ID, MessageID: messageID}}
}

// fillHistory puts n completed webchats in the node's history, each with a transcript of
// historyMessages messages, created over the past days. Set-up, not measurement: through the
// Store, each write is a transaction of its own and 20,000 chats take the better part of a
// minute, so it writes the rows the store's ArchiveInteraction and AppendMessage would write
// (the same columns, the record as JSON) in one transaction on the database file, and then
// reads the last chat back through the store, so a change of schema fails here, loudly.
func fillHistory(b *testing.B, m *server.Main, n int, agents []*workspace.Agent, planID string) {
	b.Helper()
	ctx := b.Context()
	started := time.Now()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(m.Config.DataDir, "agentdesk.db")+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	archive, err := tx.PrepareContext(ctx, `INSERT INTO history (id, state, channel, agent_id, plan_id, contact_address, created_at, doc) VALUES (?,?,?,?,?,?,?,?)`)
	if err != nil {
		b.Fatal(err)
	}
	appendMessage, err := tx.PrepareContext(ctx, `INSERT INTO messages (id, interaction_id, from_party, agent_id, text, sent_at) VALUES (?,?,?,?,?,?)`)
	if err != nil {
		b.Fatal(err)
	}
	texts := []string{"Hello, I would like to change my plan.", "Of course, which plan would you like?",
		"The premium one, please.", "Done: it starts on your next bill."}
	base := started.Add(-time.Duration(n) * 30 * time.Second)
	var last *workspace.Interaction
	for i := range n {
		created := base.Add(time.Duration(i) * 30 * time.Second)
		offered, accepted, ended, done := created.Add(time.Second), created.Add(5*time.Second), created.Add(4*time.Minute), created.Add(5*time.Minute)
		a := agents[i%len(agents)]
		ix := &workspace.Interaction{
			ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Completed,
			Contact: workspace.Contact{Address: fmt.Sprintf("visitor-%06d", i), Name: "Visitor"}, AgentID: a.ID, PlanID: planID,
			CreatedAt: created, AcceptedAt: &accepted, EndedAt: &ended, EndedBy: workspace.PartyAgent, CompletedAt: &done,
			Notes: "Moved to premium.", Dispositions: []string{"SALE"}, OfferSeq: 1, OfferedAt: &offered,
			ContactTokenHash: workspace.HashToken(uuid.NewString()), Version: 4,
		}
		doc, err := json.Marshal(ix)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := archive.ExecContext(ctx, ix.ID, ix.State, ix.Channel, ix.AgentID, ix.PlanID, ix.Contact.Address,
			created.UnixMilli(), string(doc)); err != nil {
			b.Fatal(err)
		}
		for j, text := range texts[:historyMessages] {
			from, agentID := workspace.PartyContact, ""
			if j%2 == 1 {
				from, agentID = workspace.PartyAgent, a.ID
			}
			if _, err := appendMessage.ExecContext(ctx, uuid.Must(uuid.NewV7()).String(), ix.ID, from, agentID, text,
				accepted.Add(time.Duration(j)*time.Minute).UnixMilli()); err != nil {
				b.Fatal(err)
			}
		}
		last = ix
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	got, err := m.Store.Interaction(ctx, last.ID)
	if err != nil || got.State != workspace.Completed || got.AgentID != last.AgentID {
		b.Fatalf("history as the store reads it: %+v, %v", got, err)
	}
	if count, err := m.Store.CountMessages(ctx, last.ID); err != nil || count != historyMessages {
		b.Fatalf("transcript as the store reads it: %d messages, %v", count, err)
	}
	fmt.Fprintf(os.Stdout, "\n(filled history with %d interactions and %d messages in %s)\n", n, n*historyMessages, time.Since(started).Round(time.Millisecond))
}
