// Package assist is Agent Assist's machinery (W4), written in-house and pure Go: a text
// classifier that learns disposition codes online from completed interactions, the scrubbing
// of personal data before anything is kept, and the offline extractive summary. It knows
// nothing of interactions or stores; package workspace decides what is learnt and when.
package assist

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
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

// FNV-1a, 64 bits (hash/fnv's), folded in place: a feature's hash allocates nothing.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = fnvByte(h, s[i])
	}
	return h
}

// fnvRunes folds in the runes' UTF-8 encoding, as string(rs) would spell them.
func fnvRunes(h uint64, rs []rune) uint64 {
	var buf [utf8.UTFMax]byte
	for _, r := range rs {
		n := utf8.EncodeRune(buf[:], r)
		for _, b := range buf[:n] {
			h = fnvByte(h, b)
		}
	}
	return h
}

// hash is a feature's ID: the FNV-1a hash of its group's prefix and its text.
func hash(group byte, s string) uint64 { return fnvString(fnvByte(fnvOffset, group), s) }

// vectorise turns text into a sparse vector: word unigrams and bigrams, and character 3- to
// 5-grams inside words (with the word's boundaries marked), each count damped (1+log) and each
// group L2-normalised, so a long text weighs no more than a short one. The features come
// sorted by ID: a fixed order makes learning deterministic, float sums not depending on the
// order features were met. It is on every suggestion's and every lesson's path, and a
// retraining runs it over a plan's whole history, so it collects hashes in two reused slices
// and counts runs once they are sorted: it allocates neither strings nor maps, and its result
// once.
func vectorise(text string) []feature {
	if r := []rune(text); len(r) > MaxTextRunes {
		text = string(r[:MaxTextRunes])
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	ws := words(text)
	sc.words, sc.chars = sc.words[:0], sc.chars[:0]
	for i, w := range ws {
		sc.words = append(sc.words, hash(groupWord, w))
		if i > 0 {
			sc.words = append(sc.words, fnvString(fnvByte(fnvString(fnvByte(fnvOffset, groupPair), ws[i-1]), ' '), w))
		}
		sc.padded = append(append(append(sc.padded[:0], ' '), []rune(w)...), ' ')
		for n := 3; n <= 5; n++ {
			for j := 0; j+n <= len(sc.padded); j++ {
				sc.chars = append(sc.chars, fnvRunes(fnvByte(fnvOffset, groupChar), sc.padded[j:j+n]))
			}
		}
	}
	sc.feats = normalised(normalised(sc.feats[:0], sc.words), sc.chars)
	words, chars := sc.feats[:distinct(sc.words)], sc.feats[distinct(sc.words):]
	out := make([]feature, 0, len(sc.feats))
	for len(words) > 0 && len(chars) > 0 {
		if chars[0].id < words[0].id {
			out, chars = append(out, chars[0]), chars[1:]
		} else {
			out, words = append(out, words[0]), words[1:]
		}
	}
	return append(append(out, words...), chars...)
}

// scratch is what vectorise reuses from one call to the next.
type scratch struct {
	words, chars []uint64
	padded       []rune
	feats        []feature
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// normalised appends to out one group's features, given their IDs once per time each was met,
// sorted by ID, each weighing 1+log of its count, the group L2-normalised. It sorts ids in
// place.
func normalised(out []feature, ids []uint64) []feature {
	slices.Sort(ids)
	first := len(out)
	var sum float64
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		v := 1 + math.Log(float64(j-i))
		sum += v * v
		out = append(out, feature{id: ids[i], x: float32(v)})
		i = j
	}
	norm := float32(1 / math.Sqrt(sum))
	for i := first; i < len(out); i++ {
		out[i].x *= norm
	}
	return out
}

// distinct counts the different values of sorted ids.
func distinct(ids []uint64) int {
	n := 0
	for i := range ids {
		if i == 0 || ids[i] != ids[i-1] {
			n++
		}
	}
	return n
}
