package workspace_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/workspace"
	"golang.org/x/text/unicode/norm"
)

// hostile seeds both fuzz targets start from.
var hostile = []string{
	"", "Visitor", "gnp.exe\u202Efdp", "\u200B\u200B\u200B", "\u2066\u2067\u2068\u2069", "👩\u200D💻",
	"\u200Fمرحبا\u200F", "a\r\nb\rc\u2028d", "\x00\x1b[2J\x7f\u0085", "e\u0301\u0958\uFA6C", "\xff\xc3", " \u00A0\t\n",
}

// FuzzNormalise checks the invariants of NormaliseText and NormaliseName on any input: valid
// UTF-8 out, idempotent, NFC, nothing removed survives, never longer than NFC allows, and no
// longer at all for input that was already NFC.
func FuzzNormalise(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		text, name := workspace.NormaliseText(in), workspace.NormaliseName(in)
		for _, c := range []struct {
			what, out string
			again     func(string) string
		}{{"text", text, workspace.NormaliseText}, {"name", name, workspace.NormaliseName}} {
			if !utf8.ValidString(c.out) {
				t.Fatalf("%s %+q: invalid UTF-8 %+q", c.what, in, c.out)
			}
			if again := c.again(c.out); again != c.out {
				t.Fatalf("%s %+q: not idempotent: %+q then %+q", c.what, in, c.out, again)
			}
			if !norm.NFC.IsNormalString(c.out) {
				t.Fatalf("%s %+q: %+q is not NFC", c.what, in, c.out)
			}
			for _, r := range c.out {
				if forbidden(r) || (c.what == "name" && (r == '\n' || r == '\t')) {
					t.Fatalf("%s %+q: %+q keeps %U", c.what, in, c.out, r)
				}
			}
			// NFC may expand a text threefold (U+0958 decomposes to two code points); cleaning
			// itself only removes or shortens.
			if len(c.out) > 3*len(in) {
				t.Fatalf("%s %+q: grew from %d to %d bytes", c.what, in, len(in), len(c.out))
			}
			if utf8.ValidString(in) && norm.NFC.IsNormalString(in) &&
				(len(c.out) > len(in) || utf8.RuneCountInString(c.out) > utf8.RuneCountInString(in)) {
				t.Fatalf("%s %+q: NFC input grew to %+q", c.what, in, c.out)
			}
		}
		if name != strings.TrimSpace(name) || strings.Contains(name, "  ") {
			t.Fatalf("name %+q: %+q has outer or double spaces", in, name)
		}
		if utf8.ValidString(in) && workspace.IsBlank(in) && (!workspace.IsBlank(text) || !workspace.IsBlank(name)) {
			t.Fatalf("%+q shows nothing but its normal forms %+q, %+q do", in, text, name)
		}
	})
}

// forbidden are the runes no normalised name or text holds.
func forbidden(r rune) bool {
	return (unicode.IsControl(r) && r != '\n' && r != '\t') || r == '\r' || r == '\u2028' || r == '\u2029' ||
		(r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x206F) || (r >= 0xFFF9 && r <= 0xFFFB) ||
		r == utf8.RuneError
}
