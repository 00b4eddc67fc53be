package workspace

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Page sizes for connections (D1).
const (
	DefaultInteractionsPage = 20
	DefaultTranscriptPage   = 50
	MaxPage                 = 100
)

// PageInfo says where a page of a connection stands.
type PageInfo struct {
	HasNextPage, HasPreviousPage bool
}

// InteractionPage is a page of interactions with a cursor per item.
type InteractionPage struct {
	Items   []*Interaction
	Cursors []string
	PageInfo
}

// MessagePage is a page of a transcript with a cursor per message.
type MessagePage struct {
	Items   []*Message
	Cursors []string
	PageInfo
	// Total counts the whole transcript.
	Total int
}

// canRead reports whether the caller may read an interaction: integrations with the read
// scope and supervisors read every one, agents the ones they hold or held.
func canRead(ctx context.Context, ix *Interaction) error {
	if err := RequireReader(ctx); err != nil {
		return err
	}
	p := PrincipalFrom(ctx)
	if p.Kind == AgentPrincipal && p.Agent.Role != RoleSupervisor && ix.AgentID != p.Agent.ID && !transferTarget(ix, p.Agent.ID) &&
		!slices.Contains(ix.FormerAgentIDs, p.Agent.ID) {
		return Errorf(EFORBIDDEN, "agents read only interactions they hold or held")
	}
	return nil
}

// Interaction returns a live or completed interaction by its GUID (H3, D1).
func (s *Service) Interaction(ctx context.Context, id string) (*Interaction, error) {
	if err := RequireReader(ctx); err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	ix, err := s.Store.Interaction(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := canRead(ctx, ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// MyInteractions is the signed-in agent's conversation log: offered, active, parked and
// wrapping interactions, oldest first.
func (s *Service) MyInteractions(ctx context.Context) ([]*Interaction, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	mine, err := s.Store.LiveInteractions(ctx, LiveFilter{AgentID: me.ID, States: []InteractionState{Offered, Active, Parked, Wrap}})
	if err != nil {
		return nil, err
	}
	// A transfer offer to me is held on my record but names its sender as agent: find it
	// through my holds, which costs nothing when every hold is one of mine.
	for _, h := range me.Holds {
		if slices.ContainsFunc(mine, func(ix *Interaction) bool { return ix.ID == h.InteractionID }) {
			continue
		}
		ix, err := s.Store.Interaction(ctx, h.InteractionID)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if transferTarget(ix, me.ID) {
			mine = append(mine, ix)
		}
	}
	slices.SortStableFunc(mine, func(a, b *Interaction) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return mine, nil
}

// transferTarget reports whether a transfer offer of ix waits for the agent's answer; the
// target may read the whole transcript before answering (T3).
func transferTarget(ix *Interaction, agentID string) bool {
	return ix.Transfer != nil && ix.Transfer.ToAgentID == agentID
}

// pageSize checks a connection's `first` argument.
func pageSize(first *int, def int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 1 || *first > MaxPage {
		return 0, &Error{Code: EINVALID, Message: "first must be between 1 and 100", Field: []string{"first"}}
	}
	return *first, nil
}

func badCursor() error {
	return &Error{Code: EINVALID, Message: "the cursor is not one this API returned", Field: []string{"after"}}
}

// Interactions pages through live and completed interactions, oldest first (D1). Agents
// who are not supervisors see only their own.
func (s *Service) Interactions(ctx context.Context, f InteractionFilter, first *int, after *string) (*InteractionPage, error) {
	if err := RequireReader(ctx); err != nil {
		return nil, err
	}
	n, err := pageSize(first, DefaultInteractionsPage)
	if err != nil {
		return nil, err
	}
	if f.AgentID != "" {
		if err := checkID(f.AgentID); err != nil {
			return nil, &Error{Code: EINVALID, Message: "not a valid agent ID: IDs are UUIDs", Field: []string{"filter", "agentId"}}
		}
	}
	if p := PrincipalFrom(ctx); p.Kind == AgentPrincipal && p.Agent.Role != RoleSupervisor {
		if f.AgentID != "" && f.AgentID != p.Agent.ID {
			return nil, Errorf(EFORBIDDEN, "agents list only their own interactions")
		}
		f.AgentID = p.Agent.ID
	}
	if f.PlanID != "" && checkID(f.PlanID) != nil {
		return nil, &Error{Code: EINVALID, Message: "not a valid plan ID: IDs are UUIDs", Field: []string{"filter", "planId"}}
	}
	// A sync by updatedAfter pages in UpdatedAt order, with cursors of their own kind: an
	// interaction that changes while a CRM pages moves behind the cursor, so the CRM meets
	// it again further on, and the cursor only ever moves forward.
	kind, at := "i1", func(ix *Interaction) time.Time { return ix.CreatedAt }
	if f.UpdatedAfter != nil {
		kind, at = "u1", (*Interaction).LastChanged
	}
	var cur *InteractionCursor
	if after != nil {
		c, ok := decodeTimeCursor(*after, kind)
		if !ok {
			return nil, badCursor()
		}
		cur = &c
	}
	items, err := s.Store.Interactions(ctx, f, cur, n+1)
	if err != nil {
		return nil, err
	}
	page := &InteractionPage{PageInfo: PageInfo{HasNextPage: len(items) > n, HasPreviousPage: after != nil}}
	if len(items) > n {
		items = items[:n]
	}
	page.Items = items
	for _, ix := range items {
		page.Cursors = append(page.Cursors, encodeCursor(kind, strconv.FormatInt(at(ix).UnixMilli(), 10), ix.ID))
	}
	return page, nil
}

// Transcript pages through an interaction's messages, oldest first. The caller has already
// been allowed to read the interaction.
func (s *Service) Transcript(ctx context.Context, ix *Interaction, first *int, after *string) (*MessagePage, error) {
	n, err := pageSize(first, DefaultTranscriptPage)
	if err != nil {
		return nil, err
	}
	from := ""
	if after != nil {
		parts, ok := decodeCursor(*after, "m1", 1)
		if !ok || checkID(parts[0]) != nil {
			return nil, badCursor()
		}
		from = parts[0]
	}
	items, err := s.Store.Messages(ctx, ix.ID, from, n+1)
	if err != nil {
		return nil, err
	}
	total, err := s.Store.CountMessages(ctx, ix.ID)
	if err != nil {
		return nil, err
	}
	page := &MessagePage{PageInfo: PageInfo{HasNextPage: len(items) > n, HasPreviousPage: after != nil}, Total: total}
	if len(items) > n {
		items = items[:n]
	}
	page.Items = items
	for _, m := range items {
		page.Cursors = append(page.Cursors, encodeCursor("m1", m.ID))
	}
	return page, nil
}

// LastMessage is an interaction's latest message, nil if it has none.
func (s *Service) LastMessage(ctx context.Context, ix *Interaction) (*Message, error) {
	m, err := s.Store.LastMessage(ctx, ix.ID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return m, err
}

func encodeCursor(kind string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strings.Join(parts, ":")))
}

func decodeCursor(c, kind string, n int) ([]string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != n+1 || parts[0] != kind {
		return nil, false
	}
	return parts[1:], true
}

// decodeTimeCursor decodes a cursor of kind made of a time in milliseconds and a UUID.
func decodeTimeCursor(c, kind string) (InteractionCursor, bool) {
	parts, ok := decodeCursor(c, kind, 2)
	if !ok || checkID(parts[1]) != nil {
		return InteractionCursor{}, false
	}
	ms, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return InteractionCursor{}, false
	}
	return InteractionCursor{CreatedAt: time.UnixMilli(ms).UTC(), ID: parts[1]}, true
}

// Feed subscribes the caller to one of their feeds. Offers and interaction updates need a
// signed-in agent; messages of an interaction need its holder, a supervisor, or the webchat
// contact of that very chat.
func (s *Service) Feed(ctx context.Context, topic func(agentID string) string) (<-chan Event, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	return s.Hub.Subscribe(ctx, topic(me.ID)), nil
}

// FollowFeed is Feed for one kind of event of the feed, turned into a stream's values by
// pick, with no goroutine of its own (see Follow): the shape of the subscriptions an idle
// desk keeps open.
func FollowFeed[P Payload, T any](ctx context.Context, s *Service, topic func(agentID string) string, pick func(P) *T) (<-chan *T, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	return Follow(ctx, s.Hub, topic(me.ID), pick), nil
}

// DeskEvent is one event of an agent's desk feed (FollowDesk): exactly one field is set.
type DeskEvent struct {
	Offer             *OfferEvent
	InteractionUpdate *Interaction
	Unpark            *UnparkEvent
	TransferResult    *TransferEvent
	DeliveryUpdate    *Message
}

// FollowDesk follows, on one stream, everything the signed-in agent's desk shows as it
// happens: their offers, changes of their interactions, unpark notifications, transfer
// outcomes and delivery updates, in the order they were published. It is the five feeds
// (FollowFeed) in one, so an idle desk's socket keeps one subscription instead of five.
func FollowDesk(ctx context.Context, s *Service) (<-chan *DeskEvent, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	topics := []string{AgentTopic(me.ID), UpdatesTopic(me.ID), UnparkTopic(me.ID), TransferTopic(me.ID), DeliveryTopic(me.ID)}
	return FollowTopics(ctx, s.Hub, topics, func(e Event) *DeskEvent {
		switch p := e.Payload.(type) {
		case *OfferEvent:
			if e.Topic == topics[0] {
				return &DeskEvent{Offer: p}
			}
		case *InteractionEvent:
			if e.Topic == topics[1] {
				return &DeskEvent{InteractionUpdate: p.Interaction}
			}
		case *UnparkEvent:
			if e.Topic == topics[2] {
				return &DeskEvent{Unpark: p}
			}
		case *TransferEvent:
			if e.Topic == topics[3] {
				return &DeskEvent{TransferResult: p}
			}
		case *MessageEvent:
			if e.Topic == topics[4] {
				return &DeskEvent{DeliveryUpdate: p.Message}
			}
		}
		return nil
	}), nil
}

// MessageFeed subscribes the caller to an interaction's new messages. An agent's feed lasts
// only as long as their right to follow the chat: it ends when the interaction passes to
// someone else (an offer rejected or expired, a transfer answered, a requeue).
func (s *Service) MessageFeed(ctx context.Context, interactionID string) (<-chan Event, error) {
	p := PrincipalFrom(ctx)
	if p.Kind == ContactPrincipal {
		if interactionID != p.InteractionID {
			return nil, Errorf(EFORBIDDEN, "a webchat contact token follows only its own chat")
		}
		return s.Hub.Subscribe(ctx, MessagesTopic(interactionID)), nil
	}
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInteractionID(interactionID); err != nil {
		return nil, err
	}
	// Subscribe before reading, so a change of hands between the read and the subscription
	// still reaches the feed.
	ctx, cancel := context.WithCancel(ctx)
	in := s.Hub.Subscribe(ctx, MessagesTopic(interactionID))
	ix, err := s.Store.Interaction(ctx, interactionID)
	if err == nil && !mayFollow(ix, me) {
		err = Errorf(EFORBIDDEN, "this interaction is not yours")
	}
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan Event, 1)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-in:
				if !ok {
					return
				}
				if f, changed := e.Payload.(*FollowersEvent); changed && !mayFollow(f.Interaction, me) {
					return
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// mayFollow reports whether an agent may follow an interaction's messages live: its
// holder (or the agent it is offered to), the target of its open transfer, or a supervisor.
func mayFollow(ix *Interaction, a *Agent) bool {
	return ix.AgentID == a.ID || a.Role == RoleSupervisor || transferTarget(ix, a.ID)
}

// followers identifies who may follow an interaction besides supervisors; a write that
// changes it tells the interaction's message feeds, which re-check their right to follow.
func followers(ix *Interaction) string {
	to := ""
	if ix.Transfer != nil {
		to = ix.Transfer.ToAgentID
	}
	return ix.AgentID + "|" + to
}

// announceHandover tells an interaction's message feeds that it changed hands.
func (s *Service) announceHandover(before string, ix *Interaction) {
	if followers(ix) != before {
		// Only what the feeds re-check: message feeds reach contacts too.
		who := &Interaction{ID: ix.ID, State: ix.State, AgentID: ix.AgentID, Transfer: ix.Transfer}
		s.notify(MessagesTopic(ix.ID), &FollowersEvent{Interaction: who})
	}
}

// OpenOffer is an interaction's open offer, shown only to the agent it is offered to: the
// routing offer of an OFFERED interaction, or a transfer offer (T1).
func OpenOffer(ctx context.Context, ix *Interaction) *Offer {
	p := PrincipalFrom(ctx)
	if p.Kind == AgentPrincipal && transferTarget(ix, p.Agent.ID) {
		o := transferOffer(ix)
		return &o
	}
	if ix.State != Offered || p.Kind != AgentPrincipal || p.Agent.ID != ix.AgentID {
		return nil
	}
	o := offerOf(ix, Offered)
	return &o
}

// Dispositions are the interaction's chosen codes with their labels from its plan.
func (s *Service) Dispositions(ctx context.Context, ix *Interaction) ([]DispositionCode, error) {
	if len(ix.Dispositions) == 0 {
		return []DispositionCode{}, nil
	}
	plan, err := s.Store.Plan(ctx, ix.PlanID)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	out := make([]DispositionCode, 0, len(ix.Dispositions))
	for _, code := range ix.Dispositions {
		dc := DispositionCode{Code: code, Label: code}
		if plan != nil {
			for _, c := range plan.DispositionCodes {
				if c.Code == code {
					dc.Label = c.Label
				}
			}
		}
		out = append(out, dc)
	}
	return out, nil
}
