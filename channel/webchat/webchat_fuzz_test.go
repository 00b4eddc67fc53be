package webchat_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/workspace"
)

// hostile seeds both fuzz targets start from.
var hostile = []string{
	"", "Visitor", "gnp.exe\u202Efdp", "\u200B\u200B\u200B", "\u2066\u2067\u2068\u2069", "👩\u200D💻",
	"\u200Fمرحبا\u200F", "a\r\nb\rc\u2028d", "\x00\x1b[2J\x7f\u0085", "e\u0301\u0958\uFA6C", "\xff\xc3", " \u00A0\t\n",
}

// FuzzWebchatInput sends any name, first message and plan ID through the check StartWebchat runs
// before it writes: the answer is normalised input or INVALID on the field at fault, never a
// panic or another error.
func FuzzWebchatInput(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, hostile[len(hostile)-1-i], "")
	}
	f.Add("Visitor", "Hello", "0190a0b5-7a3c-7d2e-8f00-123456789abc")
	f.Add("Visitor", "Hello", "not a uuid")
	s := workspace.NewService(nil, nil, workspace.SystemClock{})
	s.MaxMessageChars = 64 // small, so the fuzzer reaches the limit
	f.Fuzz(func(t *testing.T, name, text, planID string) {
		out, err := webchat.Check(s, webchat.Start{Name: name, Text: text, PlanID: planID})
		if err != nil {
			var field string
			if e, ok := err.(*workspace.Error); ok && len(e.Field) == 1 {
				field = e.Field[0]
			}
			if workspace.ErrorCode(err) != workspace.EINVALID || (field != "text" && field != "name" && field != "planId") {
				t.Fatalf("(%+q, %+q, %+q): %v (field %q), want INVALID on an input field", name, text, planID, err, field)
			}
			return
		}
		wantName := workspace.NormaliseName(name)
		if workspace.IsBlank(wantName) {
			wantName = ""
		}
		if out.Name != wantName || out.Text != workspace.NormaliseText(text) || out.PlanID != planID {
			t.Fatalf("(%+q, %+q, %+q) became %+v", name, text, planID, out)
		}
		if workspace.IsBlank(out.Text) || utf8.RuneCountInString(out.Text) > s.MaxMessageChars || utf8.RuneCountInString(out.Name) > 100 {
			t.Fatalf("(%+q, %+q) let through %+v", name, text, out)
		}
	})
}

// FuzzWebchatStart opens chats on a real SQLite store: whatever a visitor sends, StartWebchat
// either refuses it as INVALID (or NOT_FOUND for an unknown plan) or stores exactly the
// normalised name and message, under a token that authenticates to the chat. pick chooses the
// plan: the fuzzed ID, none, Support or Sales.
func FuzzWebchatStart(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, hostile[len(hostile)-1-i], "", byte(i))
	}
	f.Add("Visitor", "Hello", "not a uuid", byte(0))
	store, err := sqlite.Open(f.Context(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	s := workspace.NewService(store, workspace.NewHub(16), workspace.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)))
	s.BcryptCost = 4
	if err := s.SeedDemo(f.Context()); err != nil {
		f.Fatal(err)
	}
	plans, err := store.Plans(f.Context())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, text, planID string, pick byte) {
		switch pick % 4 {
		case 1:
			planID = ""
		case 2, 3:
			planID = plans[int(pick%4)-2].ID
		}
		ctx := t.Context()
		token, ix, err := webchat.New(s).Start(ctx, webchat.Start{Name: name, Text: text, PlanID: planID})
		if err != nil {
			if code := workspace.ErrorCode(err); code != workspace.EINVALID && code != workspace.ENOTFOUND {
				t.Fatalf("(%+q, %+q, %+q): %v", name, text, planID, err)
			}
			return
		}
		p, err := s.Authenticate(ctx, token)
		if err != nil || p.InteractionID != ix.ID {
			t.Fatalf("the chat's token: %+v %v", p, err)
		}
		stored, err := store.Interaction(ctx, ix.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantName := workspace.NormaliseName(name)
		if workspace.IsBlank(wantName) {
			wantName = ""
		}
		if stored.Contact.Name != wantName {
			t.Fatalf("name %+q stored as %+q, want %+q", name, stored.Contact.Name, wantName)
		}
		ms, err := store.Messages(ctx, ix.ID, "", 1)
		if err != nil || len(ms) != 1 || ms[0].Text != workspace.NormaliseText(text) {
			t.Fatalf("message %+q stored as %+v (%v), want %+q", text, ms, err, workspace.NormaliseText(text))
		}
	})
}
