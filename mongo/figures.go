package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// QueueFigures counts each plan's live interactions by state, its enabled members by
// presence and its completions since completedSince with $group pipelines; it reads each
// plan's longest wait from the index on state, planId and queuedAt, and the handling times
// of the completions since completedSince alone, for their median. FerretDB, the test
// engine, has $sum and $count as its only accumulators, so neither $min nor the median is
// left to the server.
func (s *Store) QueueFigures(ctx context.Context, completedSince time.Time) (map[string]*workspace.PlanFigures, error) {
	figures := map[string]*workspace.PlanFigures{}
	plan := func(id string) *workspace.PlanFigures {
		f := figures[id]
		if f == nil {
			f = &workspace.PlanFigures{States: map[workspace.InteractionState]int{}, Presence: map[workspace.Presence]int{}}
			figures[id] = f
		}
		return f
	}

	var states []struct {
		ID struct {
			PlanID string                     `bson:"planId"`
			State  workspace.InteractionState `bson:"state"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	err := aggregate(ctx, s.interactions, &states,
		bson.D{{Key: "$match", Value: bson.D{{Key: "state", Value: bson.D{{Key: "$ne", Value: workspace.Completed}}}}}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "planId", Value: "$planId"}, {Key: "state", Value: "$state"}}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}})
	if err != nil {
		return nil, err
	}
	for _, g := range states {
		f := plan(g.ID.PlanID)
		f.States[g.ID.State] = g.N
		if g.ID.State == workspace.Queued {
			if f.OldestQueuedAt, err = s.oldestQueued(ctx, g.ID.PlanID); err != nil {
				return nil, err
			}
		}
	}

	// Enabled agents by presence and plan list; each list's plans are counted here, once per
	// plan even if a list repeats one. ($unwind would count on the server, but FerretDB's
	// drops the other fields.)
	var presence []struct {
		ID struct {
			Presence workspace.Presence `bson:"presence"`
			PlanIDs  []string           `bson:"planIds"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	err = aggregate(ctx, s.agents, &presence,
		bson.D{{Key: "$match", Value: bson.D{{Key: "disabled", Value: bson.D{{Key: "$ne", Value: true}}}}}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "presence", Value: "$presence"}, {Key: "planIds", Value: "$planIds"}}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}})
	if err != nil {
		return nil, err
	}
	for _, g := range presence {
		plans := slices.Clone(g.ID.PlanIDs)
		slices.Sort(plans)
		for _, id := range slices.Compact(plans) {
			plan(id).Presence[g.ID.Presence] += g.N
		}
	}

	since := bson.E{Key: "completedAt", Value: bson.D{{Key: "$gte", Value: completedSince}}}
	var completed []struct {
		PlanID string `bson:"_id"`
		N      int    `bson:"n"`
	}
	err = aggregate(ctx, s.history, &completed,
		bson.D{{Key: "$match", Value: bson.D{since}}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$planId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}})
	if err != nil {
		return nil, err
	}
	for _, g := range completed {
		plan(g.PlanID).Completed = g.N
	}
	accepted := bson.E{Key: "acceptedAt", Value: bson.D{{Key: "$ne", Value: nil}}}
	var handled []completionDoc
	if err := findCompletions(ctx, s.history, bson.D{since, accepted}, &handled); err != nil {
		return nil, err
	}

	// COMPLETED live records an archive has not moved yet count too, unless an interrupted
	// archive left them in history as well. There are few: an archive follows completion.
	var pending []completionDoc
	if err := findCompletions(ctx, s.interactions, bson.D{{Key: "state", Value: workspace.Completed}, since}, &pending); err != nil {
		return nil, err
	}
	if len(pending) > 0 {
		ids := make([]string, len(pending))
		for i, d := range pending {
			ids[i] = d.ID
		}
		var archived []completionDoc
		if err := findCompletions(ctx, s.history, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &archived); err != nil {
			return nil, err
		}
		for _, d := range pending {
			if !slices.ContainsFunc(archived, func(a completionDoc) bool { return a.ID == d.ID }) {
				plan(d.PlanID).Completed++
				if d.AcceptedAt != nil {
					handled = append(handled, d)
				}
			}
		}
	}

	seconds := map[string][]int{}
	for _, d := range handled {
		seconds[d.PlanID] = append(seconds[d.PlanID], int(d.CompletedAt.Sub(*d.AcceptedAt)/time.Second))
	}
	for id, list := range seconds {
		slices.Sort(list)
		median := list[(len(list)-1)/2]
		plan(id).MedianHandleSeconds = &median
	}
	return figures, nil
}

// completionDoc is what QueueFigures reads of a completed interaction.
type completionDoc struct {
	ID          string     `bson:"_id"`
	PlanID      string     `bson:"planId"`
	AcceptedAt  *time.Time `bson:"acceptedAt"`
	CompletedAt time.Time  `bson:"completedAt"`
}

// findCompletions decodes the completions of c matching filter into docs.
func findCompletions(ctx context.Context, c *mongo.Collection, filter bson.D, docs *[]completionDoc) error {
	projection := bson.D{{Key: "planId", Value: 1}, {Key: "acceptedAt", Value: 1}, {Key: "completedAt", Value: 1}}
	cur, err := c.Find(ctx, filter, options.Find().SetProjection(projection))
	if err != nil {
		return fmt.Errorf("mongo: completions in %s: %w", c.Name(), err)
	}
	if err := cur.All(ctx, docs); err != nil {
		return fmt.Errorf("mongo: completions in %s: %w", c.Name(), err)
	}
	return nil
}

// oldestQueued returns when the plan's longest-waiting QUEUED interaction entered the
// queue: the earliest queuedAt, or the createdAt of one stored before queuedAt existed. The
// index on state, planId and queuedAt serves each read; a missing queuedAt sorts first.
func (s *Store) oldestQueued(ctx context.Context, planID string) (*time.Time, error) {
	queued := func(more ...bson.E) bson.D {
		return append(bson.D{{Key: "state", Value: workspace.Queued}, {Key: "planId", Value: planID}}, more...)
	}
	first, err := s.firstQueued(ctx, queued(), "queuedAt")
	if err != nil || first == nil || first.QueuedAt != nil {
		return first.waitingSince(), err
	}
	// Some have no queuedAt: the earliest of their createdAt and of the others' queuedAt.
	old, err := s.firstQueued(ctx, queued(bson.E{Key: "queuedAt", Value: nil}), "createdAt")
	if err != nil {
		return nil, err
	}
	requeued, err := s.firstQueued(ctx, queued(bson.E{Key: "queuedAt", Value: bson.D{{Key: "$ne", Value: nil}}}), "queuedAt")
	if err != nil {
		return nil, err
	}
	a, b := old.waitingSince(), requeued.waitingSince()
	if a == nil || (b != nil && b.Before(*a)) {
		return b, nil
	}
	return a, nil
}

// queuedDoc is what oldestQueued reads of a QUEUED interaction.
type queuedDoc struct {
	QueuedAt  *time.Time `bson:"queuedAt"`
	CreatedAt time.Time  `bson:"createdAt"`
}

// waitingSince is when the interaction entered the queue; nil for no interaction.
func (d *queuedDoc) waitingSince() *time.Time {
	switch {
	case d == nil:
		return nil
	case d.QueuedAt != nil:
		at := d.QueuedAt.UTC()
		return &at
	default:
		at := d.CreatedAt.UTC()
		return &at
	}
}

// firstQueued returns the interaction matching filter that sorts first by field, nil if none.
func (s *Store) firstQueued(ctx context.Context, filter bson.D, field string) (*queuedDoc, error) {
	var d queuedDoc
	opts := options.FindOne().SetSort(keysOf(field)).SetProjection(bson.D{{Key: "queuedAt", Value: 1}, {Key: "createdAt", Value: 1}})
	err := s.interactions.FindOne(ctx, filter, opts).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("mongo: oldest queued: %w", err)
	}
	return &d, nil
}

// aggregate runs the pipeline on c and decodes its results into docs.
func aggregate(ctx context.Context, c *mongo.Collection, docs any, pipeline ...bson.D) error {
	cur, err := c.Aggregate(ctx, pipeline)
	if err != nil {
		return fmt.Errorf("mongo: aggregate %s: %w", c.Name(), err)
	}
	if err := cur.All(ctx, docs); err != nil {
		return fmt.Errorf("mongo: aggregate %s: %w", c.Name(), err)
	}
	return nil
}
