package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// crmCycles is how many interaction cycles the outbox-cost benchmark replays each way.
const crmCycles = 300

// BenchmarkCRMOutboxCost replays the store writes of one full webchat cycle on SQLite
// (cycleWrites, the full-cycle benchmark's floor) with each change's and message's event
// written in its transaction (the outbox, as the domain makes the writes since issue 18) and
// without events: the ratio is what the outbox adds to a cycle's writes, the writes being
// what bounds SQLite's rate. Both include what change tracking costs every write anyway
// (updatedAt, moved by each message's append).
func BenchmarkCRMOutboxCost(b *testing.B) {
	ctx := b.Context()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	agent := &workspace.Agent{ID: uuid.NewString(), Username: "crm-bench", Name: "CRM Bench", PasswordHash: []byte("-"),
		Role: workspace.RoleAgent, Presence: workspace.Ready, PresenceSince: time.Now(), CreatedAt: time.Now(),
		Capacity: map[workspace.Channel]int{workspace.Webchat: 1000}, PlanIDs: []string{"plan"}}
	if err := st.CreateAgent(ctx, agent); err != nil {
		b.Fatal(err)
	}
	plain, outbox := make(Samples, 0, crmCycles), make(Samples, 0, crmCycles)
	for i := range 2 * crmCycles {
		withEvents := i%2 == 1 // interleaved, so both see the same database size
		var steps Steps
		if err := cycleWrites(ctx, st, agent, "plan", withEvents, &steps); err != nil {
			b.Fatal(err)
		}
		if withEvents {
			outbox = append(outbox, steps.Spent())
		} else {
			plain = append(plain, steps.Spent())
		}
	}
	w := os.Stdout
	fmt.Fprintf(w, "\nCRM outbox cost on sqlite: the store writes of one webchat cycle, %d cycles each way\n", crmCycles)
	Row(w, "cycle writes without events", plain)
	Row(w, "cycle writes with their events (outbox)", outbox)
	Ratio(w, "with / without", outbox, plain)
	b.ReportMetric(float64(outbox.Percentile(50))/float64(plain.Percentile(50)), "x-p50")
}

// webhookRate is how many chats a second the latency run starts.
const webhookRate = 20

// webhookRun is how long it starts them.
var webhookRun = durationFlag("webhook-run", "BENCH_WEBHOOK_RUN", 5*time.Second, "how long the webhook latency run starts chats")

// BenchmarkWebhookDelivery measures, on one node on SQLite with a receiver on loopback:
// the latency from an event's time to its arrival at the receiver while visitors start 20
// chats a second (each a CREATED and a MESSAGE event); then the deliveries per second of a
// backlog of events to that receiver, against the floor of plain loopback POSTs of the same
// bodies to it, one after another, in the same run.
func BenchmarkWebhookDelivery(b *testing.B) {
	ctx := b.Context()
	m := startNode(b, func(c *server.Config) {
		c.Webhooks.AllowLoopback, c.WebhookPoll = true, 100*time.Millisecond
	})
	defer m.Close()
	c := newClient(m)

	var mu sync.Mutex
	gate := make(chan struct{})
	var latencies Samples
	var bodies [][]byte
	delivered := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		body, _ := io.ReadAll(r.Body)
		var at struct{ At time.Time }
		_ = json.Unmarshal(body, &at)
		mu.Lock()
		delivered++
		latencies = append(latencies, time.Since(at.At))
		if len(bodies) < 1000 {
			bodies = append(bodies, body)
		}
		mu.Unlock()
	}))
	defer recv.Close()
	var login struct{ Login struct{ Token string } }
	if err := c.do(ctx, "", `mutation { login(input:{username:"admin", password:"demo"}) { token userErrors { code } } }`, nil, &login); err != nil {
		b.Fatal(err)
	}
	admin := login.Login.Token
	var created struct {
		CreateWebhook struct{ Secret string }
	}
	if err := c.do(ctx, admin, `mutation($u: String!) { createWebhook(input:{url:$u, kinds:[CREATED, MESSAGE]}) { secret userErrors { code message } } }`,
		map[string]any{"u": recv.URL}, &created); err != nil || created.CreateWebhook.Secret == "" {
		b.Fatalf("createWebhook: %v %+v", err, created)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return delivered }
	startChat := func(i int) error {
		return c.do(ctx, "", qStartChat, map[string]any{"t": fmt.Sprint("chat ", i)}, nil)
	}

	// A backlog first: the receiver holds the first delivery until every chat is started.
	const backlog = 500 // chats: 1,000 events
	for i := range backlog {
		if err := startChat(i); err != nil {
			b.Fatal(err)
		}
	}
	started := time.Now()
	close(gate)
	for count() < 2*backlog {
		if time.Since(started) > 5*time.Minute {
			b.Fatalf("%d of %d delivered after 5 minutes", count(), 2*backlog)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(started)
	rate := float64(2*backlog) / elapsed.Seconds()

	// The floor: the same bodies POSTed to the same receiver over loopback, one by one.
	mu.Lock()
	floorBodies := bodies
	mu.Unlock()
	client := &http.Client{}
	floor, err := Measure(50, len(floorBodies), func() error {
		res, err := client.Post(recv.URL, "application/json", bytes.NewReader(floorBodies[0]))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		return res.Body.Close()
	})
	if err != nil {
		b.Fatal(err)
	}
	floorRate := float64(time.Second) / float64(floor.Mean())

	// Latency at a steady 20 chats a second.
	mu.Lock()
	latencies, delivered = nil, 0
	mu.Unlock()
	sent := 0
	tick := time.NewTicker(time.Second / webhookRate)
	until := time.Now().Add(*webhookRun)
	for time.Now().Before(until) {
		<-tick.C
		if err := startChat(backlog + sent); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	tick.Stop()
	for count() < 2*sent {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	lat := latencies
	mu.Unlock()

	w := os.Stdout
	fmt.Fprintf(w, "\nwebhook delivery on sqlite to a receiver on loopback\n")
	Row(w, fmt.Sprintf("event → delivered at %d chats/s (%d events)", webhookRate, len(lat)), lat)
	fmt.Fprintf(w, "  %-44s %9.0f ev/s  (%d events in %s)\n", "backlog delivered to a fast receiver", rate, 2*backlog, round(elapsed))
	Row(w, "floor: one plain loopback POST", floor)
	fmt.Fprintf(w, "  %-44s %9.0f ev/s\n", "floor throughput (1 / mean POST)", floorRate)
	fmt.Fprintf(w, "  %-44s %9.2fx\n", "floor throughput / delivery throughput", floorRate/rate)
	b.ReportMetric(rate, "ev/s")
	b.ReportMetric(floorRate/rate, "x-floor")
	b.ReportMetric(float64(lat.Percentile(50))/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(lat.Percentile(99))/float64(time.Millisecond), "p99-ms")
}
