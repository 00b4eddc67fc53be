package workspace_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// Outbound media (issue 12 §6): an agent's files on SMS/MMS and WhatsApp go to the sender with
// their bytes and a signed, short-lived link; what a channel does not carry is refused before
// anything is sent, and a refusal never loses the agent's drafts.

const linkBase = "https://desk.example.com/attachments/"

func (e *env) fileURLs() {
	e.s.FileURL = func(id, token string) string { return linkBase + id + "?link=" + url.QueryEscape(token) }
}

// draft uploads a file as the agent.
func (e *env) draft(username, name string, body []byte) *workspace.Attachment {
	e.t.Helper()
	a, err := e.s.Upload(e.as(username), name, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// activeOn has the contact write on the identity and alice accept it.
func (e *env) activeOn(id *workspace.Identity, contact string) *workspace.Interaction {
	e.t.Helper()
	e.ready("alice")
	m := e.inbound(id, contact, "in-"+contact, "Hello")
	return e.accept(e.get(m.InteractionID))
}

// tokenOf is the link token of a file link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, linkBase) {
		t.Fatalf("not a file link: %q", link)
	}
	return u.Query().Get("link")
}

func readAll(t *testing.T, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSendFilesOnProviderChannels(t *testing.T) {
	e := newEnv(t)
	sms, wa, tpl, o := e.channels()
	e.blobs()
	e.fileURLs()
	ix := e.activeOn(sms, "+447700900501")
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 2000)...)
	photo, doc := e.draft("alice", "photo.png", png), e.draft("alice", "terms.pdf", pdf)

	m, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, Text: "Both files, as promised", AttachmentIDs: []string{doc.ID, photo.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Delivery != workspace.DeliveryPending || len(m.AttachmentIDs) != 2 {
		t.Fatalf("the message: %+v", m)
	}
	e.deliver()
	out := o.sent[len(o.sent)-1]
	if out.Message.ID != m.ID || len(out.Files) != 2 || out.Files[0].ID != doc.ID || out.Files[1].ID != photo.ID ||
		out.Files[0].FileName != "terms.pdf" || out.Files[1].ContentType != "image/png" {
		t.Fatalf("the sender got %+v", out.Files)
	}
	for i, want := range [][]byte{pdf, png} {
		rc, err := out.Files[i].Open(t.Context())
		if err != nil || !bytes.Equal(readAll(t, rc), want) {
			t.Fatalf("file %d: the bytes differ (%v)", i, err)
		}
	}
	if e.message(m.ID).Delivery != workspace.DeliverySent {
		t.Fatalf("the message is %s", e.message(m.ID).Delivery)
	}

	t.Run("the link serves the file to anyone holding it, until it expires", func(t *testing.T) {
		anyone := context.Background()
		token := tokenOf(t, out.Files[1].Link)
		a, rc, err := e.s.OpenFileLink(anyone, photo.ID, token)
		if err != nil || a.ID != photo.ID || !bytes.Equal(readAll(t, rc), png) {
			t.Fatalf("open by link: %v", err)
		}
		for name, c := range map[string]struct{ id, token string }{
			"another file's link": {doc.ID, token},
			"a changed signature": {photo.ID, token[:len(token)-2] + "AA"},
			"a later expiry":      {photo.ID, "9" + token},
			"no signature":        {photo.ID, strings.Split(token, ".")[0]},
			"not a link at all":   {photo.ID, "hello"},
			"an unknown file":     {"0193a5f0-0000-7000-8000-000000000000", token},
		} {
			if _, _, err := e.s.OpenFileLink(anyone, c.id, c.token); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
				t.Errorf("%s: %v, want FORBIDDEN", name, err)
			}
		}
		e.clock.Advance(workspace.FileLinkTTL)
		if _, _, err := e.s.OpenFileLink(anyone, photo.ID, token); workspace.ErrorCode(err) != workspace.EFORBIDDEN || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("an expired link: %v", err)
		}
		draft := e.draft("alice", "draft.png", png)
		link, err := e.s.FileLink(t.Context(), draft)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.OpenFileLink(anyone, draft.ID, tokenOf(t, link)); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
			t.Fatalf("a draft by link: %v, want FORBIDDEN", err)
		}
	})

	t.Run("each send attempt gets a fresh link", func(t *testing.T) {
		o.fail = []error{&workspace.DeliveryError{Kind: workspace.DeliveryTemporary, Message: "try later"}}
		p := e.draft("alice", "again.png", png)
		m, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, AttachmentIDs: []string{p.ID}})
		if err != nil || m.Text != "" {
			t.Fatalf("a file alone: %+v %v", m, err)
		}
		e.deliver()
		e.clock.Advance(workspace.FileLinkTTL + e.s.Outbox.MaxBackoff)
		e.deliver()
		last := o.sent[len(o.sent)-1]
		if last.Message.ID != m.ID || len(last.Files) != 1 {
			t.Fatalf("the retry sent %+v", last)
		}
		if _, _, err := e.s.OpenFileLink(context.Background(), p.ID, tokenOf(t, last.Files[0].Link)); err != nil {
			t.Fatalf("the retry's link: %v", err)
		}
	})

	t.Run("what the channel does not carry is refused, and the drafts stay usable", func(t *testing.T) {
		big1, big2 := e.draft("alice", "big1.png", append(bytes.Clone(png), make([]byte, 3<<20)...)), e.draft("alice", "big2.png", append(bytes.Clone(png), make([]byte, 3<<20)...))
		before := len(o.sent)
		_, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, AttachmentIDs: []string{big1.ID, big2.ID}})
		if workspace.ErrorCode(err) != workspace.ETOOLARGE || !strings.Contains(err.Error(), "5 MB") {
			t.Fatalf("6 MB by MMS: %v, want TOO_LARGE", err)
		}
		if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, AttachmentIDs: []string{big1.ID}}); err != nil {
			t.Fatalf("one of them alone: %v", err)
		}
		e.deliver()
		if len(o.sent) != before+1 {
			t.Fatalf("%d sends, want one", len(o.sent)-before)
		}

		bobs := e.draft("bob", "bob.png", png)
		if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: ix.ID, Text: "x", AttachmentIDs: []string{bobs.ID}}); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
			t.Fatalf("bob's draft: %v, want FORBIDDEN", err)
		}
	})

	t.Run("WhatsApp: files with a template, or to start a conversation, are refused", func(t *testing.T) {
		wix := e.activeOn(wa, "+447700900502")
		p := e.draft("alice", "wa.png", png)
		_, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: wix.ID, TemplateID: tpl.ID, TemplateParameters: []string{"Ana", "A-1"}, AttachmentIDs: []string{p.ID}})
		if workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("a template with a file: %v, want INVALID", err)
		}
		_, err = e.s.StartOutbound(e.as("alice"), workspace.OutboundStart{Channel: workspace.WhatsApp, IdentityID: wa.ID, To: "+447700900503",
			TemplateID: tpl.ID, TemplateParameters: []string{"Ana", "A-1"}, AttachmentIDs: []string{p.ID}})
		if workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("a WhatsApp start with a file: %v, want INVALID", err)
		}
		big := e.draft("alice", "big.png", append(bytes.Clone(png), make([]byte, 5<<20)...))
		if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: wix.ID, AttachmentIDs: []string{big.ID}}); workspace.ErrorCode(err) != workspace.ETOOLARGE {
			t.Fatalf("a WhatsApp image over 5 MB: %v, want TOO_LARGE", err)
		}
		if _, err := e.s.SendReply(e.as("alice"), workspace.Reply{InteractionID: wix.ID, Text: "here", AttachmentIDs: []string{p.ID}}); err != nil {
			t.Fatalf("a file in the window: %v", err)
		}
	})

	t.Run("an SMS start carries files; a start that is refused frees them", func(t *testing.T) {
		p := e.draft("alice", "start.png", png)
		_, err := e.s.StartOutbound(e.as("alice"), workspace.OutboundStart{Channel: workspace.SMS, IdentityID: sms.ID, To: "+447700900501",
			Text: "one more", AttachmentIDs: []string{p.ID}})
		if workspace.ErrorCode(err) != workspace.EALREADYOPEN {
			t.Fatalf("a start to a contact with an open interaction: %v, want ALREADY_OPEN", err)
		}
		started, err := e.s.StartOutbound(e.as("alice"), workspace.OutboundStart{Channel: workspace.SMS, IdentityID: sms.ID, To: "+447700900504",
			Text: "Your photos", AttachmentIDs: []string{p.ID}})
		if err != nil {
			t.Fatalf("the same draft in a start that can go ahead: %v", err)
		}
		e.deliver()
		last := o.sent[len(o.sent)-1]
		if last.Message.InteractionID != started.ID || last.Message.Text != "Your photos" || len(last.Files) != 1 || last.Files[0].ID != p.ID {
			t.Fatalf("the start sent %+v", last)
		}
	})
}
