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
	c := &gqlClient{url: base, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}

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

	conns := make([]*wsConn, n)
	work = make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				w, err := dialDesk(ctx, base, tokens[i])
				errs.set(err)
				conns[i] = w
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
	// a ping after the five subscribes comes back after the server read them.
	for _, w := range conns {
		if err := w.ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
	after := settle()
	if dir := os.Getenv("AGENTDESK_BENCH_PROFILES"); dir != "" {
		saveProfiles(b, metrics, dir, "heap", "goroutine")
	}
	per := float64(after-before) / float64(n)
	w := os.Stdout
	fmt.Fprintf(w, "\nidle agent sockets: %d, each with the desk's %d subscriptions (opened in %s)\n", n, len(deskSubscriptions), opened.Round(time.Millisecond))
	fmt.Fprintf(w, "  server RSS before the sockets  %8d KiB\n", before)
	fmt.Fprintf(w, "  server RSS with them           %8d KiB\n", after)
	fmt.Fprintf(w, "  per connected agent            %8.1f KiB (aim: at most 64 KiB, %d sockets in at most 500 MB)\n", per, n)
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

// saveProfiles saves the server's named pprof profiles into dir, for go tool pprof.
func saveProfiles(b *testing.B, metrics, dir string, names ...string) {
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
		if err := os.WriteFile(filepath.Join(dir, name+".pb.gz"), raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
