package assist

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// banking77 is the data set's train.csv; AGENTDESK_BANKING77 overrides where it is.
func banking77(t testing.TB) []Example {
	path := os.Getenv("AGENTDESK_BANKING77")
	if path == "" {
		path = filepath.Join("..", "..", "shared", "data", "banking77", "train.csv")
	}
	ex, err := ReadBanking77(path)
	if err != nil {
		t.Fatalf("Banking77 (set AGENTDESK_BANKING77 to its train.csv): %v", err)
	}
	return ex
}

func codesOf(ex []Example) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range ex {
		if !seen[e.Code] {
			seen[e.Code] = true
			out = append(out, e.Code)
		}
	}
	return out
}

func TestBanking77Compare(t *testing.T) {
	train, test := HeldOut(banking77(t))
	codes := codesOf(train)
	start := time.Now()
	m := Train(train)
	t.Logf("softmax trained %d in %v: %d features", len(train), time.Since(start), m.Features())
	t.Logf("softmax %+v", Measure(m.Predict, codes, test))
	online := NewModel()
	for _, e := range train {
		online.Learn(e)
	}
	t.Logf("softmax online 1 pass %+v", Measure(online.Predict, codes, test))
	nb := NewNaiveBayes()
	for _, e := range train {
		nb.Learn(e)
	}
	t.Logf("bayes %+v", Measure(nb.Predict, codes, test))
}

func TestBanking77Shuffled(t *testing.T) {
	train, test := HeldOut(banking77(t))
	codes := codesOf(train)
	sh := append([]Example(nil), train...)
	for i := range sh {
		j := (i * 7919) % len(sh)
		sh[i], sh[j] = sh[j], sh[i]
	}
	online := NewModel()
	for _, e := range sh {
		online.Learn(e)
	}
	t.Logf("softmax online shuffled 1 pass %+v", Measure(online.Predict, codes, test))
	start := time.Now()
	for _, e := range test[:500] {
		online.Predict(e.Text, codes, 3)
	}
	t.Logf("predict %v each", time.Since(start)/500)
}
