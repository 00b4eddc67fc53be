package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// liveViewRun is how long the live-view cost run drives chats in each condition.
var liveViewRun = durationFlag("liveview-run", "BENCH_LIVEVIEW_RUN", 15*time.Second,
	"how long the live-view cost run drives chats without, and then with, the supervisor's socket, at 20 per second")

// liveSize is what the contact centre holds while the live view is read.
type liveSize struct {
	plans, agents, live, completed int
}

func (s liveSize) String() string {
	return fmt.Sprintf("%d plans, %d agents, %d live interactions, %d completed today", s.plans, s.agents, s.live, s.completed)
}

var (
	// fullSize is the issue's: 50 plans, 2,000 agents and 10,000 live interactions, with
	// 5,000 interactions completed today in history.
	fullSize = liveSize{plans: 50, agents: 2000, live: 10_000, completed: 5000}
	// mongoSize is what the MongoDB test engine (FerretDB on SQLite) can hold here: it scans
	// whole collections on every filter, and QueueFigures reads each plan's oldest waiting
	// interaction with a query of its own, so a QueueFigures of 250 live interactions in 50
	// plans takes seconds, and of 1,000 over ten.
	mongoSize = liveSize{plans: 50, agents: 100, live: 250, completed: 100}
)

const (
	// liveRunPlans of the seeded plans take the live run's chats. Nothing is seeded in them
	// and no seeded agent serves them: the run's routing reads its own agents alone.
	liveRunPlans = 5
	// liveRunAgents are signed in, READY, serve the run's plans and take its chats.
	liveRunAgents = 50
	// How long each chat of the live run stays ACTIVE, and in WRAP, before the next step.
	liveActive = time.Second
	liveWrap   = 250 * time.Millisecond
	// queueStatsSamples is how many times queueStats and each of its floors are measured,
	// after a tenth as many to warm up (5 on the MongoDB test engine).
	queueStatsSamples = 100
)

// What the supervisor's live view reads (the list of figures).
const (
	queueStatsFields    = `plan { id } waiting oldestWaitingSince offered active parked wrap agentsReady agentsNotReady completedToday medianHandleSecondsToday`
	qQueueStats         = `{ queueStats { ` + queueStatsFields + ` } }`
	qMeID               = `{ me { id } }`
	qQueueStatsUpdates  = `subscription { queueStatsUpdates { ` + queueStatsFields + ` } }`
	qAgentUpdates       = `subscription { agentUpdates { id name presence presenceSince capacity { channel max used } currentInteractions { id state channel } } }`
	liveViewSupervisor  = "admin" // the demo's supervisor
	liveViewSupervisorP = "demo"
)

// BenchmarkLiveView measures the supervisors' live view on a store holding the issue's
// contact centre (fullSize): 50 plans, 2,000 agents (half READY, 30% NOT_READY, the rest
// OFFLINE, three plans each), 10,000 live interactions (20% QUEUED, 5% OFFERED, 50% ACTIVE,
// 10% PARKED, 15% WRAP) and 5,000 completed today. On SQLite it measures, on one seeded node
// (seeding takes seconds, so both parts share it):
//
//  1. `queueStats` over loopback HTTP, p50 and p99, against its floor: the two store reads
//     it makes (Plans and QueueFigures) and a trivial GraphQL round trip with the same
//     session (`{ me { id } }`: the request, the session's check and the response), each
//     timed once per round, in the same rounds. One run of the node's own sweep (every
//     two seconds, on every node) is timed too: it is the CPU the node spends whatever the
//     load, and it shares the two cores with everything measured here.
//  2. The cost of keeping one supervisor's live view current while 20 new webchats a second
//     go through their whole life (liveViewCost).
//
// The MongoDB variant measures part 1 alone, and only when asked: on a real MongoDB named by
// MONGODB_URI at the full size, or with BENCH_MONGO_TEST_ENGINE=1 on the test engine
// (FerretDB on SQLite) at mongoSize; the test engine needs seconds for each QueueFigures, so
// `make bench` leaves it out. Run with -benchtime=1x.
func BenchmarkLiveView(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		m := startNode(b)
		defer m.Close()
		set := seedLiveView(b, m, fullSize, liveRunAgents)
		// The live run's agents: OFFLINE members of its plans until it signs them in.
		agents := createAgents(b, m, "live", liveRunAgents, set.runPlanIDs(), 4)
		reads := measureQueueStats(b, m, set, "sqlite", queueStatsSamples, true)
		liveViewCost(b, m, set, agents, reads)
	})
	b.Run("mongo", func(b *testing.B) {
		size, store, uri := fullSize, "MongoDB", mongotest.URI(b)
		if uri == "" {
			if os.Getenv("BENCH_MONGO_TEST_ENGINE") == "" {
				fmt.Fprintf(os.Stdout, "\nqueueStats on MongoDB: not measured (set MONGODB_URI for a real MongoDB, or BENCH_MONGO_TEST_ENGINE=1 for the test engine: minutes)\n")
				b.Skip("no MongoDB asked for")
			}
			size, store, uri = mongoSize, "mongo-test-engine", mongotest.Start(b)
		}
		m := startNode(b, func(c *server.Config) { c.MongoURI = uri })
		defer m.Close()
		set := seedLiveView(b, m, size, 0)
		n := queueStatsSamples
		if size != fullSize {
			n = 5
		}
		measureQueueStats(b, m, set, store, n, false)
	})
}

// measureQueueStats measures queueStats as the demo's supervisor against its floor, n rounds
// after a tenth as many to warm up, and prints them; with sweep, it also times the node's
// sweep. It returns the store reads of one queueStats (Plans + QueueFigures, per round).
func measureQueueStats(b *testing.B, m *server.Main, set *liveSet, store string, n int, sweep bool) Samples {
	b.Helper()
	ctx := b.Context()
	c := newClient(m)
	token := loginAs(b, c, liveViewSupervisor, liveViewSupervisorP)
	checkQueueStats(b, c, token, set)
	const (
		stepQueueStats = "queueStats over HTTP (all 11 figures)"
		stepPlans      = "store: Plans"
		stepFigures    = "store: QueueFigures"
		stepMe         = "GraphQL round trip: { me { id } }"
	)
	round := func(steps *Steps) error {
		return errors.Join(
			steps.Time(stepQueueStats, func() error { return c.do(ctx, token, qQueueStats, nil, nil) }),
			steps.Time(stepPlans, func() error { _, err := m.Store.Plans(ctx); return err }),
			steps.Time(stepFigures, func() error { _, err := m.Store.QueueFigures(ctx, midnight()); return err }),
			steps.Time(stepMe, func() error { return c.do(ctx, token, qMeID, nil, nil) }))
	}
	var warm, steps Steps
	for range max(2, n/10) {
		if err := round(&warm); err != nil {
			b.Fatal(err)
		}
	}
	for range n {
		if err := round(&steps); err != nil {
			b.Fatal(err)
		}
	}
	var sweeps Samples
	if sweep {
		var err error
		if sweeps, err = Measure(0, 3, func() error { return m.Service.Sweep(ctx) }); err != nil {
			b.Fatal(err)
		}
	}
	queueStats, figures := steps.By[stepQueueStats], steps.By[stepFigures]
	reads := steps.Totals(stepPlans, stepFigures)
	floor := steps.Totals(stepPlans, stepFigures, stepMe)
	w := os.Stdout
	fmt.Fprintf(w, "\nqueueStats on %s: %s (%d rounds, one of each step per round)\n", store, set.size, n)
	if set.size != fullSize {
		fmt.Fprintf(w, "  (not the issue's size: the test engine scans whole collections and takes seconds per QueueFigures)\n")
	}
	fmt.Fprintf(w, "  (seeded through the store in %s)\n", set.took.Round(time.Millisecond))
	for _, name := range steps.Names {
		Row(w, name, steps.By[name])
	}
	Row(w, "floor = Plans + QueueFigures + round trip", floor)
	Ratio(w, "queueStats / QueueFigures", queueStats, figures)
	Ratio(w, "queueStats / floor", queueStats, floor)
	if sweep {
		Row(w, "the node's sweep, every 2 s (3 runs)", sweeps)
	}
	prefix := store + "-"
	b.ReportMetric(float64(queueStats.Percentile(50).Microseconds()), prefix+"queueStats-p50-µs")
	b.ReportMetric(float64(queueStats.Percentile(99).Microseconds()), prefix+"queueStats-p99-µs")
	b.ReportMetric(float64(figures.Percentile(50).Microseconds()), prefix+"figures-p50-µs")
	b.ReportMetric(float64(queueStats.Percentile(99))/float64(floor.Percentile(99)), prefix+"x-floor-p99")
	return reads
}

// liveViewCost measures what keeping one supervisor's live view current costs, on the seeded
// node, while 20 new webchats a second arrive: the agents (liveRunAgents, serving the run's
// plans) sign in, go READY and take them through their whole life (startWebchat, the offer on
// the agent's socket, acceptOffer, a second ACTIVE, endInteraction, a quarter second in WRAP,
// completeInteraction). The same load runs without and with a supervisor's websocket
// subscribed to queueStatsUpdates and agentUpdates (with each agent's load and current
// interactions, as the live view shows them): half the time without it, then the whole time
// with it, then the other half without it, so a drift of the machine falls on both
// conditions alike. It prints the messages a second on the socket, and the process's CPU
// time per second of each condition. The node, the load and the socket's reader all run in
// this process; the reader locks its OS thread and measures its own CPU, which is taken out
// of the added CPU to give the server's. reads are the store reads of one push of the
// figures, measured before.
func liveViewCost(b *testing.B, m *server.Main, set *liveSet, agents []*workspace.Agent, reads Samples) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	c := newClient(m)
	planIDs := set.runPlanIDs()
	sessions := signIn(b, m, c, agents)
	defer closeAll(sessions)
	supervisor := loginAs(b, c, liveViewSupervisor, liveViewSupervisorP)

	// What the domain publishes for the live view, counted in both conditions alike.
	var queueEvents, agentEvents atomic.Int64
	m.Hub.Watch(ctx, workspace.QueueTopic, func(workspace.Event) { queueEvents.Add(1) })
	m.Hub.Watch(ctx, workspace.AgentsTopic, func(workspace.Event) { agentEvents.Add(1) })

	// Each offer is taken through the chat's life by a goroutine of its own.
	var errs firstError
	var readers, chats sync.WaitGroup
	var handling sync.Mutex // guards chats.Add against the final chats.Wait
	closed := false
	var started, completed atomic.Int64 // completed: finished, whatever the node answered
	var answered nodeErrors
	defer readers.Wait()
	defer cancel() // runs before readers.Wait
	readSockets(ctx, sessions, &readers, &errs, func(s *session, msg wsMessage, _ time.Time) error {
		ev, err := parseOffer(msg)
		if err != nil || ev.Kind != string(workspace.OfferOffered) {
			return err
		}
		handling.Lock()
		defer handling.Unlock()
		if closed {
			return nil
		}
		chats.Add(1)
		go func() {
			defer chats.Done()
			defer completed.Add(1) // done with, whatever the node answered
			errs.set(liveChat(ctx, c, s, ev, &answered))
		}()
		return nil
	})

	// New chats at offerRate, round the run's plans, until stop closes.
	stop := make(chan struct{})
	generated := make(chan struct{})
	go func() {
		defer close(generated)
		tick := time.NewTicker(time.Second / offerRate)
		defer tick.Stop()
		var wg sync.WaitGroup
		defer wg.Wait()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.do(ctx, "", qStartChat, map[string]any{"p": planIDs[i%len(planIDs)], "t": fmt.Sprintf("Hello, this is chat %d: where is my order?", i)}, nil); err != nil {
					errs.set(err)
					return
				}
				started.Add(1)
			}()
		}
	}()

	// phase measures the load for d, with the supervisor's socket open when sup is set.
	phase := func(d time.Duration, sup *supervisorSocket) liveWindow {
		w := liveWindow{queueEvents: -queueEvents.Load(), agentEvents: -agentEvents.Load(), started: -started.Load(), completed: -completed.Load()}
		var s0 supervisorCounts
		if sup != nil {
			s0 = sup.counts()
		}
		cpu0, t0 := cpu(), time.Now()
		time.Sleep(d)
		w.cpu, w.wall = cpu()-cpu0, time.Since(t0)
		w.queueEvents += queueEvents.Load()
		w.agentEvents += agentEvents.Load()
		w.started += started.Load()
		w.completed += completed.Load()
		if sup != nil {
			w.socket = sup.counts().minus(s0)
		}
		return w
	}
	time.Sleep(2 * time.Second) // warm-up: connections, caches, the first chats' whole life
	without := phase(*liveViewRun/2, nil)
	watchers := m.Hub.Watchers()
	sup, err := openSupervisor(ctx, m, supervisor)
	if err != nil {
		b.Fatal(err)
	}
	// The live view's three hub watchers are registered and the first figures have arrived.
	for deadline := time.Now().Add(10 * time.Second); m.Hub.Watchers() < watchers+3 || sup.counts().queue == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) || sup.failed() != nil {
			b.Fatalf("supervisor's socket: %d of 3 watchers registered, %d figures pushed, %v", m.Hub.Watchers()-watchers, sup.counts().queue, sup.failed())
		}
	}
	with := phase(*liveViewRun, sup)
	sup.close()
	if err := sup.failed(); err != nil {
		b.Fatal(err)
	}
	without = without.add(phase(*liveViewRun/2, nil))

	// The load stops; the chats started finish their life. A node that fell behind works
	// through its backlog, for 20 s at most (the run's budget): then the rest are left and
	// counted.
	close(stop)
	<-generated
	stopped := time.Now()
	for completed.Load() < started.Load() && errs.get() == nil && time.Since(stopped) < 20*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	drained, unfinished := time.Since(stopped), started.Load()-completed.Load()
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	cancel() // ends the chats left, and the agents' sockets
	handling.Lock()
	closed = true
	handling.Unlock()
	chats.Wait()
	answered.check(b.Context(), m.Store)

	w := os.Stdout
	perSec := func(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }
	fmt.Fprintf(w, "\nlive view cost on sqlite: the same store; %d READY agents take %d new webchats/s (start → offer → accept → %s ACTIVE → end → %s WRAP → complete)\n",
		liveRunAgents, offerRate, liveActive, liveWrap)
	fmt.Fprintf(w, "  (%s without the supervisor's socket, as two halves before and after %s with it; %d chats in all)\n",
		without.wall.Round(100*time.Millisecond), with.wall.Round(100*time.Millisecond), started.Load())
	if unfinished > 0 {
		fmt.Fprintf(w, "  (%d chats were still unfinished 20 s after the load stopped: the node fell behind)\n", unfinished)
	} else {
		fmt.Fprintf(w, "  (the last chat finished %s after the load stopped)\n", drained.Round(100*time.Millisecond))
	}
	fmt.Fprintf(w, "  %-44s %9s %9s\n", "", "without", "with")
	fmt.Fprintf(w, "  %-44s %9.1f %9.1f\n", "new chats/s", perSec(without.started, without.wall), perSec(with.started, with.wall))
	fmt.Fprintf(w, "  %-44s %9.1f %9.1f\n", "chats finished/s (below new: falling behind)", perSec(without.completed, without.wall), perSec(with.completed, with.wall))
	answered.print(w)
	fmt.Fprintf(w, "  %-44s %9.1f %9.1f\n", "events published/s on QueueTopic", perSec(without.queueEvents, without.wall), perSec(with.queueEvents, with.wall))
	fmt.Fprintf(w, "  %-44s %9.1f %9.1f\n", "events published/s on AgentsTopic", perSec(without.agentEvents, without.wall), perSec(with.agentEvents, with.wall))
	cpuWithout, cpuWith := without.cpu.Seconds()/without.wall.Seconds(), with.cpu.Seconds()/with.wall.Seconds()
	fmt.Fprintf(w, "  %-44s %9.3f %9.3f\n", "process CPU-s per wall s (node + load)", cpuWithout, cpuWith)
	for _, c := range []struct {
		name string
		w    liveWindow
	}{{"without", without}, {"with", with}} {
		if float64(c.w.completed) < 0.9*float64(c.w.started) {
			fmt.Fprintf(w, "  (%s the socket, the node fell behind the load: the CPU figures below compare unlike work)\n", c.name)
		}
	}
	s := with.socket
	fmt.Fprintf(w, "the supervisor's socket, per second:\n")
	fmt.Fprintf(w, "  %-44s %9.1f msg/s %9.1f KB/s\n", "all messages", perSec(s.queue+s.agents, with.wall), perSec(s.queueBytes+s.agentBytes, with.wall)/1024)
	fmt.Fprintf(w, "  %-44s %9.1f msg/s %9.1f KB/s\n", "queueStatsUpdates (at most 4/s by design)", perSec(s.queue, with.wall), perSec(s.queueBytes, with.wall)/1024)
	fmt.Fprintf(w, "  %-44s %9.1f msg/s %9.1f KB/s\n", "agentUpdates", perSec(s.agents, with.wall), perSec(s.agentBytes, with.wall)/1024)
	readerCPU := s.readerCPU.Seconds() / with.wall.Seconds()
	added := cpuWith - cpuWithout - readerCPU
	fmt.Fprintf(w, "CPU added by the live view:\n")
	fmt.Fprintf(w, "  %-44s %9.3f CPU-s/s\n", "process: with − without", cpuWith-cpuWithout)
	if threadCPUMeasured {
		fmt.Fprintf(w, "  %-44s %9.3f CPU-s/s\n", "of which the socket's reader (client side)", readerCPU)
	} else {
		fmt.Fprintf(w, "  %-44s %9s\n", "of which the socket's reader (client side)", "not measured on "+runtime.GOOS)
	}
	fmt.Fprintf(w, "  %-44s %9.3f CPU-s/s = %.1f%% of one core, %+.0f%% on the process without\n", "the server's added CPU", added, 100*added, 100*added/cpuWithout)
	if msgs := s.queue + s.agents; msgs > 0 {
		fmt.Fprintf(w, "  %-44s %9s\n", "the server's added CPU per message", round(time.Duration(added*with.wall.Seconds()/float64(msgs)*float64(time.Second))))
	}
	fmt.Fprintf(w, "  %-44s %9.3f s/s  (Plans + QueueFigures p50 %s, measured above)\n", "queueStats pushes/s × their store reads' p50",
		perSec(s.queue, with.wall)*reads.Percentile(50).Seconds(), round(reads.Percentile(50)))
	b.ReportMetric(perSec(s.queue+s.agents, with.wall), "msg/s")
	b.ReportMetric(perSec(s.queue, with.wall), "queue-msg/s")
	b.ReportMetric(perSec(s.agents, with.wall), "agent-msg/s")
	b.ReportMetric(cpuWithout, "cpu-without")
	b.ReportMetric(cpuWith, "cpu-with")
	b.ReportMetric(100*added, "added-cpu-%")
}

// liveWindow is what one stretch of the live-view cost run measured.
type liveWindow struct {
	wall, cpu                                    time.Duration
	started, completed, queueEvents, agentEvents int64
	socket                                       supervisorCounts
}

func (w liveWindow) add(o liveWindow) liveWindow {
	return liveWindow{
		wall: w.wall + o.wall, cpu: w.cpu + o.cpu,
		started: w.started + o.started, completed: w.completed + o.completed, queueEvents: w.queueEvents + o.queueEvents, agentEvents: w.agentEvents + o.agentEvents,
		socket: supervisorCounts{
			queue: w.socket.queue + o.socket.queue, agents: w.socket.agents + o.socket.agents,
			queueBytes: w.socket.queueBytes + o.socket.queueBytes, agentBytes: w.socket.agentBytes + o.socket.agentBytes,
			readerCPU: w.socket.readerCPU + o.socket.readerCPU,
		},
	}
}

// liveChat takes an offered chat through the rest of its life as its agent: accept, a while
// ACTIVE, end, a while in WRAP, complete (the run's plans need no disposition). When the node
// answers a step with an error, the chat stops there and the error is tallied in answered;
// an error of the transport is returned.
func liveChat(ctx context.Context, c *gqlClient, s *session, ev offerEvent, answered *nodeErrors) error {
	ix := map[string]any{"i": ev.InteractionID}
	steps := []struct {
		name, query string
		vars        map[string]any
		then        time.Duration
	}{
		{"acceptOffer", qAccept, map[string]any{"o": ev.OfferID}, liveActive},
		{"endInteraction", qEnd, ix, liveWrap},
		{"completeInteraction", qComplete, ix, 0},
	}
	for _, st := range steps {
		if err := c.do(ctx, s.token, st.query, st.vars, nil); err != nil {
			code := errorCode.FindStringSubmatch(err.Error())
			if code == nil {
				return fmt.Errorf("%s: %w", s.agent.Username, err)
			}
			answered.add(st.name, code[1], ev.InteractionID, err)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(st.then):
		}
	}
	return nil
}

// errorCode finds the code of an error the node answered (a top-level error's or a
// userError's).
var (
	errorCode    = regexp.MustCompile(`"code":"([A-Z_]+)"`)
	errorMessage = regexp.MustCompile(`"message":"([^"]*)"`)
)

// nodeErrors tallies the errors the node answered to the run's operations, by operation and
// code, with the first message of each, and checks afterwards what became of the
// interactions whose completeInteraction failed.
type nodeErrors struct {
	mu        sync.Mutex
	keys      []string
	n         map[string]int
	first     map[string]string
	completes []string // interactions whose completeInteraction answered an error
	completed int      // of those, how many are COMPLETED all the same
}

func (e *nodeErrors) add(op, code, interactionID string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := op + " " + code
	if e.n == nil {
		e.n, e.first = map[string]int{}, map[string]string{}
	}
	if e.n[key] == 0 {
		e.keys = append(e.keys, key)
		e.first[key] = err.Error()
		if m := errorMessage.FindStringSubmatch(err.Error()); m != nil {
			e.first[key] = m[1]
		}
	}
	e.n[key]++
	if op == "completeInteraction" {
		e.completes = append(e.completes, interactionID)
	}
}

// check reads the interactions whose completeInteraction failed.
func (e *nodeErrors) check(ctx context.Context, st workspace.Store) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range e.completes {
		if ix, err := st.Interaction(ctx, id); err == nil && ix.State == workspace.Completed {
			e.completed++
		}
	}
}

func (e *nodeErrors) print(w io.Writer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.keys) == 0 {
		fmt.Fprintf(w, "  %-44s %9s\n", "errors the node answered", "none")
		return
	}
	for _, key := range e.keys {
		fmt.Fprintf(w, "  %-44s %9d  first: %s\n", "error answered: "+key, e.n[key], e.first[key])
	}
	if len(e.completes) > 0 {
		fmt.Fprintf(w, "  %-44s %9d of %d\n", "  completed all the same (read afterwards)", e.completed, len(e.completes))
	}
}

// supervisorSocket is a supervisor's websocket subscribed to queueStatsUpdates (id "q") and
// agentUpdates (id "a"), read by a goroutine that counts the messages and their bytes. That
// goroutine keeps its OS thread and notes the thread's CPU time after each message, so the
// client's share of the socket's cost can be told from the server's.
type supervisorSocket struct {
	ws     *wsConn
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	n      supervisorCounts
	cpu0   time.Duration // the reader's thread CPU when it started
	err    error
}

// supervisorCounts are the messages of each subscription, their bytes, and the reader's CPU.
type supervisorCounts struct {
	queue, agents, queueBytes, agentBytes int64
	readerCPU                             time.Duration
}

func (c supervisorCounts) minus(o supervisorCounts) supervisorCounts {
	return supervisorCounts{queue: c.queue - o.queue, agents: c.agents - o.agents,
		queueBytes: c.queueBytes - o.queueBytes, agentBytes: c.agentBytes - o.agentBytes, readerCPU: c.readerCPU - o.readerCPU}
}

func openSupervisor(ctx context.Context, m *server.Main, token string) (*supervisorSocket, error) {
	ctx, cancel := context.WithCancel(ctx)
	ws, err := openWS(ctx, m, token)
	if err != nil {
		cancel()
		return nil, err
	}
	if err := errors.Join(ws.subscribe(ctx, "q", qQueueStatsUpdates, nil), ws.subscribe(ctx, "a", qAgentUpdates, nil)); err != nil {
		cancel()
		ws.close()
		return nil, err
	}
	s := &supervisorSocket{ws: ws, cancel: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go s.read(ctx, ready)
	<-ready
	return s, nil
}

func (s *supervisorSocket) read(ctx context.Context, ready chan<- struct{}) {
	defer close(s.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s.cpu0 = threadCPU()
	close(ready)
	for {
		_, data, err := s.ws.conn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.fail(fmt.Errorf("supervisor's websocket: %w", err))
			}
			return
		}
		var msg wsMessage
		if err := json.Unmarshal(data, &msg); err != nil {
			s.fail(fmt.Errorf("supervisor's websocket: %w: %s", err, data))
			return
		}
		switch {
		case msg.Type == "ping":
			if err := s.ws.send(ctx, map[string]string{"type": "pong"}); err != nil && ctx.Err() == nil {
				s.fail(err)
				return
			}
		case msg.Type == "pong":
		case msg.Type != "next" || (msg.ID != "q" && msg.ID != "a") || strings.Contains(string(msg.Payload), `"errors":`):
			s.fail(fmt.Errorf("supervisor's subscription %q: %s %s", msg.ID, msg.Type, msg.Payload))
			return
		}
		cpu := threadCPU() - s.cpu0
		s.mu.Lock()
		switch {
		case msg.Type == "next" && msg.ID == "q":
			s.n.queue++
			s.n.queueBytes += int64(len(data))
		case msg.Type == "next":
			s.n.agents++
			s.n.agentBytes += int64(len(data))
		}
		s.n.readerCPU = cpu
		s.mu.Unlock()
	}
}

func (s *supervisorSocket) counts() supervisorCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *supervisorSocket) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *supervisorSocket) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *supervisorSocket) close() {
	s.cancel()
	s.ws.close()
	<-s.done
}

// liveSet is what seedLiveView stored.
type liveSet struct {
	size liveSize
	// plans are the plans seeded, after the demo's; runPlans are the first liveRunPlans of
	// them, which hold nothing seeded and which no seeded agent serves.
	plans, runPlans []*workspace.Plan
	// states counts the live interactions seeded by state.
	states map[workspace.InteractionState]int
	took   time.Duration
}

// runPlanIDs are the IDs of the run's plans.
func (s *liveSet) runPlanIDs() []string {
	ids := make([]string, len(s.runPlans))
	for i, p := range s.runPlans {
		ids[i] = p.ID
	}
	return ids
}

// seedLiveView fills the node's store, directly through workspace.Store, up to size: plans
// (copies of the demo's Sales taking every channel), agents, live interactions and
// interactions completed today, leaving room for reserve agents the caller adds. The demo's
// plans and agents count towards the size.
//
// Agents serve three plans each, of the plans after the run's (liveRunPlans), where every
// interaction seeded is; half are READY, 30% NOT_READY, 20% OFFLINE. The live interactions
// are 20% QUEUED (waiting up to half an hour), 5% OFFERED, 50% ACTIVE, 10% PARKED and 15% WRAP; 70% are webchats, 20% SMS, 10% email.
// The offered, active and wrapping ones are held by READY and NOT_READY agents, whose
// capacity per channel is set to what they hold: every seeded agent is full, so the node's
// routing has nobody to offer the queue to and the figures hold still while they are read.
// The seeded records carry no timers (DueAt is zero), for the same reason. The completions
// are spread over the day so far (at most the last eight hours) and put in history by
// ArchiveInteraction, as the domain's last step of completing does (the live record it
// would delete was never written).
func seedLiveView(b *testing.B, m *server.Main, size liveSize, reserve int) *liveSet {
	b.Helper()
	ctx := b.Context()
	st := m.Store
	now := time.Now()
	demoPlans, err := st.Plans(ctx)
	if err != nil {
		b.Fatal(err)
	}
	demoAgents, err := st.Agents(ctx)
	if err != nil {
		b.Fatal(err)
	}
	set := &liveSet{size: size, states: map[workspace.InteractionState]int{}}
	sales := planNamed(b, m, "Sales")
	for i := range size.plans - len(demoPlans) {
		p := *sales
		p.ID, p.Name, p.CreatedAt, p.Version = uuid.NewString(), fmt.Sprintf("Queue %02d", i+1), now, 0
		p.Channels = slices.Clone(workspace.Channels)
		if err := st.CreatePlan(ctx, &p); err != nil {
			b.Fatal(err)
		}
		set.plans = append(set.plans, &p)
	}
	set.runPlans = set.plans[:liveRunPlans]
	served := set.plans[liveRunPlans:] // the seeded agents' and interactions'
	k := len(served)

	hash, err := bcrypt.GenerateFromPassword([]byte(agentPassword), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	agents := make([]*workspace.Agent, size.agents-len(demoAgents)-reserve)
	var online []*workspace.Agent
	for i := range agents {
		presence := workspace.Ready
		switch {
		case i%10 >= 8:
			presence = workspace.Offline
		case i%10 >= 5:
			presence = workspace.NotReady
		}
		a := &workspace.Agent{
			ID: uuid.NewString(), Username: fmt.Sprintf("seat-%04d", i), Name: fmt.Sprintf("Seat %d", i), PasswordHash: hash,
			Role: workspace.RoleAgent, Presence: presence, PresenceSince: now.Add(-time.Duration(60+i%3600) * time.Second),
			Capacity: map[workspace.Channel]int{}, CreatedAt: now.Add(-30 * 24 * time.Hour),
			PlanIDs: []string{served[i%k].ID, served[(i+k/3)%k].ID, served[(i+2*k/3)%k].ID},
		}
		for _, ch := range workspace.Channels {
			a.Capacity[ch] = 0
		}
		agents[i] = a
		if presence != workspace.Offline {
			online = append(online, a)
		}
	}

	live := make([]*workspace.Interaction, 0, size.live)
	held, parked := 0, 0
	for j := range size.live {
		ch := workspace.Webchat
		switch j % 10 {
		case 7, 8:
			ch = workspace.SMS
		case 9:
			ch = workspace.Email
		}
		created := now.Add(-time.Duration(60+j%1800) * time.Second)
		offered, accepted, ended := created.Add(5*time.Second), created.Add(10*time.Second), now.Add(-20*time.Second)
		ix := &workspace.Interaction{ID: uuid.NewString(), Channel: ch, Direction: workspace.Inbound, CreatedAt: created,
			Contact: workspace.Contact{Address: fmt.Sprintf("contact-%05d", j), Name: "Contact"}}
		if ch == workspace.Webchat {
			ix.ContactTokenHash = workspace.HashToken(ix.ID)
		}
		switch r := j % 20; {
		case r < 4:
			ix.State, ix.PlanID, ix.QueuedAt = workspace.Queued, served[j%k].ID, &created
		case r == 15 || r == 16: // parked by their agent: no capacity used (K1)
			a := online[parked%len(online)]
			parked++
			parkedAt := created.Add(30 * time.Second)
			until := parkedAt.Add(time.Hour)
			ix.State, ix.AgentID, ix.PlanID, ix.OfferSeq, ix.OfferedAt, ix.AcceptedAt = workspace.Parked, a.ID, a.PlanIDs[parked%3], 1, &offered, &accepted
			ix.ParkedAt, ix.ParkedUntil, ix.ParkedBy = &parkedAt, &until, a.ID
		default:
			a := online[held%len(online)]
			held++
			ix.AgentID, ix.PlanID, ix.OfferSeq, ix.OfferedAt = a.ID, a.PlanIDs[held%3], 1, &offered
			switch {
			case r == 4:
				ix.State = workspace.Offered
			case r < 15:
				ix.State, ix.AcceptedAt = workspace.Active, &accepted
			default:
				ix.State, ix.AcceptedAt, ix.EndedAt, ix.EndedBy = workspace.Wrap, &accepted, &ended, workspace.PartyContact
			}
			a.Holds = append(a.Holds, workspace.Hold{InteractionID: ix.ID, Channel: ch, Since: offered})
			a.Capacity[ch]++
		}
		set.states[ix.State]++
		live = append(live, ix)
	}

	// The interactions first: the node's sweep releases a hold older than ten seconds whose
	// interaction it cannot find, and would then route the queue to the agent.
	started := time.Now()
	for _, ix := range live {
		if err := st.CreateInteraction(ctx, ix); err != nil {
			b.Fatal(err)
		}
	}
	for _, a := range agents {
		if err := st.CreateAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	span := max(0, min(8*time.Hour, now.Sub(midnight())-time.Minute))
	for i := range size.completed {
		a := online[i%len(online)]
		done := now.Add(-time.Duration(float64(span) * float64(i) / float64(size.completed)))
		accepted := done.Add(-time.Duration(60+i%600) * time.Second)
		created, offered, ended := accepted.Add(-10*time.Second), accepted.Add(-5*time.Second), done.Add(-30*time.Second)
		ix := &workspace.Interaction{ID: uuid.NewString(), Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Completed,
			Contact: workspace.Contact{Address: fmt.Sprintf("done-%05d", i), Name: "Contact"}, AgentID: a.ID, PlanID: a.PlanIDs[i%3],
			CreatedAt: created, AcceptedAt: &accepted, EndedAt: &ended, EndedBy: workspace.PartyAgent, CompletedAt: &done,
			Dispositions: []string{"SALE"}, OfferSeq: 1, OfferedAt: &offered, ContactTokenHash: workspace.HashToken(uuid.NewString())}
		if err := st.ArchiveInteraction(ctx, ix); err != nil {
			b.Fatal(err)
		}
	}
	set.took = time.Since(started)

	// The store counts what was seeded, or a change of schema or of QueueFigures fails here.
	figures, err := st.QueueFigures(ctx, midnight())
	if err != nil {
		b.Fatal(err)
	}
	states, completed := map[workspace.InteractionState]int{}, 0
	for _, f := range figures {
		for state, n := range f.States {
			states[state] += n
		}
		completed += f.Completed
	}
	if fmt.Sprint(states) != fmt.Sprint(set.states) || completed != size.completed {
		b.Fatalf("QueueFigures after seeding: states %v, %d completed today; seeded %v and %d", states, completed, set.states, size.completed)
	}
	return set
}

// checkQueueStats reads queueStats once and checks that it shows every plan and what was
// seeded.
func checkQueueStats(b *testing.B, c *gqlClient, token string, set *liveSet) {
	b.Helper()
	var out struct {
		QueueStats []struct {
			Plan                                                   struct{ ID string }
			Waiting, Offered, Active, Parked, Wrap, CompletedToday int
			AgentsReady, AgentsNotReady                            int
			OldestWaitingSince                                     *time.Time
			MedianHandleSecondsToday                               *int
		}
	}
	if err := c.do(b.Context(), token, qQueueStats, nil, &out); err != nil {
		b.Fatal(err)
	}
	var waiting, completed, ready int
	for _, q := range out.QueueStats {
		waiting += q.Waiting
		completed += q.CompletedToday
		ready += q.AgentsReady
	}
	if len(out.QueueStats) != set.size.plans || waiting != set.states[workspace.Queued] || completed != set.size.completed || ready == 0 {
		b.Fatalf("queueStats: %d plans, %d waiting, %d completed today, %d READY members; want %d, %d, %d",
			len(out.QueueStats), waiting, completed, ready, set.size.plans, set.states[workspace.Queued], set.size.completed)
	}
}

// loginAs signs in over GraphQL and returns the session's token.
func loginAs(b *testing.B, c *gqlClient, username, password string) string {
	b.Helper()
	var login struct{ Login struct{ Token string } }
	if err := c.do(b.Context(), "", `mutation($u: String!, $p: String!) { login(input:{username:$u, password:$p}) { token userErrors { code } } }`,
		map[string]any{"u": username, "p": password}, &login); err != nil {
		b.Fatal(err)
	}
	return login.Login.Token
}

// midnight is the start of today on the node's clock, as the live view counts "today".
func midnight() time.Time {
	now := time.Now().Local()
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
}
