package workspace_test

import (
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/workspace"
)

// TestHardening_NormaliseText: hostile characters go, everything a person can see stays.
func TestHardening_NormaliseText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"bidi override hides a file's real extension", "gnp.exe\u202Efdp", "gnp.exefdp"},
		{"every embedding, override and isolate", "a\u202Ab\u202Bc\u202Cd\u202De\u202Ef\u2066g\u2067h\u2068i\u2069j", "abcdefghij"},
		{"isolates alone", "\u2066\u2067\u2068\u2069", ""},
		{"C0 controls but newline and tab", "a\x00b\x07c\x1bd\ne\tf\vg\fh", "abcd\ne\tfgh"},
		{"DEL and C1", "a\x7fb\u0085c\u009bd", "abcd"},
		{"CRLF and CR become LF", "one\r\ntwo\rthree\n\nfour\r\n", "one\ntwo\nthree\n\nfour\n"},
		{"line and paragraph separators become LF", "one\u2028two\u2029three", "one\ntwo\nthree"},
		{"invalid UTF-8 dropped", "ok\xff\xfe then\xc3", "ok then"},
		{"deprecated format and interlinear annotation", "a\u206Ab\u206Fc\uFFF9d\uFFFBe", "abcde"},
		{"decomposed accents composed to NFC", "Cafe\u0301 Zu\u0308rich", "Café Zürich"},
		{"emoji ZWJ sequence kept", "👩\u200D💻 and 🏳️\u200D🌈", "👩\u200D💻 and 🏳️\u200D🌈"},
		{"Arabic with RLM kept", "\u200Fمرحبا بك\u200F", "\u200Fمرحبا بك\u200F"},
		{"LRM and ALM kept", "a\u200Eb\u061Cc", "a\u200Eb\u061Cc"},
		{"ZWNJ in Persian kept", "می\u200Cخواهم", "می\u200Cخواهم"},
		{"zero-width characters in text kept", "a\u200Bb\u2060c\uFEFFd", "a\u200Bb\u2060c\uFEFFd"},
		{"leading and trailing spaces of a text kept", "  indented\n", "  indented\n"},
		{"flag with tag characters kept", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := workspace.NormaliseText(c.in); got != c.want {
				t.Fatalf("NormaliseText(%+q) = %+q, want %+q", c.in, got, c.want)
			}
		})
	}
}

// TestHardening_NormaliseName: names are one line, with single spaces and no invisible ends.
func TestHardening_NormaliseName(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"bidi override", "gnp.exe\u202Efdp", "gnp.exefdp"},
		{"isolate at the start", "\u2066Alice", "Alice"},
		{"newlines and tabs become one space", "Ann\n\tSmith\r\nJr", "Ann Smith Jr"},
		{"runs of any whitespace collapse", "Ann \u00A0\u3000 Smith", "Ann Smith"},
		{"trimmed, zero-width ends too", " \u200B\uFEFFAnn\u200D\u2060 ", "Ann"},
		{"controls", "An\x00n\x7f\u0085", "Ann"},
		{"NFC", "Jose\u0301", "José"},
		{"emoji ZWJ inside kept", "Dev 👩\u200D💻", "Dev 👩\u200D💻"},
		{"Arabic with RLM kept", "\u200Fسارة", "\u200Fسارة"},
		{"only invisible", "\u200B\u200C\u200D\u2060\uFEFF \t\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := workspace.NormaliseName(c.in); got != c.want {
				t.Fatalf("NormaliseName(%+q) = %+q, want %+q", c.in, got, c.want)
			}
		})
	}
}

// TestHardening_IsBlank: a text that shows nothing counts as empty.
func TestHardening_IsBlank(t *testing.T) {
	for in, want := range map[string]bool{
		"":                               true,
		" \n\t":                          true,
		"\u200B\u200C\u200D":             true, // only zero-width space and joiners
		"\u2060\uFEFF\u00AD":             true, // word joiner, BOM, soft hyphen
		"\u200E\u200F":                   true, // direction marks alone
		"\uFE0F\u034F":                   true, // variation selector, combining grapheme joiner
		"\u3164\u115F\u1160\uFFA0\u2800": true, // Hangul fillers, blank Braille
		"\U000E0041":                     true, // a tag character
		"a":                              false,
		"\u200Ba\u200B":                  false,
		"👩\u200D💻":                       false,
		".":                              false,
		"\u0301":                         false, // a combining mark shows
	} {
		if got := workspace.IsBlank(in); got != want {
			t.Errorf("IsBlank(%+q) = %v, want %v", in, got, want)
		}
	}
}

// TestHardening_NamesAndTextsAreNormalisedWhereTheyEnter: the webchat visitor's name and
// messages, the agent's replies and notes, new agents and searches all pass through the same
// cleaning; a message of only zero-width characters is refused like an empty one.
func TestHardening_NamesAndTextsAreNormalisedWhereTheyEnter(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, text := range []string{"\u200B\u200B\u200B", "\u2066\u2069", "\uFEFF \u200D\n"} {
		_, _, err := e.web.Start(ctx, webchat.Start{Name: "V", Text: text})
		if workspace.ErrorCode(err) != workspace.EINVALID || workspace.ErrorMessage(err) != "write a message first: it is empty" {
			t.Fatalf("first message %+q: %v, want it refused as empty", text, err)
		}
	}
	_, ix, err := e.web.Start(ctx, webchat.Start{Name: "\u202EeciLA\u202C\n\u200B", Text: "Hi\r\nthere\x1b[2J \u202Egnp.exe"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.get(ix.ID).Contact.Name; got != "eciLA" {
		t.Fatalf("visitor name stored as %+q", got)
	}
	if got := e.transcriptTexts(ix.ID); got[0] != "CONTACT: Hi\nthere[2J gnp.exe" {
		t.Fatalf("first message stored as %+q", got[0])
	}
	_, ix2, err := e.web.Start(ctx, webchat.Start{Name: "\u200B\u2800", Text: "hello"})
	if err != nil || e.get(ix2.ID).Contact.Name != "" {
		t.Fatalf("a name that shows nothing: %v %+q, want no name", err, e.get(ix2.ID).Contact.Name)
	}

	e = newEnv(t) // a desk of its own: the chats above wait in the queues
	e.ready("alice")
	contact, chat := e.active("Sales")
	if _, err := e.web.Send(contact, "\u200D"); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("a contact message of a lone ZWJ: %v, want INVALID", err)
	}
	m, err := e.web.Send(contact, "ok\u2067?")
	if err != nil || m.Text != "ok?" {
		t.Fatalf("contact message: %+v %v", m, err)
	}
	if _, err := e.s.SendMessage(e.as("alice"), chat.ID, "\u2060"); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("an agent message of a word joiner: %v, want INVALID", err)
	}
	m, err = e.s.SendMessage(e.as("alice"), chat.ID, "Thanks 👍\u202E")
	if err != nil || m.Text != "Thanks 👍" {
		t.Fatalf("agent message: %+v %v", m, err)
	}
	got, err := e.s.SetNotes(e.as("alice"), chat.ID, "called\r\nback\u0007")
	if err != nil || got.Notes != "called\nback" {
		t.Fatalf("notes: %+q %v", got.Notes, err)
	}

	a, err := e.s.CreateAgent(ctx, workspace.NewAgent{Username: " dora\u202E ", Name: "Dora\n\u2066Diaz", Password: "pw"})
	if err != nil || a.Username != "dora" || a.Name != "Dora Diaz" {
		t.Fatalf("new agent: %+v %v", a, err)
	}
	for _, u := range []string{"do ra", "do\u200Bra", "\u200B\u2060"} {
		if _, err := e.s.CreateAgent(ctx, workspace.NewAgent{Username: u, Password: "pw"}); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("username %+q: %v, want INVALID", u, err)
		}
	}
	if _, _, _, err := e.s.Login(ctx, "dora\u2069", "pw"); err != nil {
		t.Fatalf("signing in with a stray isolate after the username: %v", err)
	}

	plans, err := e.s.Plans(e.as("alice"), "\u202Esales\t")
	if err != nil || len(plans) != 1 || plans[0].Name != "Sales" {
		t.Fatalf("plan search: %v %v", plans, err)
	}
	e.ready("bob")
	targets, err := e.s.TransferTargets(e.as("alice"), "b\u2066ob\n", false)
	if err != nil || len(targets) != 1 || !strings.HasPrefix(targets[0].Name, "Bob") {
		t.Fatalf("transfer target search: %v %v", targets, err)
	}
}
