package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/assist"
	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
)

// BenchmarkAssistBanking77 measures Agent Assist on Banking77 (../shared/data/banking77, or
// AGENTDESK_BANKING77): a plan whose 77 codes are its intents learns four fifths of the
// training file through the domain's completion path (a webchat starts with the query, is
// accepted, given its code, ended and completed, on SQLite), then every held-out query is
// asked as a live chat. It prints top-1 and top-3 accuracy, the majority baseline, the time
// per suggestion, the time to learn, and a suggestion on a 5,000-message transcript.
// `make bench-assist` runs it alone.
func BenchmarkAssistBanking77(b *testing.B) {
	path := os.Getenv("AGENTDESK_BANKING77")
	if path == "" {
		path = filepath.Join("..", "..", "shared", "data", "banking77", "train.csv")
	}
	all, err := assist.ReadBanking77(path)
	if err != nil {
		b.Fatal(err)
	}
	// A code is 1 to 40 letters, digits or _: an intent's code is its name in upper case,
	// without other characters, cut to 40.
	for i, e := range all {
		code := strings.Map(func(r rune) rune {
			if r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				return r
			}
			return -1
		}, e.Code)
		all[i].Code = strings.ToUpper(code[:min(40, len(code))])
	}
	train, test := assist.HeldOut(all)
	codes := assist.Codes(all)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := workspace.NewService(st, workspace.NewHub(64), workspace.SystemClock{})
	svc.BcryptCost = 4
	admin, err := svc.CreateAgent(ctx, workspace.NewAgent{Username: "admin", Name: "Admin", Password: "benchmark", Role: workspace.RoleSupervisor})
	if err != nil {
		b.Fatal(err)
	}
	sup := workspace.WithPrincipal(ctx, workspace.Principal{Kind: workspace.AgentPrincipal, Agent: admin})
	var dc []workspace.DispositionCode
	for _, c := range codes {
		dc = append(dc, workspace.DispositionCode{Code: c, Label: strings.ReplaceAll(c, "_", " ")})
	}
	name, on, chans := "Banking77", true, []workspace.Channel{workspace.Webchat}
	plan, err := svc.CreatePlan(sup, workspace.PlanChange{Name: &name, Channels: &chans, DispositionCodes: &dc,
		AutoAccept: &on, DispositionAssist: &on})
	if err != nil {
		b.Fatal(err)
	}
	agent, err := svc.CreateAgent(ctx, workspace.NewAgent{Username: "agent", Name: "Agent", Password: "benchmark", PlanIDs: []string{plan.ID}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.UpdateAgent(sup, workspace.AgentChange{AgentID: agent.ID, Capacity: map[workspace.Channel]int{workspace.Webchat: workspace.MaxCapacity}}); err != nil {
		b.Fatal(err)
	}
	agentCtx := func() context.Context {
		a, err := st.Agent(ctx, agent.ID)
		if err != nil {
			b.Fatal(err)
		}
		return workspace.WithPrincipal(ctx, workspace.Principal{Kind: workspace.AgentPrincipal, Agent: a})
	}
	me := agentCtx()
	if _, err := svc.SetPresence(me, workspace.Ready); err != nil {
		b.Fatal(err)
	}
	web := webchat.New(svc)
	chat := func(text string) *workspace.Interaction {
		_, ix, err := web.Start(ctx, webchat.Start{Name: "Customer", PlanID: plan.ID, Text: text})
		if err != nil {
			b.Fatal(err)
		}
		if ix.State != workspace.Active {
			b.Fatalf("chat %s, want ACTIVE (auto-accept)", ix.State)
		}
		return ix
	}
	finish := func(ix *workspace.Interaction, code string) {
		if code != "" {
			if _, err := svc.SelectDisposition(me, ix.ID, code); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := svc.EndInteraction(me, ix.ID); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.CompleteInteraction(me, ix.ID); err != nil {
			b.Fatal(err)
		}
	}

	out := os.Stdout
	fmt.Fprintf(out, "\nAgent Assist on Banking77: %d examples, %d codes; %d learnt through completions, %d held out\n",
		len(all), len(codes), len(train), len(test))
	// The file is sorted by intent; completions come interleaved, so they are learnt in a
	// fixed shuffled order.
	rand.New(rand.NewPCG(77, 17)).Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
	start := time.Now()
	for _, e := range train {
		finish(chat(e.Text), e.Code)
	}
	fmt.Fprintf(out, "  %-44s %9s (%s per interaction, the whole completion path on SQLite)\n",
		"learn via completions", round(time.Since(start)), round(time.Since(start)/time.Duration(len(train))))

	// The held-out queries, each a live chat; a restarted node (a new Service on the same
	// store) trains on the whole history at its first suggestion.
	measure := func(label string, s *workspace.Service) {
		var one, three, none int
		var lat, cpu Samples
		runtime.LockOSThread() // so the thread's CPU time is this goroutine's work
		defer runtime.UnlockOSThread()
		for _, e := range test {
			ix := chat(e.Text)
			t0, c0 := time.Now(), threadCPU()
			sg, err := s.DispositionSuggestions(me, ix)
			lat, cpu = append(lat, time.Since(t0)), append(cpu, threadCPU()-c0)
			if err != nil {
				b.Fatal(err)
			}
			i := slices.IndexFunc(sg, func(d *workspace.DispositionSuggestion) bool { return d.Code.Code == e.Code })
			if i == 0 {
				one++
			}
			if i >= 0 {
				three++
			}
			if len(sg) == 0 {
				none++
			}
			finish(ix, "") // completed without a code: nothing is learnt from held-out queries
		}
		n := float64(len(test))
		fmt.Fprintf(out, "  %-44s top-1 %5.1f %%   top-3 %5.1f %%   unsure (no suggestion) %4.1f %%\n", label, 100*float64(one)/n, 100*float64(three)/n, 100*float64(none)/n)
		// The first includes a restarted node's training. The thread clock ticks in
		// milliseconds, so of the CPU time only a mean says anything.
		Row(out, label+": per suggestion", lat[1:])
		if threadCPUMeasured {
			fmt.Fprintf(out, "  %-44s mean %9s\n", label+": CPU per suggestion", round(cpu[1:].Mean()))
		}
		fmt.Fprintf(out, "  %-44s %9s\n", label+": first suggestion", round(lat[0]))
	}
	time.Sleep(10 * time.Second) // let this node's background retraining finish
	measure("this node", svc)
	restarted := workspace.NewService(st, workspace.NewHub(64), workspace.SystemClock{})
	measure("restarted node", restarted)
	fmt.Fprintf(out, "  %-44s top-1 %5.1f %%\n", "majority-class baseline", 100*assist.Majority(train, test))

	// The model alone: training on all 10,003, and learning them one at a time.
	t0 := time.Now()
	assist.Train(all)
	fmt.Fprintf(out, "  %-44s %9s\n", "train on all 10,003 (5 epochs)", round(time.Since(t0)))
	t0 = time.Now()
	m := assist.NewModel()
	for _, e := range all {
		m.Learn(e)
	}
	fmt.Fprintf(out, "  %-44s %9s (%s each)\n", "learn all 10,003 online", round(time.Since(t0)), round(time.Since(t0)/time.Duration(len(all))))
	nb := assist.NewNaiveBayes()
	for _, e := range train {
		nb.Learn(e)
	}
	acc := assist.Measure(nb.Predict, codes, test)
	fmt.Fprintf(out, "  %-44s top-1 %5.1f %%   top-3 %5.1f %%\n", "naive Bayes (compared, not used)", 100*acc.Top1, 100*acc.Top3)
	acc = assist.Measure(assist.Train(train).Predict, codes, test)
	fmt.Fprintf(out, "  %-44s top-1 %5.1f %%   top-3 %5.1f %%\n", "softmax model alone, no thresholds", 100*acc.Top1, 100*acc.Top3)

	// A 5,000-message transcript.
	ix := chat("I lost my card, can you block it?")
	for i := range 5000 {
		if err := st.AppendMessage(ctx, &workspace.Message{ID: fmt.Sprintf("ffffffff-ffff-7fff-8fff-%012d", i), InteractionID: ix.ID,
			From: []workspace.Party{workspace.PartyContact, workspace.PartyAgent}[i%2], Text: fmt.Sprintf("message %d of a long conversation about my card", i), SentAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu Samples
	lat, err := Measure(2, 50, func() error {
		c0 := threadCPU()
		_, err := svc.DispositionSuggestions(me, ix)
		cpu = append(cpu, threadCPU()-c0)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	Row(out, "suggestion on a 5,000-message transcript", lat)
	if threadCPUMeasured {
		fmt.Fprintf(out, "  %-44s mean %9s\n", "  its CPU time", round(cpu[2:].Mean()))
	}
	b.ReportMetric(0, "ns/op")
}
