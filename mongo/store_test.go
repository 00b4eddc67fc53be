package mongo

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/storetest"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
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
	for c, name := range map[*mongo.Collection]string{second.agents: "username_1", second.plans: "name_1", second.sessions: "expiresAt_1"} {
		specs, err := c.Indexes().ListSpecifications(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(specs, func(s mongo.IndexSpecification) bool { return s.Name == name }) {
			t.Errorf("%s has no index %s: %+v", c.Name(), name, specs)
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
