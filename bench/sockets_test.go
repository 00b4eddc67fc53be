package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/coder/websocket/wsjson"
)

// The memory an idle agent costs the server (issue 14 §4): the binary runs as a child
// process, so its resident set holds the server's memory alone, and N agents sign in and open
// the desk's websocket with the subscription the SPA keeps open while idle (deskEvents: offers,
// interaction updates, unpark notifications, transfer results, delivery updates). The figure is the
// growth of the server's RSS from before the first socket to after the last, per socket.

var socketCount = flag.Int("sockets", envInt("AGENTDESK_BENCH_SOCKETS", 5000), "idle agent sockets BenchmarkIdleAgentSockets opens (env AGENTDESK_BENCH_SOCKETS)")

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// deskSubscriptions are what the SPA subscribes to on an idle desk: its five feeds on one
// subscription (Subscription.deskEvents).
var deskSubscriptions = []string{
	`subscription { deskEvents { offer { kind offer { id } } interactionUpdate { id state }
		unpark { interaction { id } } transferResult { interaction { id } } deliveryUpdate { id delivery } } }`,
}

func BenchmarkIdleAgentSockets(b *testing.B) {
	ctx := b.Context()
	n := *socketCount
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	seedAgents(b, data, n)

	bin := filepath.Join(dir, "agentdesk")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/agentdesk/agentdesk/cmd/agentdesk").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", data, "-demo",
		"-max-anonymous-sockets-per-ip", "0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if v := os.Getenv("AGENTDESK_BENCH_GODEBUG"); v != "" { // e.g. memprofilerate=4096 for a finer heap profile
		cmd.Env = append(cmd.Env, "GODEBUG="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		b.Fatal("no start-up line")
	}
	_, rest, ok := strings.Cut(lines.Text(), "listening on ")
	if !ok {
		b.Fatalf("start-up line %q", lines.Text())
	}
	base := strings.Fields(rest)[0]
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "metrics on ") {
		b.Fatalf("no metrics line: %q", lines.Text())
	}
	metrics := strings.TrimSuffix(strings.TrimPrefix(lines.Text(), "metrics on "), "/metrics")
	go func() {
		for lines.Scan() {
		}
	}()
	c := clientAt(base)

	// Sign everyone in first, so that what the sockets add is all that grows.
	tokens := make([]string, n)
	var wg sync.WaitGroup
	var errs firstError
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				var login struct{ Login struct{ Token string } }
				errs.set(c.do(ctx, "", `mutation($u: String!, $p: String!) { login(input:{username:$u, password:$p}) { token userErrors { code } } }`,
					map[string]any{"u": fmt.Sprintf("idle-%05d", i), "p": agentPassword}, &login))
				tokens[i] = login.Login.Token
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	pid := cmd.Process.Pid
	// What the sockets hold, not the garbage their opening left: the server's runtime
	// collects a few times (as it does by itself at least every two minutes, so an idle
	// server gets there within minutes), then its scavenger hands the freed pages back.
	settle := func() int {
		for range 4 { // each collection also halves the stacks of goroutines using under a quarter of theirs
			res, err := http.Get(metrics + "/debug/pprof/heap?gc=1")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			time.Sleep(time.Second)
		}
		time.Sleep(4 * time.Second)
		return processRSS(b, pid)
	}
	before := settle()
	runtimeBefore := runtimeFigures(b, metrics)
	profiles := os.Getenv("AGENTDESK_BENCH_PROFILES")
	if profiles != "" {
		saveProfiles(b, metrics, profiles, "before-", "heap", "goroutine")
	}

	conns := make([]*wsConn, n)
	pongs := make([]chan struct{}, n)
	work = make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				w, err := dialDesk(ctx, base, tokens[i])
				errs.set(err)
				conns[i] = w
				if w != nil {
					pongs[i] = make(chan struct{}, 1)
					go keepReading(ctx, w, pongs[i])
				}
			}
		})
	}
	start := time.Now()
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	opened := time.Since(start)
	defer func() {
		for _, w := range conns {
			if w != nil {
				w.close()
			}
		}
	}()
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	// Every subscription is registered once a request on each socket's heels is answered:
	// a ping after the subscribes comes back after the server read them.
	for i, w := range conns {
		if err := w.send(ctx, map[string]string{"type": "ping"}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-pongs[i]:
		case <-time.After(30 * time.Second):
			b.Fatalf("socket %d: no pong", i)
		}
	}
	after := settle()
	runtimeAfter := runtimeFigures(b, metrics)
	if profiles != "" {
		saveProfiles(b, metrics, profiles, "", "heap", "goroutine")
		fmt.Fprintf(os.Stdout, "\nprofiles in %s (go tool pprof -sample_index=inuse_space -diff_base %[1]s/before-heap.pb.gz %[1]s/heap.pb.gz)\n", profiles)
	}
	per := float64(after-before) / float64(n)
	perSocket := func(name string) float64 { return (runtimeAfter[name] - runtimeBefore[name]) / float64(n) }
	w := os.Stdout
	fmt.Fprintf(w, "\nidle agent sockets: %d, each with the desk's %d subscriptions (opened in %s)\n", n, len(deskSubscriptions), opened.Round(time.Millisecond))
	fmt.Fprintf(w, "  server RSS before the sockets  %8d KiB\n", before)
	fmt.Fprintf(w, "  server RSS with them           %8d KiB\n", after)
	fmt.Fprintf(w, "  per connected agent            %8.1f KiB (aim: at most 64 KiB, %d sockets in at most 500 MB)\n", per, n)
	fmt.Fprintf(w, "    goroutines                   %8.2f\n", perSocket("go_goroutines"))
	fmt.Fprintf(w, "    goroutine stacks             %8.1f KiB\n", perSocket("go_memstats_stack_inuse_bytes")/1024)
	fmt.Fprintf(w, "    heap in use                  %8.1f KiB (objects %.1f KiB)\n", perSocket("go_memstats_heap_inuse_bytes")/1024, perSocket("go_memstats_heap_alloc_bytes")/1024)
	fmt.Fprintf(w, "    heap free, not yet returned  %8.1f KiB\n", (perSocket("go_memstats_heap_idle_bytes")-perSocket("go_memstats_heap_released_bytes"))/1024)
	b.ReportMetric(perSocket("go_goroutines"), "goroutines/socket")
	b.ReportMetric(per, "KiB/socket")
	runtime.KeepAlive(conns)
}

// dialDesk opens one desk socket as the SPA does: connection_init with the token, then the
// idle desk's subscriptions.
func dialDesk(ctx context.Context, base, token string) (*wsConn, error) {
	w, err := openWSAt(ctx, base, token, 30*time.Second)
	if err != nil {
		return nil, err
	}
	for i, q := range deskSubscriptions {
		if err := w.subscribe(ctx, strconv.Itoa(i), q, nil); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

// keepReading reads an idle desk's socket until it closes, as the SPA's browser does: that
// answers the server's protocol pings (the client library answers them only while reading),
// without which the server rightly drops the socket as a dead peer within two ping
// intervals. A graphql-transport-ws pong goes to pongs.
func keepReading(ctx context.Context, w *wsConn, pongs chan<- struct{}) {
	for {
		var msg wsMessage
		if err := wsjson.Read(ctx, w.conn, &msg); err != nil {
			return
		}
		if msg.Type == "pong" {
			select {
			case pongs <- struct{}{}:
			default:
			}
		}
	}
}

// seedAgents creates the demo data and n agents of the Sales plan in a data folder, before
// the binary opens it.
func seedAgents(b *testing.B, data string, n int) {
	ctx := b.Context()
	if err := os.MkdirAll(data, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := workspace.NewService(st, workspace.NewHub(16), workspace.SystemClock{})
	s.BcryptCost = 4
	if err := s.SeedDemo(ctx); err != nil {
		b.Fatal(err)
	}
	plans, err := st.Plans(ctx)
	if err != nil || len(plans) == 0 {
		b.Fatal("no demo plans", err)
	}
	for i := range n {
		if _, err := s.CreateAgent(ctx, workspace.NewAgent{Username: fmt.Sprintf("idle-%05d", i), Name: fmt.Sprintf("Idle %d", i),
			Password: agentPassword, PlanIDs: []string{plans[0].ID}}); err != nil {
			b.Fatal(err)
		}
	}
}

// processRSS is a process's resident set size in KiB, from /proc.
func processRSS(b *testing.B, pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.Fields(rest)[0])
			return kib
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// runtimeFigures reads the server's Go runtime gauges (goroutines, stack and heap bytes)
// from its Prometheus metrics.
func runtimeFigures(b *testing.B, metrics string) map[string]float64 {
	res, err := http.Get(metrics + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]float64{}
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		name, value, ok := strings.Cut(lines.Text(), " ")
		switch name {
		case "go_goroutines", "go_memstats_stack_inuse_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes",
			"go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes":
			if f, err := strconv.ParseFloat(value, 64); ok && err == nil {
				out[name] = f
			}
		}
	}
	return out
}

// saveProfiles saves the server's named pprof profiles into dir, as prefix+name.pb.gz, for
// go tool pprof.
func saveProfiles(b *testing.B, metrics, dir, prefix string, names ...string) {
	for _, name := range names {
		res, err := http.Get(metrics + "/debug/pprof/" + name)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("profile %s: %d %v", name, res.StatusCode, err)
		}
		if err := os.WriteFile(filepath.Join(dir, prefix+name+".pb.gz"), raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
