package workspace

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// The supervisors' live view: every plan's queue figures, and every agent's presence and
// load, pushed as they change. Figures are read from the store (never counted from events),
// so they are right whichever node made the change; events only say when to read again.

// LiveViewInterval is the shortest time between two pushes of the live view to one feed: at
// most four a second however busy the contact centre is.
const LiveViewInterval = 250 * time.Millisecond

// queueChanged tells the live view that the figures of these plans may have changed.
func (s *Service) queueChanged(planIDs ...string) {
	s.interactionsChanged(planIDs, nil)
}

// interactionsChanged tells the live view that interactions of these plans, held by these
// agents, changed state or moved.
func (s *Service) interactionsChanged(planIDs, agentIDs []string) {
	plans, agents := distinct(planIDs), distinct(agentIDs)
	if len(plans) > 0 || len(agents) > 0 {
		s.notify(QueueTopic, &QueueEvent{PlanIDs: plans, AgentIDs: agents})
	}
}

// distinct is ids without "" and repeats.
func distinct(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// QueueStats returns every plan's queue now, ordered by plan name (supervisors only).
func (s *Service) QueueStats(ctx context.Context) ([]*QueueStats, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	return s.queueStats(ctx)
}

func (s *Service) queueStats(ctx context.Context) ([]*QueueStats, error) {
	plans, err := s.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now().Local()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	figures, err := s.Store.QueueFigures(ctx, midnight)
	if err != nil {
		return nil, err
	}
	out := make([]*QueueStats, len(plans))
	for i, p := range plans {
		q := &QueueStats{Plan: p}
		if f := figures[p.ID]; f != nil {
			q.Waiting, q.Offered, q.Active = f.States[Queued], f.States[Offered], f.States[Active]
			q.Parked, q.Wrap = f.States[Parked], f.States[Wrap]
			q.OldestWaitingSince = f.OldestQueuedAt
			q.AgentsReady, q.AgentsNotReady = f.Presence[Ready], f.Presence[NotReady]
			q.CompletedToday, q.MedianHandleSecondsToday = f.Completed, f.MedianHandleSeconds
		}
		out[i] = q
	}
	return out, nil
}

// WatchQueueStats sends every plan's figures at once and then whenever they change, at most
// every LiveViewInterval, until ctx ends (supervisors only). Only the latest figures wait
// for a slow reader: it never falls behind by more than one push. All the supervisors
// watching on one node share one reading of the figures per push (queueFeed), so more
// supervisors add sockets, not database work.
func (s *Service) WatchQueueStats(ctx context.Context) (<-chan []*QueueStats, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	out := make(chan []*QueueStats, 1)
	s.queueFeed.add(s, out)
	context.AfterFunc(ctx, func() { s.queueFeed.remove(out) })
	return out, nil
}

// queueFeed reads the queue figures for every WatchQueueStats of a node: once per push,
// while anyone watches. The zero value is ready to use.
type queueFeed struct {
	mu    sync.Mutex
	subs  map[chan []*QueueStats]bool
	dirty chan struct{}
	stop  context.CancelFunc
}

// add registers a feed, starting the reader for the first one, and asks for a push so the
// new feed gets figures at once.
func (f *queueFeed) add(s *Service, out chan []*QueueStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[chan []*QueueStats]bool{}
	}
	f.subs[out] = true
	if f.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.stop, f.dirty = cancel, make(chan struct{}, 1)
		mark := f.marker()
		s.Hub.Watch(ctx, QueueTopic, mark)
		s.Hub.Watch(ctx, AgentsTopic, mark)
		go f.run(ctx, s, f.dirty)
	}
	f.marker()(Event{})
}

// remove ends a feed: its channel is closed, and the reader stops with the last feed.
func (f *queueFeed) remove(out chan []*QueueStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.subs[out] {
		return
	}
	delete(f.subs, out)
	close(out)
	if len(f.subs) == 0 && f.stop != nil {
		f.stop()
		f.stop = nil
	}
}

func (f *queueFeed) marker() func(Event) {
	dirty := f.dirty
	return func(Event) {
		select {
		case dirty <- struct{}{}:
		default:
		}
	}
}

// run reads the figures after each change, at most every LiveViewInterval, and hands them
// to every feed, replacing figures a slow feed has not read yet.
func (f *queueFeed) run(ctx context.Context, s *Service, dirty <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-dirty:
		}
		stats, err := s.queueStats(ctx)
		if err != nil {
			if ctx.Err() == nil {
				slog.WarnContext(ctx, "live view: reading queue figures", "err", err)
			}
		} else {
			f.mu.Lock()
			for out := range f.subs {
				select {
				case <-out: // drop figures nobody read yet: these are newer
				default:
				}
				out <- stats
			}
			f.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(LiveViewInterval):
		}
	}
}

// WatchAgents sends agents as their presence, load, plans, settings or current
// interactions change, until ctx ends (supervisors only). Changes are gathered for
// LiveViewInterval and each changed agent is sent once, as last written (an agent whose
// interactions changed state is read afresh), so a busy contact centre costs the
// supervisor's socket at most four messages a second per agent that changed.
func (s *Service) WatchAgents(ctx context.Context) (<-chan *Agent, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	out := make(chan *Agent)
	var mu sync.Mutex
	pending := map[string]*Agent{} // nil: read the agent afresh
	var order []string
	wake := make(chan struct{}, 1)
	add := func(id string, a *Agent) {
		mu.Lock()
		old, seen := pending[id]
		switch {
		case !seen:
			order = append(order, id)
			pending[id] = a
		case a != nil && (old == nil || old.Version <= a.Version):
			pending[id] = a
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	s.Hub.Watch(ctx, AgentsTopic, func(e Event) {
		if ev, ok := e.Payload.(*AgentEvent); ok && ev.Agent != nil {
			add(ev.Agent.ID, ev.Agent)
		}
	})
	s.Hub.Watch(ctx, QueueTopic, func(e Event) {
		if ev, ok := e.Payload.(*QueueEvent); ok {
			for _, id := range ev.AgentIDs {
				add(id, nil)
			}
		}
	})
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			batch := make([]*Agent, 0, len(order))
			var stale []string
			for _, id := range order {
				if a := pending[id]; a != nil {
					batch = append(batch, a)
				} else {
					stale = append(stale, id)
				}
			}
			pending, order = map[string]*Agent{}, nil
			mu.Unlock()
			for _, id := range stale {
				a, err := s.Store.Agent(ctx, id)
				if err != nil {
					continue // removed, or the store did not answer: the next change sends it
				}
				batch = append(batch, a)
			}
			for _, a := range batch {
				select {
				case out <- a:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(LiveViewInterval):
			}
		}
	}()
	return out, nil
}
