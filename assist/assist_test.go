package assist

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// synthetic generates a labelled set from templates: each code has its own vocabulary, and
// every text mixes in words common to all codes.
func synthetic(seed uint64, perCode int) []Example {
	vocab := map[string][]string{
		"CARD":     {"card", "lost", "stolen", "block", "wallet", "pin"},
		"REFUND":   {"refund", "money", "back", "returned", "charged", "twice"},
		"DELIVERY": {"parcel", "delivery", "courier", "arrived", "tracking", "late"},
		"LOGIN":    {"password", "login", "locked", "reset", "account", "email"},
	}
	common := []string{"hello", "please", "help", "today", "my", "the", "is", "thanks"}
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []Example
	for i := range perCode {
		for _, code := range []string{"CARD", "REFUND", "DELIVERY", "LOGIN"} {
			var w []string
			for range 3 {
				w = append(w, vocab[code][rng.IntN(len(vocab[code]))])
			}
			for range 4 {
				w = append(w, common[rng.IntN(len(common))])
			}
			rng.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
			out = append(out, Example{Text: strings.Join(w, " ") + fmt.Sprint(" ", i), Code: code})
		}
	}
	return out
}

func TestModelLearnsGeneratedSet(t *testing.T) {
	train, test := synthetic(1, 40), synthetic(2, 10)
	codes := Codes(train)
	for name, predict := range map[string]func(string, []string, int) []Suggestion{
		"trained": Train(train).Predict,
		"online": func() func(string, []string, int) []Suggestion {
			m := NewModel()
			for _, e := range train {
				m.Learn(e)
			}
			return m.Predict
		}(),
		"bayes": func() func(string, []string, int) []Suggestion {
			b := NewNaiveBayes()
			for _, e := range train {
				b.Learn(e)
			}
			return b.Predict
		}(),
	} {
		if acc := Measure(predict, codes, test); acc.Top1 < 0.95 {
			t.Errorf("%s: %+v", name, acc)
		}
	}
}

func TestPredictOnlyAllowedCodes(t *testing.T) {
	m := Train(synthetic(1, 20))
	for _, allowed := range [][]string{nil, {}, {"UNKNOWN"}, {"REFUND"}, {"REFUND", "LOGIN"}, {"CARD", "CARD"}} {
		got := m.Predict("I lost my card", allowed, 3)
		var sum float64
		for _, s := range got {
			if !slices.Contains(allowed, s.Code) {
				t.Errorf("allowed %v: suggested %s", allowed, s.Code)
			}
			sum += s.Confidence
		}
		if len(got) > 0 && len(got) == len(slices.Compact(slices.Clone(allowed))) && (sum < 0.999 || sum > 1.001) {
			t.Errorf("allowed %v: confidences sum to %v", allowed, sum)
		}
	}
	if got := m.Predict("I lost my card", []string{"CARD", "REFUND", "DELIVERY", "LOGIN"}, 3); len(got) != 3 || got[0].Code != "CARD" {
		t.Errorf("suggested %v", got)
	}
	if got := NewModel().Predict("anything", []string{"CARD"}, 3); len(got) != 0 {
		t.Errorf("empty model suggested %v", got)
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	a, b := Train(synthetic(3, 20)), Train(synthetic(3, 20))
	pa, pb := a.Predict("refund my parcel", []string{"CARD", "REFUND", "DELIVERY", "LOGIN"}, 4), b.Predict("refund my parcel", []string{"CARD", "REFUND", "DELIVERY", "LOGIN"}, 4)
	if fmt.Sprint(pa) != fmt.Sprint(pb) {
		t.Errorf("%v != %v", pa, pb)
	}
}

func TestLongTextIsBounded(t *testing.T) {
	long := strings.Repeat("lorem ipsum dolor sit amet ", 100000)
	if n := len(vectorise(long)); n > 10*MaxTextRunes {
		t.Errorf("%d features from a long text", n)
	}
}

func TestScrub(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"card 4111 1111 1111 1111 lost", "card  cardnumber  lost"},
		{"card 4111-1111-1111-1111", "card  cardnumber "},
		{"write to jane.doe+x@mail.example.co.uk now", "write to  emailaddr  now"},
		{"call +44 20 7946 0958 today", "call  phonenumber  today"},
		{"call 555-123-4567", "call  phonenumber "},
		{"order 12345 arrived", "order 12345 arrived"}, // short numbers stay: orders, amounts
		{"I paid 250 euros on 12/03", "I paid 250 euros on 12/03"},
	} {
		if got := Scrub(c.in); got != c.want {
			t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSummarise(t *testing.T) {
	lines := []Line{
		{Contact: true, Text: "Hi!"},
		{Contact: true, Text: "My order #A12345 arrived broken. I would like a replacement please."},
		{Contact: false, Text: "Hello, thanks for reaching out. Let me check."},
		{Contact: true, Text: "ok"},
		{Contact: false, Text: "I have arranged a replacement for order A12345, it ships tomorrow by courier. Anything else?"},
		{Contact: false, Text: "Have a nice day!"},
	}
	got := Summarise("Dana Scully", lines)
	for _, want := range []string{"Dana Scully asked: My order #A12345 arrived broken.", "Resolution: I have arranged a replacement for order A12345", "Order numbers: A12345"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "nice day") || strings.Contains(got, "Hi!") {
		t.Errorf("summary keeps small talk:\n%s", got)
	}
	if got := Summarise("", nil); !strings.HasPrefix(got, "The contact wrote nothing") {
		t.Errorf("empty transcript: %q", got)
	}
	if got := OrderNumbers("order no. 55501, ticket #TK-9981 and order 55501 again; 12 items"); fmt.Sprint(got) != "[55501 TK-9981]" {
		t.Errorf("OrderNumbers = %v", got)
	}
}
