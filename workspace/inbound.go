package workspace

import (
	"context"
	"errors"
	"slices"

	"github.com/google/uuid"
)

// EOUTSIDEWINDOW refuses free text on WhatsApp when the contact has not written in the last
// 24 hours: only an approved template may be sent (O2).
const EOUTSIDEWINDOW = "OUTSIDE_WINDOW"

// ENOCAPACITY refuses an outbound start when the agent's capacity on the channel is used up (P2).
const ENOCAPACITY = "NO_CAPACITY"

// EALREADYOPEN refuses an outbound start to a contact who already has an open interaction on
// the identity: their replies would join it, not the new one.
const EALREADYOPEN = "ALREADY_OPEN"

// Receive is the one entry of contacts' messages into the domain, for every channel. It joins
// the message to the contact's open interaction on the identity (or channel), or opens a new
// one and routes it (C3, P6). It is idempotent on the channel's message ID: a webhook the
// provider delivers again is stored once, and Receive reports the stored message as a
// duplicate — before any of its media are fetched, so a webhook delivered again fetches
// nothing. The files of a provider message (in.Media) are fetched and stored, each within
// MediaTimeout, and go with the message; one that cannot be fetched or is refused is left out
// and a SYSTEM note says why, but the message is always stored (an INFECTED file is kept as
// such, without its bytes, so the agent sees what was blocked: E5). The message is stored
// before anything else happens to the interaction, so it is kept whatever the interaction
// does meanwhile (K4).
func (s *Service) Receive(ctx context.Context, in InboundMessage) (Received, error) {
	if in.Email != nil {
		if in.IdentityID == "" {
			return Received{}, Errorf(EINVALID, "an inbound email needs its identity")
		}
		if err := prepareInboundEmail(&in); err != nil {
			return Received{}, err
		}
	}
	if (in.IdentityID == "" && in.Channel == "") || IsBlank(in.From) || (in.IdentityID != "" && in.ProviderMessageID == "") {
		return Received{}, Errorf(EINVALID, "an inbound message needs its identity or channel, its sender, and on a provider channel the provider's message ID")
	}
	var key string
	if in.ProviderMessageID != "" {
		key = externalKey(in.source(), in.ProviderMessageID)
		if m, err := s.Store.MessageByExternalID(ctx, key); err == nil {
			return Received{Message: m, Duplicate: true}, nil
		} else if ErrorCode(err) != ENOTFOUND {
			return Received{}, err
		}
	}
	if in.IdentityID != "" && (in.Channel == "" || in.PlanID == "") {
		id, err := s.Store.Identity(ctx, in.IdentityID)
		if err != nil {
			return Received{}, err
		}
		in.Channel, in.PlanID = id.Channel, id.PlanID
	}
	if (in.Channel == Email) != (in.Email != nil) {
		return Received{}, Errorf(EINVALID, "an email identity receives emails, and only it")
	}
	var ix, previous *Interaction
	var opened bool
	var err error
	// A message with no files that opens an interaction is stored with it, in one write.
	var first *Message
	if len(in.Media) == 0 && len(in.AttachmentIDs) == 0 && in.Email == nil {
		text := NormaliseText(in.Text)
		if IsBlank(text) {
			text = "(an empty message)"
		}
		first = &Message{From: PartyContact, Text: text, ExternalID: key}
	}
	if in.Email != nil {
		ix, opened, previous, err = s.emailThreadFor(ctx, in, in.Email.MessageID)
	} else {
		ix, opened, err = s.threadFor(ctx, in, first)
	}
	if err != nil {
		return Received{}, err
	}
	if opened && first != nil {
		return Received{Message: first, Interaction: ix, Opened: true}, s.routeArrival(ctx, ix)
	}
	// The media are fetched once the thread is known (their files are the contact's in it)
	// and before the message is stored, which then carries them; what could not be kept is
	// said in SYSTEM notes after the message, which is stored whatever became of its files.
	kept, notes, byIndex := s.keepMedia(ctx, ix, in.Media, MaxAttachmentsPerMessage-len(in.AttachmentIDs))
	text := NormaliseText(in.Text)
	var email *EmailDetails
	if in.Email != nil {
		e := *in.Email
		text, e.HTML = inboundEmailBody(in, byIndex)
		email = &e
	}
	if IsBlank(text) {
		text = NormaliseText(captions(in.Media))
	}
	ids := append(slices.Clone(in.AttachmentIDs), kept...)
	if !opened && len(ids) == 0 && len(in.Media) == 0 && email == nil && key == "" && ix.State == Active && ix.Channel != WhatsApp && !IsBlank(text) {
		if r, ok := s.heardWith(ctx, ix, &Message{InteractionID: ix.ID, From: PartyContact, Text: text}); ok {
			return r, nil
		}
	}
	switch {
	case !IsBlank(text):
	case len(ids) > 0:
		text = ""
	case len(in.Media) > 0:
		text = "(a file that could not be kept)"
	default:
		text = "(an empty message)"
	}
	m, err := s.appendWithAttachments(ctx, PartyContact, ix.ID, ids, kept, &Message{InteractionID: ix.ID, From: PartyContact, Text: text, ExternalID: key, Email: email})
	if err != nil {
		s.discardFiles(ctx, kept)
	}
	if ErrorCode(err) == ECONFLICT && key != "" { // the same webhook, delivered twice at once
		if first, ferr := s.Store.MessageByExternalID(ctx, key); ferr == nil {
			return Received{Message: first, Interaction: ix, Duplicate: true}, nil
		}
	}
	if err != nil {
		return Received{}, err
	}
	if previous != nil {
		s.systemMessage(ctx, ix, previousNote(previous))
	}
	for _, note := range notes {
		s.systemMessage(ctx, ix, note)
	}
	r := Received{Message: m, Interaction: ix, Opened: opened}
	if opened {
		return r, s.routeArrival(ctx, ix)
	}
	if ix.Channel == WhatsApp { // the contact's message (re)opens the 24-hour window (O2)
		if ix, _, err = s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
			x.ContactWroteAt = &m.SentAt
			return nil
		}); err != nil {
			return r, err
		}
		s.publishUpdate(ix)
	}
	if ix.State == Queued { // also routes one whose first routing a crash cut short
		return r, s.route(ctx, ix)
	}
	return r, s.contactWrote(ctx, ix, m)
}

// threadFor returns the contact's open interaction, or a new QUEUED one (opened true),
// stored with first when there is one.
func (s *Service) threadFor(ctx context.Context, in InboundMessage, first *Message) (*Interaction, bool, error) {
	if in.Continue {
		return s.continued(ctx, in)
	}
	from := NormaliseName(in.From)
	key := threadKey(in.source(), from)
	for attempt := 1; ; attempt++ {
		if in.NewID == "" || attempt > 1 { // NewID: the channel opens a conversation of its own
			ix, err := s.openThread(ctx, key)
			if err == nil || ErrorCode(err) != ENOTFOUND {
				return ix, false, err
			}
		}
		now := s.Clock.Now()
		id := in.NewID
		if id == "" || attempt > 1 {
			id = uuid.NewString()
		}
		ix := &Interaction{
			ID: id, Channel: in.Channel, Direction: Inbound, State: Queued,
			Contact: Contact{Address: from, Name: NormaliseName(in.Name)}, PlanID: in.PlanID,
			IdentityID: in.IdentityID, ThreadKey: key, CreatedAt: now, QueuedAt: &now, ContactWroteAt: &now,
			ContactTokenHash: in.ContactTokenHash,
		}
		if first != nil {
			ix.Messages = []*Message{first}
		}
		err := s.createInteraction(ctx, ix)
		if err == nil {
			s.queueChanged(ix.PlanID)
			return ix, true, nil
		}
		if ErrorCode(err) != ECONFLICT || attempt == maxAttempts {
			return nil, false, err
		}
		// another message of this contact opened it first: join that one
	}
}

// continued is the contact's own conversation (the one they are authenticated for), while it
// is open.
func (s *Service) continued(ctx context.Context, in InboundMessage) (*Interaction, bool, error) {
	id, err := RequireContact(ctx)
	if err != nil {
		return nil, false, err
	}
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if ix.State == Wrap || ix.State == Completed {
		return nil, false, Errorf(EWRONGSTATE, "this conversation has ended; start a new one")
	}
	return ix, false, nil
}

// openThread returns the live interaction holding the thread key while it is open. One that
// has ended (WRAP) no longer takes the contact's messages: its key is freed, so the next
// message opens a new interaction (the agent alone ends provider conversations, C4).
func (s *Service) openThread(ctx context.Context, key string) (*Interaction, error) {
	ix, err := s.Store.LiveInteractionByThread(ctx, key)
	if err != nil {
		return nil, err
	}
	if ix.State != Wrap && ix.State != Completed {
		return ix, nil
	}
	_, _, err = s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		if x.ThreadKey != key {
			return errSkip
		}
		x.ThreadKey = ""
		return nil
	})
	if err != nil && ErrorCode(err) != ECONFLICT && ErrorCode(err) != ENOTFOUND && !errors.Is(err, errSkip) {
		return nil, err
	}
	return nil, Errorf(ENOTFOUND, "the contact's last interaction has ended")
}

// checkWindow refuses free text on a WhatsApp interaction whose window is closed (O2).
func (s *Service) checkWindow(ix *Interaction) error {
	if ix.Channel == WhatsApp && ix.FreeTextUntil(s.Clock.Now()) == nil {
		return &Error{Code: EOUTSIDEWINDOW, Field: []string{"text"}, Message: "the contact has not written in the last 24 hours: " +
			"WhatsApp allows only an approved template until they reply"}
	}
	return nil
}

// Reply is an agent's message: free text, or on WhatsApp an approved template with its
// parameters.
type Reply struct {
	InteractionID      string
	Text               string
	AttachmentIDs      []string
	TemplateID         string
	TemplateParameters []string
	// Email is an email's rich-text body and subject; Text is then its plain-text alternative.
	Email EmailReply
}

// SendReply sends an agent's message in an ACTIVE interaction they hold. On webchat it is
// published to the visitor at once; on a provider channel it is stored PENDING and the outbox
// sends it.
func (s *Service) SendReply(ctx context.Context, r Reply) (*Message, error) {
	me, ix, err := s.held(ctx, r.InteractionID)
	if err != nil {
		return nil, err
	}
	if r.TemplateID == "" && len(r.TemplateParameters) > 0 {
		return nil, &Error{Code: EINVALID, Message: "template parameters need a templateId", Field: []string{"templateParameters"}}
	}
	if ix.Channel == Email {
		r.Email.Text = r.Text
		return s.sendEmailReply(ctx, me, ix, r)
	}
	if r.Email.HTML != "" || r.Email.Subject != nil {
		return nil, fieldError(EINVALID, "html", "html and subject are sent on email only")
	}
	if ix.IdentityID == "" {
		if r.TemplateID != "" {
			return nil, &Error{Code: EINVALID, Message: "templates are sent on WhatsApp only", Field: []string{"templateId"}}
		}
		return s.SendMessage(ctx, r.InteractionID, r.Text, r.AttachmentIDs...)
	}
	if ix.State != Active {
		return nil, wrongState(ix.State)
	}
	m := &Message{InteractionID: ix.ID, From: PartyAgent, AgentID: me.ID}
	if err := s.composeWithFiles(ctx, ix.Channel, ix.IdentityID, r.Text, r.TemplateID, r.TemplateParameters, r.AttachmentIDs, m); err != nil {
		return nil, err
	}
	if m.Template == nil {
		if err := s.checkWindow(ix); err != nil {
			return nil, err
		}
	}
	return s.queueWithFiles(ctx, me.ID, r.AttachmentIDs, m)
}

// composeWithFiles is compose for a message that may carry files: with files, no text is
// fine; a template goes alone; the files must be ones the channel carries (checkCarried).
func (s *Service) composeWithFiles(ctx context.Context, ch Channel, identityID, text, templateID string, params, attachmentIDs []string, m *Message) error {
	if len(attachmentIDs) == 0 {
		return s.compose(ctx, ch, identityID, text, templateID, params, m)
	}
	if templateID != "" {
		return fieldError(EINVALID, "attachmentIds", "a template is sent alone: send the files in a message of their own")
	}
	if !IsBlank(text) {
		if err := s.compose(ctx, ch, identityID, text, "", nil, m); err != nil {
			return err
		}
	}
	return s.checkCarried(ctx, ch, attachmentIDs)
}

// queueWithFiles queues m for the outbox with the caller's drafts ids bound to it.
func (s *Service) queueWithFiles(ctx context.Context, agentID string, ids []string, m *Message) (*Message, error) {
	if m.ID == "" { // an email's ID is set before: its Message-ID is made of it
		m.ID = newMessageID()
	}
	undo, err := s.claim(ctx, PartyAgent, agentID, ids, nil, m)
	if err != nil {
		return nil, err
	}
	out, err := s.queueMessage(ctx, m)
	if err != nil {
		undo()
	}
	return out, err
}

// compose fills m with free text or a rendered template of the identity.
func (s *Service) compose(ctx context.Context, ch Channel, identityID, text, templateID string, params []string, m *Message) error {
	if templateID == "" {
		t, err := s.checkText(text)
		m.Text = t
		return err
	}
	if text != "" {
		return &Error{Code: EINVALID, Message: "send either text or a template, not both", Field: []string{"text"}}
	}
	if ch != WhatsApp {
		return &Error{Code: EINVALID, Message: "templates are sent on WhatsApp only", Field: []string{"templateId"}}
	}
	if checkID(templateID) != nil {
		return &Error{Code: EINVALID, Message: "not a valid template ID: IDs are UUIDs", Field: []string{"templateId"}}
	}
	t, err := s.Store.Template(ctx, templateID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && t.IdentityID != identityID) {
		return &Error{Code: EINVALID, Message: "this identity has no such template", Field: []string{"templateId"}}
	} else if err != nil {
		return err
	}
	body, err := t.Render(params)
	if err != nil {
		return err
	}
	m.Text = body
	m.Template = &TemplateUse{TemplateID: t.ID, Name: t.Name, Language: t.Language, Parameters: slices.Clone(params)}
	return nil
}

// OutboundStart is an agent's start of a conversation (C1, O1, O2).
type OutboundStart struct {
	Channel            Channel
	IdentityID         string
	To                 string
	Text               string
	TemplateID         string
	TemplateParameters []string
	// PlanID is the plan whose rules apply; "" means the identity's plan.
	PlanID string
	// AttachmentIDs are the caller's drafts sent with the first message (SMS and RCS; a
	// WhatsApp start is a template alone).
	AttachmentIDs []string
	// Subject and HTML are an email's (E3): a subject that is not only whitespace, and the
	// rich-text body (Text is then its plain-text alternative).
	Subject *string
	HTML    string
}

// StartOutbound starts an interaction from an identity configured for outbound use: SMS/RCS
// with text (O1), WhatsApp with an approved template (O2); webchat cannot be started (O3).
// The new interaction is ACTIVE with the caller and counts against their capacity (P2).
func (s *Service) StartOutbound(ctx context.Context, in OutboundStart) (*Interaction, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	switch in.Channel {
	case Webchat:
		return nil, &Error{Code: EINVALID, Message: "webchat cannot be started by an agent: the visitor opens the chat (O3)", Field: []string{"channel"}}
	case SMS, RCS, WhatsApp, Email:
	default:
		return nil, &Error{Code: EINVALID, Message: "outbound " + string(in.Channel) + " is not available", Field: []string{"channel"}}
	}
	id, err := s.identityField(ctx, in.IdentityID)
	if err != nil {
		return nil, err
	}
	if id.Channel != in.Channel {
		return nil, &Error{Code: EINVALID, Message: "this identity carries " + string(id.Channel) + ", not " + string(in.Channel), Field: []string{"identityId"}}
	}
	if !id.Outbound {
		return nil, &Error{Code: EINVALID, Message: "this identity is not configured for outbound use (O1)", Field: []string{"identityId"}}
	}
	first := &Message{ID: newMessageID(), From: PartyAgent, AgentID: me.ID}
	var to string
	if in.Channel == Email {
		to, err = s.startEmail(in, id, me, first)
	} else {
		if in.Subject != nil || in.HTML != "" {
			return nil, fieldError(EINVALID, "subject", "subject and html are for email only")
		}
		to, err = NormalisePhone(in.To, "to")
	}
	if err != nil {
		return nil, err
	}
	if in.Channel == WhatsApp && in.TemplateID == "" {
		return nil, &Error{Code: EINVALID, Message: "a WhatsApp conversation starts with an approved template: free text is refused until the contact replies (O2)", Field: []string{"templateId"}}
	}
	if in.Channel == WhatsApp && len(in.AttachmentIDs) > 0 {
		return nil, fieldError(EINVALID, "attachmentIds", "a WhatsApp conversation starts with an approved template alone: send files once the contact replies (O2)")
	}
	planID := in.PlanID
	if planID == "" {
		planID = id.PlanID
	}
	if err := s.checkPlanTakes(ctx, planID, in.Channel, "planId"); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	ix := &Interaction{
		ID: uuid.NewString(), Channel: in.Channel, Direction: Outbound, State: Active,
		Contact: Contact{Address: to}, AgentID: me.ID, PlanID: planID, IdentityID: id.ID,
		ThreadKey: threadKey(id.ID, to), CreatedAt: now, AcceptedAt: &now,
	}
	first.InteractionID = ix.ID
	if in.Channel == Email {
		// A contact may have several email threads at once: the thread is the first message.
		ix.ThreadKey = threadKey(id.ID, "<"+first.Email.MessageID+">")
		if err := s.checkCarried(ctx, Email, in.AttachmentIDs); err != nil {
			return nil, err
		}
	} else if err := s.composeWithFiles(ctx, in.Channel, id.ID, in.Text, in.TemplateID, in.TemplateParameters, in.AttachmentIDs, first); err != nil {
		return nil, err
	}
	// The files are bound to the first message before the interaction exists, so that a file
	// that cannot be sent refuses the whole start; any later refusal frees them again.
	undo, err := s.claim(ctx, PartyAgent, me.ID, in.AttachmentIDs, nil, first)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			undo()
		}
	}()
	if existing, err := s.openThread(ctx, ix.ThreadKey); err == nil {
		return nil, alreadyOpen(existing)
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	plan, err := s.Store.Plan(ctx, planID)
	if err != nil {
		return nil, err
	}
	ix.settle(plan, now)
	if _, err := s.reserve(ctx, me.ID, ix, nil); errors.Is(err, errNoRoom) {
		return nil, &Error{Code: ENOCAPACITY, Message: "your " + string(in.Channel) + " capacity is in use: end or park an interaction first (P2)"}
	} else if err != nil {
		return nil, err
	}
	if err := s.createInteraction(ctx, ix); err != nil {
		_ = s.release(ctx, me.ID, ix.ID, nil)
		if ErrorCode(err) == ECONFLICT { // the contact wrote in at this very moment
			if existing, xerr := s.openThread(ctx, ix.ThreadKey); xerr == nil {
				return nil, alreadyOpen(existing)
			}
		}
		return nil, err
	}
	started = true
	s.queueChanged(ix.PlanID)
	if _, err := s.queueMessage(ctx, first); err != nil {
		return nil, err
	}
	s.publishUpdate(ix)
	return ix, nil
}

// alreadyOpen explains why a contact cannot be started again.
func alreadyOpen(ix *Interaction) error {
	return &Error{Code: EALREADYOPEN, Field: []string{"to"},
		Message: "this contact already has an open interaction on this identity (" + ix.ID + "); their replies join it"}
}
