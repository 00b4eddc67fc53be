package workspace

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// What people type reaches other people's screens: a visitor's name and messages reach agents,
// an agent's name reaches visitors. Every name and text is cleaned where it enters the domain,
// so no screen can be tricked into showing something other than what was stored.
//
// Removed from both: bytes that are not UTF-8; control characters (C0 but \n and \t, DEL, C1);
// bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder what
// follows them ("photo\u202Egnp.exe" shows as "photoexe.png", hiding the real extension);
// the deprecated format characters U+206A–U+206F and the interlinear annotation characters
// U+FFF9–U+FFFB, which hide or reshape text. Then the text is composed to NFC, so equal-looking
// texts are equal bytes.
//
// Kept: everything visible, zero-width joiners and non-joiners inside text (👩‍💻 is three
// code points joined by U+200D; Persian needs U+200C), and the direction marks LRM, RLM and
// ALM, which only say which way neutral characters lean and which right-to-left text needs.

// NormaliseText cleans a message or notes. Line breaks \r\n, \r, U+2028 and U+2029 become \n;
// \n and \t are kept; nothing else changes besides the removals above.
func NormaliseText(s string) string {
	return norm.NFC.String(clean(s, false))
}

// NormaliseName cleans a one-line name or search: besides the removals above, every run of
// whitespace (tabs and line breaks included) becomes one space, and whitespace and zero-width
// characters at either end are trimmed.
func NormaliseName(s string) string {
	return strings.TrimFunc(norm.NFC.String(clean(s, true)), func(r rune) bool {
		return unicode.IsSpace(r) || zeroWidth(r)
	})
}

// IsBlank reports whether s shows nothing: it is empty once whitespace and invisible
// characters are dropped. A message of only zero-width spaces is as empty as "".
func IsBlank(s string) bool {
	for _, r := range s {
		if !invisible(r) {
			return false
		}
	}
	return true
}

// clean removes what no name or text may hold and unifies line breaks; in a name, each run of
// whitespace becomes one space.
func clean(s string, name bool) string {
	var b strings.Builder
	b.Grow(len(s))
	spaced := false // a name's last kept rune was a space
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			continue // not UTF-8
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			r = '\n'
		case r == '\u2028' || r == '\u2029':
			r = '\n'
		}
		if name && unicode.IsSpace(r) {
			if !spaced {
				b.WriteByte(' ')
			}
			spaced = true
			continue
		}
		if removed(r) {
			continue
		}
		spaced = false
		b.WriteRune(r)
	}
	return b.String()
}

// removed reports whether r is never kept in a name or a text (\n and \t are handled by the
// caller: kept in texts, spaces in names).
func removed(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r): // C0, DEL, C1
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r >= 0x206A && r <= 0x206F, r >= 0xFFF9 && r <= 0xFFFB: // deprecated format, interlinear annotation
		return true
	}
	return false
}

// zeroWidth are the characters that take no room: ZWSP, ZWNJ, ZWJ, word joiner, BOM.
func zeroWidth(r rune) bool {
	return (r >= 0x200B && r <= 0x200D) || r == 0x2060 || r == 0xFEFF
}

// invisible reports whether r shows nothing on its own: whitespace, format characters
// (zero-width ones, direction marks, tags), variation selectors, the combining grapheme joiner,
// the Hangul fillers and the blank Braille pattern, which are all used to fake "non-empty".
func invisible(r rune) bool {
	switch {
	case unicode.IsSpace(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r):
		return true
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x2800:
		return true
	}
	return false
}
