package assist

import (
	"math"
	"slices"
	"sort"
)

// NaiveBayes is a multinomial naive Bayes classifier over the same features as Model, with
// Laplace smoothing. It is the simpler candidate the research file recommends; it learns by
// counting, so it is exact online, but on Banking77 it ranks below the softmax Model (see
// docs/architecture.md), so agentdesk suggests with Model and keeps this for the comparison.
type NaiveBayes struct {
	codes  []string
	index  map[string]int
	docs   []float64
	totals []float64
	counts map[uint64][]float64
	seen   int
}

// NewNaiveBayes returns an empty naive Bayes classifier.
func NewNaiveBayes() *NaiveBayes {
	return &NaiveBayes{index: map[string]int{}, counts: map[uint64][]float64{}}
}

// Learn counts one example.
func (b *NaiveBayes) Learn(e Example) {
	c, ok := b.index[e.Code]
	if !ok {
		c = len(b.codes)
		b.codes = append(b.codes, e.Code)
		b.index[e.Code] = c
		b.docs = append(b.docs, 0)
		b.totals = append(b.totals, 0)
	}
	b.docs[c]++
	b.seen++
	for _, f := range vectorise(e.Text) {
		w := b.counts[f.id]
		if len(w) < len(b.codes) {
			w = append(w, make([]float64, len(b.codes)-len(w))...)
			b.counts[f.id] = w
		}
		w[c] += float64(f.x)
		b.totals[c] += float64(f.x)
	}
}

// Predict returns up to k of the allowed codes, most probable first.
func (b *NaiveBayes) Predict(text string, allowed []string, k int) []Suggestion {
	var cls []int
	for _, code := range allowed {
		if i, ok := b.index[code]; ok && !slices.Contains(cls, i) {
			cls = append(cls, i)
		}
	}
	if len(cls) == 0 {
		return nil
	}
	const alpha = 0.1
	vocab := float64(len(b.counts))
	x := vectorise(text)
	s := make([]float32, len(cls))
	for j, c := range cls {
		lp := math.Log(b.docs[c] / float64(b.seen))
		denom := math.Log(b.totals[c] + alpha*vocab)
		for _, f := range x {
			var n float64
			if w := b.counts[f.id]; c < len(w) {
				n = w[c]
			}
			lp += float64(f.x) * (math.Log(n+alpha) - denom)
		}
		s[j] = float32(lp)
	}
	softmax(s)
	out := make([]Suggestion, len(cls))
	for j, c := range cls {
		out[j] = Suggestion{Code: b.codes[c], Confidence: float64(s[j])}
	}
	sort.SliceStable(out, func(a, c int) bool { return out[a].Confidence > out[c].Confidence })
	return out[:min(k, len(out))]
}
