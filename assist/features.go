// Package assist is Agent Assist's machinery (W4), written in-house and pure Go: a text
// classifier that learns disposition codes online from completed interactions, the scrubbing
// of personal data before anything is kept, and the offline extractive summary. It knows
// nothing of interactions or stores; package workspace decides what is learnt and when.
package assist

import (
	"cmp"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Personal data that Scrub replaces, most specific first: a card number is also digits a phone
// pattern would take.
var (
	emailPattern = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`)
	cardPattern  = regexp.MustCompile(`\b(?:\d[ \-]?){12,18}\d\b`)
	phonePattern = regexp.MustCompile(`(?:\+|\b)(?:\d[ \-.()]{0,2}){7,14}\d\b`)
)

// Scrub replaces card numbers, email addresses and phone numbers with placeholders, so no
// personal data reaches what the classifier keeps. The placeholders are words the classifier
// can still learn from ("my card number is <card>").
func Scrub(text string) string {
	text = emailPattern.ReplaceAllString(text, " emailaddr ")
	text = cardPattern.ReplaceAllStringFunc(text, func(s string) string {
		if digits(s) >= 13 {
			return " cardnumber "
		}
		return s
	})
	return phonePattern.ReplaceAllString(text, " phonenumber ")
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// MaxTextRunes bounds the text a suggestion reads: the opening of a conversation carries its
// request, and the bound keeps a suggestion's cost flat however long the transcript grows.
const MaxTextRunes = 2000

// feature is a hashed feature with its weight in an example's vector.
type feature struct {
	id uint64
	x  float32
}

// words splits lowercased text into words of letters and digits (apostrophes dropped, so
// "didn't" and "didnt" are one word).
func words(text string) []string {
	text = strings.ToLower(text)
	return strings.FieldsFunc(strings.ReplaceAll(text, "'", ""), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Feature groups, hashed with different prefixes so they never collide by design.
const (
	groupWord byte = 'w'
	groupPair byte = 'b'
	groupChar byte = 'c'
)

func hash(group byte, s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte{group})
	h.Write([]byte(s))
	return h.Sum64()
}

// vectorise turns text into a sparse vector: word unigrams and bigrams, and character 3- to
// 5-grams inside words (with the word's boundaries marked), each count damped (1+log) and each
// group L2-normalised, so a long text weighs no more than a short one.
func vectorise(text string) []feature {
	if r := []rune(text); len(r) > MaxTextRunes {
		text = string(r[:MaxTextRunes])
	}
	ws := words(text)
	wordCounts := map[uint64]float32{}
	charCounts := map[uint64]float32{}
	for i, w := range ws {
		wordCounts[hash(groupWord, w)]++
		if i > 0 {
			wordCounts[hash(groupPair, ws[i-1]+" "+w)]++
		}
		padded := []rune(" " + w + " ")
		for n := 3; n <= 5; n++ {
			for j := 0; j+n <= len(padded); j++ {
				charCounts[hash(groupChar, string(padded[j:j+n]))]++
			}
		}
	}
	out := make([]feature, 0, len(wordCounts)+len(charCounts))
	out = appendNormalised(out, wordCounts)
	out = appendNormalised(out, charCounts)
	// A fixed order makes learning deterministic: float sums do not depend on map order.
	slices.SortFunc(out, func(a, b feature) int { return cmp.Compare(a.id, b.id) })
	return out
}

func appendNormalised(out []feature, counts map[uint64]float32) []feature {
	var sum float64
	for _, c := range counts {
		v := 1 + math.Log(float64(c))
		sum += v * v
	}
	if sum == 0 {
		return out
	}
	norm := float32(1 / math.Sqrt(sum))
	for id, c := range counts {
		out = append(out, feature{id: id, x: float32(1+math.Log(float64(c))) * norm})
	}
	return out
}
