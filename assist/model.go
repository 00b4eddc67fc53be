package assist

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Example is one completed interaction as the classifier learns it: its text, scrubbed, and
// the code the agent chose.
type Example struct {
	Text string
	Code string
}

// Suggestion is a code and the model's probability for it.
type Suggestion struct {
	Code       string
	Confidence float64
}

// Model is a multinomial logistic regression (softmax) over hashed word and character
// n-grams, trained by stochastic gradient descent. It learns one example at a time (Learn),
// which is what lets it follow completions as they happen; Train replays a history over a few
// epochs, which is what a node does when it loads a plan's history. Weights are kept per seen
// feature only, so memory follows the vocabulary of the history, not a fixed table.
//
// A Model is not safe for concurrent use; callers lock.
type Model struct {
	codes   []string
	index   map[string]int
	counts  []int
	weights map[uint64][]float32
	bias    []float32
	seen    int
	// rate is the SGD step.
	rate float32
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{index: map[string]int{}, weights: map[uint64][]float32{}, rate: 0.5}
}

// Examples is how many examples the model has learnt.
func (m *Model) Examples() int { return m.seen }

// CountFor is how many examples of code the model has learnt.
func (m *Model) CountFor(code string) int {
	if i, ok := m.index[code]; ok {
		return m.counts[i]
	}
	return 0
}

// Features is how many distinct features carry weights: the model's size.
func (m *Model) Features() int { return len(m.weights) }

// classOf returns code's class, adding it if new.
func (m *Model) classOf(code string) int {
	if i, ok := m.index[code]; ok {
		return i
	}
	i := len(m.codes)
	m.codes = append(m.codes, code)
	m.index[code] = i
	m.counts = append(m.counts, 0)
	m.bias = append(m.bias, 0)
	return i
}

// scores fills out with each class's linear score for x.
func (m *Model) scores(x []feature, out []float32) []float32 {
	out = append(out[:0], m.bias...)
	for _, f := range x {
		w := m.weights[f.id]
		for c := range w {
			out[c] += w[c] * f.x
		}
	}
	return out
}

// softmax turns scores into probabilities in place.
func softmax(s []float32) {
	if len(s) == 0 {
		return
	}
	mx := slices.Max(s)
	var sum float64
	for i, v := range s {
		e := math.Exp(float64(v - mx))
		s[i] = float32(e)
		sum += e
	}
	for i := range s {
		s[i] = float32(float64(s[i]) / sum)
	}
}

// Learn takes one example: one gradient step of the cross-entropy loss.
func (m *Model) Learn(e Example) {
	m.learn(vectorise(e.Text), e.Code, m.rate)
	m.seen++
	m.counts[m.index[e.Code]]++
}

func (m *Model) learn(x []feature, code string, rate float32) {
	y := m.classOf(code)
	p := m.scores(x, make([]float32, 0, len(m.codes)))
	softmax(p)
	n := len(m.codes)
	for c := range p {
		g := p[c]
		if c == y {
			g--
		}
		p[c] = -rate * g
		m.bias[c] += p[c] * 0.1
	}
	for _, f := range x {
		w := m.weights[f.id]
		if len(w) < n {
			w = append(w, make([]float32, n-len(w))...)
			m.weights[f.id] = w
		}
		for c := range p {
			w[c] += p[c] * f.x
		}
	}
}

// Epochs is how often Train replays a history; most of the gain is in the first three.
const Epochs = 5

// Train returns a model that learnt the examples over Epochs passes in a shuffled order (a
// fixed seed, so every node that trains on the same history gets the same model), with a
// step that shrinks each pass.
func Train(examples []Example) *Model {
	m := NewModel()
	xs := make([][]feature, len(examples))
	for i, e := range examples {
		xs[i] = vectorise(e.Text)
		m.classOf(e.Code)
	}
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(17, 77))
	for epoch := range Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		rate := m.rate / float32(1+epoch)
		for _, i := range order {
			m.learn(xs[i], examples[i].Code, rate)
		}
	}
	for _, e := range examples {
		m.counts[m.index[e.Code]]++
	}
	m.seen = len(examples)
	// Online steps after training go on at the last epoch's step: at the first one's they
	// would undo the training whenever completions come in a run of one code.
	if len(examples) > 0 {
		m.rate /= Epochs
	}
	return m
}

// Predict returns up to k of the allowed codes, most probable first, with their probability
// among the allowed codes (codes the model never learnt, or that are not allowed, are never
// suggested: a plan's renamed or removed codes disappear at once).
func (m *Model) Predict(text string, allowed []string, k int) []Suggestion {
	var cls []int
	for _, code := range allowed {
		if i, ok := m.index[code]; ok && !slices.Contains(cls, i) {
			cls = append(cls, i)
		}
	}
	if len(cls) == 0 || k <= 0 {
		return nil
	}
	all := m.scores(vectorise(text), nil)
	s := make([]float32, len(cls))
	for j, c := range cls {
		s[j] = all[c]
	}
	softmax(s)
	out := make([]Suggestion, len(cls))
	for j, c := range cls {
		out[j] = Suggestion{Code: m.codes[c], Confidence: float64(s[j])}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Confidence > out[b].Confidence })
	return out[:min(k, len(out))]
}
