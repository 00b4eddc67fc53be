package workspace_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentdesk/agentdesk/workspace"
)

// emailIdentity saves an EMAIL identity support@acme.test on plan Support, for outbound use,
// with the "test" provider and its outbox.
func (e *env) emailIdentity() (*workspace.Identity, *outbox) {
	e.t.Helper()
	o := &outbox{}
	e.s.Providers = providerStub{}
	e.s.Senders = map[string]workspace.Sender{"test": o}
	ch, addr, name, yes, plan, prov := workspace.Email, "Support@ACME.test", "Acme Support", true, e.plan("Support").ID, "test"
	id, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{Channel: &ch, Address: &addr, Name: &name,
		Outbound: &yes, PlanID: &plan, Provider: &prov})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, o
}

// email is an inbound email as the adapter gives it.
func email(id *workspace.Identity, from, msgID, subject, text string, inReplyTo string, refs ...string) workspace.InboundMessage {
	return workspace.InboundMessage{IdentityID: id.ID, From: from, ProviderMessageID: msgID, Text: text,
		Email: &workspace.EmailDetails{Subject: subject, MessageID: msgID, InReplyTo: inReplyTo, References: refs,
			From: from, To: id.Address}}
}

func (e *env) receive(in workspace.InboundMessage) workspace.Received {
	e.t.Helper()
	r, err := e.s.Receive(e.t.Context(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// TestEmailIdentitySettings: an EMAIL identity's address is one email address (domain in
// lower case); settings may hold numbers and the imap object, kept as JSON text.
func TestEmailIdentitySettings(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	if id.Address != "Support@acme.test" || id.Channel != workspace.Email {
		t.Fatalf("identity %s %s", id.Channel, id.Address)
	}
	settings := `{"host":"smtp.acme.test","port":587,"imap":{"host":"imap.acme.test","port":993,"tls":"tls"}}`
	got, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: id.ID, Settings: &settings})
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings["port"] != "587" || !strings.Contains(got.Settings["imap"], `"host":"imap.acme.test"`) {
		t.Fatalf("settings %v", got.Settings)
	}
	for _, bad := range []string{"not an address", "a@b.test, c@d.test", ""} {
		ch, name, plan, prov := workspace.Email, "X", e.plan("Support").ID, "test"
		_, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{Channel: &ch, Address: &bad, Name: &name, PlanID: &plan, Provider: &prov})
		if workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("address %q: %v, want INVALID", bad, err)
		}
	}
	for _, bad := range []string{`[1]`, `{"a":[1]}`, `{"a":null}`, `nope`} {
		if _, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: id.ID, Settings: &bad}); workspace.ErrorCode(err) != workspace.EINVALID {
			t.Fatalf("settings %s: %v, want INVALID", bad, err)
		}
	}
	// Wrong principal: an agent cannot save identities.
	if _, err := e.s.SaveIdentity(e.as("alice"), workspace.IdentityInput{ID: id.ID, Settings: &settings}); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("agent saving an identity: %v", err)
	}
}

// TestEmailE6ThreadingJoinsByReferences: a new thread opens an interaction; a reply naming
// it in In-Reply-To or only in References joins it; an unrelated email with the same subject
// opens its own (no subject-only merging); the same Message-ID delivered twice is stored once.
func TestEmailE6ThreadingJoinsByReferences(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	first := e.receive(email(id, "pat@example.com", "m1@example.com", "Order 17", "Where is it?", ""))
	if !first.Opened || first.Message.Email == nil || first.Message.Email.Subject != "Order 17" {
		t.Fatalf("first email: %+v", first)
	}
	again := e.receive(email(id, "pat@example.com", "<m1@example.com>", "Order 17", "Where is it?", ""))
	if !again.Duplicate || again.Message.ID != first.Message.ID {
		t.Fatalf("the same Message-ID again: %+v, want a duplicate of %s", again, first.Message.ID)
	}
	reply := e.receive(email(id, "pat@example.com", "m2@example.com", "Re: Order 17", "Any news?", "m1@example.com", "m1@example.com"))
	refsOnly := e.receive(email(id, "pat@example.com", "m3@example.com", "Re: Order 17", "Hello?", "", "unknown@x", "m2@example.com"))
	sameSubject := e.receive(email(id, "pat@example.com", "m4@example.com", "Order 17", "Another order", ""))
	other := e.receive(email(id, "sam@example.com", "m5@example.com", "Re: Order 17", "Mine too", "nobody@x"))
	ix := first.Interaction.ID
	if reply.Message.InteractionID != ix || refsOnly.Message.InteractionID != ix {
		t.Fatalf("replies went to %s and %s, want %s", reply.Message.InteractionID, refsOnly.Message.InteractionID, ix)
	}
	if sameSubject.Message.InteractionID == ix || other.Message.InteractionID == ix || !sameSubject.Opened || !other.Opened {
		t.Fatal("an email with the same subject but no reference joined the thread")
	}
	if got := e.transcriptTexts(ix); len(got) != 3 {
		t.Fatalf("thread transcript %q", got)
	}
}

// TestEmailE6ConcurrentDuplicates: the same email delivered 4 times at once is stored once.
func TestEmailE6ConcurrentDuplicates(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for range 4 {
		wg.Go(func() {
			r, err := e.s.Receive(t.Context(), email(id, "pat@example.com", "race@example.com", "Hi", "Hello", ""))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[r.Message.ID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Fatalf("stored as %d messages, want 1", len(seen))
	}
}

// TestEmailE6ReplyToCompletedOpensLinkedInteraction: a reply to an interaction that has ended
// opens a new one linked to it (Previous), whose transcript says so.
func TestEmailE6ReplyToCompletedOpensLinkedInteraction(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	e.ready("alice")
	first := e.receive(email(id, "pat@example.com", "c1@example.com", "Refund", "Please refund", ""))
	ix := e.accept(first.Interaction)
	alice := e.as("alice")
	if _, err := e.s.EndInteraction(alice, ix.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SelectDisposition(alice, ix.ID, e.plan("Support").DispositionCodes[0].Code); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CompleteInteraction(alice, ix.ID); err != nil {
		t.Fatal(err)
	}
	late := e.receive(email(id, "pat@example.com", "c2@example.com", "Re: Refund", "Thanks!", "c1@example.com", "c1@example.com"))
	if !late.Opened || late.Interaction.ID == ix.ID || late.Interaction.PreviousID != ix.ID {
		t.Fatalf("late reply: opened=%v in %s previous %q, want a new interaction linked to %s", late.Opened, late.Interaction.ID, late.Interaction.PreviousID, ix.ID)
	}
	prev, err := e.s.Previous(e.as("admin"), e.get(late.Interaction.ID))
	if err != nil || prev == nil || prev.ID != ix.ID {
		t.Fatalf("Previous: %v %v", prev, err)
	}
	if got := e.transcriptTexts(late.Interaction.ID); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, ix.ID) }) {
		t.Fatalf("new transcript %q does not name the old interaction", got)
	}
}

// TestEmailE6ReferenceLoopAndMissingID: a References header that names the message itself,
// repeats ids, or holds hundreds of them is cleaned; an email without a Message-ID is refused
// by the domain (the adapter makes one, see channel/email).
func TestEmailE6ReferenceLoopAndMissingID(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	refs := []string{"loop@x", "loop@x", "<loop@x>"}
	for i := range 300 {
		refs = append(refs, "r"+strings.Repeat("x", i%7)+"@y")
	}
	r := e.receive(email(id, "pat@example.com", "loop@x", "Loop", "Hi", "loop@x", refs...))
	if !r.Opened || r.Message.Email.InReplyTo != "" || slices.Contains(r.Message.Email.References, "loop@x") || len(r.Message.Email.References) > 50 {
		t.Fatalf("loop: %+v", r.Message.Email)
	}
	if _, err := e.s.Receive(t.Context(), email(id, "pat@example.com", "", "No id", "Hi", "")); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("no Message-ID: %v", err)
	}
	if _, err := e.s.Receive(t.Context(), email(id, "pat@example.com", "a b@c", "Bad id", "Hi", "")); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("malformed Message-ID: %v", err)
	}
}

// TestEmailE1ReplyToLatestAndRFC5322Headers: replyTo is the contact's latest email; the
// agent's reply answers it with In-Reply-To, References (parent's References + its id),
// "Re: " once, the identity as From; the sender gets the details.
func TestEmailE1ReplyToLatestAndRFC5322Headers(t *testing.T) {
	e := newEnv(t)
	id, o := e.emailIdentity()
	e.ready("alice")
	first := e.receive(email(id, "pat@example.com", "a1@example.com", "Re: RE: Order 17", "One", ""))
	ix := e.accept(first.Interaction)
	second := e.receive(email(id, "pat@example.com", "a2@example.com", "Re: Order 17", "Two", "a1@example.com", "a0@example.com", "a1@example.com"))
	latest, err := e.s.ReplyTo(e.as("alice"), e.get(ix.ID))
	if err != nil || latest == nil || latest.ID != second.Message.ID {
		t.Fatalf("replyTo = %v, %v; want the second email", latest, err)
	}
	alice := e.as("alice")
	m, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Email: workspace.EmailReply{HTML: "<p>Hello <b>Pat</b><script>alert(1)</script></p>"}})
	if err != nil {
		t.Fatal(err)
	}
	em := m.Email
	if em.InReplyTo != "a2@example.com" || !slices.Equal(em.References, []string{"a0@example.com", "a1@example.com", "a2@example.com"}) ||
		em.Subject != "Re: Order 17" || em.From != "Support@acme.test" || em.To != "pat@example.com" ||
		em.MessageID != m.ID+"@acme.test" || strings.Contains(em.HTML, "script") || m.Text != "Hello Pat" {
		t.Fatalf("reply %q %+v", m.Text, em)
	}
	e.deliver()
	if len(o.sent) != 1 || o.sent[0].Message.Email.InReplyTo != "a2@example.com" {
		t.Fatalf("sent %+v", o.sent)
	}
	// The customer's answer to the agent's reply joins the interaction.
	third := e.receive(email(id, "pat@example.com", "a3@example.com", "Re: Order 17", "Three", em.MessageID))
	if third.Message.InteractionID != ix.ID {
		t.Fatalf("answer to the reply went to %s, want %s", third.Message.InteractionID, ix.ID)
	}
	// Wrong principal and wrong state.
	if _, err := e.s.SendReply(e.as("bob"), workspace.Reply{InteractionID: ix.ID, Text: "hi"}); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("bob replying: %v", err)
	}
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "  "}); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("empty reply: %v", err)
	}
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "x", Email: workspace.EmailReply{HTML: strings.Repeat("a", 1<<20+1)}}); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("oversized html: %v", err)
	}
	if _, err := e.s.ParkInteraction(alice, ix.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SendReply(alice, workspace.Reply{InteractionID: ix.ID, Text: "hi"}); workspace.ErrorCode(err) != workspace.EWRONGSTATE {
		t.Fatalf("reply while parked: %v", err)
	}
}

// TestEmailE3O3StartOutbound: an outbound email needs exactly one valid To (no lists: no CC
// or BCC), a subject that is not only whitespace, and a body; it starts ACTIVE with the caller.
func TestEmailE3O3StartOutbound(t *testing.T) {
	e := newEnv(t)
	id, o := e.emailIdentity()
	alice := e.as("alice")
	subject, blank := "Your order", " \t "
	start := func(to string, subject *string, html string) (*workspace.Interaction, error) {
		return e.s.StartOutbound(alice, workspace.OutboundStart{Channel: workspace.Email, IdentityID: id.ID, To: to, Subject: subject, HTML: html})
	}
	for _, c := range []struct {
		to      string
		subject *string
		html    string
		field   string
	}{
		{"pat@example.com, sam@example.com", &subject, "<p>x</p>", "to"},
		{"pat@example.com; sam@example.com", &subject, "<p>x</p>", "to"},
		{"not-an-address", &subject, "<p>x</p>", "to"},
		{"", &subject, "<p>x</p>", "to"},
		{"pat@example.com", &blank, "<p>x</p>", "subject"},
		{"pat@example.com", nil, "<p>x</p>", "subject"},
		{"pat@example.com", &subject, "<p> </p>", "text"},
	} {
		_, err := start(c.to, c.subject, c.html)
		var we *workspace.Error
		if workspace.ErrorCode(err) != workspace.EINVALID || !asError(err, &we) || len(we.Field) == 0 || we.Field[0] != c.field {
			t.Fatalf("start to %q subject %v: %v, want INVALID on %s", c.to, c.subject, err, c.field)
		}
	}
	ix, err := start("Pat <pat@Example.com>", &subject, "<p>Hello</p>")
	if err != nil {
		t.Fatal(err)
	}
	if ix.State != workspace.Active || ix.Contact.Address != "pat@example.com" || ix.Channel != workspace.Email {
		t.Fatalf("started %+v", ix)
	}
	// A second thread with the same contact is allowed: threads are emails, not contacts.
	if _, err := start("pat@example.com", &subject, "<p>Another</p>"); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	if len(o.sent) != 2 || o.sent[0].Message.Email.Subject != "Your order" || o.sent[0].Message.Email.InReplyTo != "" {
		t.Fatalf("sent %+v", o.sent)
	}
	// The customer's reply joins the started interaction.
	r := e.receive(email(id, "pat@example.com", "p1@example.com", "Re: Your order", "Thanks", o.sent[0].Message.Email.MessageID))
	if r.Message.InteractionID != ix.ID {
		t.Fatalf("reply to the outbound email went to %s, want %s", r.Message.InteractionID, ix.ID)
	}
	// Wrong principal: a CRM key or nobody cannot start.
	if _, err := e.s.StartOutbound(t.Context(), workspace.OutboundStart{Channel: workspace.Email, IdentityID: id.ID, To: "pat@example.com", Subject: &subject, Text: "x"}); workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
		t.Fatalf("anonymous start: %v", err)
	}
}

// TestEmailE2Signature: an agent saves their own signature, sanitised; an empty one removes it.
func TestEmailE2Signature(t *testing.T) {
	e := newEnv(t)
	a, err := e.s.SetSignature(e.as("alice"), `<p>Kind regards,<br>Alice <img src="https://tracker.example/x.png" onerror="alert(1)"></p>`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Signature, "Kind regards") || strings.Contains(a.Signature, "onerror") || strings.Contains(a.Signature, ` src=`) {
		t.Fatalf("signature %q", a.Signature)
	}
	if e.agent("alice").Signature != a.Signature {
		t.Fatal("signature not stored")
	}
	if _, err := e.s.SetSignature(e.as("alice"), strings.Repeat("x", 10_001)); workspace.ErrorCode(err) != workspace.EINVALID {
		t.Fatalf("oversized signature: %v", err)
	}
	if _, err := e.s.SetSignature(t.Context(), "<p>x</p>"); workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
		t.Fatalf("anonymous signature: %v", err)
	}
	if a, err = e.s.SetSignature(e.as("alice"), "<p> </p>"); err != nil || a.Signature != "" {
		t.Fatalf("clearing: %q %v", a.Signature, err)
	}
}

// TestEmailC4OnlyAgentEnds: the contact cannot end an email interaction; the agent does.
func TestEmailC4OnlyAgentEnds(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	e.ready("alice")
	ix := e.accept(e.receive(email(id, "pat@example.com", "e1@example.com", "Hi", "Hello", "")).Interaction)
	contact := workspace.WithPrincipal(t.Context(), workspace.Principal{Kind: workspace.ContactPrincipal, InteractionID: ix.ID})
	if _, err := e.s.EndByContact(contact); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("contact ending an email: %v, want FORBIDDEN", err)
	}
	if _, err := e.s.EndInteraction(e.as("bob"), ix.ID); workspace.ErrorCode(err) != workspace.EFORBIDDEN {
		t.Fatalf("another agent ending it: %v", err)
	}
	if got, err := e.s.EndInteraction(e.as("alice"), ix.ID); err != nil || got.State != workspace.Wrap || got.EndedBy != workspace.PartyAgent {
		t.Fatalf("agent ending: %v %v", got, err)
	}
}

// TestEmailKReplyRacingParkedTimeout: a contact's email racing the parked timeout has exactly
// one outcome, and the email is kept either way.
func TestEmailKReplyRacingParkedTimeout(t *testing.T) {
	for range 5 {
		e := newEnv(t)
		id, _ := e.emailIdentity()
		e.ready("alice")
		ix := e.accept(e.receive(email(id, "pat@example.com", "k1@example.com", "Hi", "Hello", "")).Interaction)
		parked := e.park(ix)
		e.clock.Set(*parked.ParkedUntil)
		var wg sync.WaitGroup
		var got workspace.Received
		wg.Go(func() { e.tick() })
		wg.Go(func() {
			got = e.receive(email(id, "pat@example.com", "k2@example.com", "Re: Hi", "Still there?", "k1@example.com"))
		})
		wg.Wait()
		m := e.message(got.Message.ID)
		final := e.get(ix.ID)
		switch {
		case m.InteractionID == ix.ID && final.State == workspace.Active: // the reply woke it (K4)
		case m.InteractionID != ix.ID && final.State != workspace.Parked && final.State != workspace.Active: // timed out first; a new one
		case m.InteractionID == ix.ID && final.State == workspace.Wrap: // stored, then the timeout ended it
		default:
			t.Fatalf("message in %s (parked %s), final state %s", m.InteractionID, ix.ID, final.State)
		}
	}
}

func asError(err error, target **workspace.Error) bool { return errors.As(err, target) }

// TestEmailIMAPCursorNeverMovesBack: the poller's place moves forward only within one
// UIDVALIDITY; a new UIDVALIDITY starts again from the beginning (nothing is skipped).
func TestEmailIMAPCursorNeverMovesBack(t *testing.T) {
	e := newEnv(t)
	id, _ := e.emailIdentity()
	ctx := t.Context()
	cur, err := e.s.MailboxCursorOf(ctx, id.ID, 7)
	if err != nil || cur.UID != 0 || cur.UIDValidity != 7 {
		t.Fatalf("fresh cursor %+v %v", cur, err)
	}
	for _, uid := range []uint32{3, 5, 4} {
		if err := e.s.AdvanceMailbox(ctx, id.ID, 7, uid); err != nil {
			t.Fatal(err)
		}
	}
	if cur, _ = e.s.MailboxCursorOf(ctx, id.ID, 7); cur.UID != 5 {
		t.Fatalf("cursor %+v, want UID 5 (never back to 4)", cur)
	}
	if cur, _ = e.s.MailboxCursorOf(ctx, id.ID, 8); cur.UID != 0 || cur.UIDValidity != 8 {
		t.Fatalf("after a UIDVALIDITY change %+v, want from the start", cur)
	}
	if err := e.s.AdvanceMailbox(ctx, id.ID, 8, 1); err != nil {
		t.Fatal(err)
	}
	if cur, _ = e.s.MailboxCursorOf(ctx, id.ID, 8); cur.UID != 1 {
		t.Fatalf("cursor %+v", cur)
	}
	// An identity saved meanwhile by a supervisor keeps the cursor.
	name := "Renamed"
	if _, err := e.s.SaveIdentity(e.as("admin"), workspace.IdentityInput{ID: id.ID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if cur, _ = e.s.MailboxCursorOf(ctx, id.ID, 8); cur.UID != 1 {
		t.Fatalf("cursor after a save %+v", cur)
	}
	if _, err := e.s.MailboxCursorOf(ctx, "00000000-0000-4000-8000-000000000000", 1); workspace.ErrorCode(err) != workspace.ENOTFOUND {
		t.Fatalf("unknown identity: %v", err)
	}
}
