package storetest

import (
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// testEmail checks what email adds to the records (issue 15): a message's email details
// round-trip and are found by their Message-ID key (E6 threading), an update keeps or clears
// them, an agent's signature (E2) and an interaction's link to the thread it continues.
func testEmail(t *testing.T, s workspace.Store) {
	ixID := uuid.NewString()
	in := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ixID, From: workspace.PartyContact,
		Text: "Hello", SentAt: now(), ExternalID: "idn|a1@example.com",
		Email: &workspace.EmailDetails{Subject: "Order 17", MessageID: "a1@example.com", InReplyTo: "a0@example.com",
			References: []string{"r1@example.com", "a0@example.com"}, From: "pat@example.com", To: "support@acme.test",
			HTML: "<p>Hello <b>there</b></p>"}}
	must(t, s.AppendMessage(ctx(t), in))
	got, err := s.MessageByExternalID(ctx(t), "idn|a1@example.com")
	must(t, err)
	sameMessage(t, got, in)

	out := newOutbound(ixID, now())
	out.Email = &workspace.EmailDetails{Subject: "Re: Order 17", MessageID: out.ID + "@acme.test", InReplyTo: "a1@example.com",
		References: []string{"r1@example.com", "a0@example.com", "a1@example.com"}, From: "support@acme.test", To: "pat@example.com"}
	must(t, s.AppendMessage(ctx(t), out))
	out.Delivery, out.Attempts = workspace.DeliverySent, 1
	must(t, s.UpdateMessage(ctx(t), out))
	got, err = s.Message(ctx(t), out.ID)
	must(t, err)
	sameMessage(t, got, out)
	out.Email = nil
	must(t, s.UpdateMessage(ctx(t), out))
	got, err = s.Message(ctx(t), out.ID)
	must(t, err)
	sameMessage(t, got, out)

	a := newAgent("sig")
	a.Signature = "<p>Kind regards,<br>Sig</p>"
	must(t, s.CreateAgent(ctx(t), a))
	ga, err := s.Agent(ctx(t), a.ID)
	must(t, err)
	if ga.Signature != a.Signature {
		t.Fatalf("signature = %q, want %q", ga.Signature, a.Signature)
	}
	ga.Signature = ""
	must(t, s.UpdateAgent(ctx(t), ga))
	if ga, err = s.Agent(ctx(t), a.ID); err != nil || ga.Signature != "" {
		t.Fatalf("signature after clearing = %q, %v", ga.Signature, err)
	}

	// The IMAP poller's cursor round-trips with the identity.
	id := newIdentity(workspace.Email, "support@acme.test", "Acme")
	id.Mailbox = workspace.MailboxCursor{UIDValidity: 4000000000, UID: 17}
	must(t, s.CreateIdentity(ctx(t), id))
	gid, err := s.Identity(ctx(t), id.ID)
	must(t, err)
	if gid.Mailbox != id.Mailbox {
		t.Fatalf("mailbox %+v, want %+v", gid.Mailbox, id.Mailbox)
	}
	gid.Mailbox.UID = 18
	must(t, s.UpdateIdentity(ctx(t), gid))
	if got, err := s.Identity(ctx(t), id.ID); err != nil || got.Mailbox.UID != 18 || got.Mailbox.UIDValidity != 4000000000 {
		t.Fatalf("mailbox after update %+v %v", got.Mailbox, err)
	}

	ix := newInteraction(now())
	ix.PreviousID = uuid.NewString()
	must(t, s.CreateInteraction(ctx(t), ix))
	gi, err := s.Interaction(ctx(t), ix.ID)
	must(t, err)
	if gi.PreviousID != ix.PreviousID {
		t.Fatalf("PreviousID = %q, want %q", gi.PreviousID, ix.PreviousID)
	}
}
