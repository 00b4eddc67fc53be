package workspace

import (
	"context"
	"errors"
	"io"
	"slices"
	"time"
)

// The outbox: an agent's message on a provider channel is stored first, PENDING, and then
// sent by its identity's Sender. A node claims a due message with one version-guarded write
// that moves its NextAttemptAt a lease into the future, so two nodes never send it together;
// a node that dies mid-send leaves the claim to expire and another node (or the restarted
// one) sends it. Temporary failures are retried with backoff, then the message is FAILED.

// OutboxPolicy tunes the outbox.
type OutboxPolicy struct {
	// Lease is how long a claim keeps other nodes off a message being sent; a send takes at
	// most this long (its context's deadline).
	Lease time.Duration
	// MaxAttempts is how many sends a temporary failure gets before the message is FAILED.
	MaxAttempts int
	// FirstBackoff is the wait after the first failure; each further failure doubles it, up
	// to MaxBackoff.
	FirstBackoff, MaxBackoff time.Duration
	// Batch is how many due messages one pass reads.
	Batch int
}

// DefaultOutboxPolicy: sends time out after 30 s; 5 attempts over about 15 s of backoff.
func DefaultOutboxPolicy() OutboxPolicy {
	return OutboxPolicy{Lease: 30 * time.Second, MaxAttempts: 5, FirstBackoff: time.Second, MaxBackoff: time.Minute, Batch: 100}
}

// backoff is the wait before attempt n+1 after n failed ones.
func (p OutboxPolicy) backoff(n int) time.Duration {
	d := p.FirstBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// DeliveryTopic is the topic of delivery updates of one agent's interactions' messages.
func DeliveryTopic(agentID string) string { return "delivery:" + agentID }

// OutboxKick is signalled when a message is queued, so a runner can send it without waiting
// for its next poll.
func (s *Service) OutboxKick() <-chan struct{} { return s.outboxKick }

// kickOutbox wakes the outbox runner, if one waits.
func (s *Service) kickOutbox() {
	select {
	case s.outboxKick <- struct{}{}:
	default:
	}
}

// queueMessage stores an agent's message on a provider channel, PENDING, and wakes the outbox.
func (s *Service) queueMessage(ctx context.Context, m *Message) (*Message, error) {
	m.Delivery, m.NextAttemptAt = DeliveryPending, s.Clock.Now()
	m, err := s.appendMessage(ctx, m)
	if err != nil {
		return nil, err
	}
	s.kickOutbox()
	return m, nil
}

// DeliverDue sends every message due now, one pass; it returns how many it sent or settled.
// Messages of one interaction go out in the order they were queued (their IDs): a message is
// sent only once every earlier one of its interaction has left PENDING, so one that waits for
// a retry, or that another node has claimed, holds back the later ones. The due messages only
// say which interactions have work.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	due, err := s.Store.DueMessages(ctx, s.Clock.Now(), s.Outbox.Batch)
	if err != nil {
		return 0, err
	}
	visited := map[string]bool{}
	n := 0
	var errs []error
	for _, m := range due {
		if visited[m.InteractionID] {
			continue
		}
		visited[m.InteractionID] = true
		sent, err := s.deliverInteraction(ctx, m.InteractionID)
		n += sent
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return n, errors.Join(errs...)
}

// deliverInteraction sends an interaction's PENDING messages in ID order, each once it is
// due, and stops at the first one that is not due (it waits for a retry, or another node
// claimed it) or that stays PENDING. It returns how many it sent or settled.
func (s *Service) deliverInteraction(ctx context.Context, interactionID string) (int, error) {
	pending, err := s.Store.PendingMessages(ctx, interactionID, s.Outbox.Batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, m := range pending {
		if m.NextAttemptAt.After(s.Clock.Now()) {
			return n, nil
		}
		settled, err := s.deliver(ctx, m)
		if err != nil || settled == nil { // failed, or another node claimed it first
			return n, err
		}
		if settled.Delivery == DeliveryPending { // a temporary failure: it waits for a retry
			s.holdBehind(ctx, settled, pending[i+1:])
			return n, nil
		}
		n++
	}
	return n, nil
}

// holdBehind moves the later messages of an interaction whose first PENDING message waits for
// a retry to that retry's time, so that they leave the due messages until then, and other
// interactions' messages get their turn in each pass's batch. A message changed meanwhile is
// left as it is.
func (s *Service) holdBehind(ctx context.Context, first *Message, later []*Message) {
	for _, m := range later {
		if m.NextAttemptAt.Before(first.NextAttemptAt) {
			m.NextAttemptAt = first.NextAttemptAt
			_ = s.Store.UpdateMessage(ctx, m) // a conflict: someone else has it now
		}
	}
}

// deliver claims and sends one message. It returns the message after the send, nil when
// another node (or a report) changed it before the claim.
func (s *Service) deliver(ctx context.Context, m *Message) (*Message, error) {
	now := s.Clock.Now()
	m.Attempts++
	m.NextAttemptAt = now.Add(s.Outbox.Lease)
	if err := s.Store.UpdateMessage(ctx, m); ErrorCode(err) == ECONFLICT {
		return nil, nil // another node claimed it, or a report settled it
	} else if err != nil {
		return nil, err
	}
	ix, err := s.Store.Interaction(ctx, m.InteractionID)
	if err != nil {
		return nil, err
	}
	out := Outgoing{To: ix.Contact.Address, Message: m}
	var pid string
	var sendErr error
	if out.Identity, err = s.Store.Identity(ctx, ix.IdentityID); err != nil {
		sendErr = &DeliveryError{Kind: DeliveryTemporary, Message: "the identity of this interaction cannot be read: " + ErrorMessage(err)}
	} else if out.Files, err = s.outgoingFiles(ctx, m); err != nil {
		sendErr = &DeliveryError{Kind: DeliveryTemporary, Message: "the message's files cannot be read: " + ErrorMessage(err)}
	} else if sender := s.Senders[out.Identity.Provider]; sender == nil {
		sendErr = &DeliveryError{Kind: DeliveryTemporary, Message: "no sender is configured for provider " + out.Identity.Provider}
	} else {
		sendCtx, cancel := context.WithTimeout(ctx, s.Outbox.Lease)
		pid, sendErr = sender.Send(sendCtx, out)
		cancel()
		if sendErr == nil && pid == "" {
			sendErr = &DeliveryError{Kind: DeliveryTemporary, Message: "the provider accepted the message but returned no ID"}
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // shutting down: the claim expires and the message is sent again
	}
	// The send may have taken a while: whoever holds the interaction now is told the outcome.
	if fresh, err := s.Store.Interaction(ctx, ix.ID); err == nil {
		ix = fresh
	}
	return s.settle(ctx, m.ID, ix, func(x *Message) bool {
		return s.sendOutcome(x, out.Identity, pid, sendErr)
	})
}

// outgoingFiles are m's files as a sender needs them, with fresh links.
func (s *Service) outgoingFiles(ctx context.Context, m *Message) ([]OutgoingFile, error) {
	if len(m.AttachmentIDs) == 0 {
		return nil, nil
	}
	all, err := s.Store.MessageAttachments(ctx, []string{m.ID})
	if err != nil {
		return nil, err
	}
	files := make([]OutgoingFile, 0, len(all))
	for _, id := range m.AttachmentIDs {
		i := slices.IndexFunc(all, func(a *Attachment) bool { return a.ID == id })
		if i < 0 {
			return nil, Errorf(ENOTFOUND, "the file %s of the message is missing", id)
		}
		a := all[i]
		link, err := s.fileLink(ctx, a)
		if err != nil {
			return nil, err
		}
		key := a.BlobKey
		files = append(files, OutgoingFile{Attachment: *a, Link: link,
			Open: func(ctx context.Context) (io.ReadCloser, error) { return s.Blobs.Open(ctx, key) }})
	}
	return files, nil
}

// sendOutcome applies a send's outcome to the fresh message; false when nothing changes.
func (s *Service) sendOutcome(m *Message, id *Identity, pid string, sendErr error) bool {
	if sendErr == nil {
		if m.Email == nil { // an email keeps its Message-ID as its key: replies find it by it (E6)
			m.ExternalID = externalKey(id.ID, pid)
		}
		if m.Delivery == DeliveryPending { // a status report may have overtaken the send
			m.Delivery, m.NextAttemptAt = DeliverySent, time.Time{}
		}
		return true
	}
	if m.Delivery != DeliveryPending {
		return false
	}
	var de *DeliveryError
	if !errors.As(sendErr, &de) {
		de = &DeliveryError{Kind: DeliveryTemporary, Message: "the provider could not be reached: " + sendErr.Error()}
	}
	if de.Kind == DeliveryTemporary && m.Attempts < s.Outbox.MaxAttempts {
		m.NextAttemptAt = s.Clock.Now().Add(s.Outbox.backoff(m.Attempts))
		return true
	}
	m.Delivery, m.DeliveryError, m.NextAttemptAt = DeliveryFailed, de, time.Time{}
	return true
}

// settle applies change to a message through the write path (write.go), and tells the
// interaction's holder what changed. change returns false when the fresh message needs nothing.
func (s *Service) settle(ctx context.Context, id string, ix *Interaction, change func(*Message) bool) (*Message, error) {
	old, m, err := guardedWrite(ctx, nil,
		func(ctx context.Context) (*Message, error) { return s.Store.Message(ctx, id) },
		func(m *Message) error {
			if !change(m) {
				return errSkip
			}
			return nil
		},
		func(ctx context.Context, _, m *Message) error { return s.Store.UpdateMessage(ctx, m) })
	if errors.Is(err, errSkip) {
		return old, nil
	} else if err != nil {
		return nil, err
	}
	if m.Delivery != old.Delivery {
		s.announceDelivery(ix, m)
	}
	return m, nil
}

// announceDelivery tells the agent holding the interaction that a message's delivery moved.
func (s *Service) announceDelivery(ix *Interaction, m *Message) {
	if ix.AgentID != "" {
		s.notify(DeliveryTopic(ix.AgentID), &MessageEvent{Message: m})
	}
	s.notify(MessagesTopic(ix.ID), &MessageEvent{Message: m})
}

// deliveryRank orders delivery states; a report never moves a message back.
var deliveryRank = map[DeliveryStatus]int{DeliveryPending: 0, DeliverySent: 1, DeliveryDelivered: 2, DeliveryRead: 3}

// ReportDelivery applies a provider's status callback to the message it is about. A report
// never moves a message back (a late "delivered" after "read" changes nothing), and a
// failure after "read" is ignored. A report about no message of the identity is NOT_FOUND.
func (s *Service) ReportDelivery(ctx context.Context, r DeliveryReport) (*Message, error) {
	m, ix, err := s.reported(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.settle(ctx, m.ID, ix, func(x *Message) bool {
		if x.ExternalID == "" && r.ProviderMessageID != "" {
			x.ExternalID = externalKey(r.IdentityID, r.ProviderMessageID)
		}
		switch {
		case r.Status == DeliveryFailed:
			if x.Delivery == DeliveryRead || x.Delivery == DeliveryFailed {
				return false
			}
			de := r.Error
			if de == nil {
				de = &DeliveryError{Kind: DeliveryTemporary, Message: "the provider reported a failure without a reason"}
			}
			x.Delivery, x.DeliveryError, x.NextAttemptAt = DeliveryFailed, de, time.Time{}
		case x.Delivery == DeliveryFailed || deliveryRank[r.Status] <= deliveryRank[x.Delivery]:
			return false
		default:
			x.Delivery, x.NextAttemptAt = r.Status, time.Time{}
		}
		return true
	})
}

// reported finds the message a report is about: by the desk's own ID when the provider
// echoed it, else by the provider's ID; either way it must be an outbound message of an
// interaction on the reporting identity.
func (s *Service) reported(ctx context.Context, r DeliveryReport) (*Message, *Interaction, error) {
	notFound := Errorf(ENOTFOUND, "no message of this identity has this ID")
	var m *Message
	var err error
	if r.MessageID != "" && checkID(r.MessageID) == nil {
		m, err = s.Store.Message(ctx, r.MessageID)
	}
	if m == nil && r.ProviderMessageID != "" {
		m, err = s.Store.MessageByExternalID(ctx, externalKey(r.IdentityID, r.ProviderMessageID))
	}
	if ErrorCode(err) == ENOTFOUND || (m == nil && err == nil) {
		return nil, nil, notFound
	} else if err != nil {
		return nil, nil, err
	}
	if m.Delivery == "" {
		return nil, nil, notFound
	}
	ix, err := s.Store.Interaction(ctx, m.InteractionID)
	if err != nil {
		return nil, nil, err
	}
	if ix.IdentityID != r.IdentityID {
		return nil, nil, notFound
	}
	return m, ix, nil
}

// RetryMessage sends a FAILED message again, unchanged. The agent must hold its ACTIVE
// interaction, and on WhatsApp free text needs the window open (O2).
func (s *Service) RetryMessage(ctx context.Context, messageID string) (*Message, error) {
	if _, err := RequireAgent(ctx); err != nil {
		return nil, err
	}
	if checkID(messageID) != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid message ID: IDs are UUIDs", Field: []string{"messageId"}}
	}
	m, err := s.Store.Message(ctx, messageID)
	if err != nil {
		return nil, err
	}
	_, ix, err := s.held(ctx, m.InteractionID)
	if err != nil {
		return nil, err
	}
	if ix.State != Active {
		return nil, wrongState(ix.State)
	}
	if m.Delivery != DeliveryFailed {
		return nil, Errorf(EWRONGSTATE, "only a FAILED message can be sent again; this one is %s", deliveryWord(m.Delivery))
	}
	if m.Template == nil {
		if err := s.checkWindow(ix); err != nil {
			return nil, err
		}
	}
	retried, err := s.settle(ctx, m.ID, ix, func(x *Message) bool {
		if x.Delivery != DeliveryFailed {
			return false
		}
		x.Delivery, x.DeliveryError, x.Attempts, x.NextAttemptAt = DeliveryPending, nil, 0, s.Clock.Now()
		return true
	})
	if err != nil {
		return nil, err
	}
	if retried.Delivery != DeliveryPending {
		return nil, Errorf(EWRONGSTATE, "the message is %s now", deliveryWord(retried.Delivery))
	}
	s.kickOutbox()
	return retried, nil
}

// deliveryWord names a delivery state in a sentence.
func deliveryWord(d DeliveryStatus) string {
	if d == "" {
		return "not an outbound message"
	}
	return string(d)
}
