package mongo

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	// eventsCollection is the capped collection every node writes its events to.
	eventsCollection = "events"
	// eventsSize and eventsMax bound it: the oldest events make room for new ones. Readers
	// read every pollInterval (or follow a change stream), so 256 events cover bursts of
	// 5,000 a second, far above a contact centre's rate; a reader further behind misses
	// notifications, not state. The count bound keeps the test engine usable: it decodes the
	// whole collection on every read, and with 1,000 events that took most of its CPU.
	eventsSize = 64 << 20
	eventsMax  = 256

	// queueSize is how many events may wait for the writer; more are dropped and counted.
	queueSize = 4096
	// maxBatch is the most events one insert carries.
	maxBatch = 256
	// writeTimeout bounds one insert, and so how long Close waits for the last one.
	writeTimeout = 5 * time.Second

	// pollInterval is how often a reader without change streams looks for new events: its
	// tailable cursor does not await data, because FerretDB, the test engine, re-scans the
	// whole collection every 10 ms while a getMore awaits, which swamped it.
	pollInterval = 50 * time.Millisecond
	// awaitTime is how long the server holds a change stream's getMore open waiting for
	// new events.
	awaitTime = 500 * time.Millisecond
	// tailBatch is the getMore batch size once a tailable cursor is open.
	tailBatch = 256
	// clockSkew is how far the clocks of nodes may disagree.
	clockSkew = 5 * time.Second
	// lateness is how much older than a read an event's ObjectID can be when the event
	// becomes visible: the writer stamps IDs just before an insert, which commits within
	// writeTimeout or fails, on a clock up to clockSkew off.
	lateness = writeTimeout + clockSkew
	// minRetry and maxRetry bound the backoff before a reader reopens its cursor or stream.
	minRetry = 100 * time.Millisecond
	maxRetry = 5 * time.Second
)

// codeNamespaceExists answers a create of a collection that exists.
const codeNamespaceExists = 48

// codeHistoryLost and codeFatal answer a change stream that cannot resume where it was.
const (
	codeHistoryLost = 286
	codeFatal       = 280
)

// Bus is a workspace.Publisher for several nodes sharing one MongoDB database. Publish
// hands an event to the local Hub at once and queues it for the capped collection events;
// a reader delivers the events of every other node to the local Hub, in the order each
// node wrote them. On a replica set or sharded cluster the reader follows a change stream;
// otherwise (a standalone server, or the FerretDB the tests run on) it reads the capped
// collection whenever a tailable cursor on it reports an insert (see follow).
//
// The reader has its own client: its getMore waits for new events, which on a client
// limited to one connection (as the tests' is) would stall every store operation.
type Bus struct {
	hub    *workspace.Hub
	node   string
	events *mongo.Collection // through the store's client, for the writer
	reader *mongo.Client     // the reader's own connection
	tail   *mongo.Collection // events through reader

	// mu orders Publish and Close: after Close has taken it, nothing joins queue.
	mu     sync.RWMutex
	closed bool
	queue  chan eventDoc

	stop      chan struct{}      // closed by Close: the writer flushes and returns
	cancel    context.CancelFunc // ends the reader
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	dropped atomic.Int64
}

var _ workspace.Publisher = (*Bus)(nil)

// eventDoc is an event as stored in the events collection. The event itself is its JSON
// (encodeEvent); origin, topic and kind are copied out for filters and for people reading
// the collection. Sentinels start tailable cursors.
type eventDoc struct {
	ID       bson.ObjectID       `bson:"_id"`
	Origin   string              `bson:"origin"`
	Topic    string              `bson:"topic,omitempty"`
	Kind     workspace.EventKind `bson:"kind,omitempty"`
	Event    string              `bson:"event,omitempty"`
	Sentinel bool                `bson:"sentinel,omitempty"`
}

// encodeEvent is an event's form in the events collection: workspace.Event's JSON, which
// names the payload's kind and carries its interactions without secrets. The bus knows no
// kind of event: a new kind crosses nodes once workspace registers it.
func encodeEvent(e workspace.Event) ([]byte, error) { return json.Marshal(e) }

// decodeEvent reads what encodeEvent wrote; an event of a kind this node does not know (a
// newer node's) is an error.
func decodeEvent(data []byte) (workspace.Event, error) {
	var e workspace.Event
	err := json.Unmarshal(data, &e)
	return e, err
}

// NewBus starts a bus for the node named node on the database of s, delivering other
// nodes' events to hub. Every node needs a distinct name: a bus skips events of its own.
// Events other nodes write after NewBus returns reach hub; events already written never do.
// The bus writes through s, so close the bus before s.
func NewBus(ctx context.Context, s *Store, hub *workspace.Hub, node string) (*Bus, error) {
	if node == "" {
		return nil, errors.New("mongo: bus: empty node name")
	}
	if err := createEvents(ctx, s.db); err != nil {
		return nil, err
	}
	reader, err := mongo.Connect(options.Client().ApplyURI(s.uri))
	if err != nil {
		return nil, fmt.Errorf("mongo: bus: connect: %w", err)
	}
	b := &Bus{
		hub: hub, node: node,
		events: s.db.Collection(eventsCollection),
		reader: reader,
		tail:   reader.Database(s.db.Name()).Collection(eventsCollection),
		queue:  make(chan eventDoc, queueSize),
		stop:   make(chan struct{}),
	}
	fail := func(err error) (*Bus, error) {
		_ = reader.Disconnect(context.Background())
		return nil, fmt.Errorf("mongo: bus: %w", err)
	}

	// The reader's starting point is taken here, not in its goroutine, so that NewBus keeps
	// its promise about events written after it returns.
	streams, err := changeStreams(ctx, reader.Database(s.db.Name()))
	if err != nil {
		return fail(err)
	}
	var follow func(context.Context)
	if streams {
		cs, err := b.watch(ctx, nil)
		if err != nil {
			return fail(err)
		}
		follow = func(ctx context.Context) { b.followStream(ctx, cs) }
	} else {
		cur, err := b.openTail(ctx)
		if err != nil {
			return fail(err)
		}
		from, high := time.Now().Add(-lateness), map[string]int64{}
		if err := b.read(ctx, from, high, false); err != nil {
			closeCursor(cur)
			return fail(err)
		}
		follow = func(ctx context.Context) { b.follow(ctx, cur, from, high) }
	}
	readCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		follow(readCtx)
	}()
	go b.write()
	return b, nil
}

// createEvents creates the capped events collection unless it exists.
func createEvents(ctx context.Context, db *mongo.Database) error {
	opts := options.CreateCollection().SetCapped(true).SetSizeInBytes(eventsSize).SetMaxDocuments(eventsMax)
	err := db.CreateCollection(ctx, eventsCollection, opts)
	var se mongo.ServerError
	if err != nil && !(errors.As(err, &se) && se.HasErrorCode(codeNamespaceExists)) {
		return fmt.Errorf("mongo: bus: create %s: %w", eventsCollection, err)
	}
	return nil
}

// changeStreams reports whether the deployment offers change streams: a replica set names
// its set in hello, a mongos says "isdbgrid". A standalone server (and FerretDB) does neither.
func changeStreams(ctx context.Context, db *mongo.Database) (bool, error) {
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return false, fmt.Errorf("hello: %w", err)
	}
	return hello.SetName != "" || hello.Msg == "isdbgrid", nil
}

// Publish stamps e with this node's name, delivers it to the local hub at once and queues it
// for the other nodes. It never blocks: when the queue is full, or the bus is closed, the
// event reaches this node only, and Dropped counts it.
func (b *Bus) Publish(e workspace.Event) {
	e.Origin = b.node
	b.hub.Publish(e)
	// Encoded now, not by the writer: the caller may change what e's pointers point to.
	data, err := encodeEvent(e)
	if err != nil {
		b.dropped.Add(1)
		return
	}
	d := eventDoc{Origin: b.node, Topic: e.Topic, Kind: e.Kind(), Event: string(data)}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		b.dropped.Add(1)
		return
	}
	select {
	case b.queue <- d:
	default:
		b.dropped.Add(1)
	}
}

// Dropped counts the events that reached only this node: published while the queue was
// full or after Close, or in a batch whose insert failed.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Close stops the reader, writes the events still queued, and waits for both. Events
// published afterwards reach the local hub only. Closing again does nothing.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
		b.cancel()
		b.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
		defer cancel()
		if err := b.reader.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
			b.closeErr = fmt.Errorf("mongo: bus: disconnect: %w", err)
		}
	})
	return b.closeErr
}

// write inserts queued events in batches until Close, then flushes what is left.
func (b *Bus) write() {
	defer b.wg.Done()
	for {
		select {
		case d := <-b.queue:
			b.insert(b.batch(d))
		case <-b.stop:
			// Close has stopped Publish from queueing, so what is queued now is all there is.
			for len(b.queue) > 0 {
				b.insert(b.batch(<-b.queue))
			}
			return
		}
	}
}

// batch returns first with whatever else is queued, up to maxBatch events.
func (b *Bus) batch(first eventDoc) []eventDoc {
	docs := []eventDoc{first}
	for len(docs) < maxBatch {
		select {
		case d := <-b.queue:
			docs = append(docs, d)
		default:
			return docs
		}
	}
	return docs
}

// insert writes one batch in order. The events' ObjectIDs are stamped here, just before
// the write, which bounds how old an ID can be when its event becomes visible (lateness).
// A failed batch is counted, not retried: subscribers recover from a missed notification
// by re-querying, and a retry would delay the events behind it.
func (b *Bus) insert(docs []eventDoc) {
	batch := make([]any, len(docs))
	for i, d := range docs {
		d.ID = bson.NewObjectID()
		batch[i] = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if _, err := b.events.InsertMany(ctx, batch); err != nil {
		b.dropped.Add(int64(len(docs)))
	}
}

// deliver hands another node's event to the local hub.
func (b *Bus) deliver(d eventDoc) {
	if d.Origin == b.node {
		return
	}
	e, err := decodeEvent([]byte(d.Event))
	if err != nil {
		return // not an event this version understands
	}
	b.hub.Publish(e)
}

// openTail inserts a sentinel and opens a tailable cursor on the events from about then
// on. The cursor's first batch holds at least the sentinel, so it is never empty: FerretDB
// closes a tailable cursor whose first batch is.
func (b *Bus) openTail(ctx context.Context) (*mongo.Cursor, error) {
	s := eventDoc{ID: bson.NewObjectID(), Origin: b.node, Sentinel: true}
	if _, err := b.tail.InsertOne(ctx, s); err != nil {
		return nil, fmt.Errorf("insert sentinel: %w", err)
	}
	since := firstID(s.ID.Timestamp().Add(-clockSkew))
	opts := options.Find().SetCursorType(options.Tailable).SetBatchSize(1)
	cur, err := b.tail.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: since}}}}, opts)
	if err != nil {
		return nil, fmt.Errorf("tail %s: %w", eventsCollection, err)
	}
	cur.SetBatchSize(tailBatch)
	return cur, nil
}

// follow delivers other nodes' events until ctx ends. Each round asks the tailable cursor
// cur for inserts, reads the events written since the previous round, and waits
// pollInterval. A dead cursor is reopened after a short backoff; meanwhile the rounds
// go on at the pace of the backoff.
//
// The cursor only wakes the reader; what it returns is ignored, because FerretDB v1.24,
// the test engine, makes a poor source: it numbers documents before it takes SQLite's write
// lock, so when two nodes insert at once the later-numbered batch can commit first, and a
// tailable cursor that has passed it never returns the other. (It also rewinds, sending
// documents again, when a getMore's wait ends while it re-scans the collection.)
func (b *Bus) follow(ctx context.Context, cur *mongo.Cursor, from time.Time, high map[string]int64) {
	delay := minRetry
	for {
		switch {
		case cur == nil:
			if !sleep(ctx, delay) {
				return
			}
			var err error
			if cur, err = b.openTail(ctx); err != nil {
				delay = min(2*delay, maxRetry)
			} else {
				delay = minRetry
			}
		case cur.TryNext(ctx):
			// Skip the rest of the batch too: the events are read below.
			for cur.RemainingBatchLength() > 0 {
				cur.Next(ctx)
			}
		case cur.Err() != nil || cur.ID() == 0:
			closeCursor(cur)
			cur = nil
		}
		if ctx.Err() != nil {
			if cur != nil {
				closeCursor(cur)
			}
			return
		}
		start := time.Now()
		if b.read(ctx, from, high, true) == nil {
			from = start.Add(-lateness)
		}
		if !sleep(ctx, pollInterval) {
			if cur != nil {
				closeCursor(cur)
			}
			return
		}
	}
}

// recordedDoc is an eventDoc with its record ID: its position in the capped collection,
// which MongoDB and FerretDB both report when asked (showRecordId).
type recordedDoc struct {
	Doc      eventDoc `bson:",inline"`
	RecordID int64    `bson:"$recordId"`
}

// read reads the events whose IDs are no older than from and, if deliver is set, delivers
// each one whose record ID is greater than high[its origin], in record ID order; it raises
// high to the greatest record ID read per origin. One node's events get increasing record
// IDs in the order they are written: MongoDB numbers a capped collection's documents in
// commit order, and FerretDB in the order of the inserts, which a node's one writer makes
// one at a time. So high says, per origin, exactly which events have been seen, however
// other origins' writes interleave.
func (b *Bus) read(ctx context.Context, from time.Time, high map[string]int64, deliver bool) error {
	since := firstID(from)
	cur, err := b.tail.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetShowRecordID(true))
	if err != nil {
		return fmt.Errorf("read %s: %w", eventsCollection, err)
	}
	var docs []recordedDoc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("read %s: %w", eventsCollection, err)
	}
	slices.SortFunc(docs, func(a, b recordedDoc) int { return cmp.Compare(a.RecordID, b.RecordID) })
	for _, d := range docs {
		// Sentinels are left out: a node inserts them through its reader's connection, so
		// they are not ordered with its events.
		if d.Doc.Sentinel || d.RecordID <= high[d.Doc.Origin] {
			continue
		}
		high[d.Doc.Origin] = d.RecordID
		if deliver {
			b.deliver(d.Doc)
		}
	}
	return nil
}

// firstID returns the least ObjectID of the second t falls in: every ID stamped at t or
// later is at least this. (bson.NewObjectIDFromTimestamp is not: it fills in this process's
// bytes and counter.)
func firstID(t time.Time) bson.ObjectID {
	var id bson.ObjectID
	binary.BigEndian.PutUint32(id[:4], uint32(t.Unix()))
	return id
}

// watch opens a change stream of other nodes' inserts into events, resuming after the
// token resume, or from now if it is nil.
func (b *Bus) watch(ctx context.Context, resume bson.Raw) (*mongo.ChangeStream, error) {
	pipeline := mongo.Pipeline{{{Key: "$match", Value: bson.D{
		{Key: "operationType", Value: "insert"},
		{Key: "fullDocument.origin", Value: bson.D{{Key: "$ne", Value: b.node}}},
	}}}}
	opts := options.ChangeStream().SetMaxAwaitTime(awaitTime)
	if resume != nil {
		opts.SetResumeAfter(resume)
	}
	cs, err := b.tail.Watch(ctx, pipeline, opts)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", eventsCollection, err)
	}
	return cs, nil
}

// followStream delivers events from cs, and reopens the stream where it left off after a
// short backoff whenever it fails, until ctx ends. (The driver itself resumes once after a
// transient error.) A stream that cannot resume there starts again from now.
func (b *Bus) followStream(ctx context.Context, cs *mongo.ChangeStream) {
	delay := minRetry
	for {
		for cs.Next(ctx) {
			var change struct {
				Doc eventDoc `bson:"fullDocument"`
			}
			if err := cs.Decode(&change); err == nil {
				b.deliver(change.Doc)
			}
			delay = minRetry
		}
		resume := cs.ResumeToken()
		closeCursor(cs)
		for {
			if !sleep(ctx, delay) {
				return
			}
			delay = min(2*delay, maxRetry)
			next, err := b.watch(ctx, resume)
			if err == nil {
				cs = next
				break
			}
			var se mongo.ServerError
			if errors.As(err, &se) && (se.HasErrorCode(codeHistoryLost) || se.HasErrorCode(codeFatal)) {
				resume = nil
			}
		}
	}
}

// closeCursor releases a cursor or change stream on the server, briefly: the reader may be
// closing because its context ended.
func closeCursor(c interface{ Close(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// sleep waits d, and reports false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
