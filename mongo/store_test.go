package mongo

import (
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/storetest"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// factory gives every subtest a fresh database from newURI; open connects a new Store to it
// each time, so the suite's Restart test really reconnects.
func factory(newURI func(testing.TB) string) storetest.Factory {
	return func(t *testing.T) func() workspace.Store {
		uri := newURI(t)
		return func() workspace.Store { return open(t, uri) }
	}
}

// open opens a Store on uri, closed when t ends.
func open(t *testing.T, uri string) *Store {
	t.Helper()
	s, err := Open(t.Context(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, factory(mongotest.Start))
	t.Run("RealMongoDB", func(t *testing.T) {
		if mongotest.URI(t) == "" {
			t.Skip("MONGODB_URI is not set")
		}
		storetest.Run(t, factory(mongotest.URI))
	})
}

func TestOpenTwice(t *testing.T) {
	uri := mongotest.Start(t)
	first := open(t, uri)
	a := &workspace.Agent{ID: uuid.NewString(), Username: "zoe", CreatedAt: time.Now()}
	if err := first.CreateAgent(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if err := first.CreatePlan(t.Context(), &workspace.Plan{ID: uuid.NewString(), Name: "Sales"}); err != nil {
		t.Fatal(err)
	}

	second := open(t, uri)
	if _, err := second.AgentByUsername(t.Context(), "zoe"); err != nil {
		t.Fatal(err)
	}
	dup := &workspace.Agent{ID: uuid.NewString(), Username: "zoe"}
	if code := workspace.ErrorCode(second.CreateAgent(t.Context(), dup)); code != workspace.ECONFLICT {
		t.Fatalf("duplicate username after a second Open: code %q, want CONFLICT", code)
	}
	if code := workspace.ErrorCode(second.CreatePlan(t.Context(), &workspace.Plan{ID: uuid.NewString(), Name: "Sales"})); code != workspace.ECONFLICT {
		t.Fatalf("duplicate plan name after a second Open: code %q, want CONFLICT", code)
	}
	for _, ix := range []struct {
		c    *mongo.Collection
		name string
	}{
		{second.agents, "username_1"}, {second.plans, "name_1"}, {second.sessions, "expiresAt_1"},
		{second.interactions, "thread"}, {second.messages, "external"}, {second.messages, "due"},
		{second.identities, "channel_1_address_1"}, {second.templates, "identityId_1_name_1_language_1"},
		{second.apiKeys, "id"}, {second.interactions, "state_1_planId_1_queuedAt_1"},
		{second.history, "completedAt_1_planId_1_acceptedAt_1"}, {second.canned, "title_1__id_1"},
		{second.audit, "at_1__id_1"}, {second.audit, "objectType_1_at_1__id_1"}, {second.audit, "objectId_1_at_1__id_1"},
	} {
		specs, err := ix.c.Indexes().ListSpecifications(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(specs, func(s mongo.IndexSpecification) bool { return s.Name == ix.name }) {
			t.Errorf("%s has no index %s: %+v", ix.c.Name(), ix.name, specs)
		}
	}
}

func TestDatabaseName(t *testing.T) {
	uri := mongotest.Start(t)
	s := open(t, uri)
	if want := uri[strings.LastIndex(uri, "/")+1 : strings.Index(uri, "?")]; s.db.Name() != want {
		t.Fatalf("database = %q, want %q from %s", s.db.Name(), want, uri)
	}
	bare := uri[:strings.LastIndex(uri, "/")+1] + "?maxPoolSize=1"
	if s := open(t, bare); s.db.Name() != DefaultDatabase {
		t.Fatalf("database = %q for %s, want %q", s.db.Name(), bare, DefaultDatabase)
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	start := time.Now()
	s, err := Open(t.Context(), "mongodb://"+addr+"/agentdesk")
	elapsed := time.Since(start)
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open on a closed port succeeded")
	}
	if elapsed > 2*openTimeout {
		t.Errorf("Open took %v to fail, want about %v", elapsed, openTimeout)
	}
	if !strings.Contains(err.Error(), "cannot reach "+addr) {
		t.Errorf("error %q does not say which server is unreachable", err)
	}
	t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
}

// TestOldDocumentsReadable reads an interaction and a message stored before channels
// existed, and an API key stored before keys had IDs: their new fields are absent, and read
// as unset (the key's ID as workspace.LegacyAPIKeyID of its hash).
func TestOldDocumentsReadable(t *testing.T) {
	s := open(t, mongotest.Start(t))
	at := time.Date(2026, 11, 30, 10, 0, 0, 123000000, time.UTC)
	ixID, msgID := uuid.NewString(), uuid.NewString()
	if _, err := s.interactions.InsertOne(t.Context(), bson.D{
		{Key: "_id", Value: ixID}, {Key: "channel", Value: "WEBCHAT"}, {Key: "direction", Value: "INBOUND"},
		{Key: "state", Value: "QUEUED"}, {Key: "contact", Value: bson.D{{Key: "address", Value: "+15550100"}, {Key: "name", Value: "Pat"}}},
		{Key: "agentId", Value: ""}, {Key: "planId", Value: "plan-1"}, {Key: "createdAt", Value: at},
		{Key: "dueAt", Value: nil}, {Key: "contactTokenHash", Value: "hash"}, {Key: "version", Value: int64(3)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.messages.InsertOne(t.Context(), bson.D{
		{Key: "_id", Value: msgID}, {Key: "interactionId", Value: ixID}, {Key: "from", Value: "CONTACT"},
		{Key: "agentId", Value: ""}, {Key: "text", Value: "hello"}, {Key: "sentAt", Value: at},
	}); err != nil {
		t.Fatal(err)
	}
	ix, err := s.Interaction(t.Context(), ixID)
	if err != nil {
		t.Fatal(err)
	}
	want := &workspace.Interaction{ID: ixID, Channel: workspace.Webchat, Direction: workspace.Inbound, State: workspace.Queued,
		Contact: workspace.Contact{Address: "+15550100", Name: "Pat"}, PlanID: "plan-1", CreatedAt: at,
		ContactTokenHash: "hash", Version: 3}
	if !reflect.DeepEqual(ix, want) {
		t.Fatalf("interaction:\n got %+v\nwant %+v", ix, want)
	}
	m, err := s.Message(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	wantMsg := &workspace.Message{ID: msgID, InteractionID: ixID, From: workspace.PartyContact, Text: "hello", SentAt: at}
	if !reflect.DeepEqual(m, wantMsg) {
		t.Fatalf("message:\n got %+v\nwant %+v", m, wantMsg)
	}
	// A message stored before delivery states has none, so it is never due.
	if due, err := s.DueMessages(t.Context(), at.Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("DueMessages = %v, %v; want none", due, err)
	}
	// Nor had it a version: it updates as version 0, once.
	m.Text = "hello again"
	if err := s.UpdateMessage(t.Context(), m); err != nil {
		t.Fatalf("updating a message stored before versions: %v", err)
	}
	stale := *m
	stale.Version = 0
	if err := s.UpdateMessage(t.Context(), &stale); workspace.ErrorCode(err) != workspace.ECONFLICT {
		t.Fatalf("a second update from version 0: %v, want CONFLICT", err)
	}
	if m, err = s.Message(t.Context(), msgID); err != nil || m.Text != "hello again" {
		t.Fatalf("after the update: %+v, %v", m, err)
	}

	// The interaction, stored before QueuedAt, waits since its creation; one requeued before
	// that waits longer.
	oldest := func() *time.Time {
		t.Helper()
		figures, err := s.QueueFigures(t.Context(), at)
		if err != nil {
			t.Fatal(err)
		}
		if f := figures["plan-1"]; f == nil || f.States[workspace.Queued] == 0 {
			t.Fatalf("QueueFigures = %+v, want plan-1's queue", figures)
		}
		return figures["plan-1"].OldestQueuedAt
	}
	if got := oldest(); got == nil || !got.Equal(at) {
		t.Fatalf("oldest wait since %v, want the creation %v", got, at)
	}
	earlier := at.Add(-time.Minute)
	requeued := &workspace.Interaction{ID: uuid.NewString(), State: workspace.Queued, PlanID: "plan-1",
		CreatedAt: at.Add(-time.Hour), QueuedAt: &earlier}
	if err := s.CreateInteraction(t.Context(), requeued); err != nil {
		t.Fatal(err)
	}
	if got := oldest(); got == nil || !got.Equal(earlier) {
		t.Fatalf("oldest wait since %v, want the requeue %v", got, earlier)
	}

	// A key stored before keys had IDs reads with the one derived from its hash.
	if _, err := s.apiKeys.InsertOne(t.Context(), bson.D{
		{Key: "_id", Value: "oldhash"}, {Key: "name", Value: "CRM"}, {Key: "scopes", Value: bson.A{"read"}},
		{Key: "createdAt", Value: at},
	}); err != nil {
		t.Fatal(err)
	}
	legacy := &workspace.APIKey{ID: workspace.LegacyAPIKeyID("oldhash"), KeyHash: "oldhash", Name: "CRM",
		Scopes: []workspace.Scope{workspace.ScopeRead}, CreatedAt: at}
	k, err := s.APIKey(t.Context(), "oldhash")
	if err != nil || !reflect.DeepEqual(k, legacy) {
		t.Fatalf("legacy API key:\n got %+v, %v\nwant %+v", k, err, legacy)
	}
	if err := s.TouchAPIKey(t.Context(), "oldhash", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	legacy.LastUsedAt = at.Add(time.Minute)
	keys, err := s.APIKeys(t.Context())
	if err != nil || len(keys) != 1 || !reflect.DeepEqual(keys[0], legacy) {
		t.Fatalf("legacy API keys after a touch:\n got %+v, %v\nwant [%+v]", keys, err, legacy)
	}
	// Keys without IDs do not collide with each other in the unique index on id.
	if err := s.CreateAPIKey(t.Context(), &workspace.APIKey{KeyHash: "another", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
}
