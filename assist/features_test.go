package assist

import (
	"hash/fnv"
	"math"
	"testing"
)

// mapVectorise is vectorise as first written, with maps and hash/fnv over the features'
// strings: the reference the allocation-free one must match feature for feature.
func mapVectorise(text string) map[uint64]float32 {
	if r := []rune(text); len(r) > MaxTextRunes {
		text = string(r[:MaxTextRunes])
	}
	fnvHash := func(group byte, s string) uint64 {
		h := fnv.New64a()
		h.Write([]byte{group})
		h.Write([]byte(s))
		return h.Sum64()
	}
	ws := words(text)
	groups := []map[uint64]float64{{}, {}}
	for i, w := range ws {
		groups[0][fnvHash(groupWord, w)]++
		if i > 0 {
			groups[0][fnvHash(groupPair, ws[i-1]+" "+w)]++
		}
		padded := []rune(" " + w + " ")
		for n := 3; n <= 5; n++ {
			for j := 0; j+n <= len(padded); j++ {
				groups[1][fnvHash(groupChar, string(padded[j:j+n]))]++
			}
		}
	}
	out := map[uint64]float32{}
	for _, counts := range groups {
		var sum float64
		for _, c := range counts {
			sum += (1 + math.Log(c)) * (1 + math.Log(c))
		}
		for id, c := range counts {
			out[id] += float32((1 + math.Log(c)) / math.Sqrt(sum))
		}
	}
	return out
}

// TestVectoriseMatchesTheReference: the same features with the same weights (to float32
// rounding of the norm), sorted by ID, on Banking77's texts and on texts with accents,
// emoji, invalid UTF-8, repeats and nothing to count.
func TestVectoriseMatchesTheReference(t *testing.T) {
	texts := []string{"", "   ", "!!!", "a", "I lost my card, my card!", "didn't DIDNT didnt",
		"Ça coûte 20 € — pourquoi ?", "emoji 🙂🙂 here 🙂", "bad \xff\xfe bytes \xc3", "x y x y x y x y"}
	for i, e := range banking77(t) {
		if i%7 == 0 {
			texts = append(texts, e.Text)
		}
	}
	for _, text := range texts {
		got, want := vectorise(text), mapVectorise(text)
		if len(got) != len(want) {
			t.Fatalf("%q: %d features, want %d", text, len(got), len(want))
		}
		for i, f := range got {
			if i > 0 && got[i-1].id >= f.id {
				t.Fatalf("%q: features not sorted by ID at %d", text, i)
			}
			w, ok := want[f.id]
			if !ok || math.Abs(float64(f.x-w)) > 1e-6 {
				t.Fatalf("%q: feature %x weighs %v, want %v (present: %v)", text, f.id, f.x, w, ok)
			}
		}
	}
}

func BenchmarkVectorise(b *testing.B) {
	texts := banking77(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		vectorise(texts[i%len(texts)].Text)
	}
}
