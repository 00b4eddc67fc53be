package workspace_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/llm"
	"github.com/agentdesk/agentdesk/workspace"
)

// chatAbout starts a webchat in the plan whose first message is text, and has alice (the
// only READY agent) accept it.
func (e *env) chatAbout(plan, name, text string) *workspace.Interaction {
	e.t.Helper()
	_, ix, err := e.web.Start(e.t.Context(), webchat.Start{Name: name, PlanID: e.plan(plan).ID, Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.accept(ix)
}

// suggested is the codes alice is suggested for the interaction, best first.
func (e *env) suggested(ix *workspace.Interaction) []string {
	e.t.Helper()
	sg, err := e.s.DispositionSuggestions(e.as("alice"), e.get(ix.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i, s := range sg {
		if s.Confidence <= 0 || s.Confidence > 1 || (i > 0 && s.Confidence > sg[i-1].Confidence) {
			e.t.Fatalf("suggestion %d: confidence %v out of order or range", i, s.Confidence)
		}
		out = append(out, s.Code.Code)
	}
	if len(out) > workspace.MaxSuggestions {
		e.t.Fatalf("%d suggestions, at most %d", len(out), workspace.MaxSuggestions)
	}
	return out
}

// finish ends and completes the interaction with the code.
func (e *env) finishWith(ix *workspace.Interaction, code string) {
	e.t.Helper()
	ctx := e.as("alice")
	if _, err := e.s.SelectDisposition(ctx, ix.ID, code); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.s.EndInteraction(ctx, ix.ID); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.s.CompleteInteraction(ctx, ix.ID); err != nil {
		e.t.Fatal(err)
	}
}

// assistPlan creates a plan with the codes and Agent Assist on, served by alice.
func (e *env) assistPlan(name string, codes ...string) *workspace.Plan {
	e.t.Helper()
	var dc []workspace.DispositionCode
	for _, c := range codes {
		dc = append(dc, workspace.DispositionCode{Code: c, Label: strings.ToLower(c)})
	}
	on := true
	chans := []workspace.Channel{workspace.Webchat}
	p, err := e.s.CreatePlan(e.as("admin"), workspace.PlanChange{Name: &name, Channels: &chans, DispositionCodes: &dc,
		DispositionAssist: &on, SummaryAssist: &on})
	if err != nil {
		e.t.Fatal(err)
	}
	alice := e.agent("alice")
	plans := append(alice.PlanIDs, p.ID)
	if _, err := e.s.UpdateAgent(e.as("admin"), workspace.AgentChange{AgentID: alice.ID, PlanIDs: &plans}); err != nil {
		e.t.Fatal(err)
	}
	return p
}

var generated = map[string][]string{
	"BILLING":  {"my invoice is wrong", "I was billed twice this month", "why is my bill so high", "the charge on my invoice", "billing error on my account"},
	"SHIPPING": {"my parcel has not arrived", "where is my delivery", "the courier lost my package", "track my shipment please", "delivery is late again"},
	"LOGIN":    {"I cannot log in", "forgot my password", "my account is locked out", "reset my password please", "the login page rejects me"},
}

// learnGenerated completes n interactions per code of generated, round robin.
func (e *env) learnGenerated(plan string, n int) {
	e.t.Helper()
	for i := range n {
		for _, code := range []string{"BILLING", "SHIPPING", "LOGIN"} {
			texts := generated[code]
			ix := e.chatAbout(plan, "Visitor", fmt.Sprintf("Hello. %s, number %d", texts[i%len(texts)], i))
			e.finishWith(ix, code)
		}
	}
}

func TestAssistLearnsFromCompletions(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	p := e.assistPlan("Assist", "BILLING", "SHIPPING", "LOGIN", "OTHER")
	probe := e.chatAbout("Assist", "Dana", "hi, my parcel has not arrived yet")
	if got := e.suggested(probe); len(got) != 0 {
		t.Fatalf("no history: suggested %v", got)
	}
	e.learnGenerated("Assist", 3) // 9 examples: under MinAssistHistory
	if got := e.suggested(probe); len(got) != 0 {
		t.Fatalf("%d examples, under the minimum: suggested %v", 9, got)
	}
	e.learnGenerated("Assist", 5) // 24 examples
	if got := e.suggested(probe); len(got) == 0 || got[0] != "SHIPPING" {
		t.Fatalf("after 24 completions: suggested %v, want SHIPPING first", got)
	}

	// Another node (or this one restarted) on the same store suggests the same at once.
	other := workspace.NewService(e.s.Store, workspace.NewHub(8), e.clock)
	sg, err := other.DispositionSuggestions(e.as("alice"), e.get(probe.ID))
	if err != nil || len(sg) == 0 || sg[0].Code.Code != "SHIPPING" {
		t.Fatalf("other node: %v, %v", sg, err)
	}

	// Taking the first suggestion is recorded on the interaction.
	ix, err := e.s.SelectDisposition(e.as("alice"), probe.ID, "SHIPPING")
	if err != nil || ix.Assisted != workspace.SuggestionTaken {
		t.Fatalf("took the suggestion: Assisted %q, %v", ix.Assisted, err)
	}
	other2 := e.chatAbout("Assist", "Eve", "I forgot my password")
	if ix, err := e.s.SelectDisposition(e.as("alice"), other2.ID, "OTHER"); err != nil || ix.Assisted != workspace.SuggestionNotTaken { // OTHER has no history
		t.Fatalf("chose another code: Assisted %q, %v", ix.Assisted, err)
	}

	// A supervisor may read the suggestions; another agent reads none.
	if sg, _ := e.s.DispositionSuggestions(e.as("admin"), e.get(probe.ID)); len(sg) == 0 {
		t.Fatal("supervisor sees no suggestions")
	}
	if sg, _ := e.s.DispositionSuggestions(e.as("bob"), e.get(probe.ID)); len(sg) != 0 {
		t.Fatalf("bob sees alice's suggestions: %v", sg)
	}

	// The switch off: nothing is suggested, and nothing more is learnt.
	off := false
	if _, err := e.s.UpdatePlan(e.as("admin"), workspace.PlanChange{PlanID: p.ID, DispositionAssist: &off}); err != nil {
		t.Fatal(err)
	}
	if got := e.suggested(probe); len(got) != 0 {
		t.Fatalf("assist off: suggested %v", got)
	}
	before, _ := e.s.Store.AssistExamples(t.Context(), p.ID, "", 1000)
	e.finishWith(other2, "LOGIN")
	after, _ := e.s.Store.AssistExamples(t.Context(), p.ID, "", 1000)
	if len(after) != len(before) {
		t.Fatalf("assist off: learnt %d more", len(after)-len(before))
	}
}

func TestAssistCodesThePlanNoLongerHas(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	p := e.assistPlan("Assist", "BILLING", "SHIPPING", "LOGIN")
	e.learnGenerated("Assist", 8)
	probe := e.chatAbout("Assist", "Dana", "where is my delivery, the parcel has not arrived")
	if got := e.suggested(probe); len(got) == 0 || got[0] != "SHIPPING" {
		t.Fatalf("suggested %v, want SHIPPING first", got)
	}
	setCodes := func(codes ...string) {
		t.Helper()
		var dc []workspace.DispositionCode
		for _, c := range codes {
			dc = append(dc, workspace.DispositionCode{Code: c, Label: c})
		}
		if _, err := e.s.UpdatePlan(e.as("admin"), workspace.PlanChange{PlanID: p.ID, DispositionCodes: &dc}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		codes   []string
		allowed []string
	}{
		{[]string{"BILLING", "DELIVERY", "LOGIN"}, []string{"BILLING", "LOGIN"}}, // SHIPPING renamed DELIVERY
		{[]string{"BILLING"}, []string{"BILLING"}},                               // one code
		{nil, nil},                            // no codes
		{[]string{"NEW_ONE", "NEW_TWO"}, nil}, // none with history
	} {
		setCodes(c.codes...)
		got := e.suggested(probe)
		for _, code := range got {
			if !slices.Contains(c.allowed, code) {
				t.Errorf("codes %v: suggested %v", c.codes, got)
			}
		}
		if len(c.allowed) == 0 && len(got) != 0 {
			t.Errorf("codes %v: suggested %v, want none", c.codes, got)
		}
	}
}

func TestAssistKeepsNoPersonalData(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	p := e.assistPlan("Assist", "BILLING", "SHIPPING", "LOGIN")
	ix := e.chatAbout("Assist", "Dana", "My card 4111 1111 1111 1111 was billed twice; mail me at dana.s@example.com or call +44 20 7946 0958")
	e.finishWith(ix, "BILLING")
	kept, err := e.s.Store.AssistExamples(t.Context(), p.ID, "", 10)
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept %v, %v", kept, err)
	}
	for _, secret := range []string{"4111", "dana.s", "example.com", "7946", "0958"} {
		if strings.Contains(kept[0].Text, secret) {
			t.Errorf("kept %q, which holds %q", kept[0].Text, secret)
		}
	}
	if !strings.Contains(kept[0].Text, "billed twice") {
		t.Errorf("kept %q: the request is gone", kept[0].Text)
	}
}

func TestAssistLongTranscript(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	e.assistPlan("Assist", "BILLING", "SHIPPING", "LOGIN")
	e.learnGenerated("Assist", 8)
	ix := e.chatAbout("Assist", "Dana", "I cannot log in, I forgot my password")
	for i := range 5000 {
		m := &workspace.Message{ID: workspaceMessageID(i), InteractionID: ix.ID,
			From: workspace.PartyContact, Text: fmt.Sprintf("message %d of a very long chat about nothing much", i), SentAt: e.clock.Now()}
		if err := e.s.Store.AppendMessage(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.suggested(ix); len(got) == 0 || got[0] != "LOGIN" {
		t.Fatalf("5,000 messages: suggested %v, want LOGIN first", got)
	}
	// Insert Summary reads it too, and stays within the notes limit.
	got, err := e.s.InsertSummary(e.as("alice"), ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Notes, "Dana asked:") || len([]rune(got.Notes)) > 20000 {
		t.Fatalf("notes %d characters: %.200q", len([]rune(got.Notes)), got.Notes)
	}
}

// workspaceMessageID is a UUIDv7-shaped ID that sorts after the chat's own messages.
func workspaceMessageID(i int) string {
	return fmt.Sprintf("ffffffff-ffff-7fff-8fff-%012d", i)
}

func TestInsertSummary(t *testing.T) {
	e := newEnv(t)
	e.ready("alice")
	e.assistPlan("Assist", "RESOLVED")
	ix := e.chatAbout("Assist", "Dana Scully", "Hello. My order #A12345 arrived broken and I would like a replacement.")
	ctx := e.as("alice")
	if _, err := e.s.SendMessage(ctx, ix.ID, "Sorry to hear that, Dana. I have arranged a free replacement for order A12345; it ships tomorrow."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetNotes(ctx, ix.ID, "Customer was polite."); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.InsertSummary(ctx, ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "Customer was polite.\n\nSummary (offline):\nDana Scully asked: "
	if !strings.HasPrefix(got.Notes, want) || !strings.Contains(got.Notes, "A12345") || !strings.Contains(got.Notes, "replacement") {
		t.Fatalf("notes:\n%s", got.Notes)
	}

	// Wrong principal, malformed and unknown IDs, wrong state, the switch off.
	wantCode(t, func() error { _, err := e.s.InsertSummary(e.as("bob"), ix.ID); return err }(), workspace.EFORBIDDEN)
	wantCode(t, func() error { _, err := e.s.InsertSummary(t.Context(), ix.ID); return err }(), workspace.EUNAUTHENTICATED)
	wantCode(t, func() error { _, err := e.s.InsertSummary(ctx, "not-an-id"); return err }(), workspace.EINVALID)
	wantCode(t, func() error { _, err := e.s.InsertSummary(ctx, strings.Repeat("x", 100000)); return err }(), workspace.EINVALID)
	wantCode(t, func() error { _, err := e.s.InsertSummary(ctx, "00000000-0000-4000-8000-000000000000"); return err }(), workspace.ENOTFOUND)
	off := false
	if _, err := e.s.UpdatePlan(e.as("admin"), workspace.PlanChange{PlanID: ix.PlanID, SummaryAssist: &off}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := e.s.InsertSummary(ctx, ix.ID); return err }(), workspace.EASSISTOFF)
	on := true
	if _, err := e.s.UpdatePlan(e.as("admin"), workspace.PlanChange{PlanID: ix.PlanID, SummaryAssist: &on}); err != nil {
		t.Fatal(err)
	}

	// Notes at the limit: refused, and nothing changes.
	full := strings.Repeat("n", 20000)
	if _, err := e.s.SetNotes(ctx, ix.ID, full); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := e.s.InsertSummary(ctx, ix.ID); return err }(), workspace.EINVALID)
	if e.get(ix.ID).Notes != full {
		t.Fatal("refused summary changed the notes")
	}
	// Nearly full: the recap is cut to fit, and says so.
	if _, err := e.s.SetNotes(ctx, ix.ID, full[:20000-120]); err != nil {
		t.Fatal(err)
	}
	got, err = e.s.InsertSummary(ctx, ix.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(got.Notes)); n > 20000 || !strings.HasSuffix(got.Notes, "[summary cut to fit the notes limit]") || !strings.HasPrefix(got.Notes, full[:20000-120]) {
		t.Fatalf("cut summary: %d characters, ends %q", n, got.Notes[len(got.Notes)-80:])
	}

	// Completed: WRONG_STATE.
	if _, err := e.s.SelectDisposition(ctx, ix.ID, "RESOLVED"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.EndInteraction(ctx, ix.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetNotes(ctx, ix.ID, "short"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.InsertSummary(ctx, ix.ID); err != nil || !strings.HasPrefix(got.Notes, "short\n\nSummary") { // WRAP: allowed
		t.Fatal(got.Notes, err)
	}
	if _, err := e.s.CompleteInteraction(ctx, ix.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, func() error { _, err := e.s.InsertSummary(ctx, ix.ID); return err }(), workspace.EWRONGSTATE)
}

func TestInsertSummaryLanguageModel(t *testing.T) {
	var mode string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		switch mode {
		case "ok":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Dana's order A12345 arrived broken; a replacement ships tomorrow."},"finish_reason":"stop"}]}`)
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "garbage":
			fmt.Fprint(w, `<html>not json`)
		case "empty":
			fmt.Fprint(w, `{"choices":[]}`)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	e := newEnv(t)
	e.s.Summariser = llm.New(srv.URL+"/v1", "fake-model", "", 300*time.Millisecond)
	e.ready("alice")
	ix := e.chatAbout("Support", "Dana", "Hello. My order #A12345 arrived broken.")
	ctx := e.as("alice")
	for _, c := range []struct{ mode, heading string }{
		{"ok", "Summary (language model fake-model):\nDana's order A12345"},
		{"500", "Summary (offline; the language model did not answer usably):\nDana asked:"},
		{"garbage", "Summary (offline; the language model did not answer usably):\nDana asked:"},
		{"empty", "Summary (offline; the language model did not answer usably):\nDana asked:"},
		{"hang", "Summary (offline; the language model did not answer usably):\nDana asked:"},
	} {
		mode = c.mode
		if _, err := e.s.SetNotes(ctx, ix.ID, ""); err != nil {
			t.Fatal(err)
		}
		got, err := e.s.InsertSummary(ctx, ix.ID)
		if err != nil {
			t.Fatalf("%s: %v", c.mode, err)
		}
		if !strings.HasPrefix(got.Notes, c.heading) {
			t.Errorf("%s: notes %q", c.mode, got.Notes)
		}
	}
}

// exampleReads counts the reads of assist examples a node makes.
type exampleReads struct {
	workspace.Store
	mu sync.Mutex
	n  int
}

func (c *exampleReads) AssistExamples(ctx context.Context, planID, after string, limit int) ([]*workspace.AssistExample, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Store.AssistExamples(ctx, planID, after, limit)
}

func (c *exampleReads) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestAssistLearnsOwnCompletionsWithoutReading (issue 14): once a node has its model of a
// plan, it learns the completions it stores as it stores them, and reads the store for other
// nodes' examples at most once a second. Choosing codes and completing chats in a burst
// reads no example, and a code learnt only from those completions is suggested at once.
func TestAssistLearnsOwnCompletionsWithoutReading(t *testing.T) {
	e := newEnv(t)
	reads := &exampleReads{Store: e.s.Store}
	e.s.Store = reads
	e.ready("alice")
	p := e.assistPlan("Assist", "BILLING", "SHIPPING", "LOGIN", "GIFTCARD")
	// A history of 24 examples, stored as another node would; the first suggestion reads
	// them all and trains the model on them (the next full training is 20 examples away).
	at := e.clock.Now().Add(-time.Hour)
	for i := range 8 {
		for _, code := range []string{"BILLING", "SHIPPING", "LOGIN"} {
			texts := generated[code]
			ex := &workspace.AssistExample{ID: fmt.Sprintf("%013x.seeded-%d.%s", at.UnixMilli(), i, code), PlanID: p.ID, Code: code,
				Text: fmt.Sprintf("Hello. %s, number %d", texts[i%len(texts)], i), At: at}
			if err := reads.Store.AddAssistExample(t.Context(), ex); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := e.suggested(e.chatAbout("Assist", "Sam", "my parcel has not arrived")); len(got) == 0 || got[0] != "SHIPPING" {
		t.Fatalf("with 24 stored examples: suggested %v", got)
	}
	before := reads.count()
	for i := range 3 {
		ix := e.chatAbout("Assist", "Visitor", fmt.Sprintf("My gift card balance is gone, card %d", i))
		e.finishWith(ix, "GIFTCARD") // each choice asks the model for suggestions
	}
	probe := e.chatAbout("Assist", "Dana", "the balance of my gift card disappeared")
	if got := e.suggested(probe); len(got) == 0 || got[0] != "GIFTCARD" {
		t.Fatalf("after three GIFTCARD completions on this node: suggested %v", got)
	}
	if n := reads.count(); n != before {
		t.Fatalf("%d reads of examples within a second of the last", n-before)
	}
	// A second on, the next suggestion reads what other nodes may have stored: once.
	e.clock.Advance(time.Second + time.Millisecond)
	e.suggested(probe)
	e.suggested(probe)
	if n := reads.count(); n != before+1 {
		t.Fatalf("%d reads a second on: want 1", n-before)
	}
}
