package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// interactionDoc is an interaction as stored in the interactions (live) and history
// collections. Unset times are null; so is a zero DueAt, which keeps records without a
// timer out of every dueAt range. An empty thread key is absent, so the unique index on
// threadKey skips it.
type interactionDoc struct {
	ID           string                     `bson:"_id"`
	Channel      workspace.Channel          `bson:"channel"`
	Direction    workspace.Direction        `bson:"direction"`
	State        workspace.InteractionState `bson:"state"`
	Contact      contactDoc                 `bson:"contact"`
	AgentID      string                     `bson:"agentId"`
	FormerAgents []string                   `bson:"formerAgentIds"`
	PlanID       string                     `bson:"planId"`
	CreatedAt    time.Time                  `bson:"createdAt"`
	AcceptedAt   *time.Time                 `bson:"acceptedAt"`
	EndedAt      *time.Time                 `bson:"endedAt"`
	EndedBy      workspace.Party            `bson:"endedBy"`
	CompletedAt  *time.Time                 `bson:"completedAt"`
	Notes        string                     `bson:"notes"`
	Dispositions []string                   `bson:"dispositions"`
	WrapDeadline *time.Time                 `bson:"wrapDeadline"`
	OfferSeq     int                        `bson:"offerSeq"`
	OfferedAt    *time.Time                 `bson:"offeredAt"`
	AutoAccepted bool                       `bson:"autoAccepted"`
	RejectedBy   []string                   `bson:"rejectedBy"`
	DueAt        *time.Time                 `bson:"dueAt"`
	LastContact  *time.Time                 `bson:"lastContactAt"`
	AutoParkAt   *time.Time                 `bson:"autoParkAt"`
	ParkedAt     *time.Time                 `bson:"parkedAt"`
	ParkedUntil  *time.Time                 `bson:"parkedUntil"`
	Transfer     *transferDoc               `bson:"transfer"`
	ContactToken string                     `bson:"contactTokenHash"`
	IdentityID   string                     `bson:"identityId"`
	ThreadKey    string                     `bson:"threadKey,omitempty"`
	ContactWrote *time.Time                 `bson:"contactWroteAt"`
	ParkedBy     string                     `bson:"parkedBy"`
	QueuedAt     *time.Time                 `bson:"queuedAt"`
	Assisted     workspace.AssistOutcome    `bson:"assisted,omitempty"`
	PreviousID   string                     `bson:"previousId,omitempty"`
	Linked       string                     `bson:"linkedInteractionId,omitempty"`
	CallEndpoint workspace.CallEndpoint     `bson:"callEndpoint,omitempty"`
	UpdatedAt    *time.Time                 `bson:"updatedAt"`
	Version      int64                      `bson:"version"`
	// Outbox holds the change events staged by writes, until the relay publishes them.
	Outbox []changeDoc `bson:"outbox,omitempty"`
}

// transferDoc is a pending transfer offer inside an interactionDoc.
type transferDoc struct {
	FromAgentID string    `bson:"fromAgentId"`
	ToAgentID   string    `bson:"toAgentId"`
	OfferID     string    `bson:"offerId"`
	ExpiresAt   time.Time `bson:"expiresAt"`
}

// contactDoc is the contact inside an interactionDoc.
type contactDoc struct {
	Address string `bson:"address"`
	Name    string `bson:"name"`
}

func toInteractionDoc(ix *workspace.Interaction) interactionDoc {
	var due *time.Time
	if !ix.DueAt.IsZero() {
		due = &ix.DueAt
	}
	var transfer *transferDoc
	if t := ix.Transfer; t != nil {
		transfer = &transferDoc{FromAgentID: t.FromAgentID, ToAgentID: t.ToAgentID, OfferID: t.OfferID, ExpiresAt: t.ExpiresAt}
	}
	d := interactionDoc{
		LastContact: ix.LastContactAt, AutoParkAt: ix.AutoParkAt, ParkedAt: ix.ParkedAt, ParkedUntil: ix.ParkedUntil,
		Transfer: transfer, FormerAgents: ix.FormerAgentIDs,
		ID: ix.ID, Channel: ix.Channel, Direction: ix.Direction, State: ix.State,
		Contact: contactDoc{Address: ix.Contact.Address, Name: ix.Contact.Name},
		AgentID: ix.AgentID, PlanID: ix.PlanID, CreatedAt: ix.CreatedAt,
		AcceptedAt: ix.AcceptedAt, EndedAt: ix.EndedAt, EndedBy: ix.EndedBy, CompletedAt: ix.CompletedAt,
		Notes: ix.Notes, Dispositions: ix.Dispositions, WrapDeadline: ix.WrapDeadline,
		OfferSeq: ix.OfferSeq, OfferedAt: ix.OfferedAt, AutoAccepted: ix.AutoAccepted, RejectedBy: ix.RejectedBy,
		DueAt: due, ContactToken: ix.ContactTokenHash, IdentityID: ix.IdentityID, ThreadKey: ix.ThreadKey,
		ContactWrote: ix.ContactWroteAt, ParkedBy: ix.ParkedBy, QueuedAt: ix.QueuedAt, Assisted: ix.Assisted, PreviousID: ix.PreviousID, Version: ix.Version,
		Linked: ix.LinkedInteractionID, CallEndpoint: ix.CallEndpoint,
		Outbox: toEventDocs(ix.Outbox),
	}
	if !ix.UpdatedAt.IsZero() {
		d.UpdatedAt = &ix.UpdatedAt
	}
	return d
}

func (d *interactionDoc) interaction() *workspace.Interaction {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	var due time.Time
	if d.DueAt != nil {
		due = d.DueAt.UTC()
	}
	var transfer *workspace.Transfer
	if t := d.Transfer; t != nil {
		transfer = &workspace.Transfer{FromAgentID: t.FromAgentID, ToAgentID: t.ToAgentID, OfferID: t.OfferID, ExpiresAt: t.ExpiresAt.UTC()}
	}
	ix := &workspace.Interaction{
		LastContactAt: utc(d.LastContact), AutoParkAt: utc(d.AutoParkAt), ParkedAt: utc(d.ParkedAt),
		ParkedUntil: utc(d.ParkedUntil), Transfer: transfer, FormerAgentIDs: d.FormerAgents,
		ID: d.ID, Channel: d.Channel, Direction: d.Direction, State: d.State,
		Contact: workspace.Contact{Address: d.Contact.Address, Name: d.Contact.Name},
		AgentID: d.AgentID, PlanID: d.PlanID, CreatedAt: d.CreatedAt.UTC(),
		AcceptedAt: utc(d.AcceptedAt), EndedAt: utc(d.EndedAt), EndedBy: d.EndedBy, CompletedAt: utc(d.CompletedAt),
		Notes: d.Notes, Dispositions: d.Dispositions, WrapDeadline: utc(d.WrapDeadline),
		OfferSeq: d.OfferSeq, OfferedAt: utc(d.OfferedAt), AutoAccepted: d.AutoAccepted, RejectedBy: d.RejectedBy,
		DueAt: due, ContactTokenHash: d.ContactToken, IdentityID: d.IdentityID, ThreadKey: d.ThreadKey,
		ContactWroteAt: utc(d.ContactWrote), ParkedBy: d.ParkedBy, QueuedAt: utc(d.QueuedAt), Assisted: d.Assisted, PreviousID: d.PreviousID, Version: d.Version,
		LinkedInteractionID: d.Linked, CallEndpoint: d.CallEndpoint,
	}
	if d.UpdatedAt != nil {
		ix.UpdatedAt = d.UpdatedAt.UTC()
	}
	return ix
}

// CreateInteraction stores a new live interaction; a taken ID is CONFLICT. Only the live
// set is checked: IDs are fresh UUIDs, and checking history too would cost a second query
// on every create.
func (s *Store) CreateInteraction(ctx context.Context, ix *workspace.Interaction) error {
	if err := insert(ctx, s.interactions, toInteractionDoc(ix), "Interaction"); err != nil {
		return err
	}
	return s.insertMessages(ctx, ix)
}

// insertMessages stores the messages a create or update carries (Interaction.Messages),
// after the record, each with its staged event. They are stamped with the record's
// updatedAt, which therefore needs no move. Each is a write of its own: a failure among
// them leaves the record written without the rest, and is returned.
func (s *Store) insertMessages(ctx context.Context, ix *workspace.Interaction) error {
	for _, m := range ix.Messages {
		d := toMessageDoc(m)
		d.Outbox = toEventDocs(m.Outbox)
		if err := insert(ctx, s.messages, d, "Message"); err != nil {
			return err
		}
	}
	return nil
}

// Interaction returns the live interaction with this ID or, failing that, the archived one.
// Live comes first: while an interrupted archive is unfinished, the live record is the newer.
func (s *Store) Interaction(ctx context.Context, id string) (*workspace.Interaction, error) {
	var d interactionDoc
	err := findOne(ctx, s.interactions, bson.D{{Key: "_id", Value: id}}, &d, "Interaction")
	if workspace.ErrorCode(err) == workspace.ENOTFOUND {
		err = findOne(ctx, s.history, bson.D{{Key: "_id", Value: id}}, &d, "Interaction")
	}
	if err != nil {
		return nil, err
	}
	return d.interaction(), nil
}

// LiveInteractionByThread returns the live interaction holding the thread key; none holds
// the empty key.
func (s *Store) LiveInteractionByThread(ctx context.Context, key string) (*workspace.Interaction, error) {
	if key == "" {
		return nil, workspace.Errorf(workspace.ENOTFOUND, "Interaction not found.")
	}
	var d interactionDoc
	if err := findOne(ctx, s.interactions, bson.D{{Key: "threadKey", Value: key}}, &d, "Interaction"); err != nil {
		return nil, err
	}
	return d.interaction(), nil
}

// UpdateInteraction replaces the live interaction if it is still in state from at version
// ix.Version, and then increments ix.Version; otherwise it is CONFLICT.
func (s *Store) UpdateInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	d := toInteractionDoc(ix)
	d.Version++
	filter := bson.D{{Key: "_id", Value: ix.ID}, {Key: "version", Value: ix.Version}, {Key: "state", Value: from}, notAfter(ix.UpdatedAt)}
	update, err := updateFields(d, []string{"threadKey"}, ix.Outbox)
	if err != nil {
		return err
	}
	if err := updateWhere(ctx, s.interactions, filter, update, "Interaction"); err != nil {
		return err
	}
	ix.Version = d.Version
	return s.insertMessages(ctx, ix)
}

// notAfter matches a document whose updatedAt is at or before t, or unset.
func notAfter(t time.Time) bson.E {
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$lte", Value: t}}}},
		bson.D{{Key: "updatedAt", Value: nil}},
	}}
}

// ArchiveInteraction writes the COMPLETED interaction ix to history, replacing an earlier
// copy, and then deletes the live record if it is COMPLETED. Two writes in this order: a
// crash between them leaves a COMPLETED live record that a later call finishes moving, and
// Interactions never lists it twice, since it skips COMPLETED live records.
func (s *Store) ArchiveInteraction(ctx context.Context, ix *workspace.Interaction) error {
	if ix.State != workspace.Completed {
		// History holds only completed interactions; Interactions relies on it.
		return fmt.Errorf("mongo: archive interaction %s in state %s, want %s", ix.ID, ix.State, workspace.Completed)
	}
	id := bson.D{{Key: "_id", Value: ix.ID}}
	// The live record's staged events go along, so the relay still finds them.
	doc := toInteractionDoc(ix)
	var staged struct {
		Outbox []changeDoc `bson:"outbox"`
	}
	err := s.interactions.FindOne(ctx, id, options.FindOne().SetProjection(bson.D{{Key: "outbox", Value: 1}})).Decode(&staged)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("mongo: archive interaction: %w", err)
	}
	doc.Outbox = staged.Outbox
	if _, err := s.history.ReplaceOne(ctx, id, doc, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("mongo: archive interaction: %w", err)
	}
	live := bson.D{{Key: "_id", Value: ix.ID}, {Key: "state", Value: workspace.Completed}}
	if _, err := s.interactions.DeleteOne(ctx, live); err != nil {
		return fmt.Errorf("mongo: archive interaction: %w", err)
	}
	return nil
}

// CompleteInteraction is UpdateInteraction then ArchiveInteraction: without transactions
// they stay two writes, and a crash between them leaves a COMPLETED live record that the
// sweep archives.
func (s *Store) CompleteInteraction(ctx context.Context, ix *workspace.Interaction, from workspace.InteractionState) error {
	if ix.State != workspace.Completed {
		return workspace.Errorf(workspace.EINVALID, "only COMPLETED interactions are archived, not %s", ix.State)
	}
	if err := s.UpdateInteraction(ctx, ix, from); err != nil {
		return err
	}
	// What Agent Assist learnt follows the record, before it leaves the live set: a crash
	// before the archive leaves it COMPLETED there, and the sweep's finish learns again. A
	// repeat is left as it was.
	for _, e := range ix.Learnt {
		if err := s.AddAssistExample(ctx, e); err != nil && workspace.ErrorCode(err) != workspace.ECONFLICT {
			return err
		}
	}
	return s.ArchiveInteraction(ctx, ix)
}

// LiveInteractions lists live interactions matching f, ordered by DueAt (then ID) when
// f.DueBefore is set, else by CreatedAt then ID.
func (s *Store) LiveInteractions(ctx context.Context, f workspace.LiveFilter) ([]*workspace.Interaction, error) {
	filter := bson.D{}
	if f.AgentID != "" {
		filter = append(filter, bson.E{Key: "agentId", Value: f.AgentID})
	}
	if len(f.PlanIDs) > 0 {
		filter = append(filter, bson.E{Key: "planId", Value: bson.D{{Key: "$in", Value: f.PlanIDs}}})
	}
	if len(f.States) > 0 {
		filter = append(filter, bson.E{Key: "state", Value: bson.D{{Key: "$in", Value: f.States}}})
	}
	sort := bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}
	if !f.DueBefore.IsZero() {
		// A null dueAt (no timer) never compares with a date, so it is never due.
		filter = append(filter, bson.E{Key: "dueAt", Value: bson.D{{Key: "$lte", Value: f.DueBefore}}})
		sort = bson.D{{Key: "dueAt", Value: 1}, {Key: "_id", Value: 1}}
	}
	return findInteractions(ctx, s.interactions, filter, sort, f.Limit)
}

// Interactions pages through live (not COMPLETED) and archived interactions together,
// ordered by CreatedAt then ID, starting after the cursor; limit <= 0 means no cap. It
// takes up to limit from each collection and merges them: a page never needs more.
func (s *Store) Interactions(ctx context.Context, f workspace.InteractionFilter, after *workspace.InteractionCursor, limit int) ([]*workspace.Interaction, error) {
	filter := bson.D{}
	if len(f.Channels) > 0 {
		filter = append(filter, bson.E{Key: "channel", Value: bson.D{{Key: "$in", Value: f.Channels}}})
	}
	if f.AgentID != "" {
		filter = append(filter, bson.E{Key: "agentId", Value: f.AgentID})
	}
	if f.PlanID != "" {
		filter = append(filter, bson.E{Key: "planId", Value: f.PlanID})
	}
	if f.ContactAddress != "" {
		filter = append(filter, bson.E{Key: "contact.address", Value: f.ContactAddress})
	}
	created := bson.D{}
	if f.CreatedAfter != nil {
		created = append(created, bson.E{Key: "$gte", Value: *f.CreatedAfter})
	}
	if f.CreatedBefore != nil {
		created = append(created, bson.E{Key: "$lt", Value: *f.CreatedBefore})
	}
	if len(created) > 0 {
		filter = append(filter, bson.E{Key: "createdAt", Value: created})
	}
	order, at := "createdAt", func(ix *workspace.Interaction) time.Time { return ix.CreatedAt }
	if f.UpdatedAfter != nil {
		order, at = "updatedAt", func(ix *workspace.Interaction) time.Time { return ix.UpdatedAt }
		filter = append(filter, bson.E{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: *f.UpdatedAfter}}})
	}
	if after != nil {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: order, Value: bson.D{{Key: "$gt", Value: after.CreatedAt}}}},
			bson.D{{Key: order, Value: after.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after.ID}}}},
		}})
	}
	sort := bson.D{{Key: order, Value: 1}, {Key: "_id", Value: 1}}

	// History holds only COMPLETED interactions and the live part excludes them, so a state
	// filter can rule out a whole collection.
	wantCompleted := len(f.States) == 0 || slices.Contains(f.States, workspace.Completed)
	wantLive := len(f.States) == 0 || slices.ContainsFunc(f.States, func(st workspace.InteractionState) bool { return st != workspace.Completed })

	var page []*workspace.Interaction
	if wantLive {
		state := bson.D{{Key: "$ne", Value: workspace.Completed}}
		if len(f.States) > 0 {
			state = append(state, bson.E{Key: "$in", Value: f.States})
		}
		live, err := findInteractions(ctx, s.interactions, append(slices.Clone(filter), bson.E{Key: "state", Value: state}), sort, limit)
		if err != nil {
			return nil, err
		}
		page = live
	}
	if wantCompleted {
		done, err := findInteractions(ctx, s.history, filter, sort, limit)
		if err != nil {
			return nil, err
		}
		page = append(page, done...)
	}
	slices.SortFunc(page, func(a, b *workspace.Interaction) int {
		if c := at(a).Compare(at(b)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(page) > limit {
		page = page[:limit]
	}
	return page, nil
}

// findInteractions decodes the interactions of c matching filter in the order of sort, at
// most limit of them (limit <= 0: all).
func findInteractions(ctx context.Context, c *mongo.Collection, filter, sort bson.D, limit int) ([]*workspace.Interaction, error) {
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list %s: %w", c.Name(), err)
	}
	var docs []interactionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list %s: %w", c.Name(), err)
	}
	list := make([]*workspace.Interaction, len(docs))
	for i := range docs {
		list[i] = docs[i].interaction()
	}
	return list, nil
}
