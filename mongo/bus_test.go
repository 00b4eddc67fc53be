package mongo

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestBus(t *testing.T) {
	run := func(t *testing.T, newURI func(testing.TB) string) {
		t.Run("Delivery", func(t *testing.T) { testBusDelivery(t, newURI(t)) })
		t.Run("Order", func(t *testing.T) { testBusOrder(t, newURI(t)) })
		t.Run("StartsAfterExisting", func(t *testing.T) { testBusStartsAfterExisting(t, newURI(t)) })
		t.Run("Close", func(t *testing.T) { testBusClose(t, newURI(t)) })
		t.Run("Reopen", func(t *testing.T) { testBusReopen(t, newURI(t)) })
		t.Run("Bounded", func(t *testing.T) { testBusBounded(t, newURI(t)) })
	}
	run(t, mongotest.Start)
	t.Run("RealMongoDB", func(t *testing.T) {
		if mongotest.URI(t) == "" {
			t.Skip("MONGODB_URI is not set")
		}
		run(t, mongotest.URI)
	})
}

// node is one agentdesk node of a test: its own store, hub and bus on a shared database.
type node struct {
	store *Store
	hub   *workspace.Hub
	bus   *Bus
	// sub receives the hub's events of testTopic.
	sub <-chan workspace.Event
}

const testTopic = "bus-test"

func startNode(t *testing.T, uri, name string) *node {
	t.Helper()
	s := open(t, uri)
	hub := workspace.NewHub(1024)
	b, err := NewBus(t.Context(), s, hub, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs before the store's Close, which open registered earlier
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return &node{store: s, hub: hub, bus: b, sub: hub.Subscribe(t.Context(), testTopic)}
}

func testEvent(text string) workspace.Event {
	return workspace.Event{Topic: testTopic, Payload: &workspace.MessageEvent{Message: &workspace.Message{
		ID: uuid.NewString(), Text: text, SentAt: time.Now().UTC().Truncate(time.Millisecond),
	}}}
}

// receive returns the next event of n's subscription, waiting up to ten seconds.
func (n *node) receive(t *testing.T) workspace.Event {
	t.Helper()
	select {
	case e, ok := <-n.sub:
		if !ok {
			t.Fatal("the subscription was closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	panic("unreachable")
}

// local returns the event n's subscription already holds: a local Publish delivers at once.
func (n *node) local(t *testing.T) workspace.Event {
	t.Helper()
	select {
	case e := <-n.sub:
		return e
	default:
		t.Fatal("Publish did not deliver to the local hub at once")
	}
	panic("unreachable")
}

// quiet fails if n's subscription delivers anything within d.
func (n *node) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-n.sub:
		t.Fatalf("unexpected event from %s: %+v", e.Origin, message(e))
	case <-time.After(d):
	}
}

// message is the message an event of the test carries.
func message(e workspace.Event) *workspace.Message {
	if p, ok := workspace.As[*workspace.MessageEvent](e); ok {
		return p.Message
	}
	return nil
}

func texts(events []workspace.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, message(e).Text)
	}
	return out
}

func testBusDelivery(t *testing.T, uri string) {
	a, b := startNode(t, uri, "A"), startNode(t, uri, "B")

	sent := testEvent("hello")
	b.bus.Publish(sent)
	if e := b.local(t); e.Origin != "B" || message(e).Text != "hello" {
		t.Fatalf("local event = %+v from %q", message(e), e.Origin)
	}
	got := a.receive(t)
	if got.Origin != "B" || got.Topic != testTopic || message(got).Text != "hello" ||
		message(got).ID != message(sent).ID || !message(got).SentAt.Equal(message(sent).SentAt) {
		t.Fatalf("A received %+v (%+v), want %+v from B", got, message(got), message(sent))
	}

	a.bus.Publish(testEvent("back"))
	if e := a.local(t); e.Origin != "A" {
		t.Fatalf("local event from %q, want A", e.Origin)
	}
	if e := b.receive(t); e.Origin != "A" || message(e).Text != "back" {
		t.Fatalf("B received %+v from %q", message(e), e.Origin)
	}

	// Exactly once each: no second copy, and no echo of a node's own event.
	a.quiet(t, 500*time.Millisecond)
	b.quiet(t, 0)

	// Lag from Publish on B to delivery on A, one event at a time.
	var lags []time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		b.bus.Publish(testEvent(strconv.Itoa(i)))
		b.local(t)
		if e := a.receive(t); message(e).Text != strconv.Itoa(i) {
			t.Fatalf("A received %q, want %d", message(e).Text, i)
		}
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	t.Logf("lag B→A over %d events: min %v, median %v, max %v", len(lags), lags[0], lags[len(lags)/2], lags[len(lags)-1])
	if d := a.bus.Dropped() + b.bus.Dropped(); d != 0 {
		t.Fatalf("%d events dropped", d)
	}
}

// testBusOrder has both nodes publish at once, in several bursts: every event arrives once
// and each node's events in order. (On FerretDB, inserts from two connections at once can
// commit out of their record ID order; a reader that trusted its tailable cursor lost whole
// batches that way in a few percent of such bursts, so this test catches that only by luck.)
func testBusOrder(t *testing.T, uri string) {
	a, b := startNode(t, uri, "A"), startNode(t, uri, "B")
	for burst := 0; burst < 10; burst++ {
		var fromA, fromB []string
		for i := 0; i < 40; i++ {
			fromB = append(fromB, fmt.Sprintf("b%d.%02d", burst, i))
			b.bus.Publish(testEvent(fromB[i]))
			if i%2 == 0 {
				fromA = append(fromA, fmt.Sprintf("a%d.%02d", burst, i))
				a.bus.Publish(testEvent(fromA[len(fromA)-1]))
			}
		}
		// A hub's subscription interleaves its own events (delivered at once) with the other
		// node's (as they arrive): split them by origin, then check each order.
		split := func(n *node) (own, other []string) {
			for range len(fromA) + len(fromB) {
				e := n.receive(t)
				if e.Origin == n.bus.node {
					own = append(own, message(e).Text)
				} else {
					other = append(other, message(e).Text)
				}
			}
			return own, other
		}
		ownA, otherA := split(a)
		ownB, otherB := split(b)
		for _, c := range []struct {
			what      string
			got, want []string
		}{
			{"A's own", ownA, fromA}, {"A from B", otherA, fromB},
			{"B's own", ownB, fromB}, {"B from A", otherB, fromA},
		} {
			if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
				t.Fatalf("burst %d, %s events:\n got %v\nwant %v", burst, c.what, c.got, c.want)
			}
		}
	}
	a.quiet(t, 300*time.Millisecond)
	b.quiet(t, 0)
}

// testBusStartsAfterExisting checks that a new node does not replay older events.
func testBusStartsAfterExisting(t *testing.T, uri string) {
	b := startNode(t, uri, "B")
	b.bus.Publish(testEvent("before"))
	b.local(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := b.store.db.Collection(eventsCollection).CountDocuments(t.Context(), bson.D{{Key: "topic", Value: testTopic}})
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event was not written within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	a := startNode(t, uri, "A")
	b.bus.Publish(testEvent("after"))
	if e := a.receive(t); message(e).Text != "after" {
		t.Fatalf("a new node received %q first, want only events published after it started", message(e).Text)
	}
	a.quiet(t, 300*time.Millisecond)
}

// testBusBounded: the events collection keeps about the latest eventsMax events, however
// many are written. On the test engine it once kept them all, and each read of the
// collection, which the engine answers by decoding every document, cost more with every
// event: an idle node's reader alone kept the engine busy.
func testBusBounded(t *testing.T, uri string) {
	a := startNode(t, uri, "A")
	for i := range 3 * eventsMax {
		a.bus.Publish(testEvent(strconv.Itoa(i)))
		a.local(t)
	}
	if err := a.bus.Close(); err != nil { // the last events are written
		t.Fatal(err)
	}
	var n int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if n, err = a.store.db.Collection(eventsCollection).CountDocuments(t.Context(), bson.D{}); err != nil {
			t.Fatal(err)
		}
		if n <= eventsMax || time.Now().After(deadline) {
			break
		}
	}
	if n > eventsMax {
		t.Fatalf("%d events kept after %d were written, want at most %d", n, 3*eventsMax, eventsMax)
	}
}

func testBusClose(t *testing.T, uri string) {
	a, b := startNode(t, uri, "A"), startNode(t, uri, "B")

	// Close writes what is still queued: A receives all of it. Enough events that the
	// writer is still busy with them when Close comes, and no more than the collection
	// keeps: a burst beyond that outruns the cap, and a reader misses what the cap dropped
	// before it read (by design: see eventsMax). The test engine used to keep every event.
	var want []string
	for i := 0; i < eventsMax; i++ {
		want = append(want, strconv.Itoa(i))
		b.bus.Publish(testEvent(want[i]))
		b.local(t)
	}
	start := time.Now()
	if err := b.bus.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close with up to %d events queued took %v", len(want), time.Since(start))
	var got []workspace.Event
	for range want {
		got = append(got, a.receive(t))
	}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("after Close, A received %v, want 0 to %d in order", texts(got), len(want)-1)
	}
	if err := b.bus.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// A closed bus still delivers locally, and counts what it could not send.
	b.bus.Publish(testEvent("late"))
	if e := b.local(t); message(e).Text != "late" {
		t.Fatalf("local event %q, want late", message(e).Text)
	}
	if d := b.bus.Dropped(); d != 1 {
		t.Fatalf("Dropped = %d after one Publish on a closed bus, want 1", d)
	}
	a.quiet(t, 300*time.Millisecond)

	// An idle bus's reader waits in a getMore; Close must not wait for it to time out.
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	if err := a.bus.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > awaitTime/2 {
		t.Fatalf("Close of an idle bus took %v", d)
	} else {
		t.Logf("Close of an idle bus took %v", d)
	}
}

// testBusReopen deletes the events under the readers' feet, which kills a tailable cursor
// on FerretDB (its position is gone), and checks that nothing published afterwards is lost.
func testBusReopen(t *testing.T, uri string) {
	a, b := startNode(t, uri, "A"), startNode(t, uri, "B")
	b.bus.Publish(testEvent("first"))
	if e := a.receive(t); message(e).Text != "first" {
		t.Fatalf("A received %q", message(e).Text)
	}
	if _, err := a.store.db.Collection(eventsCollection).DeleteMany(t.Context(), bson.D{}); err != nil {
		t.Skipf("this server refuses deletes from a capped collection: %v", err)
	}
	var want []string
	for i := 0; i < 20; i++ {
		want = append(want, strconv.Itoa(i))
		b.bus.Publish(testEvent(want[i]))
		time.Sleep(20 * time.Millisecond)
	}
	var got []workspace.Event
	for range want {
		got = append(got, a.receive(t))
	}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("after its cursor died, A received %v, want %v", texts(got), want)
	}
	a.quiet(t, 300*time.Millisecond)
}

// TestFirstID checks the lower bound reads use: no ID stamped in a second sorts before it.
func TestFirstID(t *testing.T) {
	for i := 0; i < 100; i++ {
		id := bson.NewObjectID()
		first := firstID(id.Timestamp())
		if bytes.Compare(first[:], id[:]) > 0 || !first.Timestamp().Equal(id.Timestamp()) {
			t.Fatalf("firstID(%v) = %s, after %s stamped then", id.Timestamp(), first.Hex(), id.Hex())
		}
	}
}

// TestBusCarriesNoSecrets encodes an event of every kind the bus carries, each field of its
// payload filled in, secrets (fields tagged secret) with a marker, and checks that no marker
// reaches the events collection and that the event decodes to its kind. Interactions ride on
// most events; the webchat contact's token hash must never leave the node's store.
func TestBusCarriesNoSecrets(t *testing.T) {
	kinds := workspace.EventKinds()
	if len(kinds) < 7 {
		t.Fatalf("only %d kinds of event registered: %v", len(kinds), kinds)
	}
	planted := 0
	for _, kind := range kinds {
		p := workspace.NewPayload(kind)
		n := fillWithSecrets(reflect.ValueOf(p), 0)
		planted += n
		e := workspace.Event{Topic: "t", Origin: "A", Payload: p}
		data, err := encodeEvent(e)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if bytes.Contains(data, []byte(secretMarker)) || bytes.Contains(data, []byte("ContactTokenHash")) {
			t.Errorf("a %s event carries a secret across nodes: %s", kind, data)
		}
		back, err := decodeEvent(data)
		if err != nil || back.Kind() != kind || back.Topic != "t" || back.Origin != "A" {
			t.Errorf("%s decoded as %+v, %v", kind, back, err)
		}
		if n := fillWithSecrets(reflect.ValueOf(back.Payload), -1); n != 0 {
			t.Errorf("a decoded %s event holds %d secret fields with a value", kind, n)
		}
		// The caller's payload is not changed: the event carries a copy without secrets.
		if fillWithSecrets(reflect.ValueOf(p), -1) != n {
			t.Errorf("encoding a %s event changed the publisher's payload", kind)
		}
	}
	if planted < 5 { // offers, updates, unparks, transfers and feed changes carry interactions
		t.Fatalf("only %d secrets planted: the test no longer reaches the interactions", planted)
	}
	if _, err := decodeEvent([]byte(`{"Topic":"t","Kind":"from-a-newer-node","Payload":{}}`)); err == nil {
		t.Fatal("an event of an unknown kind decoded")
	}
}

const secretMarker = "SECRET-MARKER"

// fillWithSecrets sets every settable field under v, secrets to secretMarker, and counts the
// secret fields it set. With depth -1 it only counts the secret fields that hold a value.
func fillWithSecrets(v reflect.Value, depth int) int {
	if depth > 6 {
		return 0
	}
	next := depth + 1
	if depth < 0 {
		next = depth
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			if depth < 0 || !v.CanSet() {
				return 0
			}
			v.Set(reflect.New(v.Type().Elem()))
		}
		return fillWithSecrets(v.Elem(), next)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if depth >= 0 {
				v.Set(reflect.ValueOf(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)))
			}
			return 0
		}
		n := 0
		for i := range v.NumField() {
			f, sf := v.Field(i), v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			if sf.Tag.Get("secret") == "true" {
				if depth < 0 {
					if !f.IsZero() {
						n++
					}
				} else if f.Kind() == reflect.String {
					f.SetString(secretMarker)
					n++
				}
				continue
			}
			n += fillWithSecrets(f, next)
		}
		return n
	case reflect.String:
		if depth >= 0 && v.CanSet() && v.Len() == 0 {
			v.SetString("x")
		}
	case reflect.Slice:
		if depth >= 0 && v.CanSet() && v.IsNil() {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		n := 0
		for i := range v.Len() {
			n += fillWithSecrets(v.Index(i), next)
		}
		return n
	case reflect.Bool:
		if depth >= 0 {
			v.SetBool(true)
		}
	case reflect.Int, reflect.Int64:
		if depth >= 0 {
			v.SetInt(1)
		}
	}
	return 0
}
