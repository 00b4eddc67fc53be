package workspace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/assist"
)

// Agent Assist's disposition suggestions (W4). Each plan with DispositionAssist on learns from
// its own completed interactions: the contact's and the agents' text, scrubbed of personal
// data (assist.Scrub), with the codes finally chosen. What it learns is kept in the store as
// examples, one per interaction and code; every node builds its model from them (assist.Train)
// and follows new ones as they are stored (assist.Model.Learn), so a restart loses nothing
// and other nodes suggest from the same history. See docs/architecture.md.

// Thresholds of the suggestions.
const (
	// MinAssistHistory is the least history a plan needs before it suggests anything: this
	// many examples of its current codes.
	MinAssistHistory = 20
	// MinCodeExamples is the least examples a code needs before it is suggested.
	MinCodeExamples = 2
	// MinTopConfidence: when the best code is less likely than this, the model is unsure
	// and suggests nothing. MinConfidence bounds the second and third suggestion.
	MinTopConfidence = 0.1
	MinConfidence    = 0.02
	// MaxSuggestions is the most codes suggested at once.
	MaxSuggestions = 3
	// assistMessages is how many messages of a transcript's opening assist reads: the request
	// is in the opening, and a bound keeps a suggestion's cost flat however long a
	// conversation grows (a 5,000-message transcript costs what a 100-message one does).
	assistMessages = 100
	// retrainShare: a model that learnt online this share of its history since it was last
	// trained is trained again, over all epochs, in the background.
	retrainShare = 10
)

// AssistExample is what Agent Assist keeps of one completed interaction for one of its codes.
type AssistExample struct {
	// ID is ordered by completion time: 13 hex digits of its Unix milliseconds, then the
	// interaction's ID and the code, so a repeated completion step stores an example once.
	ID     string
	PlanID string
	Code   string
	// Text is the contact's and the agents' text of the transcript's opening, scrubbed.
	Text string
	At   time.Time
}

// assistExampleID is the example's ID (see AssistExample.ID).
func assistExampleID(at time.Time, interactionID, code string) string {
	return fmt.Sprintf("%013x.%s.%s", at.UnixMilli(), interactionID, code)
}

// DispositionSuggestion is a code Agent Assist proposes, with its probability (0–1).
type DispositionSuggestion struct {
	Code       DispositionCode
	Confidence float64
}

// AssistOutcome records whether the agent took one of Agent Assist's suggestions.
type AssistOutcome string

// Outcomes: "" when nothing was suggested when the agent chose a code.
const (
	SuggestionTaken    AssistOutcome = "TAKEN"
	SuggestionNotTaken AssistOutcome = "NOT_TAKEN"
)

// assistant holds this node's models, one per plan.
type assistant struct {
	mu     sync.Mutex
	models map[string]*planModel
}

// planModel is one plan's model and how far into the plan's examples it has learnt.
type planModel struct {
	mu    sync.Mutex
	model *assist.Model
	// since is where the next read of new examples starts: assistOverlap before the newest
	// example learnt, since examples completed at about the same time on several nodes may
	// be stored in another order than their IDs'. seen holds the IDs learnt from there on,
	// so none is learnt twice.
	since string
	seen  map[string]bool
	// readAt is when the store was last read for new examples (assistRefresh).
	readAt time.Time
	// trainedOn is how many examples the model was trained on; the rest it learnt online.
	trainedOn  int
	retraining bool
}

// assistRefresh is how often a plan's model reads the store for examples other nodes
// stored; this node's own it learns as it stores them (learnt). Reading on every
// suggestion re-read the whole overlap window each time: at a webchat cycle's rate that was
// a tenth of the cycle's CPU (issue 14's profile), and it grew with the rate.
const assistRefresh = time.Second

// assistOverlap is how late an example may be stored after its completion time (by the
// completing node's clock, a few milliseconds in practice; more if the nodes' clocks disagree)
// and still be learnt online by nodes that read past it; one that is later still is learnt at
// the next retraining. Every read re-reads this window, so it is kept short.
const assistOverlap = 5 * time.Second

// exampleTime is the completion time an example's ID starts with.
func exampleTime(id string) time.Time {
	var ms int64
	fmt.Sscanf(id, "%013x", &ms)
	return time.UnixMilli(ms)
}

// advance notes examples as learnt and moves the read window.
func (pm *planModel) advance(ids []string) {
	if len(ids) == 0 {
		return
	}
	if pm.seen == nil {
		pm.seen = map[string]bool{}
	}
	newest := pm.since
	for _, id := range ids {
		pm.seen[id] = true
		newest = max(newest, id)
	}
	pm.since = fmt.Sprintf("%013x", max(0, exampleTime(newest).UnixMilli()-assistOverlap.Milliseconds()))
	for id := range pm.seen {
		if id < pm.since {
			delete(pm.seen, id)
		}
	}
}

func (a *assistant) plan(id string) *planModel {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.models == nil {
		a.models = map[string]*planModel{}
	}
	pm := a.models[id]
	if pm == nil {
		pm = &planModel{}
		a.models[id] = pm
	}
	return pm
}

// examplePage is how many examples one read returns.
const examplePage = 2000

// allExamples reads a plan's examples after `after`, in order, with their IDs.
func (s *Service) allExamples(ctx context.Context, planID, after string) ([]assist.Example, []string, error) {
	var out []assist.Example
	var ids []string
	for {
		page, err := s.Store.AssistExamples(ctx, planID, after, examplePage)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range page {
			out = append(out, assist.Example{Text: e.Text, Code: e.Code})
			ids = append(ids, e.ID)
			after = e.ID
		}
		if len(page) < examplePage {
			return out, ids, nil
		}
	}
}

// model returns the plan's model brought up to date with the store: trained on the whole
// history the first time, then following new examples online. It returns with pm.mu held.
func (s *Service) model(ctx context.Context, planID string) (*planModel, error) {
	pm := s.assist.plan(planID)
	pm.mu.Lock()
	if pm.model == nil {
		all, ids, err := s.allExamples(ctx, planID, "")
		if err != nil {
			pm.mu.Unlock()
			return nil, err
		}
		pm.model, pm.trainedOn = assist.Train(all), len(all)
		pm.advance(ids)
		pm.readAt = s.Clock.Now()
		return pm, nil
	}
	now := s.Clock.Now()
	if !pm.readAt.IsZero() && !now.Before(pm.readAt) && now.Sub(pm.readAt) < assistRefresh {
		return pm, nil
	}
	fresh, ids, err := s.allExamples(ctx, planID, pm.since)
	if err != nil {
		pm.mu.Unlock()
		return nil, err
	}
	pm.readAt = now
	var learnt []string
	for i, e := range fresh {
		if !pm.seen[ids[i]] {
			pm.model.Learn(e)
			learnt = append(learnt, ids[i])
		}
	}
	pm.advance(learnt)
	if len(ids) > 0 && s.Clock.Now().Sub(exampleTime(ids[len(ids)-1])) > assistOverlap {
		// Nothing new for longer than the window: later examples come after the newest one,
		// so there is no need to re-read the window every time.
		pm.since, pm.seen = ids[len(ids)-1], nil
	}
	if n := pm.model.Examples(); !pm.retraining && n-pm.trainedOn >= max(MinAssistHistory, pm.trainedOn/retrainShare) {
		pm.retraining = true
		go s.retrain(context.WithoutCancel(ctx), planID, pm)
	}
	return pm, nil
}

// retrain trains the plan's model again on its whole history, off the request path, and
// swaps it in; what arrived meanwhile is learnt online at the next read.
func (s *Service) retrain(ctx context.Context, planID string, pm *planModel) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	all, ids, err := s.allExamples(ctx, planID, "")
	var m *assist.Model
	if err == nil {
		m = assist.Train(all)
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	pm.retraining = false
	if err != nil {
		return
	}
	// What was stored after the read is learnt at the next, which comes at once.
	pm.model, pm.trainedOn, pm.since, pm.seen, pm.readAt = m, len(all), "", nil, time.Time{}
	pm.advance(ids)
}

// DispositionSuggestions proposes up to MaxSuggestions of the plan's codes for a live
// interaction (ACTIVE, PARKED or WRAP), best first, to the agent who holds it or a
// supervisor (others read it empty). It is empty when the plan has DispositionAssist off,
// has less than MinAssistHistory examples of its current codes, or the model is unsure; it
// never names a code the plan no longer has. The caller has already been allowed to read the
// interaction.
func (s *Service) DispositionSuggestions(ctx context.Context, ix *Interaction) ([]*DispositionSuggestion, error) {
	me, err := RequireAgent(ctx)
	if err != nil || (me.ID != ix.AgentID && me.Role != RoleSupervisor) {
		return nil, nil
	}
	return s.suggestionsFor(ctx, ix)
}

// suggestionsFor is DispositionSuggestions without the caller's check.
func (s *Service) suggestionsFor(ctx context.Context, ix *Interaction) ([]*DispositionSuggestion, error) {
	if ix.State != Active && ix.State != Parked && ix.State != Wrap {
		return nil, nil
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil || !plan.DispositionAssist || len(plan.DispositionCodes) == 0 {
		return nil, err
	}
	text, err := s.assistText(ctx, ix.ID)
	if err != nil || text == "" {
		return nil, err
	}
	return s.suggest(ctx, plan, text)
}

// suggest ranks the plan's codes for text.
func (s *Service) suggest(ctx context.Context, plan *Plan, text string) ([]*DispositionSuggestion, error) {
	pm, err := s.model(ctx, plan.ID)
	if err != nil {
		return nil, err
	}
	defer pm.mu.Unlock()
	history, labels := 0, map[string]DispositionCode{}
	var allowed []string
	for _, c := range plan.DispositionCodes {
		n := pm.model.CountFor(c.Code)
		history += n
		if n >= MinCodeExamples {
			allowed = append(allowed, c.Code)
			labels[c.Code] = c
		}
	}
	if history < MinAssistHistory || len(allowed) == 0 {
		return nil, nil
	}
	var out []*DispositionSuggestion
	for i, sg := range pm.model.Predict(text, allowed, MaxSuggestions) {
		if (i == 0 && sg.Confidence < MinTopConfidence) || sg.Confidence < MinConfidence {
			break
		}
		out = append(out, &DispositionSuggestion{Code: labels[sg.Code], Confidence: sg.Confidence})
	}
	return out, nil
}

// assistText is what assist reads of a transcript: the contact's and the agents' text of its
// opening, scrubbed of personal data.
func (s *Service) assistText(ctx context.Context, interactionID string) (string, error) {
	msgs, err := s.Store.Messages(ctx, interactionID, "", assistMessages)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range msgs {
		if m.From == PartySystem || IsBlank(m.Text) {
			continue
		}
		b.WriteString(m.Text)
		b.WriteString("\n")
		if b.Len() > 4*assist.MaxTextRunes {
			break
		}
	}
	text := assist.Scrub(strings.TrimSpace(b.String()))
	if r := []rune(text); len(r) > assist.MaxTextRunes {
		text = string(r[:assist.MaxTextRunes])
	}
	return text, nil
}

// learn keeps what Agent Assist learns from a completed interaction: one example per code
// chosen that the plan still has, when the plan has DispositionAssist on. It is part of the
// completion's idempotent steps (finish): a repeat stores nothing twice. Learning is not the
// completion's business, so a failure to keep an example does not fail it.
func (s *Service) learn(ctx context.Context, ix *Interaction) {
	for _, e := range s.examplesOf(ctx, ix, &lesson{}) {
		if s.Store.AddAssistExample(ctx, e) == nil {
			s.learnt(e)
		}
	}
}

// lesson is what examplesOf read, kept for a repeat of the same completion's write: the
// plan, when it has DispositionAssist on, and the transcript's text.
type lesson struct {
	read   bool
	planID string
	plan   *Plan
	text   string
}

// examplesOf are the examples Agent Assist learns from ix, COMPLETED: one per code chosen
// that the plan still has, when the plan has DispositionAssist on; none otherwise, or when
// the plan or the transcript cannot be read. The plan and the transcript's text are read
// once per lesson.
func (s *Service) examplesOf(ctx context.Context, ix *Interaction, l *lesson) []*AssistExample {
	if ix.State != Completed || len(ix.Dispositions) == 0 || ix.CompletedAt == nil {
		return nil
	}
	if !l.read || l.planID != ix.PlanID {
		*l = lesson{read: true, planID: ix.PlanID}
		if plan, err := s.Store.Plan(ctx, ix.PlanID); err == nil && plan.DispositionAssist {
			if text, err := s.assistText(ctx, ix.ID); err == nil {
				l.plan, l.text = plan, text
			}
		}
	}
	if l.plan == nil || l.text == "" {
		return nil
	}
	var out []*AssistExample
	for _, code := range ix.Dispositions {
		if !slices.ContainsFunc(l.plan.DispositionCodes, func(c DispositionCode) bool { return c.Code == code }) {
			continue
		}
		out = append(out, &AssistExample{ID: assistExampleID(*ix.CompletedAt, ix.ID, code), PlanID: l.plan.ID, Code: code, Text: l.text, At: *ix.CompletedAt})
	}
	return out
}

// learnt teaches the plan's model, if this node has one, an example this node stored, so
// that it need not read the store for it (assistRefresh).
func (s *Service) learnt(e *AssistExample) {
	pm := s.assist.plan(e.PlanID)
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if pm.model == nil || pm.seen[e.ID] || e.ID < pm.since {
		return // trained on it at the first read, or learnt; the store's reads bring it
	}
	pm.model.Learn(assist.Example{Text: e.Text, Code: e.Code})
	pm.advance([]string{e.ID})
}

// assistOutcome says whether choosing code takes one of the suggestions the interaction
// shows now; "" when it shows none.
func (s *Service) assistOutcome(ctx context.Context, ix *Interaction, code string) AssistOutcome {
	sg, err := s.suggestionsFor(ctx, ix)
	if err != nil || len(sg) == 0 {
		return ""
	}
	if slices.ContainsFunc(sg, func(d *DispositionSuggestion) bool { return d.Code.Code == code }) {
		return SuggestionTaken
	}
	return SuggestionNotTaken
}
