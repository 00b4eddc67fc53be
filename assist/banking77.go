package assist

import (
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// ReadBanking77 reads Banking77's train.csv (text,category): the data set agentdesk measures
// Agent Assist on (../shared/data/banking77).
func ReadBanking77(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, err
	}
	if len(head) != 2 || head[0] != "text" || head[1] != "category" {
		return nil, fmt.Errorf("%s: want the columns text,category, got %v", path, head)
	}
	var out []Example
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Example{Text: rec[0], Code: rec[1]})
	}
}

// HeldOut splits examples into a training and a held-out part: about one in five, chosen by a
// hash of the text, so the split is the same on every run and independent of the file's order.
func HeldOut(examples []Example) (train, test []Example) {
	for _, e := range examples {
		h := fnv.New32a()
		h.Write([]byte(e.Text))
		if h.Sum32()%5 == 0 {
			test = append(test, e)
		} else {
			train = append(train, e)
		}
	}
	return train, test
}

// Accuracy is how often the right code is first (Top1) and among the first three (Top3).
type Accuracy struct{ Top1, Top3 float64 }

// Measure scores a predictor on held-out examples, each predicted among all codes.
func Measure(predict func(text string, allowed []string, k int) []Suggestion, codes []string, test []Example) Accuracy {
	var one, three int
	for _, e := range test {
		for i, s := range predict(e.Text, codes, 3) {
			if s.Code == e.Code {
				three++
				if i == 0 {
					one++
				}
			}
		}
	}
	n := float64(len(test))
	return Accuracy{Top1: float64(one) / n, Top3: float64(three) / n}
}

// Codes lists the codes of examples in the order they first appear.
func Codes(examples []Example) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range examples {
		if !seen[e.Code] {
			seen[e.Code] = true
			out = append(out, e.Code)
		}
	}
	return out
}

// Majority is the top-1 accuracy on test of always answering train's most frequent code.
func Majority(train, test []Example) float64 {
	counts := map[string]int{}
	best := ""
	for _, e := range train {
		counts[e.Code]++
		if counts[e.Code] > counts[best] {
			best = e.Code
		}
	}
	n := 0
	for _, e := range test {
		if e.Code == best {
			n++
		}
	}
	return float64(n) / float64(len(test))
}
